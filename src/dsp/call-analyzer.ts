import {
  type DigitEvent,
  FRAME_MS,
  LEG_NAMES,
  type Leg,
  type LegName,
  type LegStats,
  type MediaSink,
  RX,
} from '../ingest/media-sink.ts';
import { STAGE, STAGES, WORK } from '../telemetry/stage-clock.ts';
import type { ConversationTracker } from './conversation/conversation-tracker.ts';
import type { DetectorEvent, ToneValue } from './detector-event.ts';
import type { DetectorListener } from './detectors/detector-listener.ts';
import { DtmfDetector } from './detectors/dtmf-detector.ts';
import { ToneDetector } from './detectors/tone-detector.ts';
import { TONE_NAMES } from './feature-names.ts';
import { Fingerprinter, type FingerprinterOptions } from './fingerprint/fingerprinter.ts';
import { LOOP_SCORE_THRESHOLD, LoopDetector, type LoopDetectorOptions } from './fingerprint/loop-detector.ts';
import { NO_REPLAY, type ReplayIndex, type ReplayStatus } from './fingerprint/replay-index.ts';
import { FrameAnalyzer } from './frame/frame-analyzer.ts';
import { BAND_COUNT, BIN_COUNT, BIN_HZ, FrameFeatures } from './frame/frame-features.ts';
import { WindowAggregator } from './window/window-aggregator.ts';

export interface CallAnalyzerListener {
  /** A feature window (FEATURE_NAMES order). `features` is reused: copy it to keep it past the call. */
  onWindow(call: CallAnalyzer, mediaS: number, features: Float32Array): void;
  onEvent(call: CallAnalyzer, event: DetectorEvent): void;
  onEnd(call: CallAnalyzer): void;
}

export interface CallAnalyzerOptions {
  /** Media time between feature windows, seconds (default 1). */
  windowHopS?: number;
  /** Length of the `recent` feature scope, seconds (default 8). */
  recentWindowS?: number;
  /** Cross-call replay index; without one, replay features stay 0. */
  replayIndex?: ReplayIndex;
  /** Legs whose fingerprints go to the replay index (default rx only: the far end is where recordings come from). */
  replayLegs?: readonly Leg[];
  /** Transport statistics kept by ingest (absent for WAV input). */
  legStats?: readonly [LegStats, LegStats];
  /** How far one leg may run ahead before the other's missing frames are taken as silence (default 200 ms). */
  maxLegLeadMs?: number;
  /** In-band and RFC 4733 digits starting within this many seconds of each other are one key press (default 0.1). */
  digitMergeS?: number;
  fingerprint?: FingerprinterOptions;
  loop?: LoopDetectorOptions;
}

export interface DigitRecord {
  digit: string;
  startS: number;
  durS: number;
  source: 'rfc4733' | 'inband';
}

export interface ToneRecord {
  tone: ToneValue;
  startS: number;
  durS: number;
}

export interface LoopEvidence {
  leg: LegName;
  /** Current loop score 0..1 and period. */
  score: number;
  periodS: number;
  /** Media time the current loop was first scored at LOOP_SCORE_THRESHOLD, or -1. */
  sinceS: number;
  maxScore: number;
  maxScorePeriodS: number;
}

/** Frames of per-leg voice activity kept until both legs' frame k can be joined; must exceed the lead limit. */
const JOIN_RING = 64;
/** An in-band digit waits this long (media time of its leg) for an RFC 4733 twin, whose timing is preferred. */
const INBAND_HOLD_FRAMES = 8;
/** Per-leg cap on kept digit and tone records. */
const MAX_RECORDS = 4096;
const FRAMES_PER_SECOND = 1000 / FRAME_MS;

/**
 * Everything forkguard computes for one call: the MediaSink that ingest (live) and recorded-call readers
 * (offline) feed.
 *
 * Per leg, as each frame arrives: frame features, in-band DTMF and tone detection, a fingerprint, the loop
 * detector, and the frame's share of the window statistics. Nothing per leg waits for the other leg, so a lagging
 * or absent leg never delays digits or tones.
 *
 * Across legs, in call frame order: frame k of the conversation is processed once both legs have delivered frame
 * k, or once either leg is more than `maxLegLeadMs` ahead of k, in which case a leg that has not delivered frame k
 * is taken as silent for it (its frame, if it arrives later, still feeds that leg's own statistics but not the
 * conversation). A mono recording has no tx leg: tx is silence throughout. Each `windowHopS` of call frames
 * processed this way emits a feature window.
 *
 * Digits: in-band detections and RFC 4733 events of one leg form one stream. Two reports of the same digit from
 * different sources starting within `digitMergeS` are one key press; the RFC 4733 timing wins (on a leg that has
 * carried telephone-events, an in-band digit is held for INBAND_HOLD_FRAMES of its leg's media time waiting for
 * its twin). A leg that never carried one releases in-band digits at once: most legs never do, and holding every
 * digit would delay the card rule by 160 ms for nothing. An event arriving after its twin was released is still
 * recognised as the same key press and dropped.
 */
export class CallAnalyzer implements MediaSink, DetectorListener {
  readonly key: string;
  readonly windowHopS: number;
  ended = false;
  windows = 0;

  private readonly listener: CallAnalyzerListener;
  private readonly replayIndex: ReplayIndex | null;
  private legStats: readonly [LegStats, LegStats] | null;
  private readonly hopFrames: number;
  private readonly maxLeadFrames: number;
  private readonly digitMergeS: number;
  private readonly analyzers: [FrameAnalyzer, FrameAnalyzer];
  private readonly frameFeatures: [FrameFeatures, FrameFeatures];
  private readonly dtmf: [DtmfDetector, DtmfDetector];
  private readonly tone: [ToneDetector, ToneDetector];
  private readonly fingerprinters: [Fingerprinter, Fingerprinter];
  private readonly loops: [LoopDetector, LoopDetector];
  private readonly aggregator: WindowAggregator;
  private readonly lastIndex = new Float64Array([-1, -1]);
  private readonly speechRing: [Uint8Array, Uint8Array];
  private readonly ringIndex: [Float64Array, Float64Array];
  private nextCallFrame = 0;
  private framesSinceWindow = 0;
  private readonly replayEnabled = new Uint8Array(2);
  private readonly replayBatches: [Uint32Array, Uint32Array];
  private readonly replayBlock = new Float64Array([-1, -1]);
  /** 1 once a leg has carried an RFC 4733 event: only then are its in-band digits held for a twin. */
  private readonly rfc4733Seen = new Uint8Array(2);
  private readonly digitRecords: [DigitRecord[], DigitRecord[]] = [[], []];
  private readonly toneRecords: [ToneRecord[], ToneRecord[]] = [[], []];
  /** In-band digits waiting for a possible RFC 4733 twin, with the leg frame index at which they are released. */
  private readonly heldDigits: [
    { record: DigitRecord; releaseFrame: number }[],
    { record: DigitRecord; releaseFrame: number }[],
  ] = [[], []];

  constructor(key: string, listener: CallAnalyzerListener, options: CallAnalyzerOptions = {}) {
    this.key = key;
    this.listener = listener;
    this.windowHopS = options.windowHopS ?? 1;
    this.hopFrames = Math.max(1, Math.round(this.windowHopS * FRAMES_PER_SECOND));
    this.maxLeadFrames = Math.max(
      1,
      Math.min(JOIN_RING - 4, Math.round((options.maxLegLeadMs ?? 200) / FRAME_MS)),
    );
    this.digitMergeS = options.digitMergeS ?? 0.1;
    this.replayIndex = options.replayIndex ?? null;
    this.legStats = options.legStats ?? null;
    for (const leg of options.replayLegs ?? [RX]) this.replayEnabled[leg] = 1;
    this.analyzers = [new FrameAnalyzer(), new FrameAnalyzer()];
    this.frameFeatures = [new FrameFeatures(), new FrameFeatures()];
    this.dtmf = [new DtmfDetector(0, this), new DtmfDetector(1, this)];
    this.tone = [new ToneDetector(0, this), new ToneDetector(1, this)];
    this.fingerprinters = [
      new Fingerprinter(BIN_COUNT, BIN_HZ, options.fingerprint),
      new Fingerprinter(BIN_COUNT, BIN_HZ, options.fingerprint),
    ];
    this.loops = [new LoopDetector(options.loop), new LoopDetector(options.loop)];
    const recentWindows = Math.max(1, Math.round((options.recentWindowS ?? 8) / this.windowHopS));
    this.aggregator = new WindowAggregator(BAND_COUNT, { recentWindows });
    this.speechRing = [new Uint8Array(JOIN_RING), new Uint8Array(JOIN_RING)];
    this.ringIndex = [new Float64Array(JOIN_RING).fill(-1), new Float64Array(JOIN_RING).fill(-1)];
    this.replayBatches = [new Uint32Array(FRAMES_PER_SECOND), new Uint32Array(FRAMES_PER_SECOND)];
  }

  /** Call media time processed across both legs, seconds. */
  /**
   * Transport statistics of the ingest that feeds this call, when they exist only after the analyzer (the
   * ingest's CallMedia is built around its sink, which is this analyzer).
   */
  attachLegStats(stats: readonly [LegStats, LegStats]): void {
    this.legStats = stats;
  }

  get mediaS(): number {
    return (this.nextCallFrame * FRAME_MS) / 1000;
  }

  /** The latest feature window (reused; all zeros before the first). */
  get features(): Float32Array {
    return this.aggregator.features;
  }

  get conversation(): ConversationTracker {
    return this.aggregator.conversation;
  }

  /** Digits heard on the leg so far (merged stream, in the order they were accepted). */
  digits(leg: Leg): readonly DigitRecord[] {
    return this.digitRecords[leg];
  }

  tones(leg: Leg): readonly ToneRecord[] {
    return this.toneRecords[leg];
  }

  loopEvidence(leg: Leg): LoopEvidence {
    const loop = this.loops[leg];
    return {
      leg: LEG_NAMES[leg],
      score: loop.score,
      periodS: loop.periodS,
      sinceS: loop.loopingSinceS,
      maxScore: loop.maxScore,
      maxScorePeriodS: loop.maxScorePeriodS,
    };
  }

  /** True while a leg's loop score is at or above LOOP_SCORE_THRESHOLD. */
  isLooping(leg: Leg): boolean {
    return this.loops[leg].score >= LOOP_SCORE_THRESHOLD;
  }

  replayEvidence(): ReplayStatus {
    return this.replayIndex === null ? NO_REPLAY : this.replayIndex.status(this.key);
  }

  pushFrame(leg: Leg, frameIndex: number, pcm: Int16Array): void {
    if (this.ended || frameIndex <= this.lastIndex[leg]) return;
    const f = this.frameFeatures[leg];
    const analyzer = this.analyzers[leg];
    analyzer.process(pcm, f);
    this.lastIndex[leg] = frameIndex;
    this.dtmf[leg].process(pcm, frameIndex);
    this.tone[leg].process(pcm, frameIndex);
    const hash = this.fingerprinters[leg].process(analyzer.spectrum, f.levelDbfs);
    this.loops[leg].push(hash);
    this.aggregator.pushLegFrame(leg, f, hash !== 0);
    if (this.replayEnabled[leg] === 1) this.collectReplay(leg, frameIndex, hash);
    const slot = frameIndex % JOIN_RING;
    this.speechRing[leg][slot] = f.isSpeech ? 1 : 0;
    this.ringIndex[leg][slot] = frameIndex;
    if (this.heldDigits[leg].length > 0) this.releaseHeldDigits(leg, frameIndex);
    this.advance(false);
  }

  pushDigit(leg: Leg, event: DigitEvent): void {
    if (this.ended) return;
    if (event.source === 'inband') this.onDigit(leg, event.digit, event.startS, event.durS);
    else this.acceptRfc4733Digit(leg, event.digit, event.startS, event.durS);
  }

  end(): void {
    if (this.ended) return;
    for (let leg = 0; leg < 2; leg++) {
      const next = this.lastIndex[leg] + 1;
      this.dtmf[leg].finish(next);
      this.tone[leg].finish(next);
      if (this.replayEnabled[leg] === 1 && this.replayBlock[leg] >= 0) this.submitReplay(leg as Leg);
      this.releaseHeldDigits(leg as Leg, Number.POSITIVE_INFINITY);
    }
    this.ended = true;
    this.advance(true);
    if (this.framesSinceWindow > 0) this.emitWindow();
    this.listener.onEnd(this);
    this.replayIndex?.endCall(this.key);
  }

  /** In-band DTMF from this call's detectors (DetectorListener). */
  onDigit(leg: Leg, digit: string, startS: number, durS: number): void {
    const records = this.digitRecords[leg];
    for (let i = records.length - 1; i >= 0 && i >= records.length - 8; i--) {
      const r = records[i];
      if (r.source === 'rfc4733' && r.digit === digit && Math.abs(r.startS - startS) <= this.digitMergeS)
        return;
    }
    const release = this.ended
      ? 0
      : this.lastIndex[leg] + (this.rfc4733Seen[leg] === 1 ? INBAND_HOLD_FRAMES : 0);
    this.heldDigits[leg].push({ record: { digit, startS, durS, source: 'inband' }, releaseFrame: release });
    if (this.ended) this.releaseHeldDigits(leg, Number.POSITIVE_INFINITY);
  }

  /** Tones from this call's detectors (DetectorListener). */
  onTone(leg: Leg, tone: ToneValue, startS: number, durS: number): void {
    const index = TONE_NAMES.indexOf(tone);
    if (index >= 0) this.aggregator.countTone(leg, index, durS);
    const records = this.toneRecords[leg];
    if (records.length < MAX_RECORDS) records.push({ tone, startS, durS });
    this.listener.onEvent(this, {
      leg: LEG_NAMES[leg],
      type: 'tone',
      value: tone,
      at_s: startS,
      dur_s: durS,
    });
  }

  private acceptRfc4733Digit(leg: Leg, digit: string, startS: number, durS: number): void {
    this.rfc4733Seen[leg] = 1;
    const held = this.heldDigits[leg];
    for (let i = 0; i < held.length; i++) {
      const r = held[i].record;
      if (r.digit === digit && Math.abs(r.startS - startS) <= this.digitMergeS) {
        held.splice(i, 1);
        break;
      }
    }
    const records = this.digitRecords[leg];
    for (let i = records.length - 1; i >= 0 && i >= records.length - 8; i--) {
      const r = records[i];
      // Already accepted: the in-band twin released before this event arrived, or a repeated end event.
      if (r.digit === digit && Math.abs(r.startS - startS) <= this.digitMergeS) return;
    }
    this.emitDigit(leg, { digit, startS, durS, source: 'rfc4733' });
  }

  private releaseHeldDigits(leg: Leg, frameIndex: number): void {
    const held = this.heldDigits[leg];
    while (held.length > 0 && held[0].releaseFrame <= frameIndex) {
      const item = held.shift();
      if (item !== undefined) this.emitDigit(leg, item.record);
    }
  }

  private emitDigit(leg: Leg, record: DigitRecord): void {
    const records = this.digitRecords[leg];
    if (records.length < MAX_RECORDS) records.push(record);
    this.aggregator.countDigit(leg);
    this.listener.onEvent(this, {
      leg: LEG_NAMES[leg],
      type: 'dtmf',
      value: record.digit,
      at_s: record.startS,
      dur_s: record.durS,
      source: record.source,
    });
  }

  private collectReplay(leg: Leg, frameIndex: number, hash: number): void {
    const block = Math.floor(frameIndex / FRAMES_PER_SECOND);
    if (block !== this.replayBlock[leg]) {
      if (this.replayBlock[leg] >= 0) this.submitReplay(leg);
      this.replayBlock[leg] = block;
    }
    this.replayBatches[leg][frameIndex - block * FRAMES_PER_SECOND] = hash;
  }

  /** One batch per leg per second of media: the replay index sees a second of frames at a time. */
  private submitReplay(leg: Leg): void {
    const batch = this.replayBatches[leg];
    const startS = (this.replayBlock[leg] * FRAMES_PER_SECOND * FRAME_MS) / 1000;
    if (this.replayIndex !== null) {
      const outer = STAGES.enter(STAGE.replay);
      try {
        this.replayIndex.add(this.key, startS, batch, batch.length);
      } finally {
        STAGES.leave(outer);
      }
      STAGES.count(WORK.replay_batches);
    }
    batch.fill(0);
  }

  /** Join both legs' frames in call order (see the class comment for the rule). */
  private advance(final: boolean): void {
    const rxLast = this.lastIndex[0];
    const txLast = this.lastIndex[1];
    const newest = Math.max(rxLast, txLast);
    while (this.nextCallFrame <= newest) {
      const k = this.nextCallFrame;
      const both = rxLast >= k && txLast >= k;
      if (!both && !final && newest - k <= this.maxLeadFrames) break;
      const slot = k % JOIN_RING;
      const rxPresent = this.ringIndex[0][slot] === k;
      const txPresent = this.ringIndex[1][slot] === k;
      const rxSpeech = rxPresent && this.speechRing[0][slot] === 1;
      const txSpeech = txPresent && this.speechRing[1][slot] === 1;
      this.aggregator.pushCallFrame(rxSpeech, txSpeech, rxPresent, txPresent);
      this.nextCallFrame = k + 1;
      this.framesSinceWindow++;
      if (this.framesSinceWindow >= this.hopFrames) this.emitWindow();
    }
  }

  private emitWindow(): void {
    this.framesSinceWindow = 0;
    const mediaS = this.mediaS;
    const outer = STAGES.enter(STAGE.window);
    try {
      const features = this.aggregator.compute(
        mediaS,
        this.loops[0],
        this.loops[1],
        this.replayEvidence(),
        this.legStats,
      );
      this.windows++;
      this.listener.onWindow(this, mediaS, features);
    } finally {
      STAGES.leave(outer);
    }
  }
}
