/**
 * Loss concealment for codecs without their own PLC (G.711, L16): repeat the last decoded frame with a linear
 * fade. The gain falls from 1 to 0 over FADE_SAMPLES counted across consecutive lost packets, so one lost 20 ms
 * packet is bridged at falling level and a burst longer than 60 ms decays to silence instead of buzzing.
 * This is deliberately simpler than G.711 Appendix I (pitch-period repetition); the DSP stage sees loss counts.
 */

/** 60 ms at 8 kHz. */
export const FADE_SAMPLES = 480;
/** Longest frame remembered (120 ms at 8 kHz). */
export const CONCEAL_MAX_FRAME = 960;
const MAX_FRAME = CONCEAL_MAX_FRAME;

export class RepeatFadeConcealer {
  /** The frame to repeat. Decoders may write it directly while decoding, then call commit(). */
  readonly last = new Int16Array(MAX_FRAME);
  private lastLength = 0;
  private concealed = 0;

  /** Remembers frame[0, length) as the frame to repeat and ends any running concealment. */
  remember(frame: Int16Array, length: number): void {
    const n = Math.min(length, MAX_FRAME);
    for (let i = 0; i < n; i++) this.last[i] = frame[i];
    this.commit(n);
  }

  /** last[0, length) now holds the newest decoded frame (length <= CONCEAL_MAX_FRAME). */
  commit(length: number): void {
    this.lastLength = length;
    this.concealed = 0;
  }

  conceal(samples: number, out: Int16Array): number {
    const n = samples < MAX_FRAME ? Math.max(samples, 0) : MAX_FRAME;
    const period = this.lastLength;
    let done = this.concealed;
    for (let i = 0; i < n; i++) {
      if (period === 0 || done >= FADE_SAMPLES) {
        out[i] = 0;
      } else {
        const gain = 1 - (done + 1) / FADE_SAMPLES;
        out[i] = Math.round(this.last[done % period] * gain);
      }
      done++;
    }
    this.concealed = done;
    return n;
  }

  reset(): void {
    this.lastLength = 0;
    this.concealed = 0;
  }
}
