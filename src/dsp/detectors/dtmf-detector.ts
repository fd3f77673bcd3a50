import type { Leg } from '../../ingest/media-sink.ts';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../ingest/media-sink.ts';
import { typedViews } from '../../ingest/typed-views.ts';
import type { DetectorListener } from './detector-listener.ts';
import { GoertzelBank } from './goertzel-bank.ts';
import { dbToPowerRatio, sinePowerAtDbm0 } from './levels.ts';

/**
 * In-band DTMF detector for one leg, to ITU-T Q.24 as practised by spandsp (dtmf.c) and Asterisk (dsp.c).
 *
 * Analysis: Goertzel filters on the 4 row and 4 column frequencies over 102-sample windows (12.75 ms: the row
 * spacing of ~75 Hz is then about one bin, so a row tone barely leaks into its neighbour), hopped by 51
 * samples. Each 51-sample half is filtered once (complex output) and two halves are combined into a window,
 * so the overlap costs nothing extra. Samples are carried across 20 ms frames in a preallocated buffer.
 *
 * A window holds a candidate digit when (all powers are sine mean powers, see levels.ts for the dBm0
 * reference):
 * - both the strongest row and the strongest column are at or above DTMF_MIN_LEVEL_DBM0 per tone (-35 dBm0:
 *   9 dB under the -26 dBm0 that must be heard, 10 dB over the -45 dBm0 that the tests require to be ignored);
 * - twist, the column (high group) level minus the row (low group) level, is within
 *   [-MAX_REVERSE_TWIST_DB, +MAX_NORMAL_TWIST_DB]. Here "normal" twist is the high group louder (+4 dB must
 *   be accepted) and "reverse" twist the low group louder (8 dB must be accepted; long loops lose the high
 *   group); spandsp's and Asterisk's constants carry the opposite names for the same two limits. The limits
 *   are those plus 1 dB of measurement allowance (tests: +4/-8 dB accepted, +7/-11 dB rejected). In a
 *   102-sample window a strong
 *   tone's sidelobe beats against the weak tone (up to ±2 dB at 8 dB twist), so a window only has to pass
 *   limits WINDOW_TWIST_SLACK_DB wider; the exact limits apply to the powers summed over the whole run, where
 *   that beat averages out;
 * - relative peaks: every other filter of each group is at least RELATIVE_PEAK_DB below its group's winner
 *   (spandsp uses 8 dB; at 8 dB reverse twist the strong row's sidelobe plus the weak column's own leakage
 *   into its neighbour reach -8 dB, so 6 dB is used);
 * - the two tones carry at least MIN_TONE_TO_TOTAL of the window's power (speech and music spread theirs);
 * - both halves of the window carry the two tones at comparable power, so a window only partly covered by a
 *   tone does not count (this is what makes the duration limits sharp);
 * - the column tone's second harmonic is weak (voiced speech has one, a keypad does not); checked only for
 *   windows that passed everything else. Row harmonics (1394-1882 Hz) fall next to the column tones, so, as
 *   in Asterisk, only the column harmonics are usable.
 *
 * A digit starts after MIN_RUN_WINDOWS consecutive candidate windows of the same digit whose measured
 * frequencies (from the phase advance between overlapping windows, averaged over the run) are both within
 * MAX_FREQUENCY_DEVIATION of nominal. Four windows need at least ~28 ms of tone; a 40 ms tone always yields
 * them, a 23 ms tone at most three. The digit ends after END_MISS_WINDOWS windows without it (~38 ms), which
 * rides over dropouts of ~10 ms yet splits digits separated by the 40 ms minimum pause.
 *
 * Reporting: each key press is reported once, when it ends (about 40 ms after the tone stops), with its start
 * and duration. A card-number rule therefore sees the last digit well within 1 s. A digit still sounding at
 * finish() is reported then.
 */

const ROW_HZ = [697, 770, 852, 941] as const;
const COL_HZ = [1209, 1336, 1477, 1633] as const;
const KEYS = '123A456B789C*0#D';

const HALF = 51;
const WINDOW = 2 * HALF;

export const DTMF_MIN_LEVEL_DBM0 = -35;
export const MAX_NORMAL_TWIST_DB = 5;
export const MAX_REVERSE_TWIST_DB = 9;
const RELATIVE_PEAK_DB = 6;
const RELATIVE_PEAK = dbToPowerRatio(RELATIVE_PEAK_DB);
const MIN_TONE_TO_TOTAL = 0.65;
/** Each half of a window must carry at least this share of the other half's tone power. */
const MIN_HALF_BALANCE = 0.25;
/** Second harmonic must be at least this far below its tone. */
const HARMONIC_REJECT = dbToPowerRatio(12);
/** Midway between Q.24's must-accept 1.5 % and must-reject 3.5 %. */
export const MAX_FREQUENCY_DEVIATION = 0.025;
const MIN_RUN_WINDOWS = 4;
const END_MISS_WINDOWS = 6;
/** Halves quieter than this (two tones at the minimum level, less a margin) skip the filters entirely. */
const GATE_POWER = sinePowerAtDbm0(DTMF_MIN_LEVEL_DBM0 - 6);
const MIN_TONE_POWER = sinePowerAtDbm0(DTMF_MIN_LEVEL_DBM0);
const MAX_NORMAL_TWIST = dbToPowerRatio(MAX_NORMAL_TWIST_DB);
const MAX_REVERSE_TWIST = dbToPowerRatio(MAX_REVERSE_TWIST_DB);
const WINDOW_TWIST_SLACK_DB = 3;
const MAX_WINDOW_NORMAL_TWIST = dbToPowerRatio(MAX_NORMAL_TWIST_DB + WINDOW_TWIST_SLACK_DB);
const MAX_WINDOW_REVERSE_TWIST = dbToPowerRatio(MAX_REVERSE_TWIST_DB + WINDOW_TWIST_SLACK_DB);
/** Hz per radian of phase advance over one hop. */
const HZ_PER_RADIAN = SAMPLE_RATE / (2 * Math.PI * HALF);
/** e^{-jw*HALF} per filter: rotates the second half onto the window's time origin; also the nominal phase advance. */
const [HOP_COS, HOP_SIN] = typedViews(Float64Array, [8, 8]);
const HALF_BANK_HZ = [...ROW_HZ, ...COL_HZ];
for (let k = 0; k < 8; k++) {
  const w = (2 * Math.PI * HALF_BANK_HZ[k]) / SAMPLE_RATE;
  HOP_COS[k] = Math.cos(w * HALF);
  HOP_SIN[k] = -Math.sin(w * HALF);
}
/**
 * Both halves of a window in order, assembled only for the (rare) windows that reach the harmonic check and read
 * at once: one for every detector (JS runs one frame at a time).
 */
const HARMONIC_WINDOW = new Float32Array(WINDOW);
/**
 * The filters, shared by every detector: their outputs are read within the analyseHalf call that measured them
 * (what outlives it is copied into the detector's own prevHalf and win arrays), and the harmonic check keeps
 * nothing, so one bank of each serves all legs of all calls.
 */
const HALF_BANK = new GoertzelBank(HALF_BANK_HZ, HALF);
const HARMONIC_BANK = new GoertzelBank(
  COL_HZ.map((f) => 2 * f),
  WINDOW,
);

export class DtmfDetector {
  private readonly leg: Leg;
  private readonly listener: DetectorListener;
  /** The half being filled and the one before it; swapped after each half instead of copying samples. */
  private current: Float32Array;
  private previous: Float32Array;
  private fill = 0;
  /** Sum of squares of the samples of the half being filled. */
  private fillEnergy = 0;
  private readonly halfBank = HALF_BANK;
  private readonly harmonicBank = HARMONIC_BANK;
  /** Complex half outputs of the previous half, and of the previous window, per filter (views of one buffer). */
  private readonly prevHalfRe: Float64Array;
  private readonly prevHalfIm: Float64Array;
  private readonly prevWinRe: Float64Array;
  private readonly prevWinIm: Float64Array;
  private readonly winRe: Float64Array;
  private readonly winIm: Float64Array;
  private readonly winPower: Float64Array;
  private readonly hopCos = HOP_COS;
  private readonly hopSin = HOP_SIN;
  private prevHalfEnergy = 0;
  private prevHalfGated = true;
  private halvesSeen = 0;
  /** Absolute sample index (call media time) of the next sample to arrive; -1 before the first frame. */
  private nextSample = -1;

  private runKey = -1;
  private runLength = 0;
  private runStart = 0;
  private runRowRe = 0;
  private runRowIm = 0;
  private runColRe = 0;
  private runColIm = 0;
  private runRowPower = 0;
  private runColPower = 0;

  private digitKey = -1;
  private digitStart = 0;
  private digitLastEnd = 0;
  private misses = 0;

  constructor(leg: Leg, listener: DetectorListener) {
    this.leg = leg;
    this.listener = listener;
    [this.current, this.previous] = typedViews(Float32Array, [HALF, HALF]);
    [
      this.prevHalfRe,
      this.prevHalfIm,
      this.prevWinRe,
      this.prevWinIm,
      this.winRe,
      this.winIm,
      this.winPower,
    ] = typedViews(Float64Array, [8, 8, 8, 8, 8, 8, 8]);
  }

  process(pcm: Int16Array, frameIndex: number): void {
    const frameStart = frameIndex * FRAME_SAMPLES;
    if (frameStart !== this.nextSample) this.restart(frameStart);
    const n = pcm.length;
    let i = 0;
    while (i < n) {
      // Copy up to the end of the half being filled, then analyse it.
      const half = this.current;
      const fill = this.fill;
      const take = Math.min(HALF - fill, n - i);
      let energy = this.fillEnergy;
      for (let j = 0; j < take; j++) {
        const v = pcm[i + j];
        half[fill + j] = v;
        energy += v * v;
      }
      i += take;
      this.fill = fill + take;
      this.fillEnergy = energy;
      if (this.fill === HALF) {
        this.analyseHalf(frameStart + i, energy);
        this.current = this.previous;
        this.previous = half;
        this.fill = 0;
        this.fillEnergy = 0;
      }
    }
    this.nextSample = frameStart + n;
  }

  finish(frameIndex: number): void {
    void frameIndex;
    if (this.digitKey >= 0) this.emitDigit();
    this.restart(-1);
  }

  /** A discontinuity in frame indices: what was buffered no longer borders what comes next. */
  private restart(nextSample: number): void {
    if (this.digitKey >= 0) this.emitDigit();
    this.fill = 0;
    this.fillEnergy = 0;
    this.halvesSeen = 0;
    this.prevHalfGated = true;
    this.runKey = -1;
    this.runLength = 0;
    this.nextSample = nextSample;
  }

  /** The half ending just before absolute sample `endSample` is complete in `current`. */
  private analyseHalf(endSample: number, energy: number): void {
    const gated = energy < GATE_POWER * HALF;
    const bank = this.halfBank;
    if (!gated) bank.measureComplex(this.current, 0);
    let key = -1;
    if (this.halvesSeen > 0 && !gated && !this.prevHalfGated) {
      key = this.classifyWindow((this.prevHalfEnergy + energy) / WINDOW);
    }
    this.trackRun(key, endSample - WINDOW);
    // Keep this half's outputs (and this window's) for the next hop.
    for (let k = 0; k < 8; k++) {
      this.prevHalfRe[k] = gated ? 0 : bank.re[k];
      this.prevHalfIm[k] = gated ? 0 : bank.im[k];
      this.prevWinRe[k] = this.winRe[k];
      this.prevWinIm[k] = this.winIm[k];
    }
    this.prevHalfEnergy = energy;
    this.prevHalfGated = gated;
    this.halvesSeen++;
  }

  /** Returns the key index (0..15) the current window carries, or -1. */
  private classifyWindow(meanPower: number): number {
    const bank = this.halfBank;
    const scale = 2 / (WINDOW * WINDOW);
    for (let k = 0; k < 8; k++) {
      const r2 = bank.re[k];
      const i2 = bank.im[k];
      const c = this.hopCos[k];
      const s = this.hopSin[k];
      const re = this.prevHalfRe[k] + r2 * c - i2 * s;
      const im = this.prevHalfIm[k] + r2 * s + i2 * c;
      this.winRe[k] = re;
      this.winIm[k] = im;
      this.winPower[k] = (re * re + im * im) * scale;
    }
    const p = this.winPower;
    let row = 0;
    let col = 4;
    for (let k = 1; k < 4; k++) {
      if (p[k] > p[row]) row = k;
      if (p[k + 4] > p[col]) col = k + 4;
    }
    const pr = p[row];
    const pc = p[col];
    if (pr < MIN_TONE_POWER || pc < MIN_TONE_POWER) return -1;
    if (pc > pr * MAX_WINDOW_NORMAL_TWIST || pr > pc * MAX_WINDOW_REVERSE_TWIST) return -1;
    for (let k = 0; k < 4; k++) {
      if (k !== row && p[k] * RELATIVE_PEAK > pr) return -1;
      if (k + 4 !== col && p[k + 4] * RELATIVE_PEAK > pc) return -1;
    }
    if (pr + pc < MIN_TONE_TO_TOTAL * meanPower) return -1;
    if (!this.halvesBalanced(row, col)) return -1;
    HARMONIC_WINDOW.set(this.previous, 0);
    HARMONIC_WINDOW.set(this.current, HALF);
    if (this.harmonicBank.measureOne(HARMONIC_WINDOW, 0, col - 4) * HARMONIC_REJECT > pc) return -1;
    return row * 4 + (col - 4);
  }

  /**
   * Compares the two tones' combined power in the two halves. Summing the pair keeps the stronger tone in
   * charge, so leakage from a twisted strong tone into the weak one's short half-window cannot upset it.
   */
  private halvesBalanced(row: number, col: number): boolean {
    const re = this.halfBank.re;
    const im = this.halfBank.im;
    const pr = this.prevHalfRe;
    const pi = this.prevHalfIm;
    const a = pr[row] * pr[row] + pi[row] * pi[row] + pr[col] * pr[col] + pi[col] * pi[col];
    const b = re[row] * re[row] + im[row] * im[row] + re[col] * re[col] + im[col] * im[col];
    return a >= MIN_HALF_BALANCE * b && b >= MIN_HALF_BALANCE * a;
  }

  private trackRun(key: number, windowStart: number): void {
    const windowEnd = windowStart + WINDOW;
    if (key >= 0 && key === this.runKey) {
      this.runLength++;
      this.accumulatePhase(key);
    } else {
      this.runKey = key;
      this.runLength = key >= 0 ? 1 : 0;
      this.runStart = windowStart;
      this.runRowRe = 0;
      this.runRowIm = 0;
      this.runColRe = 0;
      this.runColIm = 0;
      this.runRowPower = 0;
      this.runColPower = 0;
    }
    if (key >= 0) {
      this.runRowPower += this.winPower[key >> 2];
      this.runColPower += this.winPower[4 + (key & 3)];
    }

    if (this.digitKey >= 0) {
      if (key === this.digitKey) {
        this.digitLastEnd = windowEnd;
        this.misses = 0;
        return;
      }
      this.misses++;
      if (this.misses < END_MISS_WINDOWS) return;
      this.emitDigit();
    }
    if (
      this.runLength >= MIN_RUN_WINDOWS &&
      this.runTwistWithinLimits() &&
      this.frequenciesWithinTolerance(this.runKey)
    ) {
      this.digitKey = this.runKey;
      this.digitStart = this.runStart;
      this.digitLastEnd = windowEnd;
      this.misses = 0;
    }
  }

  private runTwistWithinLimits(): boolean {
    const pr = this.runRowPower;
    const pc = this.runColPower;
    return pc <= pr * MAX_NORMAL_TWIST && pr <= pc * MAX_REVERSE_TWIST;
  }

  /** Adds this window's phase advance over the previous one, for the run's row and column filters. */
  private accumulatePhase(key: number): void {
    const row = key >> 2;
    const col = 4 + (key & 3);
    this.runRowRe += this.winRe[row] * this.prevWinRe[row] + this.winIm[row] * this.prevWinIm[row];
    this.runRowIm += this.winIm[row] * this.prevWinRe[row] - this.winRe[row] * this.prevWinIm[row];
    this.runColRe += this.winRe[col] * this.prevWinRe[col] + this.winIm[col] * this.prevWinIm[col];
    this.runColIm += this.winIm[col] * this.prevWinRe[col] - this.winRe[col] * this.prevWinIm[col];
  }

  private frequenciesWithinTolerance(key: number): boolean {
    const row = key >> 2;
    const col = 4 + (key & 3);
    return (
      this.deviation(row, this.runRowRe, this.runRowIm) <= MAX_FREQUENCY_DEVIATION &&
      this.deviation(col, this.runColRe, this.runColIm) <= MAX_FREQUENCY_DEVIATION
    );
  }

  /** |measured - nominal| / nominal from the summed phase-advance products (unambiguous to ±78 Hz). */
  private deviation(k: number, re: number, im: number): number {
    // Remove the nominal advance w*HALF: multiply by e^{-jw*HALF}.
    const c = this.hopCos[k];
    const s = this.hopSin[k];
    const dr = re * c - im * s;
    const di = re * s + im * c;
    const offsetHz = Math.atan2(di, dr) * HZ_PER_RADIAN;
    return Math.abs(offsetHz) / this.halfBank.frequencies[k];
  }

  private emitDigit(): void {
    const key = this.digitKey;
    this.digitKey = -1;
    this.misses = 0;
    this.listener.onDigit(
      this.leg,
      KEYS[key],
      this.digitStart / SAMPLE_RATE,
      (this.digitLastEnd - this.digitStart) / SAMPLE_RATE,
    );
  }
}
