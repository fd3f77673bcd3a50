/**
 * Where CallMedia puts each datagram before parsing it. dgram hands every datagram over as its own Buffer of at
 * most an MTU; one native memcpy of it into this buffer (inside WASM_MEMORY) puts the RTP payload where the
 * WebAssembly G.711 decoder reads it directly: from JS, every byte load carries an index add, overflow check and
 * bounds check, which cost more than the decoding itself. Every read downstream also sees one array type instead
 * of Buffer and Uint8Array.
 *
 * Shared by every call: a packet is handled completely before CallMedia.pushPacket returns, and sinks never feed
 * packets back into ingest, so nothing reads it after the next datagram is staged.
 */
import { typedArraySet } from './typed-array-set.ts';
import { STAGE_BYTES, STAGE_OFFSET, WASM_MEMORY } from './wasm-memory.ts';

export const DATAGRAM_STAGE: Uint8Array = new Uint8Array(WASM_MEMORY.buffer, STAGE_OFFSET, STAGE_BYTES);
/**
 * DATAGRAM_STAGE as 32-bit words, for copying a staged payload four bytes per access (the byte order does not
 * matter for a copy into another word view).
 */
export const DATAGRAM_STAGE_WORDS: Int32Array = new Int32Array(
  WASM_MEMORY.buffer,
  STAGE_OFFSET,
  STAGE_BYTES >> 2,
);
/** Byte address of DATAGRAM_STAGE[0] in WASM_MEMORY. */
export const DATAGRAM_STAGE_ADDRESS = STAGE_OFFSET;

/**
 * Copies `data` into DATAGRAM_STAGE and returns the stage when it fits, else returns `data` itself (a large
 * capture buffer read with offsets): byte offsets into the result are the same as into `data`.
 */
export function stageDatagram(data: Uint8Array): Uint8Array {
  if (data.length > STAGE_BYTES) return data;
  typedArraySet.call(DATAGRAM_STAGE, data);
  return DATAGRAM_STAGE;
}
