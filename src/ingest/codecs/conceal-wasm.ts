/**
 * The repeat-and-fade of loss concealment (conceal.ts) as a WebAssembly SIMD loop over WASM_MEMORY, four samples
 * per step. In JS each sample's Math.round with its double-to-int16 store cost about 3 ns, so a lost 20 ms packet
 * cost ~0.5 µs, and a leg losing most of its packets conceals after nearly every packet it gets.
 *
 * The result is the JS formula's bit for bit: each sample is the double product sample * gain rounded as
 * Math.round rounds (half-way up: r = ceil(x), minus 1 where r - 0.5 > x, which is how V8 itself lowers
 * Math.round), then converted to an integer exactly (|x| < 32768). test/ingest/codecs/conceal.test.ts compares the
 * two over every fade position.
 */
import { instantiateOnMemory, memarg, OP, SIMD, simd, TYPE } from '../wasm-assembler.ts';
import {
  CONCEAL_GAINS,
  CONCEAL_GAINS_OFFSET,
  CONCEAL_OUT_OFFSET,
  CONCEAL_OUT_SAMPLES,
  CONCEAL_SOURCE_OFFSET,
  CONCEAL_SOURCE_SAMPLES,
  HOST_LITTLE_ENDIAN,
  WASM_MEMORY,
} from '../wasm-memory.ts';

/** Samples per step: a step may read and write up to STEP - 1 samples past its count (the areas have room). */
const FADE_STEP = 4;

const P_SRC = 0;
const P_GAIN = 1;
const P_DST = 2;
const P_END = 3;
const L_WIDE = 4;
const L_LOW = 5;
const L_HIGH = 6;
const L_CEIL = 7;

/** Byte lanes of i8x16.shuffle that put the upper two i32 lanes of a vector first. */
const UPPER_FIRST = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
/** Byte lanes that join the lower two i32 lanes of the first vector and of the second. */
const LOWER_OF_BOTH = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

function f64Splat(value: number): number[] {
  return [...simd(SIMD.v128Const), ...new Uint8Array(new Float64Array([value, value]).buffer)];
}

/** Math.round of both lanes of the f64x2 in local `x` (scratch: L_CEIL), left on the stack. */
function roundHalfUp(x: number): number[] {
  return [
    OP.localGet,
    x,
    ...simd(SIMD.f64x2Ceil),
    OP.localSet,
    L_CEIL,
    OP.localGet,
    L_CEIL,
    // ceil - ((ceil - 0.5 > x) ? 1 : 0): the comparison's all-ones lanes masked to 1.0
    OP.localGet,
    L_CEIL,
    ...f64Splat(0.5),
    ...simd(SIMD.f64x2Sub),
    OP.localGet,
    x,
    ...simd(SIMD.f64x2Gt),
    ...f64Splat(1),
    ...simd(SIMD.v128And),
    ...simd(SIMD.f64x2Sub),
  ];
}

/** fade(src, gain, dst, end): int16 dst[k] = round(int16 src[k] * f64 gain[k]) for dst[k] below end, 4 per step. */
function fadeBody(): number[] {
  const code: number[] = [OP.block, TYPE.voidBlock, OP.loop, TYPE.voidBlock];
  code.push(OP.localGet, P_DST, OP.localGet, P_END, OP.i32GeU, OP.brIf, 1);
  // Four samples as i32 lanes.
  code.push(OP.localGet, P_SRC, ...simd(SIMD.v128Load64Zero), ...memarg(1, 0));
  code.push(...simd(SIMD.i32x4ExtendLowI16x8S), OP.localSet, L_WIDE);
  // Samples 0-1 and 2-3 as f64x2, times their gains.
  code.push(OP.localGet, L_WIDE, ...simd(SIMD.f64x2ConvertLowI32x4S));
  code.push(OP.localGet, P_GAIN, ...simd(SIMD.v128Load), ...memarg(3, 0), ...simd(SIMD.f64x2Mul));
  code.push(OP.localSet, L_LOW);
  code.push(OP.localGet, L_WIDE, OP.localGet, L_WIDE, ...simd(SIMD.i8x16Shuffle), ...UPPER_FIRST);
  code.push(...simd(SIMD.f64x2ConvertLowI32x4S));
  code.push(OP.localGet, P_GAIN, ...simd(SIMD.v128Load), ...memarg(3, 16), ...simd(SIMD.f64x2Mul));
  code.push(OP.localSet, L_HIGH);
  // Rounded, to i32 lanes (exact: integral values), joined, narrowed to i16 and stored as 8 bytes.
  code.push(OP.localGet, P_DST);
  code.push(...roundHalfUp(L_LOW), ...simd(SIMD.i32x4TruncSatF64x2SZero));
  code.push(...roundHalfUp(L_HIGH), ...simd(SIMD.i32x4TruncSatF64x2SZero));
  code.push(...simd(SIMD.i8x16Shuffle), ...LOWER_OF_BOTH);
  code.push(OP.localSet, L_WIDE, OP.localGet, L_WIDE, OP.localGet, L_WIDE);
  code.push(...simd(SIMD.i16x8NarrowI32x4S), ...simd(SIMD.v128Store64Lane), ...memarg(1, 0), 0);
  code.push(OP.localGet, P_SRC, OP.i32Const, 2 * FADE_STEP, OP.i32Add, OP.localSet, P_SRC);
  code.push(OP.localGet, P_GAIN, OP.i32Const, 8 * FADE_STEP, OP.i32Add, OP.localSet, P_GAIN);
  code.push(OP.localGet, P_DST, OP.i32Const, 2 * FADE_STEP, OP.i32Add, OP.localSet, P_DST);
  code.push(OP.br, 0, OP.end, OP.end, OP.end);
  return code;
}

const fade = instantiateOnMemory([
  {
    name: 'fade',
    params: [TYPE.i32, TYPE.i32, TYPE.i32, TYPE.i32],
    locals: [{ count: 4, type: TYPE.v128 }],
    body: fadeBody(),
  },
]).fade as (src: number, gain: number, dst: number, end: number) => void;

/** The frame being repeated, copied here before each concealment call. */
export const CONCEAL_SOURCE: Int16Array = new Int16Array(
  WASM_MEMORY.buffer,
  CONCEAL_SOURCE_OFFSET,
  CONCEAL_SOURCE_SAMPLES,
);
/**
 * Which G.711 decoder's kept packet CONCEAL_SOURCE holds, decoded from its codes (see G711Decoder.conceal), so the
 * frames after the first of one loss do not decode it again; null when it holds a frame copied from a concealer.
 */
export const CONCEAL_SOURCE_HOLDER: { decoder: object | null } = { decoder: null };
/** Where the faded samples are written; its first 20 ms is the frame assemblers' CONCEAL_FRAME. */
export const CONCEAL_OUT: Int16Array = new Int16Array(
  WASM_MEMORY.buffer,
  CONCEAL_OUT_OFFSET,
  CONCEAL_OUT_SAMPLES,
);
/** 20 ms of CONCEAL_OUT: a frame assembler conceals a whole frame here and hands it to the sink as it is. */
export const CONCEAL_FRAME: Int16Array = CONCEAL_OUT.subarray(0, 160);
const GAINS = new Float64Array(WASM_MEMORY.buffer, CONCEAL_GAINS_OFFSET, CONCEAL_GAINS);

/** Whether the WebAssembly fade can be used (its views are little-endian, as WebAssembly reads them). */
export const WASM_FADE = HOST_LITTLE_ENDIAN;

/** Fills the gain table the fade reads (once, by conceal.ts, with its own gains). */
export function setFadeGains(gains: Float64Array): void {
  GAINS.set(gains.subarray(0, CONCEAL_GAINS));
}

/**
 * CONCEAL_OUT[to, to + count) = round(CONCEAL_SOURCE[from + k] * gain[first + k]); may also write up to three
 * samples after them (the next call, or the caller, writes there in turn).
 */
export function fadeInto(from: number, first: number, to: number, count: number): void {
  const dst = CONCEAL_OUT_OFFSET + 2 * to;
  fade(CONCEAL_SOURCE_OFFSET + 2 * from, CONCEAL_GAINS_OFFSET + 8 * first, dst, dst + 2 * count);
}
