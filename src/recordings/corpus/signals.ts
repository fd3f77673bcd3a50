import type { Prng } from './prng.ts';

/** Corpus audio is built at the canonical telephone rate. */
export const RATE = 8000;

/** Amplitude (full scale = 1) of a sine at 0 dBm0: G.711's overload point is +3.14 dBm0. */
export const DBM0_AMPLITUDE = 10 ** (-3.14 / 20);

export function dbm0ToAmplitude(dbm0: number): number {
  return DBM0_AMPLITUDE * 10 ** (dbm0 / 20);
}

export function seconds(s: number): number {
  return Math.round(s * RATE);
}

/** Sum of sines with 5 ms raised-cosine edges (hard edges splatter energy the detectors would see as clicks). */
export function tones(
  freqs: readonly number[],
  durationS: number,
  amplitudes: readonly number[],
  phase = 0,
): Float32Array {
  const n = seconds(durationS);
  const out = new Float32Array(n);
  const ramp = Math.min(seconds(0.005), n >> 1);
  for (let k = 0; k < freqs.length; k++) {
    const w = (2 * Math.PI * freqs[k]) / RATE;
    const a = amplitudes[k];
    for (let i = 0; i < n; i++) out[i] += a * Math.sin(w * i + phase);
  }
  for (let i = 0; i < ramp; i++) {
    const g = 0.5 - 0.5 * Math.cos((Math.PI * i) / ramp);
    out[i] *= g;
    out[n - 1 - i] *= g;
  }
  return out;
}

export const DTMF_ROWS = [697, 770, 852, 941] as const;
export const DTMF_COLS = [1209, 1336, 1477, 1633] as const;
const DTMF_KEYS = ['123A', '456B', '789C', '*0#D'];

export function dtmfFrequencies(digit: string): [number, number] {
  for (let r = 0; r < 4; r++) {
    const c = DTMF_KEYS[r].indexOf(digit);
    if (c >= 0) return [DTMF_ROWS[r], DTMF_COLS[c]];
  }
  throw new Error(`not a DTMF digit: ${digit}`);
}

export interface KeyedDigit {
  digit: string;
  startS: number;
  durS: number;
}

/**
 * A keyed digit string as a phone keypad produces it: 60-150 ms tones, 60-200 ms gaps, longer pauses
 * between groups, levels around -4..-16 dBm0 per tone with a little twist. Returns audio and digit times.
 */
export function keyDigits(
  rng: Prng,
  digits: string,
  groupSizes: readonly number[] = [],
): { audio: Float32Array; keyed: KeyedDigit[] } {
  const keyed: KeyedDigit[] = [];
  const parts: Float32Array[] = [];
  let t = 0;
  let inGroup = 0;
  let group = 0;
  const levelDbm0 = rng.uniform(-16, -4);
  for (const digit of digits) {
    const on = rng.uniform(0.06, 0.15);
    const [low, high] = dtmfFrequencies(digit);
    const twist = rng.uniform(-2, 3); // high group usually a little louder (normal twist)
    parts.push(tones([low, high], on, [dbm0ToAmplitude(levelDbm0), dbm0ToAmplitude(levelDbm0 + twist)]));
    keyed.push({ digit, startS: t, durS: on });
    t += on;
    inGroup++;
    let gap = rng.uniform(0.07, 0.2);
    if (groupSizes.length > 0 && inGroup === groupSizes[group % groupSizes.length]) {
      gap = rng.uniform(0.4, 1.1);
      inGroup = 0;
      group++;
    }
    parts.push(new Float32Array(seconds(gap)));
    t += gap;
  }
  return { audio: concat(parts), keyed };
}

export function concat(parts: readonly Float32Array[]): Float32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Repeats `pattern` (on-tone then off) for `totalS` seconds. */
export function cadence(on: Float32Array, offS: number, totalS: number): Float32Array {
  const out = new Float32Array(seconds(totalS));
  const period = on.length + seconds(offS);
  for (let start = 0; start < out.length; start += period) {
    out.set(on.subarray(0, Math.min(on.length, out.length - start)), start);
  }
  return out;
}

/** The ringing tones of ITU-T E.180 that the corpus plays, by the region whose exchanges use them. */
export type RingbackRegion = 'north_american' | 'european' | 'uk';

/**
 * Ringback as the called party's exchange plays it: North American 440 + 480 Hz, 2 s on 4 s off; European (CEPT)
 * 425 Hz, 1 s on 4 s off; or the UK's double ring, 400 + 450 Hz, 0.4 s on 0.2 s off 0.4 s on 2 s off.
 */
export function ringback(durationS: number, amplitude: number, region: RingbackRegion): Float32Array {
  if (region === 'european') return cadence(tones([425], 1, [amplitude]), 4, durationS);
  if (region === 'north_american') return cadence(tones([440, 480], 2, [amplitude, amplitude]), 4, durationS);
  const ring = tones([400, 450], 0.4, [amplitude / 2, amplitude / 2]);
  const double = new Float32Array(seconds(1));
  double.set(ring, 0);
  double.set(ring, seconds(0.6));
  return cadence(double, 2, durationS);
}

/** A ringback region for a call: North American for half of them, European for a third, UK for the rest. */
export function ringbackRegion(rng: Prng): RingbackRegion {
  const pick = rng.uniform(0, 1);
  return pick < 0.5 ? 'north_american' : pick < 0.83 ? 'european' : 'uk';
}

/** White noise with the given RMS. */
export function whiteNoise(rng: Prng, durationS: number, rms: number): Float32Array {
  const out = new Float32Array(seconds(durationS));
  for (let i = 0; i < out.length; i++) out[i] = rms * rng.normal();
  return out;
}

/**
 * Speech-shaped (Hoth-like) noise: white noise through a gentle low-pass so the spectrum falls ~6 dB/octave
 * above 500 Hz, like room and line noise on real calls. `tilt` 0 = white, 1 = fully shaped.
 */
export function shapedNoise(rng: Prng, durationS: number, rms: number, tilt = 1): Float32Array {
  const out = whiteNoise(rng, durationS, 1);
  const a = Math.exp((-2 * Math.PI * 500) / RATE) * tilt;
  let y = 0;
  let energy = 0;
  for (let i = 0; i < out.length; i++) {
    y = (1 - a) * out[i] + a * y;
    out[i] = y;
    energy += y * y;
  }
  return scaleToRms(out, rms, energy);
}

function scaleToRms(x: Float32Array, rms: number, energy?: number): Float32Array {
  let e = energy;
  if (e === undefined) {
    e = 0;
    for (let i = 0; i < x.length; i++) e += x[i] * x[i];
  }
  const current = Math.sqrt(e / Math.max(1, x.length));
  if (current > 0) {
    const g = rms / current;
    for (let i = 0; i < x.length; i++) x[i] *= g;
  }
  return x;
}

export function rmsOf(x: Float32Array): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i] * x[i];
  return Math.sqrt(e / Math.max(1, x.length));
}

/**
 * Hold-music stand-in: chords of harmonic notes that change every beat, with a soft attack/decay per note.
 * Sustained pitch and no syllabic rhythm: what a voice detector must not call speech.
 */
export function music(rng: Prng, durationS: number, rms: number): Float32Array {
  const out = new Float32Array(seconds(durationS));
  const beat = rng.uniform(0.35, 0.8);
  const root = rng.uniform(110, 220);
  const scale = [0, 2, 4, 5, 7, 9, 11, 12];
  const beatSamples = seconds(beat);
  for (let start = 0; start < out.length; start += beatSamples) {
    const degree = rng.pick(scale);
    const chord = [degree, degree + 4, degree + 7].map((s) => root * 2 ** (s / 12));
    const n = Math.min(beatSamples, out.length - start);
    for (const f of chord) {
      for (let h = 1; h <= 4; h++) {
        const w = (2 * Math.PI * f * h) / RATE;
        if (f * h > 3600) break;
        const a = 1 / h;
        for (let i = 0; i < n; i++) {
          const env = Math.min(1, i / 200) * Math.exp(-i / (beatSamples * 1.5));
          out[start + i] += a * env * Math.sin(w * i);
        }
      }
    }
  }
  return scaleToRms(out, rms);
}

/** Adds `src` into `dst` at sample `at` with gain, clipped to the destination. */
export function mixInto(dst: Float32Array, src: Float32Array, at: number, gain = 1): void {
  const start = Math.max(0, at);
  const end = Math.min(dst.length, at + src.length);
  for (let i = start; i < end; i++) dst[i] += gain * src[i - at];
}
