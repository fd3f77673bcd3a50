import { FRAME_MS } from '../../ingest/media-sink.ts';
import { typedViews } from '../../ingest/typed-views.ts';

/**
 * Who talks when, across both legs of a call, from each leg's per-frame voice-activity decision.
 *
 * A talk spurt on a leg starts at a speech frame and ends after `hangoverFrames` frames without speech (so pauses
 * inside a sentence do not split it); spurts shorter than `minSpurtFrames` speech frames are blips and ignored.
 * A turn is a confirmed spurt on one leg after the last confirmed spurt was the other leg's; its gap is the
 * silence between the other leg's last speech frame and this spurt's first (overlapping starts have no gap).
 *
 * Talk-over: the other leg starts a spurt (sustained for at least `minTalkOverFrames`) while this leg is talking.
 * The talked-over leg yields if its spurt's last speech frame is within `yieldFrames` of the other leg's start.
 * People yield to being talked over; a recording plays on.
 */
export interface ConversationOptions {
  hangoverFrames?: number;
  minSpurtFrames?: number;
  yieldFrames?: number;
  minTalkOverFrames?: number;
}

/** Turn gaps are histogrammed per frame up to this many frames (3 s); longer gaps land in the last bin. */
export const GAP_BINS = 150;

export class ConversationTracker {
  readonly hangoverFrames: number;
  readonly minSpurtFrames: number;
  readonly yieldFrames: number;
  readonly minTalkOverFrames: number;

  frames = 0;
  doubleTalkFrames = 0;
  mutualSilenceFrames = 0;
  turns = 0;
  // Per-leg state: the arrays of one element type are views of one buffer (src/ingest/typed-views.ts).
  /** Speech frames per leg. */
  readonly speechFrames: Float64Array;
  /** Times the leg was talked over (sustained), and how often it yielded. */
  readonly talkOvers: Float64Array;
  readonly yields: Float64Array;
  readonly longestMonologueFrames: Float64Array;
  /** Confirmed spurts per leg. */
  readonly spurts: Float64Array;
  /** Turn gaps in frames, both directions. */
  readonly gapHistogram: Uint32Array;
  /** Per leg: gaps of turns this leg took, i.e. its response latency after the other leg stopped. */
  readonly responseHistograms: readonly [Uint32Array, Uint32Array];
  gapCount = 0;
  readonly responseCounts: Float64Array;

  private readonly active: Uint8Array;
  private readonly confirmed: Uint8Array;
  private readonly spurtStart: Float64Array;
  private readonly spurtSpeech: Float64Array;
  private readonly lastSpeech: Float64Array;
  private readonly monologueStart: Float64Array;
  private readonly pendingStart: Float64Array;
  private readonly pendingQualified: Uint8Array;
  /** -1 undecided, 0 kept talking, 1 yielded. */
  private readonly pendingYield = new Int8Array(2);
  private lastConfirmedLeg = -1;

  constructor(options: ConversationOptions = {}) {
    this.hangoverFrames = options.hangoverFrames ?? 10;
    this.minSpurtFrames = options.minSpurtFrames ?? 3;
    this.yieldFrames = options.yieldFrames ?? 25;
    this.minTalkOverFrames = options.minTalkOverFrames ?? 15;
    [
      this.speechFrames,
      this.talkOvers,
      this.yields,
      this.longestMonologueFrames,
      this.spurts,
      this.responseCounts,
      this.spurtStart,
      this.spurtSpeech,
      this.lastSpeech,
      this.monologueStart,
      this.pendingStart,
    ] = typedViews(Float64Array, [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    this.lastSpeech.fill(-1e9);
    this.monologueStart.fill(-1);
    this.pendingStart.fill(-1);
    const [gaps, rxResponses, txResponses] = typedViews(Uint32Array, [
      GAP_BINS + 1,
      GAP_BINS + 1,
      GAP_BINS + 1,
    ]);
    this.gapHistogram = gaps;
    this.responseHistograms = [rxResponses, txResponses];
    [this.active, this.confirmed, this.pendingQualified] = typedViews(Uint8Array, [2, 2, 2]);
  }

  /** The voice-activity decisions of both legs for the next frame. */
  push(rxSpeech: boolean, txSpeech: boolean): void {
    const n = this.frames;
    if (rxSpeech && txSpeech) this.doubleTalkFrames++;
    else if (!rxSpeech && !txSpeech) this.mutualSilenceFrames++;
    this.step(0, rxSpeech, n);
    this.step(1, txSpeech, n);
    this.resolveTalkOver(0, n);
    this.resolveTalkOver(1, n);
    this.frames = n + 1;
  }

  private step(leg: number, speech: boolean, n: number): void {
    if (speech) {
      this.speechFrames[leg]++;
      if (this.active[leg] === 0) {
        this.active[leg] = 1;
        this.confirmed[leg] = 0;
        this.spurtStart[leg] = n;
        this.spurtSpeech[leg] = 0;
      }
      this.lastSpeech[leg] = n;
      this.spurtSpeech[leg]++;
      if (this.confirmed[leg] === 0 && this.spurtSpeech[leg] >= this.minSpurtFrames) this.confirm(leg);
      if (this.confirmed[leg] === 1 && this.lastConfirmedLeg === leg && this.monologueStart[leg] >= 0) {
        const length = n - this.monologueStart[leg] + 1;
        if (length > this.longestMonologueFrames[leg]) this.longestMonologueFrames[leg] = length;
      }
    } else if (this.active[leg] === 1 && n - this.lastSpeech[leg] >= this.hangoverFrames) {
      this.active[leg] = 0;
    }
  }

  private confirm(leg: number): void {
    const other = 1 - leg;
    const start = this.spurtStart[leg];
    this.confirmed[leg] = 1;
    this.spurts[leg]++;
    const otherTalking = this.active[other] === 1 && this.confirmed[other] === 1;
    if (otherTalking && this.pendingStart[other] < 0) {
      this.pendingStart[other] = start;
      this.pendingQualified[other] = 0;
      this.pendingYield[other] = -1;
    }
    if (this.lastConfirmedLeg === other) {
      this.turns++;
      if (!otherTalking) {
        const gap = start - this.lastSpeech[other] - 1;
        if (gap >= 0) {
          const bin = Math.min(gap, GAP_BINS);
          this.gapHistogram[bin]++;
          this.gapCount++;
          this.responseHistograms[leg][bin]++;
          this.responseCounts[leg]++;
        }
      }
      this.monologueStart[leg] = start;
    } else if (this.lastConfirmedLeg < 0) {
      this.monologueStart[leg] = start;
    }
    this.lastConfirmedLeg = leg;
  }

  /** Decide a pending talk-over of `leg` once it is known whether it yielded and whether the talk-over lasted. */
  private resolveTalkOver(leg: number, n: number): void {
    const start = this.pendingStart[leg];
    if (start < 0) return;
    const other = 1 - leg;
    if (this.pendingQualified[leg] === 0) {
      if (this.lastSpeech[other] - start + 1 >= this.minTalkOverFrames) this.pendingQualified[leg] = 1;
      else if (this.active[other] === 0) {
        // A backchannel ("mm-hmm") over someone is not an attempt to take the floor.
        this.pendingStart[leg] = -1;
        return;
      }
    }
    if (this.pendingYield[leg] < 0) {
      if (this.active[leg] === 0)
        this.pendingYield[leg] = this.lastSpeech[leg] - start <= this.yieldFrames ? 1 : 0;
      else if (n - start > this.yieldFrames + this.hangoverFrames) this.pendingYield[leg] = 0;
    }
    if (this.pendingQualified[leg] === 1 && this.pendingYield[leg] >= 0) {
      this.talkOvers[leg]++;
      this.yields[leg] += this.pendingYield[leg];
      this.pendingStart[leg] = -1;
    }
  }

  talkFraction(leg: number): number {
    return this.frames > 0 ? this.speechFrames[leg] / this.frames : 0;
  }

  doubleTalkFraction(): number {
    return this.frames > 0 ? this.doubleTalkFrames / this.frames : 0;
  }

  mutualSilenceFraction(): number {
    return this.frames > 0 ? this.mutualSilenceFrames / this.frames : 0;
  }

  /** Quantile (0..1) of all turn gaps, seconds; 0 when no gap was measured. */
  gapQuantileS(q: number): number {
    return histogramQuantileS(this.gapHistogram, this.gapCount, q);
  }

  /** Quantile of the leg's response latency after the other leg stopped, seconds; 0 when never measured. */
  responseQuantileS(leg: number, q: number): number {
    return histogramQuantileS(this.responseHistograms[leg], this.responseCounts[leg], q);
  }

  /** Share of talk-overs the leg yielded to, with one neutral pseudo-observation (0.5 when never talked over). */
  yieldRate(leg: number): number {
    return (this.yields[leg] + 0.5) / (this.talkOvers[leg] + 1);
  }

  longestMonologueS(leg: number): number {
    return (this.longestMonologueFrames[leg] * FRAME_MS) / 1000;
  }

  reset(): void {
    this.frames = 0;
    this.doubleTalkFrames = 0;
    this.mutualSilenceFrames = 0;
    this.turns = 0;
    this.gapCount = 0;
    this.lastConfirmedLeg = -1;
    for (const a of [
      this.speechFrames,
      this.talkOvers,
      this.yields,
      this.longestMonologueFrames,
      this.spurts,
    ]) {
      a.fill(0);
    }
    this.responseCounts.fill(0);
    this.gapHistogram.fill(0);
    this.responseHistograms[0].fill(0);
    this.responseHistograms[1].fill(0);
    this.active.fill(0);
    this.confirmed.fill(0);
    this.lastSpeech.fill(-1e9);
    this.monologueStart.fill(-1);
    this.pendingStart.fill(-1);
  }
}

function histogramQuantileS(histogram: Uint32Array, count: number, q: number): number {
  if (count <= 0) return 0;
  const target = q * (count - 1);
  let seen = 0;
  for (let bin = 0; bin < histogram.length; bin++) {
    seen += histogram[bin];
    if (seen > target) return (bin * FRAME_MS) / 1000;
  }
  return ((histogram.length - 1) * FRAME_MS) / 1000;
}
