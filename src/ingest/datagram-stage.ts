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
import {
  HELD_STAGE_BYTES,
  HELD_STAGE_OFFSET,
  STAGE_BYTES,
  STAGE_OFFSET,
  WASM_MEMORY,
} from './wasm-memory.ts';

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
/**
 * Where a leg copies a held audio payload back from its reorder ring just before it plays: the ring lies in the
 * leg's own memory, out of the WebAssembly decoder's reach, and decoded from there G.711 went through the 256 KiB
 * pair table in JS, most of what a packet held behind a gap cost to decode. Shared like DATAGRAM_STAGE: each held
 * payload is decoded completely before the next is copied, and it never overlaps the staged datagram.
 */
export const HELD_STAGE: Uint8Array = new Uint8Array(WASM_MEMORY.buffer, HELD_STAGE_OFFSET, HELD_STAGE_BYTES);
export const HELD_STAGE_WORDS: Int32Array = new Int32Array(
  WASM_MEMORY.buffer,
  HELD_STAGE_OFFSET,
  HELD_STAGE_BYTES >> 2,
);

/**
 * Copies `count` words from source[from...] to target[to...], four per step (fewer array checks than one per
 * step, and a quarter of the accesses of a byte copy). Used to stage datagrams and to hold staged payloads in the
 * reorder ring.
 */
export function copyWords(
  source: Int32Array,
  from: number,
  target: Int32Array,
  to: number,
  count: number,
): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const a = source[from + i];
    const b = source[from + i + 1];
    const c = source[from + i + 2];
    const d = source[from + i + 3];
    target[to + i] = a;
    target[to + i + 1] = b;
    target[to + i + 2] = c;
    target[to + i + 3] = d;
  }
  for (; i < count; i++) target[to + i] = source[from + i];
}

/**
 * The bytes the staged datagram was copied from, and the offset in them of the stage's byte 0, when the caller
 * never changes them after the push (see CallMediaOptions.retainedDatagrams); bytes is null otherwise. A G.711
 * decoder then keeps a reference to a payload it may have to conceal a loss from, instead of copying it.
 */
export const STAGED_ORIGIN: { bytes: Uint8Array | null; delta: number } = { bytes: null, delta: 0 };

/** The last large buffer datagrams were staged out of, and its word view (null when not 4-byte aligned). */
let largeSource: Uint8Array | null = null;
let largeWords: Int32Array | null = null;

/**
 * Copies the datagram data[offset, offset + length) into DATAGRAM_STAGE and returns where it starts there, or -1
 * when it was not staged (the caller then reads `data` itself). A datagram-sized `data` (what dgram delivers) is
 * copied whole by one native memcpy, so offsets stay as they were; a datagram inside a large buffer (a capture
 * read in place) is copied out a word at a time to offset 0, when it starts 4-byte aligned. The word view of a
 * large buffer is made once and kept for as long as datagrams keep coming from that same buffer. `retained`: the
 * caller never changes data's bytes after this (STAGED_ORIGIN then names them).
 */
export function stageDatagram(data: Uint8Array, offset: number, length: number, retained = false): number {
  const origin = STAGED_ORIGIN;
  origin.bytes = null;
  if (data.length <= STAGE_BYTES) {
    // A datagram running past its buffer is left to the parser to reject as truncated.
    if (offset < 0 || length < 0 || offset + length > data.length) return -1;
    typedArraySet.call(DATAGRAM_STAGE, data);
    if (retained) {
      origin.bytes = data;
      origin.delta = 0;
    }
    return offset;
  }
  if (data !== largeSource) {
    largeSource = data;
    largeWords =
      (data.byteOffset & 3) === 0 ? new Int32Array(data.buffer, data.byteOffset, data.length >> 2) : null;
  }
  const words = largeWords;
  const count = (length + 3) >> 2;
  if (
    words === null ||
    (offset & 3) !== 0 ||
    length < 0 ||
    length > STAGE_BYTES ||
    offset < 0 ||
    (offset >> 2) + count > words.length
  ) {
    return -1;
  }
  copyWords(words, offset >> 2, DATAGRAM_STAGE_WORDS, 0, count);
  if (retained) {
    origin.bytes = data;
    origin.delta = offset;
  }
  return 0;
}
