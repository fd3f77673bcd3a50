import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/dsp/feature-names.ts';
import { chooseScenario, planCall } from '../../src/recordings/corpus/generate-corpus.ts';
import { callSeed, Prng } from '../../src/recordings/corpus/prng.ts';
import { silentStart } from '../../src/recordings/corpus/scenarios/legit.ts';
import { TtsCache } from '../../src/recordings/corpus/tts.ts';
import { writeCallPlan } from '../../src/recordings/corpus/write-call.ts';
import { findRecordedCalls } from '../../src/recordings/recorded-call.ts';
import { type AnalyzeResult, analyzeCalls } from '../../src/score/analyze-calls.ts';
import {
  assertFeaturesMatch,
  defaultManifestPath,
  loadManifest,
  MODEL_CLASSES,
} from '../../src/score/model-manifest.ts';
import { OnnxScorer } from '../../src/score/onnx-scorer.ts';

// Calls the committed model has never seen: a corpus seed no training run used.
const UNSEEN_SEED = 987_654;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fg-default-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every call under `folder`, through the live pipeline with the default model, as `forkguard analyze` runs. */
async function analyzeFolder(folder: string): Promise<AnalyzeResult[]> {
  const results: AnalyzeResult[] = [];
  for await (const r of analyzeCalls(await findRecordedCalls([folder]), {
    manifestPath: await defaultManifestPath(),
    crossCallReplay: false,
    includeEvents: false,
  })) {
    results.push(r);
  }
  return results;
}

describe('the committed default model', () => {
  it('has a manifest that matches the running feature extractor exactly (names, order, count)', async () => {
    const manifest = await loadManifest(await defaultManifestPath());
    expect(manifest.features).toEqual([...FEATURE_NAMES]);
    expect(manifest.input.features).toBe(FEATURE_NAMES.length);
    expect(() => assertFeaturesMatch(manifest, FEATURE_NAMES)).not.toThrow();
    expect(manifest.classes).toEqual([...MODEL_CLASSES]);
    for (const cls of MODEL_CLASSES.slice(1)) {
      expect(manifest.thresholds[cls]).toBeGreaterThan(0);
      expect(manifest.persistence[cls]).toBeGreaterThanOrEqual(1);
      // An instant tier, where there is one, asks for more than one evidence window does.
      const instant = manifest.instant_thresholds?.[cls];
      if (instant !== undefined) {
        expect(instant).toBeGreaterThan(manifest.thresholds[cls]);
        expect(instant).toBeLessThanOrEqual(1);
      }
    }
    expect(manifest.training).toHaveProperty('corpus.sha256');
    expect(manifest.metrics).toHaveProperty('test.classes');
  });

  it('loads in onnxruntime and returns one probability distribution per window of a batch', async () => {
    const scorer = await OnnxScorer.load(await defaultManifestPath());
    const window = new Float32Array(FEATURE_NAMES.length);
    for (let i = 0; i < 5; i++) scorer.add(window);
    const probs = await scorer.run();
    expect(probs.length).toBe(5 * MODEL_CLASSES.length);
    for (let r = 0; r < 5; r++) {
      let sum = 0;
      for (let c = 0; c < MODEL_CLASSES.length; c++) sum += probs[r * MODEL_CLASSES.length + c];
      expect(sum).toBeCloseTo(1, 4);
    }
    await scorer.close();
  });

  it('calls an unseen fax call fax_modem and an unseen card call card_entry', async () => {
    const tts = new TtsCache(join(dir, '.tts-cache'));
    const out = join(dir, 'fax-and-card');
    const wanted = new Set(['fax_modem', 'card_entry']);
    for (let i = 0; wanted.size > 0 && i < 300; i++) {
      const { label } = chooseScenario(new Prng(callSeed(UNSEEN_SEED, i)));
      if (!wanted.has(label)) continue;
      wanted.delete(label);
      await writeCallPlan(out, i, await planCall(i, UNSEEN_SEED, tts, 4));
    }
    const results = await analyzeFolder(out);
    expect(results.map((r) => [r.call.split('/')[0], r.verdict])).toEqual([
      ['card_entry', 'card_entry'],
      ['fax_modem', 'fax_modem'],
    ]);
  }, 120_000);

  it('raises no alert on unseen legit calls that stay quiet for their first 2-12 s, and still catches pumping', async () => {
    // A quiet open line is pumping's evidence too; these calls answer it only after a wait.
    const out = join(dir, 'quiet-starts');
    const tts = new TtsCache(join(dir, '.tts-cache'));
    let quiet = 0;
    let pumping = 0;
    for (let i = 0; (quiet < 6 || pumping < 2) && i < 1000; i++) {
      const { label, scenario } = chooseScenario(new Prng(callSeed(UNSEEN_SEED, i)));
      if (scenario === silentStart && quiet < 6) quiet++;
      else if (label === 'pumping' && pumping < 2) pumping++;
      else continue;
      await writeCallPlan(out, i, await planCall(i, UNSEEN_SEED, tts, 4));
    }
    expect([quiet, pumping]).toEqual([6, 2]);
    const results = (await analyzeFolder(out)).map((r) => ({
      call: r.call,
      verdict: r.verdict,
      alerts: r.alerts?.map((a) => `${a.kind}@${a.at_s}`),
    }));
    const byLabel = (l: string) => results.filter((r) => r.call.startsWith(`${l}/`));
    expect(byLabel('legit')).toHaveLength(6);
    for (const r of byLabel('legit')) expect(r, r.call).toMatchObject({ verdict: 'legit', alerts: [] });
    expect(byLabel('pumping').map((r) => r.verdict)).toEqual(['pumping', 'pumping']);
  }, 300_000);
});
