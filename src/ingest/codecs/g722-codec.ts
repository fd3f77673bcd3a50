import { RepeatFadeConcealer } from './conceal.ts';
import { Decimator } from './decimator.ts';
import type { PayloadDecoder, PayloadEncoder } from './decoder.ts';
import { G722Decoder, G722Encoder } from './g722.ts';
import { Upsampler2x } from './upsampler.ts';

/**
 * G.722 RTP payload (RFC 3551: clock 8000 although the audio is 16 kHz; one byte per 125 µs).
 * Decodes to 16 kHz and decimates to 8 kHz.
 *
 * Loss: the base G.722 algorithm has no PLC (Appendices III/IV define one, not implemented here), so a lost
 * packet is bridged by repeat-and-fade of the last 8 kHz frame. The ADPCM state is left as it was; being
 * backward-adaptive, it re-converges on the next packets (a short mismatch transient, not a lasting error).
 */
export class G722PayloadDecoder implements PayloadDecoder {
  readonly name = 'g722';
  readonly clockRate = 8000;
  private readonly core = new G722Decoder();
  private readonly wide = new Int16Array(1920);
  private readonly decimator = new Decimator(16000);
  private readonly concealer = new RepeatFadeConcealer();

  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    // Each byte gives two 16 kHz samples, i.e. one 8 kHz sample after decimation.
    const maxBytes = Math.min(out.length, this.wide.length >> 1);
    const n = Math.min(length, maxBytes);
    const wideCount = this.core.decode(payload, offset, n, this.wide, 0);
    const written = this.decimator.process(this.wide, 0, wideCount, out, 0);
    this.concealer.remember(out, written);
    return written;
  }

  conceal(samples: number, out: Int16Array, at = 0): number {
    return this.concealer.conceal(samples, out, at);
  }

  reset(): void {
    this.core.reset();
    this.decimator.reset();
    this.concealer.reset();
  }
}

/** G.722 encoder for replay: 16 kHz input as is, 8 kHz input interpolated to 16 kHz first. */
export class G722PayloadEncoder implements PayloadEncoder {
  readonly name = 'g722';
  readonly payloadType: number;
  readonly clockRate = 8000;
  private readonly core = new G722Encoder();
  private upsampler: Upsampler2x | null = null;
  private wide = new Int16Array(0);

  constructor(payloadType: number) {
    this.payloadType = payloadType;
  }

  encode(pcm: Int16Array, inputRate: number): Uint8Array {
    let src = pcm;
    let n = pcm.length;
    if (inputRate === 8000) {
      if (this.upsampler === null) this.upsampler = new Upsampler2x();
      if (this.wide.length < 2 * pcm.length) this.wide = new Int16Array(2 * pcm.length);
      n = this.upsampler.process(pcm, 0, pcm.length, this.wide, 0);
      src = this.wide;
    } else if (inputRate !== 16000) {
      throw new Error(`g722 encoder: unsupported input rate ${inputRate}`);
    }
    const out = new Uint8Array(n >> 1);
    this.core.encode(src, 0, n & ~1, out, 0);
    return out;
  }
}
