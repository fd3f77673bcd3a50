/**
 * 8 kHz -> 16 kHz interpolation for encoding narrowband input as G.722 (replay of 8 kHz recordings).
 * Zero-stuffing followed by the same 3.7 kHz Kaiser low-pass the 16 kHz decimator uses (gain 2), computed as two
 * polyphase branches so no multiply touches a stuffed zero. Stateful across calls; not on the ingest hot path.
 */
import { designLowPass } from './decimator.ts';

export class Upsampler2x {
  private readonly even: Float32Array;
  private readonly odd: Float32Array;
  private readonly history: Float32Array;
  private readonly keep: number;
  private readonly maxChunk: number;

  constructor(maxChunk = 2880) {
    const h = designLowPass(16000);
    const branch = Math.ceil(h.length / 2);
    this.even = new Float32Array(branch);
    this.odd = new Float32Array(branch);
    for (let k = 0; k < h.length; k++) {
      if (k % 2 === 0) this.even[k >> 1] = 2 * h[k];
      else this.odd[k >> 1] = 2 * h[k];
    }
    this.keep = branch - 1;
    this.maxChunk = maxChunk;
    this.history = new Float32Array(this.keep + maxChunk);
  }

  /** Writes 2 * length samples to out[outOffset...]; returns that count. */
  process(input: Int16Array, offset: number, length: number, out: Int16Array, outOffset: number): number {
    let done = 0;
    while (done < length) {
      const n = Math.min(this.maxChunk, length - done);
      this.processChunk(input, offset + done, n, out, outOffset + 2 * done);
      done += n;
    }
    return 2 * length;
  }

  private processChunk(
    input: Int16Array,
    offset: number,
    length: number,
    out: Int16Array,
    outOffset: number,
  ): void {
    const buf = this.history;
    const keep = this.keep;
    const even = this.even;
    const odd = this.odd;
    const taps = even.length;
    for (let i = 0; i < length; i++) buf[keep + i] = input[offset + i];
    for (let m = 0; m < length; m++) {
      let e = 0;
      let o = 0;
      for (let k = 0; k < taps; k++) {
        const v = buf[keep + m - k];
        e += even[k] * v;
        o += odd[k] * v;
      }
      const se = Math.round(e);
      const so = Math.round(o);
      out[outOffset + 2 * m] = se > 32767 ? 32767 : Math.max(se, -32768);
      out[outOffset + 2 * m + 1] = so > 32767 ? 32767 : Math.max(so, -32768);
    }
    buf.copyWithin(0, length, length + keep);
  }

  reset(): void {
    this.history.fill(0);
  }
}
