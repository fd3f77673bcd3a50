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
 *   magnitude = ((m << shift) + add + 256 * min(e, high)) * scale[e] - subtract
 *   sample = bit 7 of c set ? -magnitude : magnitude
 *
 * μ-law (G.711 table 2):  xor 0xff, shift 3, add 0x84, high 0, scale 2^e,          subtract 0x84
 * A-law (G.711 table 1):  xor 0xd5, shift 4, add 8,    high 1, scale 2^max(e-1,0), subtract 0
 *
 * The codes are widened to 16-bit lanes as they are loaded (v128.load8x8_u, eight per load), so every shift is a
 * native 16-bit one (x64 has no 8-bit vector shifts: V8 emulates them) and A-law's segment bit needs no second
 * table: 160 A-law codes decode about a tenth faster than in byte lanes, μ-law codes as fast. scale[e] comes from
 * i8x16.swizzle over an 8-entry byte table, indexed by e in each lane's low byte and by 16 (out of range: 0) in
 * its high byte. Every intermediate fits its lane: the product is at most 32,256. Tests check every code in every
 * lane against the single-sample tables (test/ingest/codecs/g711-in-place.test.ts).
 */

interface LawFormula {
  xor: number;
  shift: number;
  add: number;
  /** 0 for μ-law, 1 for A-law: the 256 added for every segment but the first. */
  high: number;
  scale: readonly number[];
  subtract: number;
}

const MU_LAW: LawFormula = {
  xor: 0xff,
  shift: 3,
  add: 0x84,
  high: 0,
  scale: [1, 2, 4, 8, 16, 32, 64, 128],
  subtract: 0x84,
};
const A_LAW: LawFormula = {
  xor: 0xd5,
  shift: 4,
  add: 8,
  high: 1,
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
const S_MAGNITUDE = 5;
const S_SIGN = 6;
// The law's constants, set before the loop.
const S_XOR = 7;
const S_SEVEN = 8;
const S_FIFTEEN = 9;
const S_ADD = 10;
const S_INDEX_HIGH = 11;
const S_SCALE_TABLE = 12;
const S_SUBTRACT = 13;
const S_HIGH = 14;
/** v128 locals of a decode function (after its three i32 parameters). */
const SIMD_DECODE_LOCALS = S_HIGH + 1 - 3;

function bytesConst(bytes: readonly number[]): number[] {
  const lanes = new Array<number>(16).fill(0);
  for (let i = 0; i < bytes.length; i++) lanes[i] = bytes[i];
  return [...simd(SIMD.v128Const), ...lanes];
}

function splat16(value: number): number[] {
  const lanes: number[] = [];
  for (let i = 0; i < 8; i++) lanes.push(value & 0xff, (value >>> 8) & 0xff);
  return bytesConst(lanes);
}

function simdDecodeBody(law: LawFormula): number[] {
  const code: number[] = [];
  code.push(...splat16(law.xor), OP.localSet, S_XOR);
  code.push(...splat16(7), OP.localSet, S_SEVEN);
  code.push(...splat16(15), OP.localSet, S_FIFTEEN);
  code.push(...splat16(law.add), OP.localSet, S_ADD);
  code.push(...splat16(16 << 8), OP.localSet, S_INDEX_HIGH);
  code.push(...bytesConst(law.scale), OP.localSet, S_SCALE_TABLE);
  if (law.subtract !== 0) code.push(...splat16(law.subtract), OP.localSet, S_SUBTRACT);
  if (law.high !== 0) code.push(...splat16(law.high), OP.localSet, S_HIGH);
  code.push(OP.block, TYPE.voidBlock, OP.loop, TYPE.voidBlock);
  code.push(OP.localGet, S_SRC, OP.localGet, S_END, OP.i32GeU, OP.brIf, 1);
  for (const half of [0, 1]) {
    // c = load8x8_u(src + 8 * half) ^ xor, eight codes in 16-bit lanes
    code.push(OP.localGet, S_SRC, ...simd(SIMD.v128Load8x8U), 0, 8 * half);
    code.push(OP.localGet, S_XOR, ...simd(SIMD.v128Xor), OP.localSet, S_CODE);
    // e = (c >> 4) & 7
    code.push(OP.localGet, S_CODE, OP.i32Const, 4, ...simd(SIMD.i16x8ShrU));
    code.push(OP.localGet, S_SEVEN, ...simd(SIMD.v128And), OP.localSet, S_EXP);
    // magnitude = ((c & 15) << shift) + add (+ 256 * min(e, 1) for A-law)
    code.push(OP.localGet, S_CODE, OP.localGet, S_FIFTEEN, ...simd(SIMD.v128And));
    code.push(OP.i32Const, law.shift, ...simd(SIMD.i16x8Shl));
    code.push(OP.localGet, S_ADD, ...simd(SIMD.i16x8Add));
    if (law.high !== 0) {
      code.push(OP.localGet, S_EXP, OP.localGet, S_HIGH, ...simd(SIMD.i16x8MinU));
      code.push(OP.i32Const, 8, ...simd(SIMD.i16x8Shl), ...simd(SIMD.i16x8Add));
    }
    // * scale[e] (swizzle index: e in the low byte, 16 in the high byte), - subtract
    code.push(OP.localGet, S_SCALE_TABLE);
    code.push(OP.localGet, S_EXP, OP.localGet, S_INDEX_HIGH, ...simd(SIMD.v128Or));
    code.push(...simd(SIMD.i8x16Swizzle), ...simd(SIMD.i16x8Mul));
    if (law.subtract !== 0) code.push(OP.localGet, S_SUBTRACT, ...simd(SIMD.i16x8Sub));
    code.push(OP.localSet, S_MAGNITUDE);
    // s = 0 or -1 by bit 7 of c; sample = (magnitude ^ s) - s
    code.push(OP.localGet, S_CODE, OP.i32Const, 8, ...simd(SIMD.i16x8Shl));
    code.push(OP.i32Const, 15, ...simd(SIMD.i16x8ShrS), OP.localSet, S_SIGN);
    code.push(OP.localGet, S_DST);
    code.push(OP.localGet, S_MAGNITUDE, OP.localGet, S_SIGN, ...simd(SIMD.v128Xor));
    code.push(OP.localGet, S_SIGN, ...simd(SIMD.i16x8Sub));
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
    locals: [{ count: SIMD_DECODE_LOCALS, type: TYPE.v128 }],
    body: simdDecodeBody(MU_LAW),
  },
  {
    name: 'pcma',
    params: [TYPE.i32, TYPE.i32, TYPE.i32],
    locals: [{ count: SIMD_DECODE_LOCALS, type: TYPE.v128 }],
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
