import { describe, expect, it } from 'vitest';
import { DtmfDetector } from '../../../src/dsp/detectors/dtmf-detector.ts';
import { aLawToLinear, linearToALaw, linearToMuLaw, muLawToLinear } from '../../../src/ingest/codecs/g711.ts';
import { FRAME_SAMPLES } from '../../../src/ingest/media-sink.ts';
import {
  concat,
  DTMF_KEYS,
  type DtmfSpec,
  dtmf,
  feed,
  mixInto,
  Recorder,
  random,
  type Signal,
  silence,
  toPcm,
  whiteNoise,
} from './signals.ts';
import { chords, espeakSpeech } from './speech.ts';

/**
 * Q.24 test levels. dBm0 is against the G.711 reference (0 dBm0 = sine of amplitude 22786, see levels.ts).
 * Unless a case says otherwise, each tone is at -10 dBm0 and white noise sits at -50 dBm0.
 * The level cases use white noise 15 dB below the two-tone signal's power (SNR 15 dB over 0-4 kHz).
 */
const QUIET_NOISE_DBM0 = -50;
/** Tone placements relative to the 20 ms frames and the detector's 6.4 ms hop. */
const ALIGNMENTS = [0, 0.0031, 0.0077, 0.0123];

function hear(signal: Signal, noiseDbm0: number, seed: number, firstFrame = 0): Recorder {
  mixInto(signal, whiteNoise(signal.length / 8000, noiseDbm0, seed));
  const recorder = new Recorder();
  feed(new DtmfDetector(1, recorder), toPcm(signal), firstFrame);
  return recorder;
}

/** Digits heard for one 60 ms (unless given) key press placed at each alignment. */
function pressEachAlignment(spec: DtmfSpec, noiseDbm0 = QUIET_NOISE_DBM0): string[] {
  return ALIGNMENTS.map((lead, i) => {
    const signal = concat(silence(0.1 + lead), dtmf({ ...spec }), silence(0.15));
    return hear(signal, noiseDbm0, 17 + i).digitString();
  });
}

interface Q24Case {
  name: string;
  spec: Omit<DtmfSpec, 'key'>;
  noiseDbm0?: number;
  accept: boolean;
}

const Q24_CASES: Q24Case[] = [
  { name: 'nominal', spec: { seconds: 0.06 }, accept: true },
  { name: 'row +1.5%', spec: { seconds: 0.06, rowDeviation: 0.015 }, accept: true },
  { name: 'row -1.5%', spec: { seconds: 0.06, rowDeviation: -0.015 }, accept: true },
  { name: 'column +1.5%', spec: { seconds: 0.06, colDeviation: 0.015 }, accept: true },
  { name: 'column -1.5%', spec: { seconds: 0.06, colDeviation: -0.015 }, accept: true },
  { name: 'both +1.5%', spec: { seconds: 0.06, rowDeviation: 0.015, colDeviation: 0.015 }, accept: true },
  { name: 'row +3.5%', spec: { seconds: 0.06, rowDeviation: 0.035 }, accept: false },
  { name: 'row -3.5%', spec: { seconds: 0.06, rowDeviation: -0.035 }, accept: false },
  { name: 'column +3.5%', spec: { seconds: 0.06, colDeviation: 0.035 }, accept: false },
  { name: 'column -3.5%', spec: { seconds: 0.06, colDeviation: -0.035 }, accept: false },
  { name: 'duration 40 ms', spec: { seconds: 0.04 }, accept: true },
  { name: 'duration 23 ms', spec: { seconds: 0.023 }, accept: false },
  { name: 'duration 20 ms', spec: { seconds: 0.02 }, accept: false },
  { name: 'normal twist +4 dB (high group louder)', spec: { seconds: 0.06, twistDb: 4 }, accept: true },
  { name: 'reverse twist 8 dB (low group louder)', spec: { seconds: 0.06, twistDb: -8 }, accept: true },
  { name: 'normal twist +7 dB', spec: { seconds: 0.06, twistDb: 7 }, accept: false },
  { name: 'reverse twist 11 dB', spec: { seconds: 0.06, twistDb: -11 }, accept: false },
  { name: '-26 dBm0 per tone, SNR 15 dB', spec: { seconds: 0.06, dbm0: -26 }, noiseDbm0: -38, accept: true },
  {
    name: '-26 dBm0, 40 ms, SNR 15 dB',
    spec: { seconds: 0.04, dbm0: -26 },
    noiseDbm0: -38,
    accept: true,
  },
  {
    name: '-22 dBm0 with 8 dB reverse twist, SNR 15 dB',
    spec: { seconds: 0.06, dbm0: -22, twistDb: -8 },
    noiseDbm0: -35,
    accept: true,
  },
  { name: '-45 dBm0 per tone, SNR 15 dB', spec: { seconds: 0.06, dbm0: -45 }, noiseDbm0: -57, accept: false },
  { name: '-45 dBm0 per tone, clean', spec: { seconds: 0.06, dbm0: -45 }, noiseDbm0: -80, accept: false },
];

describe('DtmfDetector: Q.24 accept/reject table, every digit, four alignments', () => {
  for (const c of Q24_CASES) {
    it(`${c.accept ? 'accepts' : 'rejects'} ${c.name}`, () => {
      for (const key of DTMF_KEYS) {
        const heard = pressEachAlignment({ key, ...c.spec }, c.noiseDbm0);
        const expected = ALIGNMENTS.map(() => (c.accept ? key : ''));
        expect({ key, heard }).toEqual({ key, heard: expected });
      }
    });
  }
});

describe('DtmfDetector: timing and sequences', () => {
  it('reports start and duration of each press in call media time', () => {
    const first = 250; // frames: 5 s into the call
    const signal = concat(silence(0.2), dtmf({ key: '7', seconds: 0.08 }), silence(0.3));
    const heard = hear(signal, QUIET_NOISE_DBM0, 3, first);
    expect(heard.digits).toHaveLength(1);
    expect(heard.digits[0].leg).toBe(1);
    expect(heard.digits[0].startS).toBeCloseTo(5.2, 1);
    expect(Math.abs(heard.digits[0].startS - 5.2)).toBeLessThan(0.012);
    expect(Math.abs(heard.digits[0].durS - 0.08)).toBeLessThan(0.015);
  });

  it('reports a press within 60 ms of its end, so a card-number rule can fire well inside 1 s', () => {
    const signal = toPcm(concat(silence(0.1), dtmf({ key: '4', seconds: 0.07 }), silence(0.5)));
    let reportedAtFrame = -1;
    const detector = new DtmfDetector(0, {
      onDigit: () => {
        reportedAtFrame = frame;
      },
      onTone: () => {},
    });
    let frame = 0;
    for (; frame * FRAME_SAMPLES < signal.length; frame++) {
      detector.process(signal.subarray(frame * FRAME_SAMPLES, (frame + 1) * FRAME_SAMPLES), frame);
    }
    // The frame during which the report arrived ends at (frame + 1) * 20 ms.
    expect(reportedAtFrame).toBeGreaterThan(0);
    expect((reportedAtFrame + 1) * 0.02 - 0.17).toBeLessThan(0.06);
  });

  for (const gap of [0.04, 0.045, 0.05]) {
    it(`keys a 16-digit card number with 50 ms tones and ${gap * 1000} ms gaps`, () => {
      const number = '4556737586899855';
      const parts: Signal[] = [silence(0.1)];
      for (const key of number) parts.push(dtmf({ key, seconds: 0.05 }), silence(gap));
      parts.push(silence(0.2));
      expect(hear(concat(...parts), QUIET_NOISE_DBM0, 5).digitString()).toBe(number);
    });
  }

  it('keeps repeated digits apart with 40 ms gaps, at -26 dBm0 in noise', () => {
    const parts: Signal[] = [silence(0.1)];
    for (let i = 0; i < 6; i++) parts.push(dtmf({ key: '1', seconds: 0.04, dbm0: -26 }), silence(0.04));
    parts.push(silence(0.2));
    expect(hear(concat(...parts), -38, 9).digitString()).toBe('111111');
  });

  it('hears random 12-digit strings: 40-120 ms tones, 40-100 ms gaps, -26 to -4 dBm0, twist, ±1.5 %, SNR 15 dB', () => {
    const rnd = random(99);
    for (let trial = 0; trial < 40; trial++) {
      const keys = Array.from({ length: 12 }, () => DTMF_KEYS[Math.floor(rnd() * 16)]).join('');
      const level = -26 + rnd() * 22;
      const parts: Signal[] = [silence(0.1 + rnd() * 0.05)];
      for (const key of keys) {
        parts.push(
          dtmf({
            key,
            seconds: 0.04 + rnd() * 0.08,
            dbm0: level,
            twistDb: -8 + rnd() * 12,
            rowDeviation: (rnd() - 0.5) * 0.03,
            colDeviation: (rnd() - 0.5) * 0.03,
          }),
          silence(0.04 + rnd() * 0.06),
        );
      }
      parts.push(silence(0.2));
      // Two tones at `level` carry level + 3 dBm0; the noise sits 15 dB below that.
      const heard = hear(concat(...parts), level + 3 - 15, 1000 + trial).digitString();
      expect({ trial, heard }).toEqual({ trial, heard: keys });
    }
  });

  it('reports a key held for 2 s once, with its duration', () => {
    const heard = hear(
      concat(silence(0.1), dtmf({ key: '#', seconds: 2 }), silence(0.2)),
      QUIET_NOISE_DBM0,
      4,
    );
    expect(heard.digitString()).toBe('#');
    expect(Math.abs(heard.digits[0].durS - 2)).toBeLessThan(0.015);
  });

  it('rides over a 10 ms dropout inside a press', () => {
    const signal = concat(
      silence(0.1),
      dtmf({ key: '9', seconds: 0.2 }),
      silence(0.01),
      dtmf({ key: '9', seconds: 0.2 }),
      silence(0.2),
    );
    expect(hear(signal, QUIET_NOISE_DBM0, 8).digitString()).toBe('9');
  });

  it('separates different digits keyed back to back without a gap', () => {
    const signal = concat(
      silence(0.1),
      dtmf({ key: '2', seconds: 0.1 }),
      dtmf({ key: '5', seconds: 0.1 }),
      silence(0.2),
    );
    expect(hear(signal, QUIET_NOISE_DBM0, 8).digitString()).toBe('25');
  });

  it('reports a digit still sounding when the call ends', () => {
    expect(
      hear(concat(silence(0.1), dtmf({ key: 'D', seconds: 0.3 })), QUIET_NOISE_DBM0, 2).digitString(),
    ).toBe('D');
  });

  it('restarts cleanly across a break in frame indices', () => {
    const recorder = new Recorder();
    const detector = new DtmfDetector(0, recorder);
    const pcm = toPcm(concat(silence(0.04), dtmf({ key: '3', seconds: 0.1 }), silence(0.1)));
    feedFrames(detector, pcm, 0);
    feedFrames(detector, pcm, 1000);
    detector.finish(2000);
    expect(recorder.digitString()).toBe('33');
    expect(recorder.digits[1].startS).toBeCloseTo(20.04, 1);
  });
});

function feedFrames(detector: DtmfDetector, pcm: Int16Array, first: number): void {
  for (let f = 0; (f + 1) * FRAME_SAMPLES <= pcm.length; f++) {
    detector.process(pcm.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES), first + f);
  }
}

describe('DtmfDetector: codecs and talk-off', () => {
  it('hears every digit after a μ-law and an A-law round trip at -26 dBm0', () => {
    const keys = DTMF_KEYS;
    const parts: Signal[] = [silence(0.1)];
    for (const key of keys) parts.push(dtmf({ key, seconds: 0.045, dbm0: -26 }), silence(0.045));
    const pcm = toPcm(concat(...parts, silence(0.2)));
    for (const [encode, decode] of [
      [linearToMuLaw, muLawToLinear],
      [linearToALaw, aLawToLinear],
    ] as const) {
      const coded = pcm.map((s) => decode(encode(s)));
      const recorder = new Recorder();
      const detector = new DtmfDetector(0, recorder);
      feed(detector, coded);
      expect(recorder.digitString()).toBe(keys);
    }
  });

  it('hears no digit in speech, music or noise (over 3 minutes in all)', () => {
    const speech = espeakSpeech();
    const music = chords(60);
    const noise = whiteNoise(20, -10, 11);
    expect(speech.length / 8000).toBeGreaterThan(60);
    let seconds = 0;
    for (const signal of [speech, music, noise]) {
      seconds += signal.length / 8000;
      const recorder = new Recorder();
      feed(new DtmfDetector(0, recorder), toPcm(signal));
      expect(recorder.digits).toEqual([]);
    }
    expect(seconds).toBeGreaterThan(30);
  });

  it('hears digits keyed over speech (keys at -10 dBm0, talk at -17 to -25 dBm0)', () => {
    const speech = espeakSpeech().subarray(0, 8000 * 4);
    const parts: Signal[] = [silence(0.2)];
    for (const key of '0123456789') parts.push(dtmf({ key, seconds: 0.1 }), silence(0.1));
    const keys = concat(...parts);
    const talk = new Float64Array(speech.length);
    const gain = 10 ** (-13 / 20);
    for (let i = 0; i < talk.length; i++) talk[i] = speech[i] * gain;
    const signal = mixInto(talk, keys);
    const recorder = new Recorder();
    feed(new DtmfDetector(0, recorder), toPcm(signal));
    expect(recorder.digitString()).toBe('0123456789');
  });
});
