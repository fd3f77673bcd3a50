import { DATAGRAM_STAGE, HELD_STAGE, STAGED_ORIGIN } from '../datagram-stage.ts';
import {
  releaseRetainedSlot,
  retainDatagram,
  retainedDatagram,
  takeRetainedSlot,
} from '../retained-datagrams.ts';
import { typedArraySet } from '../typed-array-set.ts';
import {
  CONCEAL_CODES_BYTES,
  CONCEAL_CODES_OFFSET,
  CONCEAL_SOURCE_OFFSET,
  CONCEAL_SOURCE_SAMPLES,
  DECODE_OUT_OFFSET,
  DECODE_OUT_SAMPLES,
  DECODE_WORK,
  DECODE_WORK_OFFSET,
  HELD_STAGE_OFFSET,
  HOST_LITTLE_ENDIAN,
  PCMA_PAIRS_OFFSET,
  PCMU_PAIRS_OFFSET,
  STAGE_OFFSET,
  WASM_MEMORY,
} from '../wasm-memory.ts';
import { CONCEAL_MAX_FRAME, RepeatFadeConcealer } from './conceal.ts';
import { CONCEAL_SOURCE, CONCEAL_SOURCE_HOLDER } from './conceal-wasm.ts';
import { Decimator } from './decimator.ts';
import type { PayloadDecoder, PayloadEncoder } from './decoder.ts';
import {
  ALAW_DECODE_TABLE,
  ALAW_ENCODE_TABLE,
  decodeG711,
  encodeG711,
  MULAW_DECODE_TABLE,
  MULAW_ENCODE_TABLE,
} from './g711.ts';
import { decodeSimdWasm, WASM_SIMD_STEP_BYTES } from './g711-wasm.ts';

export type G711Law = 'pcmu' | 'pcma';

/**
 * Two-sample decode table of a law: entry `first | (second << 8)` holds the two decoded samples as one Int32 in
 * memory order, so a 20 ms packet is 80 table reads and 80 word stores instead of 160 of each. Built from the
 * single-sample table (bit-exact by construction) on first use; 256 KiB per law.
 */
const pairTables: { pcmu: Int32Array | null; pcma: Int32Array | null } = { pcmu: null, pcma: null };

/** Byte address in WASM_MEMORY of a law's pair table (where pairTableOf builds it). */
function pairTableAddress(law: G711Law): number {
  return law === 'pcmu' ? PCMU_PAIRS_OFFSET : PCMA_PAIRS_OFFSET;
}

function pairTableOf(law: G711Law): Int32Array {
  const cached = pairTables[law];
  if (cached !== null) return cached;
  const single = law === 'pcmu' ? MULAW_DECODE_TABLE : ALAW_DECODE_TABLE;
  // In WASM_MEMORY so the WebAssembly decoder reads the very same table.
  const pairs = new Int32Array(WASM_MEMORY.buffer, pairTableAddress(law), 65536);
  // Written through 16-bit lanes so the word holds the first sample first in memory on any byte order.
  const lanes = new Int16Array(pairs.buffer, pairs.byteOffset, 2 * 65536);
  for (let second = 0; second < 256; second++) {
    for (let first = 0; first < 256; first++) {
      const at = 2 * (first | (second << 8));
      lanes[at] = single[first];
      lanes[at + 1] = single[second];
    }
  }
  pairTables[law] = pairs;
  return pairs;
}

/** The WebAssembly decoder's output area, as samples and as words. */
const DECODE_OUT = new Int16Array(WASM_MEMORY.buffer, DECODE_OUT_OFFSET, DECODE_OUT_SAMPLES);
const DECODE_OUT_WORDS = new Int32Array(WASM_MEMORY.buffer, DECODE_OUT_OFFSET, DECODE_OUT_SAMPLES >> 1);
/** Its first 20 ms: the common packet is copied out with one native memcpy per destination. */
const DECODE_OUT_FRAME = DECODE_OUT.subarray(0, 160);
/** DECODE_WORK as words, and its first 20 ms (the common packet's concealment copy is one native memcpy). */
const DECODE_WORK_WORDS = new Int32Array(DECODE_WORK.buffer, DECODE_WORK.byteOffset, DECODE_WORK.length >> 1);
const DECODE_WORK_FRAME = DECODE_WORK.subarray(0, 160);
/** The datagram kept as codes, copied where WebAssembly reads it when a loss needs its frame (see conceal()). */
const CONCEAL_CODES = new Uint8Array(WASM_MEMORY.buffer, CONCEAL_CODES_OFFSET, CONCEAL_CODES_BYTES);
const CONCEAL_SOURCE_WORDS = new Int32Array(
  WASM_MEMORY.buffer,
  CONCEAL_SOURCE_OFFSET,
  CONCEAL_SOURCE_SAMPLES >> 1,
);

/**
 * Decodes byte pairs from payload[offset...] through the pair table into words[first, end) and the same range of
 * `keep` (the concealment frame). Unrolled eight pairs per step: V8 re-checks each typed array (map, length, data pointer)
 * once per loop iteration, so a 16-sample body pays that once where a 2-sample body paid it eight times.
 */
function decodePairs(
  pairs: Int32Array,
  payload: Uint8Array,
  first: number,
  offset: number,
  end: number,
  words: Int32Array,
  keep: Int32Array,
): void {
  let w = first;
  let at = offset;
  for (; w + 8 <= end; w += 8, at += 16) {
    const v0 = pairs[payload[at] | (payload[at + 1] << 8)];
    const v1 = pairs[payload[at + 2] | (payload[at + 3] << 8)];
    const v2 = pairs[payload[at + 4] | (payload[at + 5] << 8)];
    const v3 = pairs[payload[at + 6] | (payload[at + 7] << 8)];
    const v4 = pairs[payload[at + 8] | (payload[at + 9] << 8)];
    const v5 = pairs[payload[at + 10] | (payload[at + 11] << 8)];
    const v6 = pairs[payload[at + 12] | (payload[at + 13] << 8)];
    const v7 = pairs[payload[at + 14] | (payload[at + 15] << 8)];
    words[w] = v0;
    words[w + 1] = v1;
    words[w + 2] = v2;
    words[w + 3] = v3;
    words[w + 4] = v4;
    words[w + 5] = v5;
    words[w + 6] = v6;
    words[w + 7] = v7;
    keep[w] = v0;
    keep[w + 1] = v1;
    keep[w + 2] = v2;
    keep[w + 3] = v3;
    keep[w + 4] = v4;
    keep[w + 5] = v5;
    keep[w + 6] = v6;
    keep[w + 7] = v7;
  }
  for (; w < end; w++, at += 2) {
    const v = pairs[payload[at] | (payload[at + 1] << 8)];
    words[w] = v;
    keep[w] = v;
  }
}

/** PCMU/PCMA payload decoder: one byte per 8 kHz sample, table lookup, repeat-and-fade concealment. */
export class G711Decoder implements PayloadDecoder {
  // The fields a packet reads or writes come first, beside clockRate (which the leg reads ahead of the packet, see
  // LegStream.readAhead): in one or two adjacent cache lines rather than spread over three.
  readonly clockRate = 8000;
  /** The law's SIMD decoding loop (see g711-wasm.ts). */
  private readonly decodeSimd: (src: number, end: number, dst: number) => void;
  /**
   * Where the codes of the last packet decoded in place lie, origin[codeOffset, + codeCount), when its datagram's
   * bytes are retained (STAGED_ORIGIN): a loss decodes the concealment frame from them then (no origin: the
   * concealment frame is up to date). With thousands of calls the concealment frame, its array and the concealer are
   * seven cold cache lines by the time a leg's next packet comes, and writing every packet's samples there was the
   * largest single cost of a packet, for a frame that only a loss reads. The origin is kept in the table of retained
   * datagrams at this decoder's slot (-1 before the first), not in a field: see retained-datagrams.ts for why.
   */
  private originSlot = -1;
  private codeOffset = 0;
  private codeCount = 0;
  /** The concealer has not yet been told of the packet at originSlot (its fade starts afresh at the next loss). */
  private codesFresh = false;
  readonly name: G711Law;
  private readonly table: Int16Array;
  private readonly pairs: Int32Array;
  private readonly concealer = new RepeatFadeConcealer();
  /** The concealment frame as words, written in the same pass as the output (made again when it grows). */
  private keepWords: Int32Array;
  /**
   * Word views of the last two output buffers seen (a leg's frame assembler alternates between two), so the
   * per-packet path creates no view. Only 4-byte-aligned outputs get one.
   */
  private viewOf0: Int16Array | null = null;
  private words0: Int32Array | null = null;
  private viewOf1: Int16Array | null = null;
  private words1: Int32Array | null = null;

  constructor(law: G711Law) {
    this.name = law;
    this.table = law === 'pcmu' ? MULAW_DECODE_TABLE : ALAW_DECODE_TABLE;
    this.pairs = pairTableOf(law);
    this.decodeSimd = decodeSimdWasm[law];
    this.keepWords = this.concealmentWords();
  }

  private concealmentWords(): Int32Array {
    const last = this.concealer.last;
    return new Int32Array(last.buffer, last.byteOffset, last.length >> 1);
  }

  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const n = Math.min(length, out.length);
    const staged = (payload === DATAGRAM_STAGE || payload === HELD_STAGE) && HOST_LITTLE_ENDIAN;
    if (staged && out === DECODE_WORK && payload === DATAGRAM_STAGE && STAGED_ORIGIN.bytes !== null) {
      return this.decodeRetainedInPlace(offset, n);
    }
    // The paths below write the concealment frame directly: it must hold the packet (rarely grows).
    this.keepOrigin(null);
    if (n <= CONCEAL_MAX_FRAME && this.concealer.reserve(n)) this.keepWords = this.concealmentWords();
    if (staged) {
      if (out === DECODE_WORK) return this.decodeStagedInPlace(payload, offset, n);
      if (n <= DECODE_OUT_SAMPLES) return this.decodeStaged(payload, offset, n, out);
    }
    if (n > CONCEAL_MAX_FRAME) {
      decodeG711(this.table, payload, offset, n, out, 0);
      this.concealer.remember(out, n);
      return n;
    }
    const words = this.wordsOf(out);
    if (words === null) {
      // Unaligned output: one sample per step, output and concealment copy in one pass.
      const table = this.table;
      const keep = this.concealer.last;
      for (let i = 0; i < n; i++) {
        const v = table[payload[offset + i]];
        out[i] = v;
        keep[i] = v;
      }
    } else {
      decodePairs(this.pairs, payload, 0, offset, n >> 1, words, this.keepWords);
      if ((n & 1) !== 0) {
        const v = this.table[payload[offset + n - 1]];
        out[n - 1] = v;
        this.concealer.last[n - 1] = v;
      }
    }
    this.concealer.commit(n);
    return n;
  }

  /**
   * Decodes the n codes at stage[offset...] (DATAGRAM_STAGE, HELD_STAGE or CONCEAL_CODES, all in WebAssembly memory)
   * into the samples at `dst` (DECODE_OUT, DECODE_WORK or CONCEAL_SOURCE, with its word view): the WebAssembly SIMD
   * loop (no table loads) takes whole steps, a tail shorter than one step is decoded here from the pair table.
   */
  private decodeStagedTo(
    stage: Uint8Array,
    offset: number,
    n: number,
    dst: Int16Array,
    dstWords: Int32Array,
  ): void {
    const wide = n - (n % WASM_SIMD_STEP_BYTES);
    // Addresses from the layout, not from the views: Node 20's optimising compiler leaves `byteOffset` of a typed
    // array a generic property load (a builtin call each, on any buffer), and this ran two per packet.
    const from =
      (stage === DATAGRAM_STAGE
        ? STAGE_OFFSET
        : stage === HELD_STAGE
          ? HELD_STAGE_OFFSET
          : CONCEAL_CODES_OFFSET) + offset;
    const to =
      dst === DECODE_WORK
        ? DECODE_WORK_OFFSET
        : dst === DECODE_OUT
          ? DECODE_OUT_OFFSET
          : CONCEAL_SOURCE_OFFSET;
    this.decodeSimd(from, from + wide, to);
    if (wide < n) {
      decodePairs(this.pairs, stage, wide >> 1, offset + wide, n >> 1, dstWords, dstWords);
      if ((n & 1) !== 0) dst[n - 1] = this.table[stage[offset + n - 1]];
    }
  }

  /**
   * A staged payload for an output outside WebAssembly memory: decoded into DECODE_OUT, which is copied to `out`
   * and to the concealment frame (native copies for a 20 ms packet).
   */
  private decodeStaged(stage: Uint8Array, offset: number, n: number, out: Int16Array): number {
    this.decodeStagedTo(stage, offset, n, DECODE_OUT, DECODE_OUT_WORDS);
    const keep = this.concealer.last;
    if (n === DECODE_OUT_FRAME.length) {
      typedArraySet.call(out, DECODE_OUT_FRAME);
      typedArraySet.call(keep, DECODE_OUT_FRAME);
    } else {
      for (let i = 0; i < n; i++) {
        const v = DECODE_OUT[i];
        out[i] = v;
        keep[i] = v;
      }
    }
    this.concealer.commit(n);
    return n;
  }

  /**
   * A payload staged from a retained datagram (STAGED_ORIGIN) into DECODE_WORK: the samples are written where the
   * frame assembler reads them, and only where the codes lie is noted, for a loss to decode the concealment frame
   * from (see originSlot). The concealment frame is not touched.
   */
  private decodeRetainedInPlace(offset: number, n: number): number {
    this.decodeStagedTo(DATAGRAM_STAGE, offset, n, DECODE_WORK, DECODE_WORK_WORDS);
    this.keepOrigin(STAGED_ORIGIN.bytes);
    this.codeOffset = offset + STAGED_ORIGIN.delta;
    this.codeCount = Math.min(n, CONCEAL_MAX_FRAME);
    this.codesFresh = true;
    return n;
  }

  /**
   * A staged payload into DECODE_WORK (the frame assemblers' decode space, in WebAssembly memory): the samples are
   * written where the frame assembler reads them, so only the concealment frame takes a copy.
   */
  private decodeStagedInPlace(stage: Uint8Array, offset: number, n: number): number {
    this.decodeStagedTo(stage, offset, n, DECODE_WORK, DECODE_WORK_WORDS);
    if (n === DECODE_WORK_FRAME.length) {
      typedArraySet.call(this.concealer.last, DECODE_WORK_FRAME);
      this.concealer.commit(n);
    } else {
      this.concealer.remember(DECODE_WORK, n);
    }
    return n;
  }

  conceal(samples: number, out: Int16Array, at = 0): number {
    const origin = this.originSlot < 0 ? null : retainedDatagram(this.originSlot);
    if (origin !== null && origin.length <= CONCEAL_CODES_BYTES) {
      // The packet decoded in place, from its codes, straight into the fade's source by the WebAssembly loop: with
      // many calls, decoding it in JS into the concealment frame (a table load a sample, and stores into an array
      // that had left the caches) was most of what a concealment cost. Again only when another loss has used the
      // source since this one's last call.
      const count = this.codeCount;
      if (this.codesFresh || CONCEAL_SOURCE_HOLDER.decoder !== this) {
        typedArraySet.call(CONCEAL_CODES, origin);
        this.decodeStagedTo(CONCEAL_CODES, this.codeOffset, count, CONCEAL_SOURCE, CONCEAL_SOURCE_WORDS);
        CONCEAL_SOURCE_HOLDER.decoder = this;
      }
      if (this.codesFresh) {
        this.concealer.commit(count);
        this.codesFresh = false;
      }
      return this.concealer.conceal(samples, out, at, true);
    }
    if (origin !== null) {
      // Kept as codes in a large buffer (a capture read in place): decoded into the concealment frame, once.
      const count = this.codeCount;
      if (this.concealer.reserve(count)) this.keepWords = this.concealmentWords();
      decodeG711(this.table, origin, this.codeOffset, count, this.concealer.last, 0);
      this.concealer.commit(count);
      this.keepOrigin(null);
    }
    return this.concealer.conceal(samples, out, at);
  }

  reset(): void {
    if (this.originSlot >= 0) {
      releaseRetainedSlot(this, this.originSlot);
      this.originSlot = -1;
    }
    this.concealer.reset();
  }

  /** Keeps the bytes the last packet's codes lie in (null: none), taking a slot for them on first use. */
  private keepOrigin(bytes: Uint8Array | null): void {
    if (this.originSlot < 0) {
      if (bytes === null) return;
      this.originSlot = takeRetainedSlot(this);
    }
    retainDatagram(this.originSlot, bytes);
  }

  /** Int32 view of `out` (null when its byte offset is not a multiple of 4); created once per buffer. */
  private wordsOf(out: Int16Array): Int32Array | null {
    if (out === this.viewOf0) return this.words0;
    if (out === this.viewOf1) return this.words1;
    const words =
      (out.byteOffset & 3) === 0 ? new Int32Array(out.buffer, out.byteOffset, out.length >> 1) : null;
    this.viewOf1 = this.viewOf0;
    this.words1 = this.words0;
    this.viewOf0 = out;
    this.words0 = words;
    return words;
  }
}

/** PCMU/PCMA payload encoder; 16 kHz input is decimated to 8 kHz first. Returns a fresh payload per call. */
export class G711Encoder implements PayloadEncoder {
  readonly name: G711Law;
  readonly payloadType: number;
  readonly clockRate = 8000;
  private readonly table: Uint8Array;
  private readonly narrow = new Int16Array(2880);
  private decimator: Decimator | null = null;

  constructor(law: G711Law, payloadType: number) {
    this.name = law;
    this.payloadType = payloadType;
    this.table = law === 'pcmu' ? MULAW_ENCODE_TABLE : ALAW_ENCODE_TABLE;
  }

  encode(pcm: Int16Array, inputRate: number): Uint8Array {
    if (inputRate === 8000) {
      const out = new Uint8Array(pcm.length);
      encodeG711(this.table, pcm, 0, pcm.length, out, 0);
      return out;
    }
    if (inputRate !== 16000) throw new Error(`${this.name} encoder: unsupported input rate ${inputRate}`);
    if (this.decimator === null) this.decimator = new Decimator(16000);
    const n = this.decimator.process(pcm, 0, Math.min(pcm.length, this.narrow.length * 2), this.narrow, 0);
    const out = new Uint8Array(n);
    encodeG711(this.table, this.narrow, 0, n, out, 0);
    return out;
  }
}
