import { describe, expect, it } from 'vitest';
import type { ToneValue } from '../../../src/dsp/detector-event.ts';
import { ToneDetector } from '../../../src/dsp/detectors/tone-detector.ts';
import { linearToMuLaw, muLawToLinear } from '../../../src/ingest/codecs/g711.ts';
import {
  answerTone,
  cadence,
  concat,
  feed,
  fsk,
  type HeardTone,
  hdlcFlags,
  mixInto,
  Recorder,
  random,
  type Signal,
  silence,
  tones,
  toPcm,
  whiteNoise,
} from './signals.ts';
import { chords, espeakSpeech } from './speech.ts';

/** Every case is heard through white noise at -45 dBm0 (SNR 25-33 dB for the tones used) and μ-law. */
const NOISE_DBM0 = -45;

function hear(signal: Signal, seed = 1, firstFrame = 0): { tones: HeardTone[]; reversals: number[] } {
  mixInto(signal, whiteNoise(signal.length / 8000, NOISE_DBM0, seed));
  const pcm = toPcm(signal).map((s) => muLawToLinear(linearToMuLaw(s)));
  const reversals: number[] = [];
  const recorder = new Recorder();
  const detector = new ToneDetector(0, {
    onDigit: () => {},
    onTone: (leg, tone, startS, durS) => {
      recorder.onTone(leg, tone, startS, durS);
      reversals.push(detector.phaseReversals);
    },
  });
  feed(detector, pcm, firstFrame);
  return { tones: recorder.tones, reversals };
}

function names(heard: { tones: HeardTone[] }): ToneValue[] {
  return heard.tones.map((t) => t.tone);
}

const tone = (hz: number, dbm0: number) => (seconds: number) => tones(seconds, [{ hz, dbm0 }]);
const dual = (a: number, b: number, dbm0: number) => (seconds: number) =>
  tones(seconds, [
    { hz: a, dbm0 },
    { hz: b, dbm0 },
  ]);

describe('ToneDetector: fax calling tone (CNG)', () => {
  it('reports the first 1100 Hz burst of the 0.5 s on / 3 s off cadence once', () => {
    const heard = hear(concat(silence(0.3), cadence(tone(1100, -15), [0.5, 3, 0.5, 3, 0.5, 3])));
    expect(names(heard)).toEqual(['cng']);
    expect(heard.tones[0].startS).toBeCloseTo(0.3, 1);
    expect(Math.abs(heard.tones[0].durS - 0.5)).toBeLessThan(0.05);
  });

  it('accepts the T.30 frequency tolerance (1100 ± 38 Hz)', () => {
    expect(names(hear(concat(silence(0.3), cadence(tone(1138, -15), [0.5, 3]))))).toEqual(['cng']);
    expect(names(hear(concat(silence(0.3), cadence(tone(1062, -15), [0.5, 3]))))).toEqual(['cng']);
  });

  it('ignores 1100 Hz held continuously', () => {
    expect(names(hear(concat(silence(0.3), tone(1100, -15)(6), silence(3))))).toEqual([]);
  });

  it('ignores 1200 Hz in the CNG cadence', () => {
    expect(names(hear(concat(silence(0.3), cadence(tone(1200, -15), [0.5, 3, 0.5, 3]))))).toEqual([]);
  });

  it('ignores 1100 Hz beeps in a fast 0.5/0.5 s cadence', () => {
    expect(names(hear(concat(silence(0.3), cadence(tone(1100, -15), [0.5, 0.5, 0.5, 0.5, 0.5, 3]))))).toEqual(
      [],
    );
  });
});

describe('ToneDetector: 2100 Hz answer tones', () => {
  it('reports CED/ANS after 1 s of 2100 Hz', () => {
    const heard = hear(concat(silence(0.4), answerTone(3.3, -12, 0, 0), silence(0.5)));
    expect(names(heard)).toEqual(['ced']);
    expect(heard.tones[0].startS).toBeCloseTo(0.4, 1);
    expect(heard.tones[0].durS).toBeCloseTo(1, 1);
    expect(heard.reversals[0]).toBe(0);
  });

  it('counts the phase reversals of /ANS (every 450 ms), 15 Hz off nominal too', () => {
    for (const hz of [2100, 2115, 2085]) {
      const heard = hear(concat(silence(0.4), answerTone(3.3, -12, 0, 0.45, hz), silence(0.5)));
      expect(names(heard)).toEqual(['ced']);
      expect(heard.reversals[0]).toBe(2);
    }
  });

  it('tells ANSam by its 15 Hz amplitude modulation, with or without reversals', () => {
    expect(names(hear(concat(silence(0.4), answerTone(3.3, -12, 0.2, 0), silence(0.5))))).toEqual(['ansam']);
    const reversing = hear(concat(silence(0.4), answerTone(3.3, -12, 0.2, 0.45), silence(0.5)));
    expect(names(reversing)).toEqual(['ansam']);
    expect(reversing.reversals[0]).toBe(2);
  });

  it('ignores 2100 Hz lasting 200 ms', () => {
    expect(names(hear(concat(silence(0.4), answerTone(0.2, -12, 0, 0), silence(1))))).toEqual([]);
  });

  it('does not take 2225 Hz for 2100 Hz, nor 2100 Hz for 2225 Hz', () => {
    expect(names(hear(concat(silence(0.3), tone(2225, -12)(2), silence(0.5))))).toEqual(['bell']);
    expect(names(hear(concat(silence(0.3), tone(2100, -12)(2), silence(0.5))))).toEqual(['ced']);
  });
});

describe('ToneDetector: Bell 103 answer tone', () => {
  it('reports 2225 Hz after 0.8 s', () => {
    const heard = hear(concat(silence(0.3), tone(2225, -12)(2), silence(0.5)));
    expect(names(heard)).toEqual(['bell']);
    expect(heard.tones[0].durS).toBeCloseTo(0.8, 1);
  });

  it('ignores 2225 Hz lasting 300 ms', () => {
    expect(names(hear(concat(silence(0.3), tone(2225, -12)(0.3), silence(0.5))))).toEqual([]);
  });
});

describe('ToneDetector: V.21 channel 2 FSK', () => {
  it('reports the T.30 flag preamble (300 baud, 1650/1850 Hz)', () => {
    const heard = hear(concat(silence(0.3), fsk(1.2, -12, hdlcFlags(20)), silence(0.5)));
    expect(names(heard)).toEqual(['v21']);
    expect(heard.tones[0].startS).toBeCloseTo(0.3, 1);
  });

  it('reports random V.21 data', () => {
    const rnd = random(5);
    const bits = Array.from({ length: 400 }, () => (rnd() < 0.5 ? 1 : 0));
    expect(names(hear(concat(silence(0.3), fsk(1.2, -12, bits), silence(0.5))))).toEqual(['v21']);
  });

  it('ignores a steady 1650+1850 Hz dual tone, a lone 1650 Hz and a 1750 Hz tone', () => {
    expect(names(hear(concat(silence(0.3), dual(1650, 1850, -15)(1.5), silence(0.5))))).toEqual([]);
    expect(names(hear(concat(silence(0.3), tone(1650, -12)(1.5), silence(0.5))))).toEqual([]);
    expect(names(hear(concat(silence(0.3), tone(1750, -12)(1.5), silence(0.5))))).toEqual([]);
  });

  it('ignores FSK bursts shorter than 0.5 s', () => {
    expect(names(hear(concat(silence(0.3), fsk(0.3, -12, hdlcFlags(20)), silence(0.5))))).toEqual([]);
  });
});

describe('ToneDetector: special information tone', () => {
  const seg = (hz: number, seconds: number) => tone(hz, -14)(seconds);
  it('reports the low-frequency short-duration sequence (913.8, 1370.6, 1776.7 Hz)', () => {
    const heard = hear(
      concat(silence(0.3), seg(913.8, 0.276), seg(1370.6, 0.276), seg(1776.7, 0.38), silence(1)),
    );
    expect(names(heard)).toEqual(['sit']);
    expect(heard.tones[0].startS).toBeCloseTo(0.3, 1);
    expect(Math.abs(heard.tones[0].durS - 0.932)).toBeLessThan(0.05);
  });

  it('reports the high-frequency long-duration sequence (985.2, 1428.5, 1776.7 Hz)', () => {
    const signal = concat(silence(0.3), seg(985.2, 0.38), seg(1428.5, 0.38), seg(1776.7, 0.38), silence(1));
    expect(names(hear(signal))).toEqual(['sit']);
  });

  it('ignores a sequence with the second tone missing (silent or skipped)', () => {
    expect(
      names(hear(concat(silence(0.3), seg(913.8, 0.276), silence(0.276), seg(1776.7, 0.38), silence(1)))),
    ).toEqual([]);
    expect(names(hear(concat(silence(0.3), seg(913.8, 0.276), seg(1776.7, 0.38), silence(1))))).toEqual([]);
  });

  it('ignores the tones out of order and a lone 1776.7 Hz', () => {
    expect(
      names(hear(concat(silence(0.3), seg(1776.7, 0.38), seg(1370.6, 0.276), seg(913.8, 0.276), silence(1)))),
    ).toEqual([]);
    expect(names(hear(concat(silence(0.3), seg(1776.7, 0.38), silence(1))))).toEqual([]);
  });

  it('ignores segments held far too long (2 s each)', () => {
    expect(
      names(hear(concat(silence(0.3), seg(913.8, 2), seg(1370.6, 2), seg(1776.7, 2), silence(1)))),
    ).toEqual([]);
  });
});

describe('ToneDetector: call-progress tones', () => {
  it('reports busy (480+620 Hz, 0.5/0.5 s) once per busy episode', () => {
    const heard = hear(
      concat(silence(0.3), cadence(dual(480, 620, -20), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1])),
    );
    expect(names(heard)).toEqual(['busy']);
    expect(heard.tones[0].startS).toBeCloseTo(0.3, 1);
  });

  it('reports each ringback burst (440+480 Hz, 2 s on / 4 s off)', () => {
    const heard = hear(concat(silence(0.3), cadence(dual(440, 480, -19), [2, 4, 2, 1])));
    expect(names(heard)).toEqual(['ringback', 'ringback']);
    expect(heard.tones[1].startS).toBeCloseTo(6.3, 1);
    expect(heard.tones[0].durS).toBeCloseTo(2, 1);
  });

  it('reports dial tone (350+440 Hz) after 1 s', () => {
    expect(names(hear(concat(silence(0.3), dual(350, 440, -13)(3), silence(0.3))))).toEqual(['dialtone']);
  });

  it('does not confuse the pairs: 440 Hz alone, 480+620 continuous, 440+480 for 300 ms', () => {
    expect(names(hear(concat(silence(0.3), tone(440, -13)(3), silence(0.3))))).toEqual([]);
    expect(names(hear(concat(silence(0.3), dual(480, 620, -20)(3), silence(0.3))))).toEqual([]);
    expect(names(hear(concat(silence(0.3), dual(440, 480, -19)(0.3), silence(0.3))))).toEqual([]);
  });
});

describe('ToneDetector: call-progress tones of the ITU family (425 Hz, 400+450 Hz, 400 Hz)', () => {
  it('reports each European ringback burst (425 Hz, 1 s on / 4 s off)', () => {
    const heard = hear(concat(silence(0.3), cadence(tone(425, -19), [1, 4, 1, 4, 1, 1])));
    expect(names(heard)).toEqual(['ringback', 'ringback', 'ringback']);
    expect(heard.tones.map((t) => Number(t.startS.toFixed(1)))).toEqual([0.3, 5.3, 10.3]);
    expect(heard.tones[0].durS).toBeCloseTo(1, 1);
  });

  it('reports the UK double ring (400+450 Hz, 0.4 / 0.2 / 0.4 s on, 2 s off) once per ring', () => {
    const ring = cadence(dual(400, 450, -22), [0.4, 0.2, 0.4, 2]);
    const heard = hear(concat(silence(0.3), ring, ring, ring));
    expect(names(heard)).toEqual(['ringback', 'ringback', 'ringback']);
    expect(heard.tones.map((t) => Number(t.startS.toFixed(1)))).toEqual([0.3, 3.3, 6.3]);
    expect(heard.tones[0].durS).toBeCloseTo(1, 1);
  });

  it('reports busy by its cadence: CEPT 425 Hz 0.5 / 0.5 s and UK 400 Hz 0.375 / 0.375 s', () => {
    const cept = hear(concat(silence(0.3), cadence(tone(425, -19), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1])));
    expect(names(cept)).toEqual(['busy']);
    expect(cept.tones[0].startS).toBeCloseTo(0.3, 1);
    const uk = hear(
      concat(silence(0.3), cadence(tone(400, -19), [0.375, 0.375, 0.375, 0.375, 0.375, 0.375, 0.375, 1])),
    );
    expect(names(uk)).toEqual(['busy']);
  });

  it('reports 425 Hz held past any ringback as dial tone, once, when it has lasted 3 s', () => {
    const heard = hear(concat(silence(0.3), tone(425, -13)(6), silence(0.3)));
    expect(names(heard)).toEqual(['dialtone']);
    expect(heard.tones[0].durS).toBeCloseTo(3, 1);
  });

  it('hears nothing in 425 Hz congestion (0.25 / 0.25 s), a 425 Hz blip or 500 Hz in the ringing cadence', () => {
    expect(
      names(
        hear(concat(silence(0.3), cadence(tone(425, -19), [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 1]))),
      ),
    ).toEqual([]);
    expect(names(hear(concat(silence(0.3), tone(425, -19)(0.5), silence(2))))).toEqual([]);
    expect(names(hear(concat(silence(0.3), cadence(tone(500, -19), [1, 4, 1, 1]))))).toEqual([]);
  });
});

describe('ToneDetector: quiet tones in noise', () => {
  for (const snr of [20, 10]) {
    it(`hears CED and CNG at -30 dBm0 with white noise ${snr} dB below`, () => {
      const ced = concat(silence(0.3), answerTone(3, -30, 0, 0.45), silence(0.5));
      const cng = concat(silence(0.3), cadence(tone(1100, -30), [0.5, 3, 0.5, 3]));
      const ansam = concat(silence(0.3), answerTone(3, -30, 0.2, 0.45), silence(0.5));
      for (const [signal, expected] of [
        [ced, 'ced'],
        [cng, 'cng'],
        [ansam, 'ansam'],
      ] as const) {
        mixInto(signal, whiteNoise(signal.length / 8000, -30 - snr, 40 + snr));
        const recorder = new Recorder();
        feed(new ToneDetector(0, recorder), toPcm(signal));
        expect(recorder.tones.map((t) => t.tone)).toEqual([expected]);
      }
    });
  }
});

describe('ToneDetector: speech, music, noise and timing', () => {
  it('hears no tone in speech, music or noise (over 3 minutes in all)', () => {
    for (const signal of [espeakSpeech(), chords(60), whiteNoise(20, -10, 11)]) {
      const recorder = new Recorder();
      feed(new ToneDetector(0, recorder), toPcm(signal));
      expect(recorder.tones).toEqual([]);
    }
  });

  it('times tones in call media time and starts afresh after a break in frame indices', () => {
    const recorder = new Recorder();
    const detector = new ToneDetector(1, recorder);
    const pcm = toPcm(concat(silence(0.2), answerTone(1.5, -12, 0, 0), silence(0.2)));
    for (const first of [100, 5000]) {
      for (let f = 0; (f + 1) * 160 <= pcm.length; f++)
        detector.process(pcm.subarray(f * 160, (f + 1) * 160), first + f);
    }
    detector.finish(0);
    expect(recorder.tones.map((t) => [t.leg, t.tone, Number(t.startS.toFixed(2))])).toEqual([
      [1, 'ced', 2.2],
      [1, 'ced', 100.2],
    ]);
  });
});
