/**
 * Pitch and voicing by YIN (de Cheveigné & Kawahara 2002) over the latest 40 ms, 60-400 Hz.
 *
 * Cost is what matters here (thousands of legs per core), so the search runs on a 2 kHz copy of the signal: an
 * anti-aliasing FIR and decimation by 4 make the 60-400 Hz lag range 5..34 samples instead of 20..134, which cuts the
 * difference function from ~25k to ~1.2k multiply-adds per frame. The chosen lag is then refined on the 8 kHz signal
 * over +-1 sample only when the frame is voiced, which restores 8 kHz lag resolution (0.3% at 200 Hz).
 *
 * Limit: a voice above ~280 Hz whose fundamental and second harmonic are both removed (nothing below ~700 Hz left)
 * has no periodic content in the 2 kHz copy and may be reported an octave or more low.
 */

import * as media from '../../ingest/media-sink.ts';

const SAMPLE_RATE: number = media.SAMPLE_RATE;

/** Samples of 8 kHz history the search spans: 40 ms, enough for the longest lag (60 Hz) plus the integration window. */
export const PITCH_HISTORY = 320;
const DECIMATION = 4;
const DEC_RATE = SAMPLE_RATE / DECIMATION;
const DEC_LENGTH = PITCH_HISTORY / DECIMATION; // 80
export const PITCH_MIN_HZ = 60;
export const PITCH_MAX_HZ = 400;
/** Lags at 2 kHz: 400 Hz -> 5, 60 Hz -> 33.3; one extra lag at each end leaves room for parabolic interpolation. */
const LAG_MIN = Math.floor(DEC_RATE / PITCH_MAX_HZ) - 1; // 4
const LAG_MAX = Math.ceil(DEC_RATE / PITCH_MIN_HZ) + 1; // 35
/**
 * Integration window at 2 kHz: 16 ms, about one period of the lowest pitch (16.7 ms at 60 Hz), which YIN needs; a
 * longer window would smooth fast pitch movement and cost proportionally more.
 */
const WINDOW = 32;
/** Lags per pass of the cross-term loop; lags 1..LAG_MAX + 1 (36) are a whole number of blocks. */
const LAG_BLOCK = 6;
/** The window sits at the newest end of the history that still leaves room for the longest lag. */
const WINDOW_START = DEC_LENGTH - WINDOW - (LAG_MAX + 1);
/**
 * YIN absolute threshold: the first dip of the normalised difference below 0.15 is taken (rather than the global
 * minimum) to avoid choosing a multiple of the period; 0.1-0.15 is the range the YIN paper found best.
 */
const YIN_THRESHOLD = 0.15;
/** Below this voicing (normalised difference above 0.5, i.e. less than half the energy explained) there is no pitch. */
export const VOICED_MIN = 0.5;
/**
 * Decimation FIR: 16-tap Hamming-windowed sinc, cut-off 600 Hz at 8 kHz (-3 dB at 500 Hz, -16 dB at 1 kHz, < -50 dB
 * above 1.5 kHz). What folds back lands at 0.8-1 kHz, itself 10-16 dB down, so aliased (inharmonic) energy stays
 * > 25 dB below the harmonics the search uses: voicing is lowered by a few hundredths at most, for a quarter of the
 * cost of a 32-tap filter.
 */
const FIR_TAPS = 16;
const FIR_CUTOFF_HZ = 600;
/**
 * Samples of 8 kHz history the caller keeps (oldest first): the searched span plus the filter's lead-in, so that the
 * whole 2 kHz span can be rebuilt from the history alone. Frames whose pitch is skipped are then not decimated at
 * all; the next searched frame decimates what it needs, with the same result.
 */
export const PITCH_INPUT = PITCH_HISTORY + FIR_TAPS;
/** 8 kHz refinement: +-1 sample around the coarse lag (which is within half a 2 kHz sample of the truth), difference
 * summed over 8 ms. */
const REFINE_SPAN = 1;
const REFINE_WINDOW = 64;
/** Lags evaluated: the span plus one neighbour each side for interpolation (five: refine() is written for five). */
const REFINE_LAGS = 2 * REFINE_SPAN + 3;

/** Decimation low-pass (Hamming-windowed sinc, unity gain at DC); read-only, shared by every tracker. */
const DECIMATION_FIR = new Float64Array(FIR_TAPS);
{
  const fc = FIR_CUTOFF_HZ / SAMPLE_RATE;
  const mid = (FIR_TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < FIR_TAPS; i++) {
    const t = i - mid;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const w = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (FIR_TAPS - 1));
    DECIMATION_FIR[i] = sinc * w;
    sum += DECIMATION_FIR[i];
  }
  for (let i = 0; i < FIR_TAPS; i++) DECIMATION_FIR[i] /= sum; // unity gain at DC
}

export class PitchTracker {
  pitchHz = 0;
  voicing = 0;
  private readonly fir = DECIMATION_FIR;
  private readonly dec = new Float64Array(DEC_LENGTH);
  /** Cumulative-mean-normalised difference function, indexed by lag (filled only as far as the search went). */
  private readonly cmnd = new Float64Array(LAG_MAX + 2);
  /** Cross terms sum_j x_j x_(j+tau), indexed by lag. */
  private readonly cross = new Float64Array(LAG_MAX + 2);
  private readonly refineDiff = new Float64Array(REFINE_LAGS);
  /**
   * Input and result of refine(), kept in fields: a double passed to or returned from a call that is not inlined
   * would be boxed (allocated).
   */
  private coarseLag8 = 0;
  private refinedLag = 0;
  /** Hops of history appended since the 2 kHz copy was last brought up to date. */
  private staleHops = 0;

  reset(): void {
    this.dec.fill(0);
    this.staleHops = 0;
    this.pitchHz = 0;
    this.voicing = 0;
  }

  /**
   * For frames whose pitch is not wanted (reported as 0): only notes that `hop` new samples arrived; the 2 kHz copy
   * is rebuilt from the history when a frame is next searched.
   */
  skip(): void {
    this.staleHops++;
    this.pitchHz = 0;
    this.voicing = 0;
  }

  /**
   * `history` holds the latest PITCH_INPUT (or more) samples at 8 kHz, oldest first, of which the last `hop` are
   * new; `hop` is the same on every call. Updates pitchHz and voicing.
   */
  update(history: Float64Array, hop: number): void {
    this.decimate(history, hop);
    const lag = this.searchLag();
    const cm = this.cmnd;
    // Parabolic interpolation of the normalised difference around the chosen lag.
    const a = cm[lag - 1];
    const b = cm[lag];
    const c = cm[lag + 1];
    const den = a - 2 * b + c;
    let shift = den > 1e-12 ? (0.5 * (a - c)) / den : 0;
    if (shift > 0.5) shift = 0.5;
    else if (shift < -0.5) shift = -0.5;
    let voicing = 1 - (b - 0.25 * (a - c) * shift);
    if (!(voicing > 0))
      voicing = 0; // also maps NaN (impossible here, but cheap insurance) to 0
    else if (voicing > 1) voicing = 1;
    this.voicing = voicing;
    if (voicing < VOICED_MIN) {
      this.pitchHz = 0;
      return;
    }
    this.coarseLag8 = (lag + shift) * DECIMATION;
    this.refine(history);
    const hz = SAMPLE_RATE / this.refinedLag;
    this.pitchHz = hz >= PITCH_MIN_HZ * 0.97 && hz <= PITCH_MAX_HZ * 1.03 ? hz : 0;
    if (this.pitchHz === 0) this.voicing = Math.min(this.voicing, VOICED_MIN * 0.999);
  }

  /**
   * Shifts the 2 kHz history by hop/4 for each hop appended since the last update and recomputes those samples
   * (all of it after a long skip) from the 8 kHz history.
   */
  private decimate(history: Float64Array, hop: number): void {
    const dec = this.dec;
    const fir = this.fir;
    const span = Math.min((this.staleHops + 1) * hop, PITCH_HISTORY);
    this.staleHops = 0;
    const fresh = span / DECIMATION;
    dec.copyWithin(0, fresh);
    const n = history.length;
    const base = DEC_LENGTH - fresh;
    // The eight distinct coefficients of the symmetric 16-tap filter, held in locals for the unrolled loop.
    const c0 = fir[0];
    const c1 = fir[1];
    const c2 = fir[2];
    const c3 = fir[3];
    const c4 = fir[4];
    const c5 = fir[5];
    const c6 = fir[6];
    const c7 = fir[7];
    for (let j = 0; j < fresh; j++) {
      // Output aligned with the last input sample of each group of four; the two samples sharing a coefficient are
      // added before the multiply, and even and odd taps are summed apart (two shorter dependency chains).
      const e = n - span + DECIMATION * j + DECIMATION - 1;
      const f = e - (FIR_TAPS - 1);
      const even =
        c0 * (history[e] + history[f]) +
        c2 * (history[e - 2] + history[f + 2]) +
        c4 * (history[e - 4] + history[f + 4]) +
        c6 * (history[e - 6] + history[f + 6]);
      const odd =
        c1 * (history[e - 1] + history[f + 1]) +
        c3 * (history[e - 3] + history[f + 3]) +
        c5 * (history[e - 5] + history[f + 5]) +
        c7 * (history[e - 7] + history[f + 7]);
      dec[base + j] = even + odd;
    }
  }

  /**
   * YIN's difference function d(tau) = sum over WINDOW of (x_j - x_{j+tau})^2 (via energies and cross terms), its
   * cumulative-mean normalisation, and the choice of lag, a block of LAG_BLOCK lags at a time: the first-dip rule
   * stops at the first qualifying lag, so on a voiced frame the longer lags (most of the work) are never computed.
   * The lags that are computed get exactly the arithmetic they would get if all were.
   *
   * The rule is applied to interpolated minima: at 2 kHz a period rarely falls on a whole lag, and the integer-lag
   * value of a true dip can sit well above the threshold while a multiple of the period happens to land near a whole
   * lag. Each local minimum is therefore judged by its parabolic vertex; without a dip below the threshold the lowest
   * vertex wins.
   */
  private searchLag(): number {
    const x = this.dec;
    const cm = this.cmnd;
    const r = this.cross;
    const s = WINDOW_START;
    let e0 = 0;
    for (let j = s; j < s + WINDOW; j++) e0 += x[j] * x[j];
    // Energy of the window shifted by tau, updated by one sample per lag.
    let eTau = e0;
    let running = 0;
    cm[0] = 1;
    let judged = LAG_MIN + 1;
    let best = LAG_MIN + 1;
    let bestValue = Number.POSITIVE_INFINITY;
    for (let block = 1; block <= LAG_MAX + 1; block += LAG_BLOCK) {
      // Cross terms r(tau) six lags at a time: each x[j] is loaded once for the six products and the shifted samples
      // slide through locals, so the loop does two loads per six multiply-adds, and six independent sums keep the
      // adder busy (a sum depends on its previous value; fewer of them leave the loop waiting on add latency).
      let r0 = 0;
      let r1 = 0;
      let r2 = 0;
      let r3 = 0;
      let r4 = 0;
      let r5 = 0;
      let y0 = x[s + block];
      let y1 = x[s + block + 1];
      let y2 = x[s + block + 2];
      let y3 = x[s + block + 3];
      let y4 = x[s + block + 4];
      for (let j = s; j < s + WINDOW; j++) {
        const xj = x[j];
        const y5 = x[j + block + 5];
        r0 += xj * y0;
        r1 += xj * y1;
        r2 += xj * y2;
        r3 += xj * y3;
        r4 += xj * y4;
        r5 += xj * y5;
        y0 = y1;
        y1 = y2;
        y2 = y3;
        y3 = y4;
        y4 = y5;
      }
      r[block] = r0;
      r[block + 1] = r1;
      r[block + 2] = r2;
      r[block + 3] = r3;
      r[block + 4] = r4;
      r[block + 5] = r5;
      for (let tau = block; tau < block + LAG_BLOCK; tau++) {
        const leaving = x[s + tau - 1];
        const entering = x[s + tau + WINDOW - 1];
        eTau += entering * entering - leaving * leaving;
        let dt = e0 + eTau - 2 * r[tau];
        if (dt < 0) dt = 0; // rounding
        running += dt;
        // Silence gives 0/0: call it fully aperiodic.
        cm[tau] = running > 1e-20 ? (dt * tau) / running : 1;
      }
      // Judge every lag whose right-hand neighbour is now known.
      const last = Math.min(block + LAG_BLOCK - 2, LAG_MAX - 1);
      for (; judged <= last; judged++) {
        const tau = judged;
        const b = cm[tau];
        if (b > cm[tau - 1] || b > cm[tau + 1]) continue;
        const a = cm[tau - 1];
        const c = cm[tau + 1];
        const den = a - 2 * b + c;
        let vertex = b;
        if (den > 1e-12) {
          let shift = (0.5 * (a - c)) / den;
          if (shift > 0.5) shift = 0.5;
          else if (shift < -0.5) shift = -0.5;
          vertex = b - 0.25 * (a - c) * shift;
        }
        if (vertex < YIN_THRESHOLD) return tau;
        if (vertex < bestValue) {
          bestValue = vertex;
          best = tau;
        }
      }
    }
    return best;
  }

  /** Minimum of the plain difference function at 8 kHz within +-REFINE_SPAN of `coarse`, interpolated. */
  private refine(history: Float64Array): void {
    const coarse = this.coarseLag8;
    const d8 = this.refineDiff;
    const first = Math.round(coarse) - REFINE_SPAN - 1;
    const start = history.length - REFINE_WINDOW - (first + REFINE_LAGS);
    // All five lags in one pass: x[j] is loaded once and the lagged samples slide through locals.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let y0 = history[start + first];
    let y1 = history[start + first + 1];
    let y2 = history[start + first + 2];
    let y3 = history[start + first + 3];
    for (let j = start; j < start + REFINE_WINDOW; j++) {
      const xj = history[j];
      const y4 = history[j + first + 4];
      const u0 = xj - y0;
      const u1 = xj - y1;
      const u2 = xj - y2;
      const u3 = xj - y3;
      const u4 = xj - y4;
      s0 += u0 * u0;
      s1 += u1 * u1;
      s2 += u2 * u2;
      s3 += u3 * u3;
      s4 += u4 * u4;
      y0 = y1;
      y1 = y2;
      y2 = y3;
      y3 = y4;
    }
    d8[0] = s0;
    d8[1] = s1;
    d8[2] = s2;
    d8[3] = s3;
    d8[4] = s4;
    let best = 1;
    for (let i = 2; i < REFINE_LAGS - 1; i++) if (d8[i] < d8[best]) best = i;
    const a = d8[best - 1];
    const b = d8[best];
    const c = d8[best + 1];
    const den = a - 2 * b + c;
    let shift = den > 1e-20 ? (0.5 * (a - c)) / den : 0;
    if (shift > 0.5) shift = 0.5;
    else if (shift < -0.5) shift = -0.5;
    this.refinedLag = first + best + shift;
  }
}
