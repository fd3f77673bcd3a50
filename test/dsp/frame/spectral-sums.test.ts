import { describe, expect, it } from 'vitest';
import { WASM_FFT_BINS, WasmRealFft } from '../../../src/dsp/fft/wasm-real-fft.ts';
import { BIN_COUNT } from '../../../src/dsp/frame/frame-features.ts';
import {
  DOT,
  ENERGY,
  FLATNESS_FLOOR,
  FLATNESS_GROUP,
  FLATNESS_GROUPS,
  JsSpectralSums,
  PRODUCTS,
  SUM,
  SUM_K,
  SUM_K2,
  WasmSpectralSums,
} from '../../../src/dsp/frame/spectral-sums.ts';
import { rng } from './signals.ts';

// The sums read the transform's outputs; the tests write those directly.
const fft = new WasmRealFft(new Float64Array(256).fill(1));
const wasm = new WasmSpectralSums(fft);
const js = new JsSpectralSums(fft);

/** Plain running sums in bin order, as the analyzer computed them before the sums had two lanes. */
function reference(previous: Float32Array): number[] {
  const m = fft.magnitude;
  const out = [0, 0, 0, 0, 0];
  const products: number[] = [];
  for (let start = 0; start < BIN_COUNT; start += FLATNESS_GROUP) {
    let product = 1;
    for (let k = start; k < Math.min(start + FLATNESS_GROUP, BIN_COUNT); k++) {
      out[SUM] += m[k];
      out[SUM_K] += k * m[k];
      out[SUM_K2] += k * k * m[k];
      out[ENERGY] += fft.power[k];
      out[DOT] += m[k] * previous[k];
      product *= Math.max(m[k], FLATNESS_FLOOR);
    }
    products.push(product);
  }
  return [...out, ...products];
}

function fill(magnitude: (k: number) => number): void {
  for (let k = 0; k < WASM_FFT_BINS; k++) {
    const m = magnitude(k);
    fft.magnitude[k] = m;
    fft.power[k] = m * m;
  }
}

/** Runs both forms from the same previous spectrum; checks they agree exactly; returns the results. */
function runBoth(previous: Float32Array): Float64Array {
  const a = Float32Array.from(previous);
  const b = Float32Array.from(previous);
  wasm.run(a);
  js.run(b);
  expect(Array.from(wasm.results)).toEqual(Array.from(js.results));
  expect(Array.from(a)).toEqual(Array.from(b));
  for (let k = 0; k < BIN_COUNT; k++) expect(a[k]).toBe(Math.fround(fft.magnitude[k]));
  return wasm.results;
}

describe('SpectralSums', () => {
  it('WebAssembly and JS forms agree bit for bit, and with plain running sums to rounding', () => {
    const random = rng(31);
    for (let trial = 0; trial < 300; trial++) {
      // From below the flatness floor to full-scale square-wave magnitudes.
      const scale = 10 ** (10 * random() - 8);
      fill(() => scale * random());
      const previous = Float32Array.from({ length: BIN_COUNT }, () => random());
      const results = runBoth(previous);
      const expected = reference(previous);
      for (let i = 0; i < expected.length; i++) {
        expect(Math.abs(results[i] - expected[i])).toBeLessThanOrEqual(1e-13 * Math.abs(expected[i]));
      }
    }
  });

  it('gives zero sums and floored products for a silent spectrum', () => {
    fill(() => 0);
    const results = runBoth(new Float32Array(BIN_COUNT).fill(0.5));
    for (const i of [SUM, SUM_K, SUM_K2, ENERGY, DOT]) expect(results[i]).toBe(0);
    for (let g = 0; g < FLATNESS_GROUPS - 1; g++) {
      expect(results[PRODUCTS + g] / FLATNESS_FLOOR ** FLATNESS_GROUP - 1).toBeLessThan(1e-12);
    }
    expect(results[PRODUCTS + FLATNESS_GROUPS - 1]).toBe(FLATNESS_FLOOR);
  });

  it('weights each bin by its index: a single bin k gives sumK = k m and sumK2 = k^2 m', () => {
    for (const bin of [0, 1, 31, 32, 64, 127, 128]) {
      fill((k) => (k === bin ? 3 : 0));
      const results = runBoth(new Float32Array(BIN_COUNT).fill(2));
      expect(results[SUM]).toBe(3);
      expect(results[SUM_K]).toBe(3 * bin);
      expect(results[SUM_K2]).toBe(3 * bin * bin);
      expect(results[ENERGY]).toBe(9);
      expect(results[DOT]).toBe(6);
    }
  });
});
