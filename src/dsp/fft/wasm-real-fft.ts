/**
 * The per-frame 256-point real FFT as one WebAssembly SIMD function over WASM_MEMORY: window, transform, power and
 * magnitude of bins 0..128, with every value a complex number in one v128 (real, imaginary as f64x2, so the
 * arithmetic is the same double precision as the JS RealFft).
 *
 * The function is straight-line code generated here at load: the size is fixed, so the bit-reversed load order,
 * every memory address and every twiddle's place in the table are constants of the code, and no index is computed
 * at run time. It follows RealFft (real-fft.ts) step for step (packed complex input windowed as it is loaded, one
 * 8-point pass, radix-4 stages at sub-sizes 8 and 32, split into the real transform) with the same roundings: each
 * lane sees the same operations on the same operands in the same order (the split's halving is folded into its
 * twiddles, which is exact), and WebAssembly never fuses a multiply and an add. So its spectrum, power and
 * magnitudes equal RealFft's bit for bit (test/dsp/frame/wasm-real-fft.test.ts); the only operations left out are
 * the multiplies by the twiddle 1 (j = 0), which can change nothing but the sign of a zero.
 *
 * Memory: the twiddle table (FFT_TABLES, written once here) and a few window slots are shared by every caller; so is
 * the work area holding the input block, the complex spectrum, the power and the magnitudes (FFT_WORK): a caller
 * copies its block into `input`, calls transform() and reads the results before anything else transforms. Per-caller
 * areas would have to grow with the number of calls (two analyzers each, thousands of calls) in a memory that must
 * not grow (growing it would detach every view on it), and each would come in cold from cache every frame.
 *
 * Requires a little-endian host (HOST_LITTLE_ENDIAN): the Float64Array views read memory in the host's byte order.
 */
import {
  ABSOLUTE,
  binary,
  type Expr,
  f64x2Add,
  f64x2Const,
  f64x2Mul,
  f64x2Sub,
  instantiateOnMemory,
  interleaveF64,
  localGet,
  OP,
  SIMD,
  simd,
  swapF64,
  TYPE,
  unary,
  V128Body,
  v128Load,
} from '../../ingest/wasm-assembler.ts';
import {
  FFT_TABLES_BYTES,
  FFT_TABLES_OFFSET,
  FFT_WINDOW_BYTES,
  FFT_WINDOW_SLOTS,
  FFT_WINDOWS_OFFSET,
  FFT_WORK_BYTES,
  FFT_WORK_OFFSET,
  WASM_MEMORY,
} from '../../ingest/wasm-memory.ts';
import type { PowerSpectrumTransform } from './real-fft.ts';

/** Real input samples. */
export const WASM_FFT_SIZE = 256;
/** Output bins: DC to Nyquist inclusive. */
export const WASM_FFT_BINS = WASM_FFT_SIZE / 2 + 1;
/** Complex size of the packed transform. */
const M = WASM_FFT_SIZE / 2;
const V = 16; // bytes per v128 (one complex double)

// Work area: input block, complex spectrum (re, im interleaved as fft.js lays it out), power, magnitudes.
const IN = FFT_WORK_OFFSET;
const X = IN + 8 * WASM_FFT_SIZE;
const POWER = X + V * WASM_FFT_BINS;
const MAGNITUDE = POWER + V * Math.ceil((8 * WASM_FFT_BINS) / V);
if (MAGNITUDE + 8 * WASM_FFT_BINS > FFT_WORK_OFFSET + FFT_WORK_BYTES)
  throw new Error('FFT work area too small');

// Twiddle table: per radix-4 stage (sub-size q) and butterfly j, for W^j, W^2j, W^3j (W = e^(-2 pi i / 4q)) the
// pair (c, c) and (-s, s), c + i s = W^rj, so that x W^rj = x (c, c) + swap(x) (-s, s). Then, per split bin k, the
// pairs (c/2, -c/2) and (-s/2, -s/2) with c + i s = e^(2 pi i k / N): the split's halving folded in.
const STAGE_SIZES = [8, 32] as const;
const stageBase = new Map<number, number>();
let tableBytes = 0;
for (const q of STAGE_SIZES) {
  stageBase.set(q, FFT_TABLES_OFFSET + tableBytes);
  tableBytes += q * 6 * V;
}
const SPLIT_BASE = FFT_TABLES_OFFSET + tableBytes;
tableBytes += (M / 2 + 1) * 2 * V;
if (tableBytes > FFT_TABLES_BYTES) throw new Error('FFT twiddle table too large');

function writeTables(): void {
  const t = new Float64Array(WASM_MEMORY.buffer, FFT_TABLES_OFFSET, tableBytes / 8);
  const at = (address: number) => (address - FFT_TABLES_OFFSET) / 8;
  for (const q of STAGE_SIZES) {
    for (let j = 0; j < q; j++) {
      // The same expressions as RealFft's tables, so the same doubles.
      const angle = (-2 * Math.PI * j) / (4 * q);
      const pairs = [
        [Math.cos(angle), Math.sin(angle)],
        [Math.cos(2 * angle), Math.sin(2 * angle)],
        [Math.cos(3 * angle), Math.sin(3 * angle)],
      ];
      let i = at(stageBase.get(q)! + j * 6 * V);
      for (const [c, s] of pairs) {
        t[i++] = c;
        t[i++] = c;
        t[i++] = -s;
        t[i++] = s;
      }
    }
  }
  for (let k = 1; k <= M / 2; k++) {
    const c = Math.cos((2 * Math.PI * k) / WASM_FFT_SIZE);
    const s = Math.sin((2 * Math.PI * k) / WASM_FFT_SIZE);
    let i = at(SPLIT_BASE + k * 2 * V);
    t[i++] = 0.5 * c;
    t[i++] = -0.5 * c;
    t[i++] = -0.5 * s;
    t[i++] = -0.5 * s;
  }
}

/** The function's only parameter: the window's byte address. */
const WINDOW_PARAM = 0;

function load(address: number): Expr {
  return v128Load(ABSOLUTE, address);
}
function loadWindow(offset: number): Expr {
  return v128Load(localGet(WINDOW_PARAM), offset);
}

/** The transform's instructions. */
function transformBody(): V128Body {
  const e = new V128Body(1);
  const v = (name: string) => e.get(name);
  const add = f64x2Add;
  const sub = f64x2Sub;
  const mul = f64x2Mul;
  const swap = swapF64;
  const constant = f64x2Const;
  const store = (address: number, value: Expr) => e.store(ABSOLUTE, address, value);
  const storeLane = (address: number, value: Expr, lane: number) =>
    e.storeLane(ABSOLUTE, address, value, lane);
  e.set('conj', constant(1, -1));
  e.set('sqrtHalf', constant(Math.SQRT1_2, Math.SQRT1_2));
  e.set('half', constant(0.5, 0.5));
  // All ones in the real lane, zero in the imaginary lane.
  e.set('realOnly', [...simd(SIMD.v128Const), ...new Array(8).fill(0xff), ...new Array(8).fill(0)]);
  /** -i x = (x1, -x0). */
  const minusI = (name: string) => mul(swap(v(name)), v('conj'));

  // Load (window, bit-reversed order) and the 8-point DFTs, as RealFft's first loop.
  const bits = Math.log2(M);
  const reversed = (i: number) => {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    return r;
  };
  for (let g = 0; g < M; g += 8) {
    for (let pair = 0; pair < 4; pair++) {
      const p = reversed(g + 2 * pair);
      const q = reversed(g + 2 * pair + 1);
      e.set('x', mul(load(IN + V * p), loadWindow(V * p)));
      e.set('y', mul(load(IN + V * q), loadWindow(V * q)));
      e.set(`s${pair}`, add(v('x'), v('y')));
      e.set(`d${pair}`, sub(v('x'), v('y')));
    }
    e.set('e0', add(v('s0'), v('s1')));
    e.set('e2', sub(v('s0'), v('s1')));
    e.set('n', minusI('d1'));
    e.set('e1', add(v('d0'), v('n')));
    e.set('e3', sub(v('d0'), v('n')));
    e.set('f0', add(v('s2'), v('s3')));
    e.set('f2', sub(v('s2'), v('s3')));
    e.set('n', minusI('d3'));
    e.set('f1', add(v('d2'), v('n')));
    e.set('f3', sub(v('d2'), v('n')));
    // W8 f1 = (f1 - i f1) / sqrt 2; W8^3 f3 = (-i f3 - f3) / sqrt 2; W8^2 f2 = -i f2.
    e.set('t1', mul(add(v('f1'), minusI('f1')), v('sqrtHalf')));
    e.set('t3', mul(sub(minusI('f3'), v('f3')), v('sqrtHalf')));
    e.set('n', minusI('f2'));
    store(X + V * g, add(v('e0'), v('f0')));
    store(X + V * (g + 4), sub(v('e0'), v('f0')));
    store(X + V * (g + 1), add(v('e1'), v('t1')));
    store(X + V * (g + 5), sub(v('e1'), v('t1')));
    store(X + V * (g + 2), add(v('e2'), v('n')));
    store(X + V * (g + 6), sub(v('e2'), v('n')));
    store(X + V * (g + 3), add(v('e3'), v('t3')));
    store(X + V * (g + 7), sub(v('e3'), v('t3')));
  }

  // Radix-4 stages: residues 0, 2, 1, 3 of sub-size q at i0..i3; twiddles loaded once per j for every group.
  const twiddled = (at: number, r: number, j: number): Expr => {
    if (j === 0) return load(at);
    e.set('t', load(at));
    return add(mul(v('t'), v(`c${r}`)), mul(swap(v('t')), v(`s${r}`)));
  };
  for (const q of STAGE_SIZES) {
    for (let j = 0; j < q; j++) {
      const tw = stageBase.get(q)! + j * 6 * V;
      if (j > 0) {
        for (let r = 1; r <= 3; r++) {
          e.set(`c${r}`, load(tw + (r - 1) * 2 * V));
          e.set(`s${r}`, load(tw + (r - 1) * 2 * V + V));
        }
      }
      for (let start = 0; start < M; start += 4 * q) {
        const i0 = X + V * (start + j);
        const i1 = i0 + V * q;
        const i2 = i1 + V * q;
        const i3 = i2 + V * q;
        e.set('a0', load(i0));
        e.set('a1', twiddled(i2, 1, j));
        e.set('a2', twiddled(i1, 2, j));
        e.set('a3', twiddled(i3, 3, j));
        e.set('s02', add(v('a0'), v('a2')));
        e.set('d02', sub(v('a0'), v('a2')));
        e.set('s13', add(v('a1'), v('a3')));
        e.set('d13', sub(v('a1'), v('a3')));
        e.set('n', minusI('d13'));
        store(i0, add(v('s02'), v('s13')));
        store(i1, add(v('d02'), v('n')));
        store(i2, sub(v('s02'), v('s13')));
        store(i3, sub(v('d02'), v('n')));
      }
    }
  }

  // Split into the real transform, in place (bin M in the slot after the packed data), with power and magnitude
  // of each bin: E = (Z[k] + conj Z[M-k]) / 2, O = (Z[k] - conj Z[M-k]) / 2i, X[k] = E + e^(-2 pi i k / N) O,
  // X[M-k] = conj(E - e^(-2 pi i k / N) O).
  const powerAndMagnitude = (k: number, other: number) => {
    // (|X_k|^2, |X_other|^2) as re^2 + im^2, then both square roots in one instruction.
    e.set('pk', mul(v('xk'), v('xk')));
    e.set('po', mul(v('xo'), v('xo')));
    e.set('pw', add(interleaveF64(v('pk'), v('po'), false), interleaveF64(v('pk'), v('po'), true)));
    storeLane(POWER + 8 * k, v('pw'), 0);
    storeLane(POWER + 8 * other, v('pw'), 1);
    e.set('mg', unary(SIMD.f64x2Sqrt, v('pw')));
    storeLane(MAGNITUDE + 8 * k, v('mg'), 0);
    storeLane(MAGNITUDE + 8 * other, v('mg'), 1);
  };
  e.set('a', load(X));
  e.set('xk', binary(SIMD.v128And, add(v('a'), swap(v('a'))), v('realOnly')));
  e.set('xo', binary(SIMD.v128And, sub(v('a'), swap(v('a'))), v('realOnly')));
  store(X, v('xk'));
  store(X + V * M, v('xo'));
  powerAndMagnitude(0, M);
  for (let k = 1; k <= M / 2; k++) {
    const other = M - k;
    e.set('a', load(X + V * k));
    e.set('b', k === other ? v('a') : load(X + V * other));
    e.set('bc', mul(v('b'), v('conj')));
    e.set('s', add(v('a'), v('bc')));
    e.set('d', sub(v('a'), v('bc')));
    const tw = SPLIT_BASE + k * 2 * V;
    e.set('wo', add(mul(swap(v('d')), load(tw)), mul(v('d'), load(tw + V))));
    e.set('ek', mul(v('s'), v('half')));
    e.set('xk', add(v('ek'), v('wo')));
    e.set('xo', mul(sub(v('ek'), v('wo')), v('conj')));
    if (k === other) {
      // RealFft writes bin N/4 twice; the second (conjugate) form stands.
      store(X + V * k, v('xo'));
      e.set('pk', mul(v('xo'), v('xo')));
      e.set('pw', add(v('pk'), swap(v('pk'))));
      storeLane(POWER + 8 * k, v('pw'), 0);
      e.set('mg', unary(SIMD.f64x2Sqrt, v('pw')));
      storeLane(MAGNITUDE + 8 * k, v('mg'), 0);
    } else {
      store(X + V * k, v('xk'));
      store(X + V * other, v('xo'));
      powerAndMagnitude(k, other);
    }
  }
  e.emit([OP.end]);
  return e;
}

writeTables();
const generated = transformBody();
const exported = instantiateOnMemory([
  {
    name: 'transform',
    params: [TYPE.i32],
    locals: [{ count: generated.v128Locals, type: TYPE.v128 }],
    body: generated.code,
  },
]);
const runTransform = exported.transform as (window: number) => void;

/** The shared work area's views (see the module comment: valid until the next transform). */
const INPUT_VIEW = new Float64Array(WASM_MEMORY.buffer, IN, WASM_FFT_SIZE);
const SPECTRUM_VIEW = new Float64Array(WASM_MEMORY.buffer, X, 2 * WASM_FFT_BINS);
const POWER_VIEW = new Float64Array(WASM_MEMORY.buffer, POWER, WASM_FFT_BINS);
const MAGNITUDE_VIEW = new Float64Array(WASM_MEMORY.buffer, MAGNITUDE, WASM_FFT_BINS);
let windowsPlaced = 0;

/**
 * A windowed 256-point real FFT in WebAssembly. Every instance shares the one work area; each has its own window
 * slot (FFT_WINDOW_SLOTS in all: create one per distinct window, not one per caller).
 */
export class WasmRealFft implements PowerSpectrumTransform {
  /** The block to transform: write WASM_FFT_SIZE samples here, then call transform(). */
  readonly input: Float64Array = INPUT_VIEW;
  /** X[k] for k = 0..128 as re, im interleaved (fft.js's layout), unnormalised: sum_n w[n] x[n] e^(-2 pi i k n / N). */
  readonly spectrum: Float64Array = SPECTRUM_VIEW;
  /** |X[k]|^2, k = 0..128. */
  readonly power: Float64Array = POWER_VIEW;
  /** |X[k]|, k = 0..128. */
  readonly magnitude: Float64Array = MAGNITUDE_VIEW;
  /** This instance's window coefficients, in WASM_MEMORY (writable: transform() reads them each time). */
  readonly window: Float64Array;
  private readonly windowAddress: number;

  constructor(window: Float64Array) {
    if (window.length !== WASM_FFT_SIZE)
      throw new RangeError(`window must have ${WASM_FFT_SIZE} coefficients`);
    if (windowsPlaced >= FFT_WINDOW_SLOTS) throw new RangeError(`at most ${FFT_WINDOW_SLOTS} FFT windows`);
    this.windowAddress = FFT_WINDOWS_OFFSET + windowsPlaced * FFT_WINDOW_BYTES;
    windowsPlaced++;
    this.window = new Float64Array(WASM_MEMORY.buffer, this.windowAddress, WASM_FFT_SIZE);
    this.window.set(window);
  }

  /** input (times the window) -> spectrum, power, magnitude. */
  transform(): void {
    runTransform(this.windowAddress);
  }
}
