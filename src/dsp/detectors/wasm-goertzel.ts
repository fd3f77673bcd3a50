/**
 * The Goertzel recursions of one GoertzelBank as a WebAssembly SIMD loop: two filters per f64x2 vector, up to
 * VECTORS_PER_PASS vectors per pass over the block. Each recursion is latency bound (multiply, add, subtract in a
 * chain); the JS form runs four filters per pass, this form eight to ten, so a 20-filter bank takes two passes
 * instead of five.
 *
 * Each lane computes s0 = x + c * s1 - s2 with the same operations in the same order as the JS form (WebAssembly
 * has no fused multiply-add), and the samples are Float32 promoted to f64 as JS reads them, so the final states
 * s1, s2 are bit for bit those of the JS form (test/dsp/detectors/goertzel-bank.test.ts). The bank's finishing
 * arithmetic (power, complex output) stays in JS on those states.
 *
 * The function reads the block from INPUT and writes the states to S1/S2: separate areas, never one address both
 * ways (see spectral-sums.ts on the V8 11.3 optimising-tier miscompile of a load moved past a store).
 *
 * The area lives in a memory of its own (the detectors' read-only coefficients are constants in the code, so only
 * the block and the states are in memory): one for all banks of all detectors, because each bank's states are
 * read right after its run (JS runs one frame at a time). Untouched pages of it are never committed.
 */
import {
  ABSOLUTE,
  f64x2Add,
  f64x2Const,
  f64x2Mul,
  f64x2Sub,
  memarg,
  memoryModuleBytes,
  OP,
  SIMD,
  simd,
  sleb,
  TYPE,
  unary,
  V128Body,
} from '../../ingest/wasm-assembler.ts';
import { WASM, WASM_MEMORY_PAGES, type WasmMemory } from '../../ingest/wasm-memory.ts';

/** Longest block a bank may filter (a 20 ms frame), and most filters per bank. */
export const MAX_BLOCK = 160;
export const MAX_FILTERS = 32;
/**
 * Vectors (two filters each) per pass: five chains hide the recursion's latency; more spill the states out of the
 * 16 SIMD registers (a 20-filter bank: 5 + 5 vectors ran faster than 4 + 3 + 3 or 10 in one pass).
 */
const VECTORS_PER_PASS = 5;

const INPUT = 0;
const S1 = INPUT + 4 * MAX_BLOCK;
const S2 = S1 + 8 * MAX_FILTERS;

// The imported memory's declared size is WASM_MEMORY_PAGES (memoryModuleBytes); pages never written stay uncommitted.
const MEMORY: WasmMemory = new WASM.Memory({ initial: WASM_MEMORY_PAGES, maximum: WASM_MEMORY_PAGES });
/**
 * The samples to filter (the run's argument is the byte offset of the block in it). Callers that fill it directly
 * (ToneDetector's frame) save GoertzelBank the copy; it is scratch shared by every bank, valid until the next run.
 */
export const GOERTZEL_INPUT = new Float32Array(MEMORY.buffer, INPUT, MAX_BLOCK);
/** Final states s1 (last output) and s2 (the one before) per filter, valid until the next run. */
export const GOERTZEL_S1 = new Float64Array(MEMORY.buffer, S1, MAX_FILTERS);
export const GOERTZEL_S2 = new Float64Array(MEMORY.buffer, S2, MAX_FILTERS);

/** i32 parameter: byte offset in INPUT of the block's first sample; i32 local: of the current sample. */
const FIRST = 0;
const AT = 1;

function body(coef: Float64Array, blockLength: number): V128Body {
  const vectors = Math.ceil(coef.length / 2);
  const passes = Math.ceil(vectors / VECTORS_PER_PASS);
  const perPass = Math.ceil(vectors / passes);
  const e = new V128Body(2);
  for (let first = 0; first < vectors; first += perPass) {
    const last = Math.min(vectors, first + perPass);
    for (let v = first; v < last; v++) {
      e.set(`a${v - first}`, f64x2Const(0, 0));
      e.set(`b${v - first}`, f64x2Const(0, 0));
    }
    e.emit([OP.localGet, FIRST, OP.localSet, AT]);
    e.emit([OP.loop, TYPE.voidBlock]);
    // (x, x): the Float32 sample in all four lanes, the low two promoted.
    e.set(
      'x',
      unary(SIMD.f64x2PromoteLowF32x4, [OP.localGet, AT, ...simd(SIMD.v128Load32Splat), ...memarg(2, INPUT)]),
    );
    for (let v = first; v < last; v++) {
      const j = v - first;
      // Missing filters of an odd-sized bank run on coefficient 0 and are never read.
      const c = f64x2Const(coef[2 * v], 2 * v + 1 < coef.length ? coef[2 * v + 1] : 0);
      e.set('t', f64x2Sub(f64x2Add(e.get('x'), f64x2Mul(c, e.get(`a${j}`))), e.get(`b${j}`)));
      e.set(`b${j}`, e.get(`a${j}`));
      e.set(`a${j}`, e.get('t'));
    }
    e.emit([OP.localGet, AT, OP.i32Const, 4, OP.i32Add, OP.localTee, AT]);
    e.emit([OP.localGet, FIRST, OP.i32Const, ...sleb(4 * blockLength), OP.i32Add]);
    e.emit([OP.i32LtU, OP.brIf, 0, OP.end]);
    for (let v = first; v < last; v++) {
      e.store(ABSOLUTE, S1 + 16 * v, e.get(`a${v - first}`));
      e.store(ABSOLUTE, S2 + 16 * v, e.get(`b${v - first}`));
    }
  }
  e.emit([OP.end]);
  return e;
}

/** Compiles the recursions of a bank with coefficients `coef` (2 cos w) over blocks of `blockLength` samples. */
export function compileGoertzel(coef: Float64Array, blockLength: number): (first: number) => void {
  if (blockLength < 1 || blockLength > MAX_BLOCK)
    throw new RangeError(`block length must be 1..${MAX_BLOCK}`);
  if (coef.length > MAX_FILTERS) throw new RangeError(`at most ${MAX_FILTERS} filters`);
  const generated = body(coef, blockLength);
  const bytes = memoryModuleBytes([
    {
      name: 'run',
      params: [TYPE.i32],
      locals: [
        { count: 1, type: TYPE.i32 },
        { count: generated.v128Locals, type: TYPE.v128 },
      ],
      body: generated.code,
    },
  ]);
  const instance = new WASM.Instance(new WASM.Module(bytes), { m: { memory: MEMORY } });
  return instance.exports.run as (first: number) => void;
}
