import { describe, expect, it } from 'vitest';
import { ToneDetector } from '../../src/dsp/detectors/tone-detector.ts';
import { toInt16 } from '../../src/recordings/corpus/channel.ts';
import { Prng } from '../../src/recordings/corpus/prng.ts';
import {
  dbm0ToAmplitude,
  type RingbackRegion,
  ringback,
  ringbackRegion,
} from '../../src/recordings/corpus/signals.ts';
import { feed, Recorder } from '../dsp/detectors/signals.ts';

/** What the tone detector hears in `audio` (floats, full scale 1). */
function heard(audio: Float32Array): string[] {
  const recorder = new Recorder();
  feed(new ToneDetector(0, recorder), toInt16(audio));
  return recorder.tones.map((t) => t.tone);
}

describe('corpus ringback', () => {
  // The corpus's calls teach the model what ringback looks like: every region it plays must be heard as ringback.
  for (const [region, rings] of [
    ['north_american', 2],
    ['european', 3],
    ['uk', 4],
  ] as [RingbackRegion, number][]) {
    it(`plays ${region} ringback that the tone detector hears as ringback, ring by ring`, () => {
      for (const dbm0 of [-20, -8]) {
        expect(heard(ringback(12, dbm0ToAmplitude(dbm0), region))).toEqual(new Array(rings).fill('ringback'));
      }
    });
  }

  it('draws every region, North American most often', () => {
    const rng = new Prng(7);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 3000; i++) {
      const region = ringbackRegion(rng);
      counts[region] = (counts[region] ?? 0) + 1;
    }
    expect(counts.north_american).toBeGreaterThan(counts.european);
    expect(counts.european).toBeGreaterThan(counts.uk);
    expect(counts.uk).toBeGreaterThan(300);
  });
});
