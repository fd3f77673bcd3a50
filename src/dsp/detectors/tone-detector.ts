import type { Leg } from '../../ingest/media-sink.ts';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../../ingest/media-sink.ts';
import { typedViews } from '../../ingest/typed-views.ts';
import type { ToneValue } from '../detector-event.ts';
import { AnswerToneAnalyzer } from './answer-tone-analyzer.ts';
import type { DetectorListener } from './detector-listener.ts';
import { GoertzelBank } from './goertzel-bank.ts';
import { sinePowerAtDbm0 } from './levels.ts';
import { ToneRun } from './tone-run.ts';
import { GOERTZEL_INPUT } from './wasm-goertzel.ts';

/**
 * Fax, modem, special-information and call-progress tones on one leg.
 *
 * Each 20 ms frame is filtered by one bank of Goertzel filters, run on its two 10 ms halves (complex output);
 * the halves are combined into a 160-sample (50 Hz resolution) measurement per filter. A frame carries a tone
 * only when that tone holds most of the frame's power (SINGLE_TONE_SHARE, DUAL_TONE_SHARE), which speech and
 * music rarely do for long; each tone then has its own duration, cadence or sequence rule.
 *
 * Frames below TONE_MIN_LEVEL_DBM0 skip the filters. While no tone is in progress only even frames are
 * analysed (every tone lasts 200 ms or more, so an onset is caught at most 20 ms late); from the first frame
 * that carries a candidate, every frame is.
 *
 * Continuous tones are reported as soon as they are certain rather than when they end, because a fax or modem
 * answer should reach the model within a second; their durS is therefore the duration heard up to the report,
 * not the final length. When each tone is reported (onTone(leg, tone, startS, durS), once per occurrence):
 * - ced / ansam (2100 Hz): once present for ANSWER_CONFIRM_S; durS is the duration heard so far. ANSam is told
 *   apart by its 15 Hz envelope; phase reversals are counted (phaseReversals, read inside onTone).
 * - bell (2225 Hz): once present for BELL_CONFIRM_S; durS so far.
 * - v21 (1650/1850 Hz FSK): once the band has held the signal for V21_CONFIRM_S with the mark/space balance
 *   changing from one 10 ms block to the next (a fixed dual tone does not); durS so far.
 * - dialtone (350+440 Hz): once present for DIAL_CONFIRM_S; durS so far.
 * - cng (1100 Hz): a burst of 0.35-0.75 s (nominal 0.5 s) with at least 1 s without 1100 Hz before and after
 *   it (nominal 3 s), reported at that point with the burst's start and duration. Later bursts of the same
 *   cadence are not reported again.
 * - sit: three consecutive segments 913.8|985.2, 1370.6|1428.5, 1776.7 Hz of 0.2-0.45 s each (nominal 276 or
 *   380 ms), reported when the third ends; durS spans all three.
 * - ringback (440+480 Hz): each burst of RINGBACK_MIN_S-RINGBACK_MAX_S (North American 2 s on / 4 s off),
 *   reported when it ends.
 * - busy (480+620 Hz): two bursts of 0.35-0.75 s separated by 0.35-0.75 s (nominal 0.5/0.5 s), reported
 *   at the end of the second; durS from the first burst's start. Further bursts of that cadence are absorbed.
 * - The ITU-T E.180 family most of the world outside North America uses, 425 Hz (CEPT), 400+450 Hz (the UK and
 *   others) or 400 Hz (UK busy, Japan, India): one frequency for every call-progress tone of a country, so the
 *   cadence alone tells them apart. A burst of RINGBACK_MIN_S-RINGBACK_MAX_S is ringback (425 Hz 1 s on / 4 s
 *   off), and so is the double ring (two bursts of 0.3-0.55 s, 0.1-0.3 s apart: UK 0.4 / 0.2 / 0.4 s), reported
 *   at the end of the second; busy is the busy cadence above (CEPT 0.5 / 0.5 s, UK 0.375 / 0.375 s); a tone held
 *   past RINGBACK_MAX_S is dial tone, reported then. At the filters' 50 Hz resolution 425 Hz and 400+450 Hz fill
 *   the 400 and 450 Hz bins alike, while 440 Hz (North American tones, the musical A) leaves the 400 Hz bin nearly
 *   empty.
 * Times are frame-accurate: startS = frameIndex * 0.02 of the first frame that carried the tone.
 */

const HALF = FRAME_SAMPLES / 2;
const F_350 = 0;
const F_440 = 1;
const F_480 = 2;
const F_620 = 3;
const F_CNG_LOW = 4;
const F_CNG_HIGH = 6;
const F_SIT_FIRST = 7;
const F_SIT_LAST = 11;
const F_1650 = 12;
const F_1750 = 13;
const F_1850 = 14;
const F_2100 = 15;
const F_2225 = 16;
/** 1600, 1700, 1800 Hz: the rest of the V.21 band's 50 Hz grid that rides in the bank's last four-filter pass. */
const F_V21_GRID_FIRST = 17;
const F_V21_GRID_LAST = 19;
const F_400 = 20;
const F_450 = 21;
const F_500 = 22;
// biome-ignore format: one row per tone family
const FILTER_HZ = [
  350, 440, 480, 620,
  // CNG is 1100 ± 38 Hz (T.30): three filters cover the tolerance; 1200 Hz still falls two bins away.
  1070, 1100, 1130,
  913.8, 985.2, 1370.6, 1428.5, 1776.7,
  1650, 1750, 1850,
  2100, 2225,
  1600, 1700, 1800,
  // ITU call progress: the two exact bins 425 Hz falls between, and the one above them.
  400, 450, 500,
];
const FILTERS = FILTER_HZ.length;
/**
 * The 1550-1950 Hz band in 50 Hz steps: at 160 samples these are exact DFT bins, so the powers add up to the
 * band's power. The edges run only when the main bank's V.21 filters already hold a fair share.
 */
const V21_BAND_EDGE_HZ = [1550, 1900, 1950];
const V21_SCREEN_SHARE = 0.35;
/** SIT segment index (0, 1, 2) of each SIT filter. */
const SIT_SEGMENT = [0, 0, 1, 1, 2];

export const TONE_MIN_LEVEL_DBM0 = -40;
const MIN_FRAME_POWER = sinePowerAtDbm0(TONE_MIN_LEVEL_DBM0);
const SINGLE_TONE_SHARE = 0.6;
const DUAL_TONE_SHARE = 0.6;
const DUAL_TONE_EACH_SHARE = 0.15;
/** In a dual tone, the call-progress filters not in the pair must each stay below this share. */
const DUAL_TONE_OTHER_SHARE = 0.08;
const V21_BAND_SHARE = 0.7;
/** Standard deviation of the per-block mark/space balance that marks keyed FSK. */
const V21_MIN_BALANCE_SPREAD = 0.25;

const frames = (seconds: number): number => Math.round((seconds * 1000) / FRAME_MS);
export const ANSWER_CONFIRM_S = 1.0;
export const BELL_CONFIRM_S = 0.8;
export const V21_CONFIRM_S = 0.5;
export const DIAL_CONFIRM_S = 1.0;
const ANSWER_CONFIRM_FRAMES = frames(ANSWER_CONFIRM_S);
const BELL_CONFIRM_FRAMES = frames(BELL_CONFIRM_S);
const V21_CONFIRM_FRAMES = frames(V21_CONFIRM_S);
const DIAL_CONFIRM_FRAMES = frames(DIAL_CONFIRM_S);
const CNG_MIN_FRAMES = frames(0.35);
const CNG_MAX_FRAMES = frames(0.75);
const CNG_MIN_SILENCE_FRAMES = frames(1.0);
const CNG_REPEAT_FRAMES = frames(8);
const SIT_MIN_FRAMES = frames(0.2);
const SIT_MAX_FRAMES = frames(0.45);
const SIT_MAX_GAP_FRAMES = 3;
const RINGBACK_MIN_S = 0.8;
const RINGBACK_MAX_S = 3.0;
const RINGBACK_MAX_FRAMES = frames(RINGBACK_MAX_S);
const DOUBLE_RING_MIN_FRAMES = frames(0.3);
const DOUBLE_RING_MAX_FRAMES = frames(0.55);
const DOUBLE_RING_GAP_MIN_FRAMES = frames(0.1);
const DOUBLE_RING_GAP_MAX_FRAMES = frames(0.3);
const BUSY_MIN_FRAMES = frames(0.35);
const BUSY_MAX_FRAMES = frames(0.75);
const BUSY_END_FRAMES = frames(1.5);
const ANSAM_MIN_DEPTH = 0.1;
/** Frames without the tone ridden over inside one occurrence (a phase reversal can empty one frame). */
const MAX_MISSES = 2;

const CP_NONE = -1;
const CP_DIAL = 0;
const CP_RING = 1;
const CP_BUSY = 2;
/** A tone of the ITU family (425 Hz, 400+450 Hz, 400 Hz): dial, ringback or busy by its cadence. */
const CP_ITU = 3;

/**
 * The frame's samples as floats and the filters, shared by every detector: process() fills FRAME_COPY before
 * anything reads it, and each bank's outputs are copied or used within the call that measured them, so one of
 * each serves all legs of all calls (JS runs one frame at a time). FRAME_COPY is the banks' WebAssembly input
 * area itself, so the banks filter the frame where it is instead of copying each half in.
 */
const FRAME_COPY = GOERTZEL_INPUT;
if (FRAME_COPY.length !== FRAME_SAMPLES) throw new Error('the banks input area must hold one frame');
const BANK = new GoertzelBank(FILTER_HZ, HALF);
const V21_BAND_BANK = new GoertzelBank(V21_BAND_EDGE_HZ, FRAME_SAMPLES);
/** e^{-jw*HALF} per filter: brings the second half onto the frame's time origin (the same for every detector). */
const [HALF_COS, HALF_SIN] = typedViews(Float64Array, [FILTERS, FILTERS]);
for (let k = 0; k < FILTERS; k++) {
  const w = (2 * Math.PI * FILTER_HZ[k]) / SAMPLE_RATE;
  HALF_COS[k] = Math.cos(w * HALF);
  HALF_SIN[k] = -Math.sin(w * HALF);
}

export class ToneDetector {
  /** Phase reversals heard in the 2100 Hz tone being reported (valid inside onTone for ced/ansam). */
  phaseReversals = 0;
  private readonly leg: Leg;
  private readonly listener: DetectorListener;
  private readonly samples = FRAME_COPY;
  private readonly bank = BANK;
  private readonly v21BandBank = V21_BAND_BANK;
  // Per-filter results of the current and previous frame: views of one buffer (see typed-views.ts).
  private readonly firstRe: Float64Array;
  private readonly firstIm: Float64Array;
  private readonly secondRe: Float64Array;
  private readonly secondIm: Float64Array;
  private readonly secondHalfPower: Float64Array;
  private readonly firstHalfPower: Float64Array;
  private readonly halfCos = HALF_COS;
  private readonly halfSin = HALF_SIN;
  private readonly power: Float64Array;
  private nextFrame = -1;
  /** Whether the filters ran on the current frame (they are skipped below TONE_MIN_LEVEL_DBM0). */
  private measured = false;

  private readonly answer = new ToneRun(MAX_MISSES);
  private readonly answerAnalyzer = new AnswerToneAnalyzer();
  private readonly bell = new ToneRun(MAX_MISSES);
  private readonly v21 = new ToneRun(MAX_MISSES);
  private v21Blocks = 0;
  private v21BalanceSum = 0;
  private v21BalanceSquares = 0;
  private readonly cng = new ToneRun(MAX_MISSES);
  /** A CNG-length burst waiting for the silence that confirms the cadence: its frames, or -1. */
  private cngPendingStart = -1;
  private cngPendingEnd = -1;
  private cngLastReportedEnd = Number.NEGATIVE_INFINITY;
  /** Ends of the last two 1100 Hz bursts of any length: a CNG burst must stand alone in its cadence. */
  private cngLastEnd = Number.NEGATIVE_INFINITY;
  private cngPreviousEnd = Number.NEGATIVE_INFINITY;
  private readonly sit = new ToneRun(MAX_MISSES);
  /** Start/end frames of the last accepted SIT segments, by segment index; -1 when absent. */
  private readonly sitStart = new Float64Array(3);
  private readonly sitEnd = new Float64Array(3);
  private readonly progress = new ToneRun(MAX_MISSES);
  private busyFirstStart = -1;
  private busyFirstEnd = -1;
  private busyLastEnd = Number.NEGATIVE_INFINITY;
  /** The last ITU burst of double-ring length, waiting for its second: frames, or -1. */
  private doubleRingStart = -1;
  private doubleRingEnd = -1;

  constructor(leg: Leg, listener: DetectorListener) {
    this.leg = leg;
    this.listener = listener;
    [
      this.firstRe,
      this.firstIm,
      this.secondRe,
      this.secondIm,
      this.secondHalfPower,
      this.firstHalfPower,
      this.power,
    ] = typedViews(Float64Array, [FILTERS, FILTERS, FILTERS, FILTERS, FILTERS, FILTERS, FILTERS]);
    this.sitStart.fill(-1);
    this.sitEnd.fill(-1);
  }

  process(pcm: Int16Array, frameIndex: number): void {
    if (frameIndex !== this.nextFrame) this.closeAll();
    this.nextFrame = frameIndex + 1;
    // Halves the cost during speech and noise (see the class comment).
    if ((frameIndex & 1) === 1 && this.idle()) return;
    const x = this.samples;
    let energy0 = 0;
    let energy1 = 0;
    for (let i = 0; i < HALF; i++) {
      const a = pcm[i];
      const b = pcm[i + HALF];
      x[i] = a;
      x[i + HALF] = b;
      energy0 += a * a;
      energy1 += b * b;
    }
    const framePower = (energy0 + energy1) / FRAME_SAMPLES;
    this.measured = framePower >= MIN_FRAME_POWER;
    if (!this.measured) {
      this.update(frameIndex, -1, -1, -1, false, -1, -1, -1);
      return;
    }
    this.measure();
    const p = this.power;
    const single = framePower * SINGLE_TONE_SHARE;
    const answerTone = p[F_2100] >= single ? 0 : -1;
    const bell = p[F_2225] >= single ? 0 : -1;
    let cng = -1;
    for (let k = F_CNG_LOW; k <= F_CNG_HIGH; k++) if (p[k] >= single) cng = 0;
    let sit = -1;
    for (let k = F_SIT_FIRST; k <= F_SIT_LAST; k++) if (p[k] >= single) sit = k - F_SIT_FIRST;
    const v21 = this.v21BandHolds(framePower);
    this.update(
      frameIndex,
      answerTone,
      bell,
      cng,
      v21,
      sit,
      this.classifyProgress(framePower),
      energy0 + energy1,
    );
  }

  finish(frameIndex: number): void {
    void frameIndex;
    this.closeAll();
    this.nextFrame = -1;
  }

  private idle(): boolean {
    return (
      this.answer.code < 0 &&
      this.bell.code < 0 &&
      this.v21.code < 0 &&
      this.cng.code < 0 &&
      this.sit.code < 0 &&
      this.progress.code < 0
    );
  }

  /** Fills `power` (160-sample powers) and the half outputs from the frame in `samples`. */
  private measure(): void {
    const bank = this.bank;
    bank.measureComplex(this.samples, 0);
    this.firstRe.set(bank.re);
    this.firstIm.set(bank.im);
    this.firstHalfPower.set(bank.power);
    bank.measureComplex(this.samples, HALF);
    this.secondRe.set(bank.re);
    this.secondIm.set(bank.im);
    this.secondHalfPower.set(bank.power);
    const scale = 2 / (FRAME_SAMPLES * FRAME_SAMPLES);
    for (let k = 0; k < FILTERS; k++) {
      const c = this.halfCos[k];
      const s = this.halfSin[k];
      const r2 = this.secondRe[k];
      const i2 = this.secondIm[k];
      const re = this.firstRe[k] + r2 * c - i2 * s;
      const im = this.firstIm[k] + r2 * s + i2 * c;
      this.power[k] = (re * re + im * im) * scale;
    }
  }

  private v21BandHolds(framePower: number): boolean {
    const p = this.power;
    let band = p[F_1650] + p[F_1750] + p[F_1850];
    for (let k = F_V21_GRID_FIRST; k <= F_V21_GRID_LAST; k++) band += p[k];
    if (band < framePower * V21_SCREEN_SHARE) return false;
    const extra = this.v21BandBank;
    extra.measurePower(this.samples, 0);
    for (let k = 0; k < extra.size; k++) band += extra.power[k];
    return band >= framePower * V21_BAND_SHARE;
  }

  private classifyProgress(framePower: number): number {
    if (this.isPair(F_350, F_440, F_480, F_620, framePower)) return CP_DIAL;
    if (this.isPair(F_440, F_480, F_350, F_620, framePower)) return CP_RING;
    if (this.isPair(F_480, F_620, F_350, F_440, framePower)) return CP_BUSY;
    if (this.isPair(F_400, F_450, F_350, F_500, framePower)) return CP_ITU;
    // 400 Hz alone (the UK's busy tone, the 400 Hz ringing of Japan and India): one exact bin, both neighbours empty.
    const p = this.power;
    const other = framePower * DUAL_TONE_OTHER_SHARE;
    if (p[F_400] >= framePower * SINGLE_TONE_SHARE && p[F_350] < other && p[F_450] < other) return CP_ITU;
    return CP_NONE;
  }

  private isPair(a: number, b: number, other1: number, other2: number, framePower: number): boolean {
    const p = this.power;
    return (
      p[a] + p[b] >= framePower * DUAL_TONE_SHARE &&
      p[a] >= framePower * DUAL_TONE_EACH_SHARE &&
      p[b] >= framePower * DUAL_TONE_EACH_SHARE &&
      p[other1] < framePower * DUAL_TONE_OTHER_SHARE &&
      p[other2] < framePower * DUAL_TONE_OTHER_SHARE
    );
  }

  private update(
    frame: number,
    answerTone: number,
    bell: number,
    cng: number,
    v21: boolean,
    sit: number,
    progress: number,
    frameEnergy: number,
  ): void {
    this.updateAnswer(frame, answerTone);
    this.updateBell(frame, bell);
    this.updateV21(frame, v21, frameEnergy);
    this.updateCng(frame, cng);
    if (this.sit.update(sit, frame)) this.sitSegmentEnded();
    if (this.progress.update(progress, frame)) this.progressEnded();
    this.progressOngoing();
  }

  private updateAnswer(frame: number, code: number): void {
    const run = this.answer;
    const wasActive = run.code >= 0;
    run.update(code, frame);
    if (run.code < 0) return;
    if (!wasActive || run.startFrame === frame) this.answerAnalyzer.reset();
    // Every 10 ms block of the occurrence goes in, ridden-over frames too, so the 15 Hz reference stays in step.
    if (this.measured) {
      this.answerAnalyzer.addBlock(this.firstRe[F_2100], this.firstIm[F_2100]);
      this.answerAnalyzer.addBlock(this.secondRe[F_2100], this.secondIm[F_2100]);
    } else {
      this.answerAnalyzer.addBlock(0, 0);
      this.answerAnalyzer.addBlock(0, 0);
    }
    if (!run.reported && run.frames() >= ANSWER_CONFIRM_FRAMES) {
      run.reported = true;
      const tone: ToneValue = this.answerAnalyzer.modulationDepth() >= ANSAM_MIN_DEPTH ? 'ansam' : 'ced';
      this.phaseReversals = this.answerAnalyzer.phaseReversals;
      this.emit(tone, run.startFrame, run.lastFrame + 1);
    }
  }

  private updateBell(frame: number, code: number): void {
    const run = this.bell;
    run.update(code, frame);
    if (run.code >= 0 && !run.reported && run.frames() >= BELL_CONFIRM_FRAMES) {
      run.reported = true;
      this.emit('bell', run.startFrame, run.lastFrame + 1);
    }
  }

  private updateV21(frame: number, present: boolean, frameEnergy: number): void {
    const run = this.v21;
    const wasActive = run.code >= 0;
    run.update(present ? 0 : -1, frame);
    if (run.code < 0) return;
    if (!wasActive || run.startFrame === frame) {
      this.v21Blocks = 0;
      this.v21BalanceSum = 0;
      this.v21BalanceSquares = 0;
    }
    if (present) {
      this.addV21Balance(
        this.firstHalfPower[F_1650],
        this.firstHalfPower[F_1850],
        frameEnergy / FRAME_SAMPLES,
      );
      this.addV21Balance(
        this.secondHalfPower[F_1650],
        this.secondHalfPower[F_1850],
        frameEnergy / FRAME_SAMPLES,
      );
    }
    if (
      !run.reported &&
      run.frames() >= V21_CONFIRM_FRAMES &&
      this.v21BalanceSpread() >= V21_MIN_BALANCE_SPREAD
    ) {
      run.reported = true;
      this.emit('v21', run.startFrame, run.lastFrame + 1);
    }
  }

  /** Mark/space balance of one 10 ms block in [-1, 1]; 0 when neither holds a real share of the frame. */
  private addV21Balance(mark: number, space: number, framePower: number): void {
    const b = mark + space >= 0.1 * framePower ? (mark - space) / (mark + space) : 0;
    this.v21Blocks++;
    this.v21BalanceSum += b;
    this.v21BalanceSquares += b * b;
  }

  private v21BalanceSpread(): number {
    if (this.v21Blocks < 2) return 0;
    const mean = this.v21BalanceSum / this.v21Blocks;
    return Math.sqrt(Math.max(0, this.v21BalanceSquares / this.v21Blocks - mean * mean));
  }

  private updateCng(frame: number, code: number): void {
    const run = this.cng;
    if (run.update(code, frame)) {
      this.cngPreviousEnd = this.cngLastEnd;
      this.cngLastEnd = run.endedEnd;
      const length = run.endedEnd - run.endedStart;
      if (length >= CNG_MIN_FRAMES && length <= CNG_MAX_FRAMES) {
        this.cngPendingStart = run.endedStart;
        this.cngPendingEnd = run.endedEnd;
      } else {
        this.cngPendingStart = -1;
      }
    }
    if (this.cngPendingStart < 0) return;
    if (this.cngPendingStart - this.cngPreviousEnd < CNG_MIN_SILENCE_FRAMES) {
      // Another 1100 Hz burst just before this one: a different cadence.
      this.cngPendingStart = -1;
      return;
    }
    if (run.code >= 0) {
      // 1100 Hz again before the cadence's silence: not CNG (or a tone with another cadence).
      if (run.startFrame - this.cngPendingEnd < CNG_MIN_SILENCE_FRAMES) this.cngPendingStart = -1;
      return;
    }
    if (frame + 1 - this.cngPendingEnd >= CNG_MIN_SILENCE_FRAMES) this.confirmCng();
  }

  private confirmCng(): void {
    if (this.cngPendingStart - this.cngLastReportedEnd > CNG_REPEAT_FRAMES) {
      this.emit('cng', this.cngPendingStart, this.cngPendingEnd);
    }
    this.cngLastReportedEnd = this.cngPendingEnd;
    this.cngPendingStart = -1;
  }

  private sitSegmentEnded(): void {
    const run = this.sit;
    const length = run.endedEnd - run.endedStart;
    const segment = SIT_SEGMENT[run.endedCode];
    if (length < SIT_MIN_FRAMES || length > SIT_MAX_FRAMES) {
      this.sitStart.fill(-1);
      return;
    }
    const previous = segment - 1;
    if (
      previous >= 0 &&
      (this.sitStart[previous] < 0 || run.endedStart - this.sitEnd[previous] > SIT_MAX_GAP_FRAMES)
    ) {
      this.sitStart.fill(-1);
      return;
    }
    if (segment === 0) {
      this.sitStart.fill(-1);
      this.sitEnd.fill(-1);
    }
    this.sitStart[segment] = run.endedStart;
    this.sitEnd[segment] = run.endedEnd;
    if (segment === 2) {
      this.emit('sit', this.sitStart[0], run.endedEnd);
      this.sitStart.fill(-1);
    }
  }

  private progressEnded(): void {
    const run = this.progress;
    const length = run.endedEnd - run.endedStart;
    const code = run.endedCode;
    if (code === CP_ITU) {
      // Held past ringback length: reported as dial tone already.
      if (run.reported) return;
      if (this.doubleRingEnded(run.endedStart, run.endedEnd)) return;
    }
    if (code === CP_RING || code === CP_ITU) {
      const seconds = (length * FRAME_MS) / 1000;
      if (seconds >= RINGBACK_MIN_S && seconds <= RINGBACK_MAX_S) {
        this.emit('ringback', run.endedStart, run.endedEnd);
        return;
      }
    }
    if (code !== CP_BUSY && code !== CP_ITU) return;
    if (length < BUSY_MIN_FRAMES || length > BUSY_MAX_FRAMES) {
      this.busyFirstStart = -1;
      return;
    }
    const gap = run.endedStart - this.busyFirstEnd;
    if (this.busyFirstStart >= 0 && gap >= BUSY_MIN_FRAMES && gap <= BUSY_MAX_FRAMES) {
      if (this.busyFirstStart - this.busyLastEnd > BUSY_END_FRAMES)
        this.emit('busy', this.busyFirstStart, run.endedEnd);
      this.busyLastEnd = run.endedEnd;
    }
    this.busyFirstStart = run.endedStart;
    this.busyFirstEnd = run.endedEnd;
  }

  /**
   * An ITU burst [start, end) as half of a double ring: true when it completed one (reported), else it may be the
   * first half of the next.
   */
  private doubleRingEnded(start: number, end: number): boolean {
    const length = end - start;
    if (length < DOUBLE_RING_MIN_FRAMES || length > DOUBLE_RING_MAX_FRAMES) {
      this.doubleRingStart = -1;
      return false;
    }
    const gap = start - this.doubleRingEnd;
    if (this.doubleRingStart >= 0 && gap >= DOUBLE_RING_GAP_MIN_FRAMES && gap <= DOUBLE_RING_GAP_MAX_FRAMES) {
      this.emit('ringback', this.doubleRingStart, end);
      this.doubleRingStart = -1;
      return true;
    }
    this.doubleRingStart = start;
    this.doubleRingEnd = end;
    return false;
  }

  private progressOngoing(): void {
    const run = this.progress;
    if (run.reported) return;
    // North American dial tone has its own frequencies; an ITU tone is dial tone once it outlasts any ringback.
    const dialFrames = run.code === CP_DIAL ? DIAL_CONFIRM_FRAMES : RINGBACK_MAX_FRAMES + 1;
    if ((run.code === CP_DIAL || run.code === CP_ITU) && run.frames() >= dialFrames) {
      run.reported = true;
      this.emit('dialtone', run.startFrame, run.lastFrame + 1);
    }
  }

  /** End of call or a break in the frames: finish every occurrence in progress. */
  private closeAll(): void {
    this.answer.close();
    this.bell.close();
    this.v21.close();
    this.cng.close();
    // A burst whose cadence silence was cut short by the end of the frames is not confirmed: a lone beep
    // just before hangup is not a calling tone.
    this.cngPendingStart = -1;
    if (this.sit.close()) this.sitSegmentEnded();
    if (this.progress.close()) this.progressEnded();
    this.sitStart.fill(-1);
    this.busyFirstStart = -1;
    this.doubleRingStart = -1;
  }

  private emit(tone: ToneValue, startFrame: number, endFrame: number): void {
    this.listener.onTone(
      this.leg,
      tone,
      (startFrame * FRAME_MS) / 1000,
      ((endFrame - startFrame) * FRAME_MS) / 1000,
    );
  }
}
