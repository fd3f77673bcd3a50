import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luhnValid } from '../../src/alert/luhn.ts';
import { LABELS } from '../../src/recordings/corpus/call-plan.ts';
import { chooseScenario, generateCorpus, planCall } from '../../src/recordings/corpus/generate-corpus.ts';
import { callSeed, Prng } from '../../src/recordings/corpus/prng.ts';
import { TtsCache } from '../../src/recordings/corpus/tts.ts';
import { readRecordedCall } from '../../src/recordings/recorded-call.ts';
import { findLabelledCalls } from '../../src/score/training/labelled-calls.ts';

let dirA: string;
let dirB: string;

beforeAll(async () => {
  dirA = await mkdtemp(join(tmpdir(), 'fg-corpus-a-'));
  dirB = await mkdtemp(join(tmpdir(), 'fg-corpus-b-'));
  await generateCorpus({ out: dirA, calls: 8, seed: 11, concurrency: 4 });
  await generateCorpus({ out: dirB, calls: 8, seed: 11, concurrency: 2 });
}, 180_000);

afterAll(async () => {
  await rm(dirA, { recursive: true, force: true });
  await rm(dirB, { recursive: true, force: true });
});

async function recordings(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const label of await readdir(dir)) {
    if (label.startsWith('.') || label.endsWith('.json')) continue;
    for (const f of await readdir(join(dir, label))) out.push(`${label}/${f}`);
  }
  return out.sort();
}

describe('corpus generator', () => {
  it('is deterministic for a seed, whatever the concurrency', async () => {
    const a = await recordings(dirA);
    expect(a).toEqual(await recordings(dirB));
    expect(a.length).toBe(16); // 8 calls x (recording + label)
    for (const f of a) {
      expect(Buffer.compare(await readFile(join(dirA, f)), await readFile(join(dirB, f))), f).toBe(0);
    }
  });

  it('writes readable recordings with CONTRACTS §2 labels', async () => {
    const { calls, skipped } = await findLabelledCalls([dirA]);
    expect(skipped).toEqual([]);
    expect(calls).toHaveLength(8);
    for (const c of calls) {
      expect(LABELS).toContain(c.label.label);
      const recording = await readRecordedCall(c.path);
      const seconds =
        recording.kind === 'pcm'
          ? recording.legs[0].length / recording.sampleRate
          : recording.packets.at(-1)!.timeMs / 1000;
      expect(seconds).toBeGreaterThan(2);
      expect(c.label.onset_s).toBeLessThan(seconds);
    }
  });

  it('keys Luhn-valid card numbers of 15 or 16 digits in card_entry calls', async () => {
    const tts = new TtsCache(join(dirA, '.tts-cache'));
    let seen = 0;
    for (let i = 0; seen < 3 && i < 200; i++) {
      // Only card calls are synthesised: the label draw is cheap and comes first from the call's seed.
      if (chooseScenario(new Prng(callSeed(5, i))).label !== 'card_entry') continue;
      const plan = await planCall(i, 5, tts, 4);
      expect(plan.label).toBe('card_entry');
      seen++;
      const events = plan.telephoneEvents?.digits;
      if (events) {
        const digits = events.map((d) => d.digit).join('');
        expect([15, 16]).toContain(digits.length);
        expect(luhnValid(digits)).toBe(true);
        expect(events[0].startS).toBeCloseTo(plan.onsetS, 5);
      }
    }
    expect(seen).toBe(3);
  }, 120_000);

  it('gives every (seed, call) pair its own random stream: corpora of different seeds share no calls', () => {
    const seeds = new Set<number>();
    for (const seed of [1, 2, 3, 11]) for (let i = 0; i < 4000; i++) seeds.add(callSeed(seed, i));
    expect(seeds.size).toBe(16_000);
  });

  it('draws every label, legit most often', () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) {
      const { label } = chooseScenario(new Prng(callSeed(3, i)));
      counts[label] = (counts[label] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual([...LABELS].sort());
    for (const label of LABELS) expect(counts[label]).toBeGreaterThan(150);
    expect(counts.legit).toBe(Math.max(...Object.values(counts)));
  });
});
