import FFT from 'fft.js';
import { describe, expect, it } from 'vitest';
import { RealFft, RealFftSpectrum } from '../../../src/dsp/fft/real-fft.ts';
import { WASM_FFT_BINS, WASM_FFT_SIZE, WasmRealFft } from '../../../src/dsp/fft/wasm-real-fft.ts';
import { FFT_WINDOW_SLOTS } from '../../../src/ingest/wasm-memory.ts';
import { rng } from './signals.ts';

const N = WASM_FFT_SIZE;
const ONES = new Float64Array(N).fill(1);
const HANN = new Float64Array(N);
for (let i = 0; i < N; i++) HANN[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (N - 1));

// One instance for the whole file: instances are limited to FFT_WINDOW_SLOTS, and its window is rewritten per case.
const wasm = new WasmRealFft(ONES);
const reference = new RealFft(N);
const fftJs = new FFT(N);
const fftJsOut = new Float64Array(2 * N);

/** Runs the WebAssembly transform of x times w; returns fft.js's transform of the same windowed block. */
function transformBoth(x: Float64Array, w: Float64Array): Float64Array {
  wasm.window.set(w);
  wasm.input.set(x);
  wasm.transform();
  const windowed = new Float64Array(N);
  for (let i = 0; i < N; i++) windowed[i] = x[i] * w[i];
  fftJs.realTransform(fftJsOut, windowed);
  reference.transform(x, 0, w);
  return fftJsOut;
}

/** Largest |difference| over bins 0..N/2 from fft.js's output, relative to its largest |X_k| (absolute if all 0). */
function relativeError(expected: Float64Array): number {
  let peak = 0;
  let worst = 0;
  for (let i = 0; i < 2 * WASM_FFT_BINS; i++) {
    peak = Math.max(peak, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(wasm.spectrum[i] - expected[i]));
  }
  return peak > 0 ? worst / peak : worst;
}

/** Largest |difference| from the JS RealFft, over the spectrum, the power and the magnitudes. */
function differenceFromRealFft(): number {
  let worst = 0;
  for (let k = 0; k < WASM_FFT_BINS; k++) {
    const re = reference.re[k];
    const im = reference.im[k];
    const power = re * re + im * im;
    worst = Math.max(
      worst,
      Math.abs(wasm.spectrum[2 * k] - re),
      Math.abs(wasm.spectrum[2 * k + 1] - im),
      Math.abs(wasm.power[k] - power),
      Math.abs(wasm.magnitude[k] - Math.sqrt(power)),
    );
  }
  return worst;
}

function check(x: Float64Array, w: Float64Array): void {
  const expected = transformBoth(x, w);
  expect(relativeError(expected)).toBeLessThan(1e-12);
  expect(differenceFromRealFft()).toBe(0);
}

describe('WasmRealFft', () => {
  it('equals fft.js (to 1e-12) and RealFft (exactly) on random blocks and random windows', () => {
    const random = rng(4242);
    for (let trial = 0; trial < 200; trial++) {
      // Quiet, full-scale and beyond-full-scale noise: relative accuracy must hold at every level.
      const scale = [1e-4, 1, 32768][trial % 3];
      const x = new Float64Array(N);
      for (let i = 0; i < N; i++) x[i] = scale * (2 * random() - 1);
      const w = new Float64Array(N);
      for (let i = 0; i < N; i++) w[i] = trial % 2 === 0 ? HANN[i] : random();
      check(x, w);
    }
  });

  it('gives an all-zero spectrum, power and magnitude for a zero block', () => {
    // Leftovers of an earlier transform must not survive.
    check(
      Float64Array.from({ length: N }, (_, i) => Math.sin(i)),
      HANN,
    );
    check(new Float64Array(N), HANN);
    // (Zeros may carry either sign: a conjugation turns 0 into -0.)
    for (let i = 0; i < 2 * WASM_FFT_BINS; i++) expect(Math.abs(wasm.spectrum[i])).toBe(0);
    for (let k = 0; k < WASM_FFT_BINS; k++) {
      expect(wasm.power[k]).toBe(0);
      expect(wasm.magnitude[k]).toBe(0);
    }
  });

  it('transforms full-scale DC and Nyquist blocks to the exact single bin', () => {
    check(ONES, ONES);
    expect(wasm.spectrum[0]).toBe(N);
    expect(wasm.power[0]).toBe(N * N);
    for (let k = 1; k < WASM_FFT_BINS; k++) expect(wasm.magnitude[k]).toBeLessThan(1e-12);
    const alternating = Float64Array.from({ length: N }, (_, i) => (i % 2 === 0 ? -1 : 1));
    check(alternating, ONES);
    expect(wasm.spectrum[2 * (N / 2)]).toBe(-N);
    expect(wasm.spectrum[2 * (N / 2) + 1]).toBe(0);
    for (let k = 0; k < N / 2; k++) expect(wasm.magnitude[k]).toBeLessThan(1e-12);
    // Clipped full-scale audio under the analysis window.
    check(
      Float64Array.from({ length: N }, (_, i) => (i % 16 < 8 ? 1 : -1)),
      HANN,
    );
  });

  it('transforms an impulse at every position to a unit-magnitude phase ramp', () => {
    for (let at = 0; at < N; at++) {
      const x = new Float64Array(N);
      x[at] = 1;
      check(x, ONES);
      let worst = 0;
      for (let k = 0; k < WASM_FFT_BINS; k++) {
        const angle = (-2 * Math.PI * k * at) / N;
        worst = Math.max(
          worst,
          Math.abs(wasm.spectrum[2 * k] - Math.cos(angle)),
          Math.abs(wasm.spectrum[2 * k + 1] - Math.sin(angle)),
          Math.abs(wasm.magnitude[k] - 1),
        );
      }
      expect(worst).toBeLessThan(1e-12);
    }
  });

  it('puts a cosine on bin 10 into bin 10 alone, and an off-bin tone where fft.js puts it', () => {
    const onBin = Float64Array.from({ length: N }, (_, i) => Math.cos((2 * Math.PI * 10 * i) / N));
    check(onBin, ONES);
    for (let k = 0; k < WASM_FFT_BINS; k++) {
      expect(Math.abs(wasm.spectrum[2 * k] - (k === 10 ? N / 2 : 0))).toBeLessThan(1e-10);
      expect(Math.abs(wasm.spectrum[2 * k + 1])).toBeLessThan(1e-10);
    }
    // 1 kHz at 8 kHz is bin 32 exactly; 1004 Hz falls between bins (the Hann lobe spreads it over 31..33).
    check(
      Float64Array.from({ length: N }, (_, i) => 0.7 * Math.sin((2 * Math.PI * 1004 * i) / 8000 + 0.3)),
      HANN,
    );
    let peak = 0;
    for (let k = 1; k < WASM_FFT_BINS; k++) if (wasm.power[k] > wasm.power[peak]) peak = k;
    expect(peak).toBe(32);
  });

  it('gives the same power and magnitudes as RealFftSpectrum, the path of big-endian hosts', () => {
    const random = rng(99);
    const js = new RealFftSpectrum(HANN);
    for (let trial = 0; trial < 20; trial++) {
      const x = Float64Array.from({ length: N }, () => 2 * random() - 1);
      wasm.window.set(HANN);
      wasm.input.set(x);
      wasm.transform();
      js.input.set(x);
      js.transform();
      expect(Array.from(wasm.power)).toEqual(Array.from(js.power));
      expect(Array.from(wasm.magnitude)).toEqual(Array.from(js.magnitude));
    }
  });

  it('refuses windows of the wrong length and more windows than it has slots for', () => {
    expect(() => new WasmRealFft(new Float64Array(N / 2))).toThrow(RangeError);
    expect(() => {
      for (let i = 0; i <= FFT_WINDOW_SLOTS; i++) new WasmRealFft(HANN);
    }).toThrow(RangeError);
  });
});
