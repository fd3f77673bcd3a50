import { CONCEAL_MAX_FRAME, RepeatFadeConcealer } from './conceal.ts';
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

export type G711Law = 'pcmu' | 'pcma';

/**
 * Two-sample decode table of a law: entry `first | (second << 8)` holds the two decoded samples as one Int32 in
 * memory order, so a 20 ms packet is 80 table reads and 80 word stores instead of 160 of each. Built from the
 * single-sample table (bit-exact by construction) on first use; 256 KiB per law.
 */
const pairTables: { pcmu: Int32Array | null; pcma: Int32Array | null } = { pcmu: null, pcma: null };

function pairTableOf(law: G711Law): Int32Array {
  const cached = pairTables[law];
  if (cached !== null) return cached;
  const single = law === 'pcmu' ? MULAW_DECODE_TABLE : ALAW_DECODE_TABLE;
  const pairs = new Int32Array(65536);
  // Written through 16-bit lanes so the word holds the first sample first in memory on any byte order.
  const lanes = new Int16Array(pairs.buffer);
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

/** PCMU/PCMA payload decoder: one byte per 8 kHz sample, table lookup, repeat-and-fade concealment. */
export class G711Decoder implements PayloadDecoder {
  readonly name: G711Law;
  readonly clockRate = 8000;
  private readonly table: Int16Array;
  private readonly pairs: Int32Array;
  private readonly concealer = new RepeatFadeConcealer();
  /** The concealment frame as words, written in the same pass as the output. */
  private readonly keepWords: Int32Array;
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
    const last = this.concealer.last;
    this.keepWords = new Int32Array(last.buffer, last.byteOffset, last.length >> 1);
  }

  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const n = Math.min(length, out.length);
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
      const pairs = this.pairs;
      const keepWords = this.keepWords;
      const half = n >> 1;
      let at = offset;
      for (let w = 0; w < half; w++) {
        const v = pairs[payload[at] | (payload[at + 1] << 8)];
        words[w] = v;
        keepWords[w] = v;
        at += 2;
      }
      if ((n & 1) !== 0) {
        const v = this.table[payload[offset + n - 1]];
        out[n - 1] = v;
        this.concealer.last[n - 1] = v;
      }
    }
    this.concealer.commit(n);
    return n;
  }

  conceal(samples: number, out: Int16Array): number {
    return this.concealer.conceal(Math.min(samples, out.length), out);
  }

  reset(): void {
    this.concealer.reset();
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
