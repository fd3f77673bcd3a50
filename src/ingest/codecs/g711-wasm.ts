/**
 * G.711 pair-table decoding as a small WebAssembly function over WASM_MEMORY: for each 2-byte group of the payload,
 * one 16-bit load, one table load and one 32-bit store, with none of the per-access index and bounds checks that
 * typed-array code carries in JS. The table is the same pair table the JS path uses (built from the sox-checked
 * single-sample table), so both paths give identical samples (test/ingest/codecs/g711.test.ts).
 *
 * The module is assembled here from its opcodes rather than shipped as an opaque binary:
 *
 *   (func $decode (param $table i32) (param $src i32) (param $end i32) (param $dst i32)
 *     (block (loop
 *       (br_if 1 (i32.ge_u (local.get $src) (local.get $end)))
 *       ;; k = 0..3: dst[4k..4k+3] = table[load16_u(src + 2k)]
 *       (i32.store offset=4k (local.get $dst)
 *         (i32.load (i32.add (local.get $table) (i32.shl (i32.load16_u offset=2k (local.get $src)) (i32.const 2)))))
 *       (local.set $src (i32.add (local.get $src) (i32.const 8)))
 *       (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
 *       (br 0))))
 *
 * `end - src` must be a multiple of 8 bytes (four table entries per step).
 */
import { instantiateOnMemory, OP, TYPE } from '../wasm-assembler.ts';

const TABLE = 0;
const SRC = 1;
const END = 2;
const DST = 3;
/** Table entries decoded per loop step. */
export const WASM_PAIRS_PER_STEP = 4;

function decodeBody(): number[] {
  const code: number[] = [];
  code.push(OP.block, TYPE.voidBlock, OP.loop, TYPE.voidBlock);
  code.push(OP.localGet, SRC, OP.localGet, END, OP.i32GeU, OP.brIf, 1);
  for (let k = 0; k < WASM_PAIRS_PER_STEP; k++) {
    // Memory immediates: log2 alignment, then byte offset (all offsets here are below 128: one LEB128 byte).
    code.push(OP.localGet, DST, OP.localGet, TABLE, OP.localGet, SRC, OP.i32Load16U, 1, 2 * k);
    code.push(OP.i32Const, 2, OP.i32Shl, OP.i32Add, OP.i32Load, 2, 0, OP.i32Store, 2, 4 * k);
  }
  code.push(OP.localGet, SRC, OP.i32Const, 2 * WASM_PAIRS_PER_STEP, OP.i32Add, OP.localSet, SRC);
  code.push(OP.localGet, DST, OP.i32Const, 4 * WASM_PAIRS_PER_STEP, OP.i32Add, OP.localSet, DST);
  code.push(OP.br, 0, OP.end, OP.end, OP.end);
  return code;
}

const exports = instantiateOnMemory([
  { name: 'decode', params: [TYPE.i32, TYPE.i32, TYPE.i32, TYPE.i32], body: decodeBody() },
]);

/**
 * Decodes payload bytes WASM_MEMORY[src, end) through the pair table at byte address `table` into Int32 pairs
 * at byte address `dst`. (end - src) must be a multiple of 2 * WASM_PAIRS_PER_STEP.
 */
export const decodePairsWasm = exports.decode as (
  table: number,
  src: number,
  end: number,
  dst: number,
) => void;
