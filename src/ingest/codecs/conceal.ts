/**
 * Loss concealment for codecs without their own PLC (G.711, L16): repeat the last decoded frame with a linear
 * fade. The gain falls from 1 to 0 over FADE_SAMPLES counted across consecutive lost packets, so one lost 20 ms
 * packet is bridged at falling level and a burst longer than 60 ms decays to silence instead of buzzing.
 * This is deliberately simpler than G.711 Appendix I (pitch-period repetition); the DSP stage sees loss counts.
 * The fade runs as WebAssembly SIMD (conceal-wasm.ts), with the same result as the JS loop kept for big-endian hosts.
 */
import { typedArraySet } from '../typed-array-set.ts';
import {
  CONCEAL_FRAME,
  CONCEAL_OUT,
  CONCEAL_SOURCE,
  CONCEAL_SOURCE_HOLDER,
  fadeInto,
  setFadeGains,
  WASM_FADE,
} from './conceal-wasm.ts';

/** 60 ms at 8 kHz. */
export const FADE_SAMPLES = 480;
/** Longest frame remembered (120 ms at 8 kHz). */
export const CONCEAL_MAX_FRAME = 960;
const MAX_FRAME = CONCEAL_MAX_FRAME;

/** Gain of the d-th concealed sample (d from 0): 1 - (d + 1) / FADE_SAMPLES. */
const FADE_GAIN = new Float64Array(FADE_SAMPLES);
for (let d = 0; d < FADE_SAMPLES; d++) FADE_GAIN[d] = 1 - (d + 1) / FADE_SAMPLES;
setFadeGains(FADE_GAIN);

/**
 * Samples `last` holds at first: one 20 ms frame, what nearly every stream carries. A longer frame makes it grow
 * (up to CONCEAL_MAX_FRAME), so a decoder per leg of every call does not hold 120 ms it never uses.
 */
const INITIAL_FRAME = 160;

export class RepeatFadeConcealer {
  /**
   * The frame to repeat. Decoders may write it directly while decoding, after reserve() for the frame's length,
   * then call commit().
   */
  last = new Int16Array(INITIAL_FRAME);
  private lastLength = 0;
  private concealed = 0;

  /**
   * Makes `last` hold at least n samples (n <= CONCEAL_MAX_FRAME), keeping what it holds. True when `last` was
   * replaced by a larger array (views of it must be made again).
   */
  reserve(n: number): boolean {
    if (n <= this.last.length) return false;
    const grown = new Int16Array(Math.min(MAX_FRAME, Math.max(n, 2 * this.last.length)));
    grown.set(this.last);
    this.last = grown;
    return true;
  }

  /** Remembers frame[0, length) as the frame to repeat and ends any running concealment. */
  remember(frame: Int16Array, length: number): void {
    const n = Math.min(length, MAX_FRAME);
    this.reserve(n);
    const last = this.last;
    for (let i = 0; i < n; i++) last[i] = frame[i];
    this.commit(n);
  }

  /** last[0, length) now holds the newest decoded frame (length <= CONCEAL_MAX_FRAME). */
  commit(length: number): void {
    this.lastLength = length;
    this.concealed = 0;
  }

  /**
   * Writes the faded repeats still due, up to `samples` and no further than out's end, to out[to...]; returns how
   * many (0 once the fade has ended). `sourceStaged`: the caller has just written the frame to repeat into
   * CONCEAL_SOURCE itself (committed with its length), so `last` is neither read nor copied there; only when
   * WASM_FADE.
   */
  conceal(samples: number, out: Int16Array, to = 0, sourceStaged = false): number {
    const n = Math.max(0, Math.min(samples, out.length - to, MAX_FRAME));
    const period = this.lastLength;
    const start = this.concealed;
    const last = this.last;
    let i = 0;
    if (period > 0 && start < FADE_SAMPLES) {
      // Faded repeats until the fade reaches zero; the gain table and a wrapping index replace a division and a
      // modulo per sample (same values: the table holds exactly the gains the formula gives).
      const faded = Math.min(n, FADE_SAMPLES - start);
      if (WASM_FADE) {
        if (!sourceStaged) {
          typedArraySet.call(CONCEAL_SOURCE, this.last);
          CONCEAL_SOURCE_HOLDER.decoder = null;
        }
        this.fadeInWasm(start, period, faded, out, to);
        i = faded;
      } else {
        let at = start % period;
        for (; i < faded; i++) {
          out[to + i] = Math.round(last[at] * FADE_GAIN[start + i]);
          at++;
          if (at === period) at = 0;
        }
      }
    }
    // Past the fade the concealment is silence: the caller writes that itself (and counts it as silence),
    // so a long loss burst does not run the repeat loop over zeros.
    this.concealed = start + i;
    return i;
  }

  /**
   * The fade of `count` samples from fade position `start` into out[to...], by the WebAssembly loop: run over the
   * repeated frame, already in CONCEAL_SOURCE, in pieces that do not wrap, written straight into CONCEAL_FRAME when
   * that is the output.
   */
  private fadeInWasm(start: number, period: number, count: number, out: Int16Array, to: number): void {
    let at = start % period;
    let done = 0;
    while (done < count) {
      const piece = Math.min(count - done, period - at);
      fadeInto(at, start + done, done, piece);
      done += piece;
      at = 0;
    }
    if (out === CONCEAL_FRAME && to === 0) return;
    // A whole frame goes by one native copy; a JS loop over a view of WebAssembly memory costs ~1.5 ns a sample.
    if (count === CONCEAL_FRAME.length) typedArraySet.call(out, CONCEAL_FRAME, to);
    else for (let k = 0; k < count; k++) out[to + k] = CONCEAL_OUT[k];
  }

  reset(): void {
    this.lastLength = 0;
    this.concealed = 0;
  }
}
