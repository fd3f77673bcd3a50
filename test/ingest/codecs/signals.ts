/** Deterministic test signals: speech-like audio, tones, and random payload bytes. */

/**
 * Voiced-speech-like signal: harmonics of a fundamental gliding +-20 % at 3 Hz, up to 0.45 of the sample rate,
 * harmonic h weighted 1/h^tilt (tilt 2 = -12 dB/octave, the usual glottal-source slope), normalised to peak
 * `amplitude`.
 */
export function harmonics(
  rate: number,
  seconds: number,
  f0: number,
  amplitude: number,
  tilt = 2,
): Int16Array {
  const n = Math.round(rate * seconds);
  const raw = new Float64Array(n);
  const maxHarmonic = Math.floor((rate * 0.45) / (f0 * 1.2));
  let phase = 0;
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const f = f0 * (1 + 0.2 * Math.sin((2 * Math.PI * 3 * i) / rate));
    phase += (2 * Math.PI * f) / rate;
    let s = 0;
    for (let h = 1; h <= maxHarmonic; h++) s += Math.sin(h * phase + h * 0.7) / h ** tilt;
    raw[i] = s;
    if (Math.abs(s) > peak) peak = Math.abs(s);
  }
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round((amplitude * raw[i]) / peak);
  return x;
}

/** Linear chirp from f1 to f2 Hz. */
export function chirp(rate: number, seconds: number, f1: number, f2: number, amplitude: number): Int16Array {
  const n = Math.round(rate * seconds);
  const x = new Int16Array(n);
  const k = (f2 - f1) / seconds;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    x[i] = Math.round(amplitude * Math.sin(2 * Math.PI * (f1 * t + (k * t * t) / 2)));
  }
  return x;
}

export function tone(rate: number, hz: number, amplitude: number, samples: number): Int16Array {
  const x = new Int16Array(samples);
  for (let i = 0; i < samples; i++) x[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
  return x;
}

/** SNR (dB) of y against x with y delayed by `delay`, over x[from, x.length - delay). */
export function snrDb(x: Int16Array, y: Int16Array, delay: number, from: number): number {
  let signal = 0;
  let noise = 0;
  for (let i = from; i + delay < y.length && i < x.length; i++) {
    signal += x[i] * x[i];
    const e = y[i + delay] - x[i];
    noise += e * e;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-9));
}

/** Delay in [0, maxDelay] maximising SNR, with that SNR. */
export function bestAlignment(
  x: Int16Array,
  y: Int16Array,
  maxDelay: number,
  from: number,
): { delay: number; snr: number } {
  let best = { delay: 0, snr: Number.NEGATIVE_INFINITY };
  for (let d = 0; d <= maxDelay; d++) {
    const snr = snrDb(x, y, d, from);
    if (snr > best.snr) best = { delay: d, snr };
  }
  return best;
}

export function rms(x: Int16Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
}

/** Deterministic pseudo-random bytes (xorshift32), so every code appears in every lane position. */
export function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let s = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    bytes[i] = s & 0xff;
  }
  return bytes;
}
