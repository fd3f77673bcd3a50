import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRecordedCalls } from '../../src/recordings/recorded-call.ts';
import { writeWav } from '../../src/recordings/wav-writer.ts';
import { analyzeRecording } from '../../src/score/call-analysis.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fg-call-analysis-'));
  // Four seconds of a two-leg call: a tone on rx, low noise on tx.
  const n = 4 * 8000;
  const rx = new Int16Array(n).map((_, i) => Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
  const tx = new Int16Array(n).map((_, i) => ((i * 7919) % 61) - 30);
  await writeWav(join(dir, 'call.wav'), [rx, tx], 8000, 'pcm16');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('analyzeRecording', () => {
  it('emits feature windows at the window hop it is given (a model manifest sets it), 1 s by default', async () => {
    const [found] = await findRecordedCalls([dir]);
    const byDefault = await analyzeRecording(found);
    const halfSecond = await analyzeRecording(found, undefined, 0.5);
    const steps = (times: number[]) => times.slice(1).map((t, i) => Math.round((t - times[i]) * 1000) / 1000);
    expect(byDefault.windowTimes.length).toBeGreaterThanOrEqual(3);
    expect(new Set(steps(byDefault.windowTimes))).toEqual(new Set([1]));
    expect(new Set(steps(halfSecond.windowTimes.slice(0, -1)))).toEqual(new Set([0.5]));
    expect(halfSecond.windowTimes.length).toBeGreaterThanOrEqual(2 * byDefault.windowTimes.length - 1);
  });
});
