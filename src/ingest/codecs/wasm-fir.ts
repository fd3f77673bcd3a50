/**
 * The decimator's FIR stage (decimator.ts) as a WebAssembly SIMD kernel: two output samples per f64x2 vector,
 * eight per pass (four independent sums hide the add latency of one long chain), taps as constants in the code.
 *
 * Lanes are consecutive output samples j and j + 1. Their inputs are `factor` samples apart, so the stage's input
 * is handed over split into its `factor` phases (phase r holds samples r, r + factor, r + 2 factor, ...): the two
 * inputs a tap needs are then neighbours in one phase and come in one load. Which phase a tap reads depends on
 * where the call's first output falls (the stage's phase), so there is one kernel per starting phase.
 *
 * Each lane sums its terms with the same operations in the same order as FirStage's JS loop (centre tap first,
 * then h[k] * (newer + older) for k = 0 .. half - 1; WebAssembly has no fused multiply-add), so the outputs are
 * bit for bit those of the JS form (test/ingest/codecs/decimator.test.ts).
 *
 * One memory of its own, shared by every stage of every decoder: each call copies its history and input in and
 * reads its outputs out before the next call starts (JS runs one packet at a time).
 */
import {
  f64x2Add,
  f64x2Const,
  f64x2Mul,
  localGet,
  memarg,
  memoryModuleBytes,
  OP,
  SIMD,
  simd,
  sleb,
  TYPE,
  V128Body,
} from '../wasm-assembler.ts';
import { WASM, WASM_MEMORY_PAGES, type WasmMemory } from '../wasm-memory.ts';

/** Input samples (history and new) one call may hand over, and the output samples it may produce. */
export const FIR_MAX_INPUT = 6144;
const PHASE_PAD = 4;
const INPUT = 0;
const INPUT_BYTES = 8 * (FIR_MAX_INPUT + 3 * PHASE_PAD);
const OUTPUT = INPUT_BYTES;

const MEMORY: WasmMemory = new WASM.Memory({ initial: WASM_MEMORY_PAGES, maximum: WASM_MEMORY_PAGES });
const F64 = new Float64Array(MEMORY.buffer);
if (OUTPUT + 8 * FIR_MAX_INPUT > MEMORY.buffer.byteLength)
  throw new Error('wasm FIR area exceeds its memory');

/** Parameter: byte end of the outputs (8 x count). Local: byte offset of the current output. */
const END = 0;
const AT = 1;

function load(offset: number): number[] {
  return [...localGet(AT), ...simd(SIMD.v128Load), ...memarg(3, offset)];
}

interface Layout {
  taps: Float64Array;
  factor: number;
  /** Doubles per phase array. */
  stride: number;
  phase: number;
}

/**
 * Byte address, less 8 x the output index held in AT, of the input sample `t` taps after the first output of pair
 * `pair` of a pass (outputs starting at `phase`).
 */
function tapOffset(layout: Layout, t: number, pair: number): number {
  const i = layout.phase + t;
  const r = i % layout.factor;
  return INPUT + 8 * (r * layout.stride + Math.floor(i / layout.factor) + 2 * pair);
}

/** Emits the sum of output pair `pair` (of this pass) into local `acc${pair}`. */
function emitPair(e: V128Body, layout: Layout, pair: number): void {
  const h = layout.taps;
  const keep = h.length - 1;
  const half = keep >> 1;
  const acc = `acc${pair}`;
  e.set(acc, f64x2Mul(f64x2Const(h[half], h[half]), load(tapOffset(layout, half, pair))));
  for (let k = 0; k < half; k++) {
    const both = f64x2Add(load(tapOffset(layout, keep - k, pair)), load(tapOffset(layout, k, pair)));
    e.set(acc, f64x2Add(e.get(acc), f64x2Mul(f64x2Const(h[k], h[k]), both)));
  }
}

/** Loop that runs while `bytes` more of output fit: pairs sums per pass, stored whole. */
function emitLoop(e: V128Body, layout: Layout, pairs: number): void {
  const bytes = 16 * pairs;
  e.emit([OP.block, TYPE.voidBlock, OP.loop, TYPE.voidBlock]);
  e.emit([...localGet(END), ...localGet(AT), OP.i32Const, ...sleb(bytes), OP.i32Add, OP.i32LtU, OP.brIf, 1]);
  for (let p = 0; p < pairs; p++) emitPair(e, layout, p);
  for (let p = 0; p < pairs; p++) e.store(localGet(AT), OUTPUT + 16 * p, e.get(`acc${p}`));
  e.emit([
    ...localGet(AT),
    OP.i32Const,
    ...sleb(bytes),
    OP.i32Add,
    OP.localSet,
    AT,
    OP.br,
    0,
    OP.end,
    OP.end,
  ]);
}

function kernelBody(layout: Layout): V128Body {
  const e = new V128Body(2);
  emitLoop(e, layout, 4);
  emitLoop(e, layout, 1);
  // An odd last output: the pair's second lane reads past the input and is not stored.
  e.emit([OP.block, TYPE.voidBlock, ...localGet(AT), ...localGet(END), OP.i32GeU, OP.brIf, 0]);
  emitPair(e, layout, 0);
  e.storeLane(localGet(AT), OUTPUT, e.get('acc0'), 0);
  e.emit([OP.end, OP.end]);
  return e;
}

const KERNELS = new Map<string, ((end: number) => void)[]>();

/** The kernels of one stage (index: the stage's phase when the call starts), compiled once per taps and sizes. */
function kernelsFor(taps: Float64Array, factor: number, stride: number): ((end: number) => void)[] {
  const key = `${factor}:${stride}:${Array.from(taps).join(',')}`;
  const known = KERNELS.get(key);
  if (known !== undefined) return known;
  const functions = [];
  for (let phase = 0; phase < factor; phase++) {
    const body = kernelBody({ taps, factor, stride, phase });
    functions.push({
      name: `p${phase}`,
      params: [TYPE.i32],
      locals: [
        { count: 1, type: TYPE.i32 },
        { count: body.v128Locals, type: TYPE.v128 },
      ],
      body: body.code,
    });
  }
  const instance = new WASM.Instance(new WASM.Module(memoryModuleBytes(functions)), {
    m: { memory: MEMORY },
  });
  const kernels = functions.map((f) => instance.exports[f.name] as (end: number) => void);
  KERNELS.set(key, kernels);
  return kernels;
}

/** One stage's kernels, with the phase split its sizes need. */
export class WasmFirKernel {
  private readonly kernels: ((end: number) => void)[];
  private readonly factor: number;
  private readonly stride: number;

  constructor(taps: Float64Array, factor: number, maxTotal: number) {
    if (maxTotal > FIR_MAX_INPUT) throw new RangeError(`wasm FIR: at most ${FIR_MAX_INPUT} input samples`);
    this.factor = factor;
    this.stride = Math.ceil(maxTotal / factor) + PHASE_PAD;
    if (factor * this.stride * 8 > INPUT_BYTES)
      throw new RangeError('wasm FIR: phases exceed the input area');
    this.kernels = kernelsFor(taps, factor, this.stride);
  }

  /**
   * Filters buf[0, total) into `count` outputs, the first with its oldest tap at buf[phase] and each next one
   * `factor` samples later (count as FirStage works it out); they land in FIR_OUTPUT[0, count).
   */
  run(buf: Float64Array, total: number, phase: number, count: number): void {
    const factor = this.factor;
    const stride = this.stride;
    for (let r = 0; r < factor; r++) {
      let to = (INPUT >> 3) + r * stride;
      for (let i = r; i < total; i += factor) F64[to++] = buf[i];
    }
    this.kernels[phase](8 * count);
  }
}

/** The outputs of the last run. */
export const FIR_OUTPUT = new Float64Array(MEMORY.buffer, OUTPUT, FIR_MAX_INPUT);
