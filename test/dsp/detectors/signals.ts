import type { ToneValue } from '../../../src/dsp/detector-event.ts';
import type { DetectorListener } from '../../../src/dsp/detectors/detector-listener.ts';
import { sineAmplitudeAtDbm0 } from '../../../src/dsp/detectors/levels.ts';
import type { Leg } from '../../../src/ingest/media-sink.ts';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../../src/ingest/media-sink.ts';
import { concat, rng as random } from '../frame/signals.ts';

// Shared with the frame-feature tests: seeded PRNG, concatenation, rounding to saturated 16-bit PCM.
export { concat, rng as random, toPcm } from '../frame/signals.ts';

/** Test signals built in floating point, summed, then rounded once to 16-bit PCM. */
export type Signal = Float64Array;

export const DTMF_ROWS = [697, 770, 852, 941];
export const DTMF_COLS = [1209, 1336, 1477, 1633];
export const DTMF_KEYS = '123A456B789C*0#D';

export function silence(seconds: number): Signal {
  return new Float64Array(Math.round(seconds * SAMPLE_RATE));
}

/** Adds `b` into `a` (in place) starting at sample `at`; returns `a`. */
export function mixInto(a: Signal, b: Signal, at = 0): Signal {
  for (let i = 0; i < b.length && at + i < a.length; i++) a[at + i] += b[i];
  return a;
}

export interface ToneSpec {
  hz: number;
  dbm0: number;
  phase?: number;
}

export function tones(seconds: number, specs: ToneSpec[]): Signal {
  const n = Math.round(seconds * SAMPLE_RATE);
  const out = new Float64Array(n);
  for (const s of specs) {
    const a = sineAmplitudeAtDbm0(s.dbm0);
    const w = (2 * Math.PI * s.hz) / SAMPLE_RATE;
    const ph = s.phase ?? 0;
    for (let i = 0; i < n; i++) out[i] += a * Math.sin(w * i + ph);
  }
  return out;
}

export interface DtmfSpec {
  key: string;
  seconds: number;
  /** Level of each tone when twist is 0; twist moves the column up by twist/2 and the row down by twist/2. */
  dbm0?: number;
  /** Column (high group) minus row (low group) level, dB. */
  twistDb?: number;
  rowDeviation?: number;
  colDeviation?: number;
}

export function dtmf(spec: DtmfSpec): Signal {
  const idx = DTMF_KEYS.indexOf(spec.key);
  if (idx < 0) throw new Error(`no DTMF key ${spec.key}`);
  const level = spec.dbm0 ?? -10;
  const twist = spec.twistDb ?? 0;
  return tones(spec.seconds, [
    { hz: DTMF_ROWS[idx >> 2] * (1 + (spec.rowDeviation ?? 0)), dbm0: level - twist / 2, phase: 0.3 },
    { hz: DTMF_COLS[idx & 3] * (1 + (spec.colDeviation ?? 0)), dbm0: level + twist / 2, phase: 1.1 },
  ]);
}

/** White Gaussian noise with mean power equal to a sine at `dbm0` (i.e. noise power in dBm0). */
export function whiteNoise(seconds: number, dbm0: number, seed: number): Signal {
  const rnd = random(seed);
  const n = Math.round(seconds * SAMPLE_RATE);
  const out = new Float64Array(n);
  const a = sineAmplitudeAtDbm0(dbm0);
  const sigma = a / Math.SQRT2;
  for (let i = 0; i < n; i++) {
    const u = Math.max(rnd(), 1e-12);
    const v = rnd();
    out[i] = sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

export function meanPower(s: Signal): number {
  let e = 0;
  for (let i = 0; i < s.length; i++) e += s[i] * s[i];
  return e / Math.max(1, s.length);
}

export interface HeardDigit {
  leg: Leg;
  digit: string;
  startS: number;
  durS: number;
}
export interface HeardTone {
  leg: Leg;
  tone: ToneValue;
  startS: number;
  durS: number;
}

export class Recorder implements DetectorListener {
  readonly digits: HeardDigit[] = [];
  readonly tones: HeardTone[] = [];
  onDigit(leg: Leg, digit: string, startS: number, durS: number): void {
    this.digits.push({ leg, digit, startS, durS });
  }
  onTone(leg: Leg, tone: ToneValue, startS: number, durS: number): void {
    this.tones.push({ leg, tone, startS, durS });
  }
  digitString(): string {
    return this.digits.map((d) => d.digit).join('');
  }
}

interface FrameDetector {
  process(pcm: Int16Array, frameIndex: number): void;
  finish(frameIndex: number): void;
}

/**
 * Feeds PCM through a detector in 20 ms frames (zero-padding the last one) starting at `firstFrame`, then
 * finishes it, the way the call analyser does.
 */
export function feed(detector: FrameDetector, pcm: Int16Array, firstFrame = 0): void {
  const frame = new Int16Array(FRAME_SAMPLES);
  let f = firstFrame;
  for (let o = 0; o < pcm.length; o += FRAME_SAMPLES) {
    frame.fill(0);
    frame.set(pcm.subarray(o, Math.min(pcm.length, o + FRAME_SAMPLES)));
    detector.process(frame, f++);
  }
  detector.finish(f);
}

/** Reads the samples of a 16-bit PCM WAV file (any chunk layout) as a Signal. */
export function readPcm16Wav(bytes: Uint8Array): Signal {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 12;
  while (o + 8 <= bytes.length) {
    const id = String.fromCharCode(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]);
    const size = view.getUint32(o + 4, true);
    if (id === 'data') {
      const n = Math.min(size, bytes.length - o - 8) >> 1;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(o + 8 + 2 * i, true);
      return out;
    }
    o += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}

/** Scales a signal so its mean power equals a sine at `dbm0`. */
export function scaleTo(s: Signal, dbm0: number): Signal {
  const target = sineAmplitudeAtDbm0(dbm0) ** 2 / 2;
  const g = Math.sqrt(target / Math.max(1e-9, meanPower(s)));
  const out = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] * g;
  return out;
}

/** On/off cadence of a tone built by `make(seconds)`: [on, off, on, off, ...] seconds. */
export function cadence(make: (seconds: number) => Signal, pattern: number[]): Signal {
  const parts: Signal[] = [];
  for (let i = 0; i < pattern.length; i++) parts.push(i % 2 === 0 ? make(pattern[i]) : silence(pattern[i]));
  return concat(...parts);
}

/**
 * A 2100 Hz answer tone: optional 15 Hz amplitude modulation of `amDepth` (ANSam: 0.2) and 180° phase
 * reversals every `reversalS` seconds (0 for none).
 */
export function answerTone(
  seconds: number,
  dbm0: number,
  amDepth: number,
  reversalS: number,
  hz = 2100,
): Signal {
  const n = Math.round(seconds * SAMPLE_RATE);
  const out = new Float64Array(n);
  const a = sineAmplitudeAtDbm0(dbm0) / (1 + amDepth);
  const w = (2 * Math.PI * hz) / SAMPLE_RATE;
  const every = Math.round(reversalS * SAMPLE_RATE);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    if (every > 0 && i > 0 && i % every === 0) phase += Math.PI;
    const env = 1 + amDepth * Math.sin((2 * Math.PI * 15 * i) / SAMPLE_RATE);
    out[i] = a * env * Math.sin(w * i + phase);
  }
  return out;
}

/**
 * Continuous-phase binary FSK at `baud`: bit 1 = `markHz`, bit 0 = `spaceHz` (V.21 channel 2: mark 1650,
 * space 1850, 300 baud). `bits` repeat to fill `seconds`.
 */
export function fsk(
  seconds: number,
  dbm0: number,
  bits: number[],
  markHz = 1650,
  spaceHz = 1850,
  baud = 300,
): Signal {
  const n = Math.round(seconds * SAMPLE_RATE);
  const out = new Float64Array(n);
  const a = sineAmplitudeAtDbm0(dbm0);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const bit = bits[Math.floor((i * baud) / SAMPLE_RATE) % bits.length];
    phase += (2 * Math.PI * (bit ? markHz : spaceHz)) / SAMPLE_RATE;
    out[i] = a * Math.sin(phase);
  }
  return out;
}

/** HDLC flags (0x7E, sent LSB first) as bits: the V.21 preamble of a T.30 fax handshake. */
export function hdlcFlags(count: number): number[] {
  const bits: number[] = [];
  for (let i = 0; i < count; i++) bits.push(0, 1, 1, 1, 1, 1, 1, 0);
  return bits;
}
