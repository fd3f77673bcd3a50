/**
 * G.711 decoding as small WebAssembly SIMD functions over WASM_MEMORY, one per law, for payloads staged there
 * (src/ingest/datagram-stage.ts): sixteen codes per step, with none of the per-access index and bounds checks that
 * typed-array code carries in JS. The functions are assembled here from their opcodes rather than shipped as an
 * opaque binary.
 */
import { instantiateOnMemory, OP, SIMD, simd, TYPE } from '../wasm-assembler.ts';

/**
 * Sixteen codes per step are computed from their bits instead of looked up: no table load, and no cache line of a
 * 256 KiB pair table touched (a pair-table loop, four table loads per step, spent most of its time on those loads).
 * Both laws are one formula with per-law constants, on the code c = byte ^ xor:
 *
 *   e = (c >> 4) & 7, m = c & 15
 *   magnitude = ((m << shift) + add + 256 * high[e]) * scale[e] - subtract
 *   sample = sign bit of c set ? -magnitude : magnitude
 *
 * μ-law (G.711 table 2):  xor 0xff, shift 3, add 0x84, high 0,           scale 2^e,          subtract 0x84
 * A-law (G.711 table 1):  xor 0xd5, shift 4, add 8,    high e > 0 ? 1 : 0, scale 2^max(e-1,0), subtract 0
 *
 * Every intermediate fits its lanes: (m << shift) + add <= 252 in a byte, the product <= 32256 in 16 bits.
 * high[e] and scale[e] come from i8x16.swizzle over 8-entry byte tables. Tests check every code in every lane
 * against the single-sample tables (test/ingest/codecs/g711-in-place.test.ts).
 */

interface LawFormula {
  xor: number;
  shift: number;
  add: number;
  high: readonly number[];
  scale: readonly number[];
  subtract: number;
}

const MU_LAW: LawFormula = {
  xor: 0xff,
  shift: 3,
  add: 0x84,
  high: [0, 0, 0, 0, 0, 0, 0, 0],
  scale: [1, 2, 4, 8, 16, 32, 64, 128],
  subtract: 0x84,
};
const A_LAW: LawFormula = {
  xor: 0xd5,
  shift: 4,
  add: 8,
  high: [0, 1, 1, 1, 1, 1, 1, 1],
  scale: [1, 1, 2, 4, 8, 16, 32, 64],
  subtract: 0,
};

/** Codes (bytes) per SIMD step. */
export const WASM_SIMD_STEP_BYTES = 16;

const S_SRC = 0;
const S_END = 1;
const S_DST = 2;
const S_CODE = 3;
const S_EXP = 4;
const S_BASE = 5;
const S_SCALE = 6;
const S_HIGH = 7;
const S_SIGN = 8;

function bytesConst(bytes: readonly number[]): number[] {
  const lanes = new Array<number>(16).fill(0);
  for (let i = 0; i < bytes.length; i++) lanes[i] = bytes[i];
  return [...simd(SIMD.v128Const), ...lanes];
}

function splat8(value: number): number[] {
  return bytesConst(new Array<number>(16).fill(value));
}

function splat16(value: number): number[] {
  const lanes: number[] = [];
  for (let i = 0; i < 8; i++) lanes.push(value & 0xff, (value >>> 8) & 0xff);
  return bytesConst(lanes);
}

function simdDecodeBody(law: LawFormula): number[] {
  const hasHigh = law.high.some((h) => h !== 0);
  const code: number[] = [];
  code.push(OP.block, TYPE.voidBlock, OP.loop, TYPE.voidBlock);
  code.push(OP.localGet, S_SRC, OP.localGet, S_END, OP.i32GeU, OP.brIf, 1);
  // c = load(src) ^ xor
  code.push(
    OP.localGet,
    S_SRC,
    ...simd(SIMD.v128Load),
    0,
    0,
    ...splat8(law.xor),
    ...simd(SIMD.v128Xor),
    OP.localSet,
    S_CODE,
  );
  // e = (c >> 4) & 7
  code.push(
    OP.localGet,
    S_CODE,
    OP.i32Const,
    4,
    ...simd(SIMD.i8x16ShrU),
    ...splat8(7),
    ...simd(SIMD.v128And),
  );
  code.push(OP.localSet, S_EXP);
  // base = ((c & 15) << shift) + add, per byte
  code.push(
    OP.localGet,
    S_CODE,
    ...splat8(15),
    ...simd(SIMD.v128And),
    OP.i32Const,
    law.shift,
    ...simd(SIMD.i8x16Shl),
  );
  code.push(...splat8(law.add), ...simd(SIMD.i8x16Add), OP.localSet, S_BASE);
  // scale[e], high[e]
  code.push(...bytesConst(law.scale), OP.localGet, S_EXP, ...simd(SIMD.i8x16Swizzle), OP.localSet, S_SCALE);
  if (hasHigh)
    code.push(...bytesConst(law.high), OP.localGet, S_EXP, ...simd(SIMD.i8x16Swizzle), OP.localSet, S_HIGH);
  // sign: all ones where the code's top bit is set
  code.push(OP.localGet, S_CODE, OP.i32Const, 7, ...simd(SIMD.i8x16ShrS), OP.localSet, S_SIGN);
  for (const [half, extendU, extendS] of [
    [0, SIMD.i16x8ExtendLowU, SIMD.i16x8ExtendLowS],
    [1, SIMD.i16x8ExtendHighU, SIMD.i16x8ExtendHighS],
  ] as const) {
    code.push(OP.localGet, S_DST);
    // magnitude = (base + 256 * high) * scale - subtract
    code.push(OP.localGet, S_BASE, ...simd(extendU));
    if (hasHigh) {
      code.push(OP.localGet, S_HIGH, ...simd(extendU), OP.i32Const, 8, ...simd(SIMD.i16x8Shl));
      code.push(...simd(SIMD.i16x8Add));
    }
    code.push(OP.localGet, S_SCALE, ...simd(extendU), ...simd(SIMD.i16x8Mul));
    if (law.subtract !== 0) code.push(...splat16(law.subtract), ...simd(SIMD.i16x8Sub));
    // (magnitude ^ s) - s with s = 0 or -1: negated where the sign bit is set
    code.push(OP.localGet, S_SIGN, ...simd(extendS), ...simd(SIMD.v128Xor));
    code.push(OP.localGet, S_SIGN, ...simd(extendS), ...simd(SIMD.i16x8Sub));
    // Memory immediates: log2 alignment 0 (the destination need not be 16-byte aligned), byte offset.
    code.push(...simd(SIMD.v128Store), 0, 16 * half);
  }
  code.push(OP.localGet, S_SRC, OP.i32Const, WASM_SIMD_STEP_BYTES, OP.i32Add, OP.localSet, S_SRC);
  code.push(OP.localGet, S_DST, OP.i32Const, 2 * WASM_SIMD_STEP_BYTES, OP.i32Add, OP.localSet, S_DST);
  code.push(OP.br, 0, OP.end, OP.end, OP.end);
  return code;
}

const simdExports = instantiateOnMemory([
  {
    name: 'pcmu',
    params: [TYPE.i32, TYPE.i32, TYPE.i32],
    locals: [{ count: 6, type: TYPE.v128 }],
    body: simdDecodeBody(MU_LAW),
  },
  {
    name: 'pcma',
    params: [TYPE.i32, TYPE.i32, TYPE.i32],
    locals: [{ count: 6, type: TYPE.v128 }],
    body: simdDecodeBody(A_LAW),
  },
]);

/**
 * Decodes the G.711 codes WASM_MEMORY[src, end) into 16-bit samples at byte address `dst`, by formula (see above).
 * (end - src) must be a multiple of WASM_SIMD_STEP_BYTES.
 */
export const decodeSimdWasm: { pcmu: SimdDecode; pcma: SimdDecode } = {
  pcmu: simdExports.pcmu as SimdDecode,
  pcma: simdExports.pcma as SimdDecode,
};
type SimdDecode = (src: number, end: number, dst: number) => void;
