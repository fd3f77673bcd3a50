import { SAMPLE_RATE } from '../../ingest/media-sink.ts';
import { HOST_LITTLE_ENDIAN } from '../../ingest/wasm-memory.ts';
import { compileGoertzel, GOERTZEL_INPUT, GOERTZEL_S1, GOERTZEL_S2, MAX_BLOCK } from './wasm-goertzel.ts';

/**
 * How a bank runs its recursions: 'wasm' (the WebAssembly SIMD loop of wasm-goertzel.ts, the default on
 * little-endian hosts) or 'js'. Both give bit-identical outputs.
 */
export type GoertzelEngine = 'wasm' | 'js';
const DEFAULT_ENGINE: GoertzelEngine = HOST_LITTLE_ENDIAN ? 'wasm' : 'js';

/**
 * A fixed set of Goertzel filters over blocks of `blockLength` samples, with all coefficients and outputs
 * preallocated. `power[k]` is scaled so that a sine of amplitude A exactly on filter k reads A^2 / 2 (its mean
 * power), which lets detectors compare filter outputs directly with the block's mean power and with dBm0
 * thresholds. `re`/`im` (complex mode only) hold sum(x[n] e^{-jwn}) with n counted from the block start, so the
 * phase of consecutive blocks can be compared to measure frequency or find phase reversals.
 */
export class GoertzelBank {
  readonly size: number;
  readonly blockLength: number;
  readonly frequencies: Float64Array;
  readonly power: Float64Array;
  readonly re: Float64Array;
  readonly im: Float64Array;
  readonly engine: GoertzelEngine;
  private readonly coef: Float64Array;
  private readonly cosW: Float64Array;
  private readonly sinW: Float64Array;
  private readonly cosEnd: Float64Array;
  private readonly sinEnd: Float64Array;
  private readonly powerScale: number;
  /** The compiled recursions, or null for the JS form. */
  private readonly wasmRun: ((first: number) => void) | null;

  constructor(frequencies: readonly number[], blockLength: number, engine: GoertzelEngine = DEFAULT_ENGINE) {
    this.size = frequencies.length;
    this.blockLength = blockLength;
    this.frequencies = Float64Array.from(frequencies);
    this.power = new Float64Array(this.size);
    this.re = new Float64Array(this.size);
    this.im = new Float64Array(this.size);
    this.coef = new Float64Array(this.size);
    this.cosW = new Float64Array(this.size);
    this.sinW = new Float64Array(this.size);
    this.cosEnd = new Float64Array(this.size);
    this.sinEnd = new Float64Array(this.size);
    for (let k = 0; k < this.size; k++) {
      const w = (2 * Math.PI * frequencies[k]) / SAMPLE_RATE;
      this.coef[k] = 2 * Math.cos(w);
      this.cosW[k] = Math.cos(w);
      this.sinW[k] = Math.sin(w);
      // The Goertzel output is referenced to the last sample; rotating by w(n-1) refers it to the block start.
      this.cosEnd[k] = Math.cos(w * (blockLength - 1));
      this.sinEnd[k] = Math.sin(w * (blockLength - 1));
    }
    this.powerScale = 2 / (blockLength * blockLength);
    this.engine = engine;
    this.wasmRun = engine === 'wasm' ? compileGoertzel(this.coef, blockLength) : null;
  }

  /** Power of every filter over x[offset .. offset+blockLength). */
  measurePower(x: Float32Array, offset: number): void {
    this.run(x, offset, false);
  }

  /** Power and complex output of every filter over x[offset .. offset+blockLength). */
  measureComplex(x: Float32Array, offset: number): void {
    this.run(x, offset, true);
  }

  /** Power of filter k alone (for checks that are only needed when a candidate has been found). */
  measureOne(x: Float32Array, offset: number, k: number): number {
    const c = this.coef[k];
    const end = offset + this.blockLength;
    let s1 = 0;
    let s2 = 0;
    for (let i = offset; i < end; i++) {
      const s0 = x[i] + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    return (s1 * s1 + s2 * s2 - c * s1 * s2) * this.powerScale;
  }

  private run(x: Float32Array, offset: number, complex: boolean): void {
    if (this.wasmRun !== null) {
      this.runWasm(x, offset, complex);
      return;
    }
    const end = offset + this.blockLength;
    const size = this.size;
    const coef = this.coef;
    // Four filters per pass: each recursion is latency bound (multiply, add, subtract in a chain), so four
    // independent chains keep the arithmetic units busy. Missing filters of the last pass run on coefficient 0
    // and are discarded.
    for (let k = 0; k < size; k += 4) {
      const c0 = coef[k];
      const c1 = k + 1 < size ? coef[k + 1] : 0;
      const c2 = k + 2 < size ? coef[k + 2] : 0;
      const c3 = k + 3 < size ? coef[k + 3] : 0;
      let a1 = 0;
      let a2 = 0;
      let b1 = 0;
      let b2 = 0;
      let d1 = 0;
      let d2 = 0;
      let e1 = 0;
      let e2 = 0;
      for (let i = offset; i < end; i++) {
        const v = x[i];
        const a0 = v + c0 * a1 - a2;
        const b0 = v + c1 * b1 - b2;
        const d0 = v + c2 * d1 - d2;
        const e0 = v + c3 * e1 - e2;
        a2 = a1;
        a1 = a0;
        b2 = b1;
        b1 = b0;
        d2 = d1;
        d1 = d0;
        e2 = e1;
        e1 = e0;
      }
      this.finish(k, a1, a2, complex);
      if (k + 1 < size) this.finish(k + 1, b1, b2, complex);
      if (k + 2 < size) this.finish(k + 2, d1, d2, complex);
      if (k + 3 < size) this.finish(k + 3, e1, e2, complex);
    }
  }

  private runWasm(x: Float32Array, offset: number, complex: boolean): void {
    const input = GOERTZEL_INPUT;
    const n = this.blockLength;
    let first = 0;
    if (x === input) {
      // Already in place: the loop reads it where it is.
      if (offset < 0 || offset + n > MAX_BLOCK) throw new RangeError('block outside the input area');
      first = 4 * offset;
    } else if (offset === 0 && x.length === n) {
      input.set(x);
    } else {
      // An index loop, not set(x.subarray(...)): no view allocated per block.
      for (let i = 0; i < n; i++) input[i] = x[offset + i];
    }
    this.wasmRun?.(first);
    for (let k = 0; k < this.size; k++) this.finish(k, GOERTZEL_S1[k], GOERTZEL_S2[k], complex);
  }

  private finish(k: number, s1: number, s2: number, complex: boolean): void {
    this.power[k] = (s1 * s1 + s2 * s2 - this.coef[k] * s1 * s2) * this.powerScale;
    if (!complex) return;
    const yr = s1 - this.cosW[k] * s2;
    const yi = this.sinW[k] * s2;
    const ce = this.cosEnd[k];
    const se = this.sinEnd[k];
    this.re[k] = yr * ce + yi * se;
    this.im[k] = yi * ce - yr * se;
  }
}
