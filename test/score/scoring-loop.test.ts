import { describe, expect, it } from 'vitest';
import type { ReplayStatus } from '../../src/dsp/fingerprint/replay-index.ts';
import { LiveCall, ScoringLoop } from '../../src/score/scoring-loop.ts';
import { loadServiceConfig } from '../../src/service/config/load-config.ts';
import { loadScorer } from '../../src/service/service-startup.ts';

/** The default model, and a loop that records the batch size of each of its runs. */
async function liveLoop() {
  const scorer = await loadScorer(loadServiceConfig({ logLevel: 'silent' }));
  const runs: number[] = [];
  const loop = new ScoringLoop(scorer, { onDecision: () => {} }, undefined, (windows) => runs.push(windows));
  const features = new Float32Array(scorer.featureCount);
  return { scorer, loop, runs, features };
}

describe('ScoringLoop (live)', () => {
  it('scores a window as soon as the process is free, not on the next tick', async () => {
    const { scorer, loop, runs, features } = await liveLoop();
    loop.start(1000);
    const call = new LiveCall('a', loop);
    const started = performance.now();
    loop.enqueue(call, 1, features, 'a');
    while (runs.length === 0 && performance.now() - started < 900) await new Promise((r) => setTimeout(r, 1));
    expect(runs).toEqual([1]);
    await loop.stop();
    await scorer.close();
  });

  it('batches the windows ready together, and runs at most once per minimum gap', async () => {
    const { scorer, loop, runs, features } = await liveLoop();
    loop.start(200);
    const calls = [new LiveCall('a', loop), new LiveCall('b', loop), new LiveCall('c', loop)];
    for (const c of calls) loop.enqueue(c, 1, features, c.key);
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toEqual([3]);
    // Within the gap: the next run waits for it.
    loop.enqueue(calls[0], 2, features, 'a');
    loop.enqueue(calls[1], 2, features, 'b');
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toEqual([3]);
    await new Promise((r) => setTimeout(r, 250));
    expect(runs).toEqual([3, 2]);
    // Stopping scores what is pending at once.
    loop.enqueue(calls[2], 3, features, 'c');
    await loop.stop();
    expect(runs).toEqual([3, 2, 1]);
    await scorer.close();
  });

  it('windows completed while a run is in flight go to the next run and each call gets its own scores', async () => {
    const { scorer, loop, runs } = await liveLoop();
    // Three windows the model scores very differently: the training mean, and one standard deviation below and
    // above it in every feature. Each one's score alone is the reference.
    const { mean, std } = scorer.manifest.normalisation;
    const windows = [0, -1, 1].map((k) => Float32Array.from(mean, (m, i) => m + k * std[i]));
    const expected: number[][] = [];
    for (const w of windows) {
      scorer.add(w);
      expected.push(Array.from(await scorer.run()));
    }
    const got = new Map<string, number[]>();
    class Recording extends LiveCall {
      override scored(mediaS: number, probs: Float32Array, offset: number, replay: ReplayStatus): void {
        got.set(this.key, Array.from(probs.subarray(offset, offset + scorer.classCount)));
        super.scored(mediaS, probs, offset, replay);
      }
    }
    const calls = ['a', 'b', 'c'].map((key) => new Recording(key, loop));
    // Windows b and c complete right after the run scoring a has been handed to onnxruntime.
    const run = scorer.run.bind(scorer);
    let first = true;
    scorer.run = () => {
      const inFlight = run();
      if (first) {
        first = false;
        loop.enqueue(calls[1], 1, windows[1], 'b');
        loop.enqueue(calls[2], 1, windows[2], 'c');
      }
      return inFlight;
    };
    const errors: unknown[] = [];
    loop.start(0);
    loop.enqueue(calls[0], 1, windows[0], 'a');
    const started = performance.now();
    while (got.size < 3 && performance.now() - started < 5000) await new Promise((r) => setTimeout(r, 2));
    await loop.stop().catch((err: unknown) => errors.push(err));
    expect(errors).toEqual([]);
    expect(runs).toEqual([1, 2]);
    for (const [k, key] of ['a', 'b', 'c'].entries()) {
      const scores = got.get(key) as number[];
      expect(scores).toHaveLength(expected[k].length);
      for (let c = 0; c < scores.length; c++) expect(scores[c]).toBeCloseTo(expected[k][c], 5);
    }
    // The three windows really score differently, so a mix-up would show.
    expect(Math.abs(expected[0][0] - expected[1][0])).toBeGreaterThan(0.1);
    expect(Math.abs(expected[1][0] - expected[2][0])).toBeGreaterThan(0.1);
    expect(Math.abs(expected[0][0] - expected[2][0])).toBeGreaterThan(0.1);
    await scorer.close();
  });
});
