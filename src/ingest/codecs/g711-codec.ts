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

/** PCMU/PCMA payload decoder: one byte per 8 kHz sample, table lookup, repeat-and-fade concealment. */
export class G711Decoder implements PayloadDecoder {
  readonly name: G711Law;
  readonly clockRate = 8000;
  private readonly table: Int16Array;
  private readonly concealer = new RepeatFadeConcealer();

  constructor(law: G711Law) {
    this.name = law;
    this.table = law === 'pcmu' ? MULAW_DECODE_TABLE : ALAW_DECODE_TABLE;
  }

  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const n = Math.min(length, out.length);
    if (n > CONCEAL_MAX_FRAME) {
      decodeG711(this.table, payload, offset, n, out, 0);
      this.concealer.remember(out, n);
      return n;
    }
    // One pass writes both the output and the concealment copy.
    const table = this.table;
    const keep = this.concealer.last;
    for (let i = 0; i < n; i++) {
      const v = table[payload[offset + i]];
      out[i] = v;
      keep[i] = v;
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
