import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/dsp/feature-names.ts';
import { generateCorpus } from '../../src/recordings/corpus/generate-corpus.ts';
import { loadManifest } from '../../src/score/model-manifest.ts';
import { OnnxScorer } from '../../src/score/onnx-scorer.ts';
import { trainModel } from '../../src/score/training/train-model.ts';

let corpus: string;
let out: string;

beforeAll(async () => {
  corpus = await mkdtemp(join(tmpdir(), 'fg-train-corpus-'));
  out = await mkdtemp(join(tmpdir(), 'fg-train-out-'));
  await generateCorpus({ out: corpus, calls: 36, seed: 4242, concurrency: 6 });
}, 300_000);

afterAll(async () => {
  await rm(corpus, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
});

describe('forkguard train', () => {
  it('trains from a labelled corpus and writes model, manifest, report and picture', async () => {
    const result = await trainModel({ corpus, out, name: 'unit', seed: 3, makeDefault: true });
    const files = (await readdir(out)).sort();
    expect(files).toEqual([
      'default.json',
      'unit-1.confusion.svg',
      'unit-1.manifest.json',
      'unit-1.onnx',
      'unit-1.report.json',
      'unit-1.report.md',
    ]);
    const manifest = await loadManifest(result.manifestPath);
    expect(manifest.features).toEqual([...FEATURE_NAMES]);
    expect(manifest.normalisation.mean).toHaveLength(FEATURE_NAMES.length);
    expect(Object.keys(manifest.thresholds).sort()).toEqual(['fax_modem', 'pumping', 'robocall']);
    expect(manifest.training).toMatchObject({ corpus: { calls: 36 }, seed: 3 });
    expect((manifest.training as { libraries: Record<string, string> }).libraries).toHaveProperty('torch');
    expect(JSON.parse(await readFile(join(out, 'default.json'), 'utf8'))).toEqual({
      manifest: 'unit-1.manifest.json',
    });
    const report = await readFile(join(out, 'unit-1.report.md'), 'utf8');
    expect(report).toContain('Held-out test calls');
    expect(await readFile(join(out, 'unit-1.confusion.svg'), 'utf8')).toMatch(/^<svg/);
    // The exported graph is a real, loadable model over the extractor's features.
    const scorer = await OnnxScorer.load(result.manifestPath);
    scorer.add(new Float32Array(FEATURE_NAMES.length));
    expect((await scorer.run()).length).toBe(manifest.classes.length);
    await scorer.close();
  }, 300_000);

  it('numbers versions upward and leaves the default alone when asked', async () => {
    const second = await trainModel({ corpus, out, name: 'unit', seed: 3, makeDefault: false });
    expect(second.manifest.version).toBe(2);
    expect(JSON.parse(await readFile(join(out, 'default.json'), 'utf8'))).toEqual({
      manifest: 'unit-1.manifest.json',
    });
  }, 300_000);
});
