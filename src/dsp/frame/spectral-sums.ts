/**
 * The per-bin sums behind FrameAnalyzer's spectral shape (centroid, spread, flatness, flux): over the 129 bins of one
 * transform, the magnitude sum, its first and second moments in bins, the energy, the dot product with the previous
 * frame's magnitudes and the products of floored magnitudes for the flatness logarithm; the same pass stores this
 * frame's magnitudes (Float32) as the next frame's flux reference.
 *
 * WasmSpectralSums runs them as a WebAssembly SIMD loop over the transform's outputs in WASM_MEMORY; JsSpectralSums
 * (big-endian hosts) runs the same arithmetic in JS. Both keep two partial sums, one of the even bins and one of the
 * odd bins (the two f64x2 lanes), each added in bin order, and add the two at the end; so they agree bit for bit
 * (test/dsp/frame/spectral-sums.test.ts), and each sum differs from a single running sum by rounding only.
 */

import {
  ABSOLUTE,
  binary,
  type Expr,
  f64x2Add,
  f64x2Const,
  f64x2Mul,
  instantiateOnMemory,
  localGet,
  memarg,
  OP,
  SIMD,
  simd,
  sleb,
  swapF64,
  TYPE,
  unary,
  V128Body,
  v128Load,
  v128Load64Zero,
} from '../../ingest/wasm-assembler.ts';
import { SPECTRAL_SUMS_BYTES, SPECTRAL_SUMS_OFFSET, WASM_MEMORY } from '../../ingest/wasm-memory.ts';
import type { PowerSpectrumTransform } from '../fft/real-fft.ts';
import { BIN_COUNT } from './frame-features.ts';

/** Magnitudes are floored here inside the flatness logarithm only; one LSB of noise gives bins ~1e-4. */
export const FLATNESS_FLOOR = 1e-8;
/**
 * Products of 32 floored magnitudes stay inside double range (1e-256 .. 1e68 for magnitudes up to 128, the largest
 * a full-scale square wave produces), so one logarithm per 32 bins suffices for the geometric mean.
 */
export const FLATNESS_GROUP = 32;
/** Groups of FLATNESS_GROUP bins, then the Nyquist bin alone. */
export const FLATNESS_GROUPS = Math.ceil(BIN_COUNT / FLATNESS_GROUP);

/** Indices in `results`. */
export const SUM = 0;
export const SUM_K = 1;
export const SUM_K2 = 2;
export const ENERGY = 3;
export const DOT = 4;
/** FLATNESS_GROUPS products from here on. */
export const PRODUCTS = 5;
const RESULT_COUNT = PRODUCTS + FLATNESS_GROUPS;

/** Bins in whole groups (the loops' span); the one after them, the Nyquist bin, is added alone. */
const GROUPED_BINS = (FLATNESS_GROUPS - 1) * FLATNESS_GROUP;
if (GROUPED_BINS + 1 !== BIN_COUNT)
  throw new Error('spectral sums are written for 4 groups of 32 bins and one');

export interface SpectralSums {
  /** sum m_k, sum k m_k, sum k^2 m_k, sum p_k, sum m_k prev_k, then the flatness groups' products of max(m_k, floor). */
  readonly results: Float64Array;
  /**
   * Sums over the transform's current power and magnitudes; `spectrum` holds the previous frame's magnitudes on the
   * way in and this frame's on the way out.
   */
  run(spectrum: Float32Array): void;
}

/** The JS form: the WebAssembly loop's arithmetic lane by lane. */
export class JsSpectralSums implements SpectralSums {
  readonly results = new Float64Array(RESULT_COUNT);
  private readonly power: Float64Array;
  private readonly magnitude: Float64Array;

  constructor(transform: PowerSpectrumTransform) {
    this.power = transform.power;
    this.magnitude = transform.magnitude;
  }

  run(a: Float32Array): void {
    const p = this.power;
    const mag = this.magnitude;
    const r = this.results;
    let sum0 = 0;
    let sum1 = 0;
    let sumK0 = 0;
    let sumK1 = 0;
    let sumKk0 = 0;
    let sumKk1 = 0;
    let energy0 = 0;
    let energy1 = 0;
    let dot0 = 0;
    let dot1 = 0;
    for (let g = 0; g < FLATNESS_GROUPS - 1; g++) {
      let product0 = 1;
      let product1 = 1;
      const end = (g + 1) * FLATNESS_GROUP;
      for (let k = g * FLATNESS_GROUP; k < end; k += 2) {
        const m0 = mag[k];
        const m1 = mag[k + 1];
        sum0 += m0;
        sum1 += m1;
        sumK0 += k * m0;
        sumK1 += (k + 1) * m1;
        sumKk0 += k * k * m0;
        sumKk1 += (k + 1) * (k + 1) * m1;
        energy0 += p[k];
        energy1 += p[k + 1];
        dot0 += m0 * a[k];
        dot1 += m1 * a[k + 1];
        product0 *= Math.max(m0, FLATNESS_FLOOR);
        product1 *= Math.max(m1, FLATNESS_FLOOR);
        a[k] = m0;
        a[k + 1] = m1;
      }
      r[PRODUCTS + g] = product0 * product1;
    }
    const k = GROUPED_BINS;
    const m = mag[k];
    r[SUM] = sum0 + m + sum1;
    r[SUM_K] = sumK0 + k * m + sumK1;
    r[SUM_K2] = sumKk0 + k * k * m + sumKk1;
    r[ENERGY] = energy0 + p[k] + energy1;
    r[DOT] = dot0 + m * a[k] + dot1;
    r[PRODUCTS + FLATNESS_GROUPS - 1] = Math.max(m, FLATNESS_FLOOR);
    a[k] = m;
  }
}

// Layout of the WebAssembly form's area: the previous magnitudes, this frame's (both Float32, padded to 16 bytes),
// the results. The loop reads one spectrum and writes the other, never one address both ways: Node 20's V8 (11.3)
// optimising compiler moves a load folded into f64x2.promote_low_f32x4 past a later store to the same address
// (in an in-place form, optimised code stored a bin pair's new magnitudes before the conversion that read the old
// ones; the baseline tier was right). test/dsp/frame/wasm-tiers.test.ts runs both tiers.
const SPECTRUM_BYTES = 16 * Math.ceil((4 * BIN_COUNT) / 16);
const PREVIOUS = SPECTRAL_SUMS_OFFSET;
const CURRENT = PREVIOUS + SPECTRUM_BYTES;
const RESULTS = CURRENT + SPECTRUM_BYTES;
if (RESULTS + 8 * RESULT_COUNT > SPECTRAL_SUMS_OFFSET + SPECTRAL_SUMS_BYTES)
  throw new Error('area too small');

/** i32 locals: byte offset of the current bin pair in the f64 arrays, and of the end of the current group. */
const AT = 2;
const GROUP_END = 3;
/** Bin pairs per loop step (the unrolling keeps each lane's additions in bin order). */
const PAIRS_PER_STEP = 2;

/**
 * The instructions: parameters (magnitude address, power address); lanes hold (even bin, odd bin), one pair after
 * another, so `kv` = (k, k + 1) steps by 2.
 */
function sumsBody(): V128Body {
  const e = new V128Body(4);
  const v = (name: string) => e.get(name);
  const add = f64x2Add;
  const mul = f64x2Mul;
  const at = localGet(AT);
  /** The Float32 spectrum's byte offset for the current pair: half the f64 arrays'. */
  const at32: Expr = [...at, OP.i32Const, 1, OP.i32ShrU];
  const sums = ['sum', 'sumK', 'sumKk', 'energy', 'dot'];
  for (const name of sums) e.set(name, f64x2Const(0, 0));
  e.set('one', f64x2Const(1, 1));
  e.set('floor', f64x2Const(FLATNESS_FLOOR, FLATNESS_FLOOR));
  e.set('two', f64x2Const(2, 2));
  e.set('kv', f64x2Const(0, 1));
  /** Adds bins (m lanes) into every sum; `prev` is the previous spectrum's pair. */
  const accumulate = () => {
    e.set('sum', add(v('sum'), v('m')));
    e.set('sumK', add(v('sumK'), mul(v('kv'), v('m'))));
    e.set('sumKk', add(v('sumKk'), mul(mul(v('kv'), v('kv')), v('m'))));
    e.set('energy', add(v('energy'), v('p')));
    e.set('dot', add(v('dot'), mul(v('m'), v('prev'))));
  };
  // f64x2.pmax(m, floor) = m < floor ? floor : m: one instruction (maxpd), and Math.max for magnitudes (never NaN).
  const floored = () => binary(SIMD.f64x2Pmax, v('m'), v('floor'));
  const demoted = () => unary(SIMD.f32x4DemoteF64x2Zero, v('m'));

  e.emit([OP.i32Const, 0, OP.localSet, AT]);
  e.emit([OP.i32Const, ...sleb(8 * FLATNESS_GROUP), OP.localSet, GROUP_END]);
  e.emit([OP.loop, TYPE.voidBlock]);
  e.set('product', v('one'));
  e.emit([OP.loop, TYPE.voidBlock]);
  for (let pair = 0; pair < PAIRS_PER_STEP; pair++) {
    e.set('m', v128Load([...localGet(0), ...at, OP.i32Add], 16 * pair));
    e.set('p', v128Load([...localGet(1), ...at, OP.i32Add], 16 * pair));
    e.set('prev', unary(SIMD.f64x2PromoteLowF32x4, v128Load64Zero(at32, PREVIOUS + 8 * pair)));
    accumulate();
    e.set('product', mul(v('product'), floored()));
    e.storeLane(at32, CURRENT + 8 * pair, demoted(), 0);
    e.set('kv', add(v('kv'), v('two')));
  }
  e.emit([...at, OP.i32Const, 16 * PAIRS_PER_STEP, OP.i32Add, OP.localTee, AT]);
  e.emit([...localGet(GROUP_END), OP.i32LtU, OP.brIf, 0, OP.end]);
  // Group g ends at byte 256 (g + 1): its product (even lanes' times odd lanes') goes to results[PRODUCTS + g].
  e.storeLane(
    [...localGet(GROUP_END), OP.i32Const, 5, OP.i32ShrU],
    RESULTS + 8 * PRODUCTS - 8,
    mul(v('product'), swapF64(v('product'))),
    0,
  );
  e.emit([
    ...localGet(GROUP_END),
    OP.i32Const,
    ...sleb(8 * FLATNESS_GROUP),
    OP.i32Add,
    OP.localTee,
    GROUP_END,
  ]);
  e.emit([OP.i32Const, ...sleb(8 * GROUPED_BINS + 1), OP.i32LtU, OP.brIf, 0, OP.end]);

  // The Nyquist bin, in the even lane (the odd lane adds zeros); kv = (128, 129) now.
  e.set('m', v128Load64Zero(localGet(0), 8 * GROUPED_BINS));
  e.set('p', v128Load64Zero(localGet(1), 8 * GROUPED_BINS));
  e.set(
    'prev',
    unary(SIMD.f64x2PromoteLowF32x4, [
      ...ABSOLUTE,
      ...simd(SIMD.v128Load32Zero),
      ...memarg(2, PREVIOUS + 4 * GROUPED_BINS),
    ]),
  );
  accumulate();
  e.storeLane(ABSOLUTE, RESULTS + 8 * (RESULT_COUNT - 1), floored(), 0);
  e.emit([
    ...ABSOLUTE,
    ...demoted(),
    ...simd(SIMD.v128Store32Lane),
    ...memarg(2, CURRENT + 4 * GROUPED_BINS),
    0,
  ]);
  // Each sum: even lanes' plus odd lanes'.
  sums.forEach((name, i) => {
    e.storeLane(ABSOLUTE, RESULTS + 8 * i, add(v(name), swapF64(v(name))), 0);
  });
  e.emit([OP.end]);
  return e;
}

const generated = sumsBody();
const runSums = instantiateOnMemory([
  {
    name: 'sums',
    params: [TYPE.i32, TYPE.i32],
    locals: [
      { count: 2, type: TYPE.i32 },
      { count: generated.v128Locals, type: TYPE.v128 },
    ],
    body: generated.code,
  },
]).sums as (magnitude: number, power: number) => void;
const PREVIOUS_VIEW = new Float32Array(WASM_MEMORY.buffer, PREVIOUS, BIN_COUNT);
const CURRENT_VIEW = new Float32Array(WASM_MEMORY.buffer, CURRENT, BIN_COUNT);
const RESULTS_VIEW = new Float64Array(WASM_MEMORY.buffer, RESULTS, RESULT_COUNT);

/**
 * The WebAssembly form, over a transform whose outputs are in WASM_MEMORY (WasmRealFft). Like the transform, every
 * instance shares one area (the two spectra and the results), valid until the next run: the caller's spectrum is
 * copied in and out around the loop, two copies of 516 bytes.
 */
export class WasmSpectralSums implements SpectralSums {
  readonly results: Float64Array = RESULTS_VIEW;
  private readonly magnitudeAddress: number;
  private readonly powerAddress: number;

  constructor(transform: PowerSpectrumTransform) {
    const { magnitude, power } = transform;
    if (magnitude.buffer !== WASM_MEMORY.buffer || power.buffer !== WASM_MEMORY.buffer) {
      throw new RangeError('WasmSpectralSums needs a transform whose outputs are in WASM_MEMORY');
    }
    if (magnitude.length !== BIN_COUNT || power.length !== BIN_COUNT) {
      throw new RangeError(`WasmSpectralSums needs ${BIN_COUNT} bins`);
    }
    this.magnitudeAddress = magnitude.byteOffset;
    this.powerAddress = power.byteOffset;
  }

  run(spectrum: Float32Array): void {
    PREVIOUS_VIEW.set(spectrum);
    runSums(this.magnitudeAddress, this.powerAddress);
    spectrum.set(CURRENT_VIEW);
  }
}
