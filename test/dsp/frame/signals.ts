/**
 * Deterministic test signals of known character at 8 kHz: tones, noises, speech-like and music-like sounds, and
 * espeak-ng speech. Shared by the frame tests and bench/dsp.bench.ts.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameAnalyzer, type FrameAnalyzerOptions } from '../../../src/dsp/frame/frame-analyzer.ts';
import { FrameFeatures } from '../../../src/dsp/frame/frame-features.ts';

export const RATE = 8000;
export const FRAME = 160;

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box-Muller. */
export function gaussian(random: () => number): () => number {
  return () => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

export function seconds(s: number): number {
  return Math.round(s * RATE);
}

export function sine(freq: number, amplitude: number, n: number, phase = 0): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / RATE + phase);
  return out;
}

/** Sum of harmonics `first..` of f0 below 3.4 kHz with 1/h amplitudes (a sawtooth-like voice source). */
export function harmonicTone(f0: number, amplitude: number, n: number, first = 1): Float64Array {
  const out = new Float64Array(n);
  for (let h = first; h * f0 < 3400; h++) {
    const a = amplitude / h;
    for (let i = 0; i < n; i++) out[i] += a * Math.sin((2 * Math.PI * f0 * h * i) / RATE + h);
  }
  return out;
}

export function whiteNoise(rms: number, n: number, seed: number): Float64Array {
  const g = gaussian(rng(seed));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rms * g();
  return out;
}

/** Pink (1/f) noise by Paul Kellet's refined filter, scaled to `rms`. */
export function pinkNoise(rms: number, n: number, seed: number): Float64Array {
  const g = gaussian(rng(seed));
  const out = new Float64Array(n);
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let b4 = 0;
  let b5 = 0;
  let b6 = 0;
  for (let i = 0; i < n; i++) {
    const w = g();
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  return scaleTo(out, rms);
}

/**
 * Hoth-like (speech-shaped) noise: white noise through a 100 Hz high-pass and two 600 Hz one-pole low-passes, i.e.
 * flat through the low band and falling ~12 dB/octave above 600 Hz, close to the long-term spectrum of speech and of
 * room noise (Hoth 1941) as it reaches a telephone band.
 */
export function hothNoise(rms: number, n: number, seed: number): Float64Array {
  const w = whiteNoise(1, n, seed);
  const a = Math.exp((-2 * Math.PI * 600) / RATE);
  const hp = Math.exp((-2 * Math.PI * 100) / RATE);
  let l1 = 0;
  let l2 = 0;
  let hPrevIn = 0;
  let hPrevOut = 0;
  for (let i = 0; i < n; i++) {
    l1 = (1 - a) * w[i] + a * l1;
    l2 = (1 - a) * l1 + a * l2;
    const y = hp * (hPrevOut + l2 - hPrevIn);
    hPrevIn = l2;
    hPrevOut = y;
    w[i] = y;
  }
  return scaleTo(w, rms);
}

export function rms(x: Float64Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
}

export function scaleTo(x: Float64Array, target: number): Float64Array {
  const r = rms(x);
  if (r > 0) for (let i = 0; i < x.length; i++) x[i] *= target / r;
  return x;
}

export function mix(...parts: Float64Array[]): Float64Array {
  const n = Math.max(...parts.map((p) => p.length));
  const out = new Float64Array(n);
  for (const p of parts) for (let i = 0; i < p.length; i++) out[i] += p[i];
  return out;
}

export function concat(...parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Rounds and saturates to 16-bit PCM. */
export function toPcm(x: Float64Array): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.round(x[i]);
    out[i] = v > 32767 ? 32767 : Math.max(v, -32768);
  }
  return out;
}

export function fromPcm(x: Int16Array): Float64Array {
  return Float64Array.from(x);
}

/** Two-pole resonator (formant) with centre f and bandwidth bw, unity gain at f, applied in place. */
function resonate(x: Float64Array, f: Float64Array, bw: number): void {
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const r = Math.exp((-Math.PI * bw) / RATE);
    const c = 2 * r * Math.cos((2 * Math.PI * f[i]) / RATE);
    const g = (1 - r) * Math.sqrt(1 - 2 * r * Math.cos((4 * Math.PI * f[i]) / RATE) + r * r);
    const y = g * x[i] + c * y1 - r * r * y2;
    y2 = y1;
    y1 = y;
    x[i] = y;
  }
}

/** Vowel formants (F1, F2, F3) in Hz for a neutral adult voice (Peterson & Barney 1952 averages). */
const VOWELS: readonly [number, number, number][] = [
  [730, 1090, 2440], // a
  [270, 2290, 3010], // i
  [300, 870, 2240], // u
  [530, 1840, 2480], // e
  [570, 840, 2410], // o
  [660, 1720, 2410], // ae
];

export interface SpeechLike {
  samples: Float64Array;
  /** Per 20 ms frame: 1 where a syllable's envelope is above 10% of its peak. */
  active: Uint8Array;
}

/**
 * Voiced speech-like signal: a glottal pulse train (Rosenberg pulses, 2% jitter) with an intonation contour
 * (declination plus a rise-fall per phrase), through three formant resonators that move from vowel to vowel, under a
 * syllabic envelope of ~4 syllables/s with short unvoiced fricative onsets, in phrases separated by pauses.
 */
export function speechLike(durationS: number, seed: number, f0Base = 120, level = 3000): SpeechLike {
  const random = rng(seed);
  const noise = gaussian(rng(seed + 1));
  const n = seconds(durationS);
  const source = new Float64Array(n);
  const envelope = new Float64Array(n);
  const fric = new Float64Array(n);
  const f1 = new Float64Array(n);
  const f2 = new Float64Array(n);
  const f3 = new Float64Array(n);
  // Syllables and pauses.
  let t = seconds(0.3);
  let syllablesLeft = 4 + Math.floor(random() * 5);
  let vowel = VOWELS[0];
  while (t < n) {
    const len = seconds(0.16 + random() * 0.12);
    const next = VOWELS[Math.floor(random() * VOWELS.length)];
    const fricLen = random() < 0.4 ? seconds(0.05 + random() * 0.04) : 0;
    for (let i = 0; i < len && t + i < n; i++) {
      const x = i / len;
      envelope[t + i] = Math.sin(Math.PI * x) ** 1.5;
      const k = Math.min(1, x * 3);
      f1[t + i] = vowel[0] + (next[0] - vowel[0]) * k;
      f2[t + i] = vowel[1] + (next[1] - vowel[1]) * k;
      f3[t + i] = vowel[2] + (next[2] - vowel[2]) * k;
    }
    for (let i = 0; i < fricLen && t - fricLen + i >= 0; i++)
      fric[t - fricLen + i] = Math.sin((Math.PI * i) / fricLen) * 0.25;
    vowel = next;
    t += len + seconds(0.02 + random() * 0.06);
    if (--syllablesLeft === 0) {
      t += seconds(0.35 + random() * 0.5);
      syllablesLeft = 4 + Math.floor(random() * 5);
    }
  }
  for (let i = 0; i < n; i++) {
    if (f1[i] === 0) {
      f1[i] = vowel[0];
      f2[i] = vowel[1];
      f3[i] = vowel[2];
    }
  }
  // Glottal source: Rosenberg pulse train with an intonation contour.
  let period = RATE / f0Base;
  let pulsePos = 0;
  for (let i = 0; i < n; i++) {
    const ts = i / RATE;
    const f0 =
      f0Base * (1 + 0.15 * Math.sin(2 * Math.PI * 0.7 * ts + 1) + 0.06 * Math.sin(2 * Math.PI * 2.3 * ts));
    if (pulsePos >= period) {
      pulsePos -= period;
      period = (RATE / f0) * (1 + 0.02 * (random() - 0.5));
    }
    const open = 0.6 * period;
    const p = pulsePos;
    let g = 0;
    if (p < 0.4 * open) g = 0.5 * (1 - Math.cos((Math.PI * p) / (0.4 * open)));
    else if (p < open) g = Math.cos((Math.PI * (p - 0.4 * open)) / (2 * 0.6 * open));
    source[i] = g;
    pulsePos += 1;
  }
  // Differentiate (lip radiation), shape with formants, add fricatives, apply the syllabic envelope.
  for (let i = n - 1; i > 0; i--) source[i] -= source[i - 1];
  const voiced = Float64Array.from(source);
  resonate(voiced, f1, 90);
  const v2 = Float64Array.from(source);
  resonate(v2, f2, 110);
  const v3 = Float64Array.from(source);
  resonate(v3, f3, 160);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (voiced[i] + 0.6 * v2[i] + 0.3 * v3[i]) * envelope[i];
  scaleTo(out, 1);
  for (let i = 0; i < n; i++) out[i] += fric[i] * noise() * 0.6;
  telephoneBand(out);
  const active = new Uint8Array(Math.floor(n / FRAME));
  for (let f = 0; f < active.length; f++) {
    let peak = 0;
    for (let i = f * FRAME; i < (f + 1) * FRAME; i++) peak = Math.max(peak, envelope[i]);
    active[f] = peak > 0.1 ? 1 : 0;
  }
  // Level: speech RMS over active frames.
  let s = 0;
  let c = 0;
  for (let f = 0; f < active.length; f++) {
    if (!active[f]) continue;
    for (let i = f * FRAME; i < (f + 1) * FRAME; i++) s += out[i] * out[i];
    c += FRAME;
  }
  const r = Math.sqrt(s / Math.max(c, 1));
  for (let i = 0; i < n; i++) out[i] *= level / r;
  return { samples: out, active };
}

/** G.712-like channel: second-order high-pass at 300 Hz and low-pass at 3400 Hz, in place. */
export function telephoneBand(x: Float64Array): void {
  biquad(x, 'hp', 300, Math.SQRT1_2);
  biquad(x, 'lp', 3400, Math.SQRT1_2);
}

function biquad(x: Float64Array, kind: 'lp' | 'hp', f: number, q: number): void {
  const w = (2 * Math.PI * f) / RATE;
  const alpha = Math.sin(w) / (2 * q);
  const cw = Math.cos(w);
  const b0 = kind === 'lp' ? (1 - cw) / 2 : (1 + cw) / 2;
  const b1 = kind === 'lp' ? 1 - cw : -(1 + cw);
  const a0 = 1 + alpha;
  const a1 = -2 * cw;
  const a2 = 1 - alpha;
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const y = (b0 * x[i] + b1 * x1 + b0 * x2 - a1 * y1 - a2 * y2) / a0;
    x2 = x1;
    x1 = x[i];
    y2 = y1;
    y1 = y;
    x[i] = y;
  }
}

/** DTMF digit frequencies (ITU-T Q.23). */
export const DTMF: Record<string, [number, number]> = {
  '1': [697, 1209],
  '2': [697, 1336],
  '3': [697, 1477],
  '4': [770, 1209],
  '5': [770, 1336],
  '6': [770, 1477],
  '7': [852, 1209],
  '8': [852, 1336],
  '9': [852, 1477],
  '0': [941, 1336],
  '*': [941, 1209],
  '#': [941, 1477],
};

/** A keyed digit string: each digit `onS` long, then `offS` of silence; -3 dB twist (low tone 3 dB stronger). */
export function dtmfSequence(digits: string, onS: number, offS: number, amplitude: number): Float64Array {
  const parts: Float64Array[] = [];
  for (const d of digits) {
    const [lo, hi] = DTMF[d];
    parts.push(mix(sine(lo, amplitude, seconds(onS)), sine(hi, amplitude * 0.708, seconds(onS))));
    parts.push(new Float64Array(seconds(offS)));
  }
  return concat(...parts);
}

/**
 * Music-like: held triads (root, third, fifth in equal temperament, each with 6 harmonics decaying 1/h) changing
 * every `chordS` seconds with 40 ms attack and release; steady pitch, no syllabic modulation.
 */
export function chords(durationS: number, chordS: number, amplitude: number): Float64Array {
  const roots = [130.81, 174.61, 196.0, 110.0, 146.83, 164.81]; // C3 F3 G3 A2 D3 E3
  const n = seconds(durationS);
  const out = new Float64Array(n);
  const per = seconds(chordS);
  const ramp = seconds(0.04);
  for (let start = 0, c = 0; start < n; start += per, c++) {
    const root = roots[c % roots.length];
    const notes = [root, root * 2 ** (4 / 12), root * 2 ** (7 / 12), root * 2];
    for (let i = 0; i < per && start + i < n; i++) {
      const env = Math.min(1, i / ramp, (per - i) / ramp);
      let s = 0;
      for (const f of notes)
        for (let h = 1; h <= 6 && f * h < 3400; h++)
          s += Math.sin((2 * Math.PI * f * h * (start + i)) / RATE) / h;
      out[start + i] = amplitude * env * s;
    }
  }
  return out;
}

/** espeak-ng speech resampled to 8 kHz with sox; null if either tool is missing. */
export function espeak(text: string, voice: string, speed = 160, pitch = 50): Float64Array | null {
  const dir = mkdtempSync(join(tmpdir(), 'fg-frame-'));
  try {
    const wav = join(dir, 'speech.wav');
    const raw = join(dir, 'speech.raw');
    execFileSync('espeak-ng', ['-v', voice, '-s', String(speed), '-p', String(pitch), '-w', wav, text], {
      stdio: 'ignore',
    });
    execFileSync('sox', [wav, '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', raw], {
      stdio: 'ignore',
    });
    const bytes = readFileSync(raw);
    const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + (bytes.length & ~1)));
    return fromPcm(pcm);
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per-frame snapshot of the scalar features, for assertions over a whole signal. */
export interface FrameRow {
  levelDbfs: number;
  clipFraction: number;
  zcr: number;
  centroidHz: number;
  bandwidthHz: number;
  rolloffHz: number;
  flatness: number;
  flux: number;
  bands: Float32Array;
  pitchHz: number;
  voicing: number;
  speechProb: number;
  isSpeech: boolean;
  spectrum: Float32Array;
}

/** Runs a fresh FrameAnalyzer over every whole frame of `x` and snapshots each frame's features. */
export function analyzeFrames(x: Float64Array | Int16Array, options: FrameAnalyzerOptions = {}): FrameRow[] {
  const pcm = x instanceof Int16Array ? x : toPcm(x);
  const analyzer = new FrameAnalyzer(options);
  const f = new FrameFeatures();
  const rows: FrameRow[] = [];
  for (let i = 0; i + FRAME <= pcm.length; i += FRAME) {
    analyzer.process(pcm.subarray(i, i + FRAME), f);
    rows.push({
      levelDbfs: f.levelDbfs,
      clipFraction: f.clipFraction,
      zcr: f.zcr,
      centroidHz: f.centroidHz,
      bandwidthHz: f.bandwidthHz,
      rolloffHz: f.rolloffHz,
      flatness: f.flatness,
      flux: f.flux,
      bands: Float32Array.from(f.bands),
      pitchHz: f.pitchHz,
      voicing: f.voicing,
      speechProb: f.speechProb,
      isSpeech: f.isSpeech,
      spectrum: Float32Array.from(analyzer.spectrum),
    });
  }
  return rows;
}

export function speechMask(rows: FrameRow[]): Uint8Array {
  return Uint8Array.from(rows, (r) => (r.isSpeech ? 1 : 0));
}

/** Share of reference-positive frames that `hyp` also marks. */
export function recall(reference: Uint8Array, hyp: Uint8Array): number {
  let positives = 0;
  let hits = 0;
  for (let i = 0; i < reference.length; i++) {
    if (!reference[i]) continue;
    positives++;
    if (hyp[i]) hits++;
  }
  return positives === 0 ? 0 : hits / positives;
}

/**
 * Adds `noise` to `speech` so that the speech RMS over the frames `active` marks is `snrDb` above the noise RMS
 * (the active-speech SNR of ITU-T P.56 practice, with the VAD mask standing in for the P.56 activity meter).
 */
export function mixAtSnr(
  speech: Float64Array,
  active: Uint8Array,
  noise: Float64Array,
  snrDb: number,
): Float64Array {
  let sum = 0;
  let count = 0;
  for (let f = 0; f < active.length; f++) {
    if (!active[f]) continue;
    for (let i = f * FRAME; i < (f + 1) * FRAME && i < speech.length; i++) sum += speech[i] * speech[i];
    count += FRAME;
  }
  const speechRms = Math.sqrt(sum / Math.max(count, 1));
  const gain = speechRms / rms(noise, 0, speech.length) / 10 ** (snrDb / 20);
  const out = new Float64Array(speech.length);
  for (let i = 0; i < speech.length; i++) out[i] = speech[i] + gain * noise[i];
  return out;
}
