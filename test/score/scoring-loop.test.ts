import { describe, expect, it } from 'vitest';
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
});
