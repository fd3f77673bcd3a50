import { RepeatFadeConcealer } from './conceal.ts';
import { Decimator } from './decimator.ts';
import type { PayloadDecoder, PayloadEncoder } from './decoder.ts';

/** Big-endian (network order, RFC 3551 §4.5.11) 16-bit samples -> out[outOffset...]. */
export function readL16(
  payload: Uint8Array,
  offset: number,
  samples: number,
  out: Int16Array,
  outOffset: number,
): void {
  for (let i = 0; i < samples; i++) {
    const p = offset + 2 * i;
    out[outOffset + i] = (payload[p] << 8) | payload[p + 1]; // Int16Array store wraps to signed
  }
}

/** L16 mono at 8 kHz (clock 8000). */
export class L16Decoder implements PayloadDecoder {
  readonly name = 'l16';
  readonly clockRate = 8000;
  private readonly concealer = new RepeatFadeConcealer();

  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    let n = length >> 1;
    if (n > out.length) n = out.length;
    readL16(payload, offset, n, out, 0);
    this.concealer.remember(out, n);
    return n;
  }

  conceal(samples: number, out: Int16Array, at = 0): number {
    return this.concealer.conceal(samples, out, at);
  }

  reset(): void {
    this.concealer.reset();
  }
}

/** L16 mono at 16 kHz (clock 16000), anti-alias decimated to 8 kHz. */
export class L16WidebandDecoder implements PayloadDecoder {
  readonly name = 'l16-16k';
  readonly clockRate = 16000;
  private readonly wide = new Int16Array(1920);
  private readonly decimator = new Decimator(16000);
  private readonly concealer = new RepeatFadeConcealer();

  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    let n = length >> 1;
    const limit = Math.min(out.length * 2, this.wide.length);
    if (n > limit) n = limit;
    readL16(payload, offset, n, this.wide, 0);
    const written = this.decimator.process(this.wide, 0, n, out, 0);
    this.concealer.remember(out, written);
    return written;
  }

  conceal(samples: number, out: Int16Array, at = 0): number {
    return this.concealer.conceal(samples, out, at);
  }

  reset(): void {
    this.decimator.reset();
    this.concealer.reset();
  }
}

/** L16 mono 8 kHz encoder (16 kHz input is decimated). Returns a fresh payload per call. */
export class L16Encoder implements PayloadEncoder {
  readonly name = 'l16';
  readonly payloadType: number;
  readonly clockRate = 8000;
  private readonly narrow = new Int16Array(2880);
  private decimator: Decimator | null = null;

  constructor(payloadType: number) {
    this.payloadType = payloadType;
  }

  encode(pcm: Int16Array, inputRate: number): Uint8Array {
    let src = pcm;
    let n = pcm.length;
    if (inputRate === 16000) {
      if (this.decimator === null) this.decimator = new Decimator(16000);
      n = this.decimator.process(pcm, 0, Math.min(pcm.length, this.narrow.length * 2), this.narrow, 0);
      src = this.narrow;
    } else if (inputRate !== 8000) {
      throw new Error(`l16 encoder: unsupported input rate ${inputRate}`);
    }
    const out = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) {
      const s = src[i];
      out[2 * i] = (s >> 8) & 0xff;
      out[2 * i + 1] = s & 0xff;
    }
    return out;
  }
}
