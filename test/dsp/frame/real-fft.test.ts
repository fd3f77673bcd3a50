import FFT from 'fft.js';
import { describe, expect, it } from 'vitest';
import { RealFft } from '../../../src/dsp/fft/real-fft.ts';
import { rng, whiteNoise } from './signals.ts';

/** fft.js's realTransform of `x`: interleaved re/im, bins 0..n/2 valid. */
function fftJs(x: Float64Array): Float64Array {
  const fft = new FFT(x.length);
  const out = new Float64Array(2 * x.length);
  fft.realTransform(out, x);
  return out;
}

/** Largest |difference| over bins 0..n/2, relative to the largest |X_k| of the reference. */
function relativeError(fft: RealFft, reference: Float64Array): number {
  let peak = 0;
  let worst = 0;
  for (let k = 0; k < fft.binCount; k++) {
    peak = Math.max(peak, Math.hypot(reference[2 * k], reference[2 * k + 1]));
    worst = Math.max(
      worst,
      Math.abs(fft.re[k] - reference[2 * k]),
      Math.abs(fft.im[k] - reference[2 * k + 1]),
    );
  }
  return worst / peak;
}

describe('RealFft', () => {
  it('matches a direct DFT of a random block', () => {
    const n = 256;
    const fft = new RealFft(n);
    const x = whiteNoise(1, n, 77);
    fft.transform(x, 0, new Float64Array(n).fill(1));
    for (let k = 0; k <= n / 2; k++) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < n; i++) {
        re += x[i] * Math.cos((2 * Math.PI * k * i) / n);
        im -= x[i] * Math.sin((2 * Math.PI * k * i) / n);
      }
      expect(Math.abs(fft.re[k] - re)).toBeLessThan(1e-9);
      expect(Math.abs(fft.im[k] - im)).toBeLessThan(1e-9);
    }
  });

  it('equals fft.js realTransform on random windowed frames, at every size it supports', () => {
    const random = rng(2024);
    for (const n of [16, 64, 256, 1024, 4096]) {
      const fft = new RealFft(n);
      for (let trial = 0; trial < 50; trial++) {
        const offset = Math.floor(random() * 8);
        const signal = new Float64Array(n + offset);
        // Mixed scales: quiet noise, full-scale noise and a near-silent block with one spike.
        const scale = trial % 3 === 0 ? 1e-4 : 1;
        for (let i = 0; i < signal.length; i++) signal[i] = scale * (2 * random() - 1);
        if (trial % 5 === 4) {
          signal.fill(0);
          signal[offset + Math.floor(random() * n)] = 1;
        }
        const window = new Float64Array(n);
        for (let i = 0; i < n; i++) window[i] = random();
        const windowed = new Float64Array(n);
        for (let i = 0; i < n; i++) windowed[i] = signal[offset + i] * window[i];
        fft.transform(signal, offset, window);
        expect(relativeError(fft, fftJs(windowed))).toBeLessThan(1e-12);
      }
    }
  });

  it('is linear and exact for a pure cosine on a bin', () => {
    const n = 256;
    const fft = new RealFft(n);
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.cos((2 * Math.PI * 10 * i) / n);
    fft.transform(x, 0, new Float64Array(n).fill(1));
    for (let k = 0; k <= n / 2; k++) {
      expect(Math.abs(fft.re[k] - (k === 10 ? n / 2 : 0))).toBeLessThan(1e-10);
      expect(Math.abs(fft.im[k])).toBeLessThan(1e-10);
    }
  });

  it('rejects sizes it has no plan for', () => {
    expect(() => new RealFft(200)).toThrow(RangeError);
    expect(() => new RealFft(8)).toThrow(RangeError);
    expect(() => new RealFft(128)).toThrow(RangeError);
  });
});
