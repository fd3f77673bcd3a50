import { FRAME_MS, type LegStats } from '../../ingest/media-sink.ts';
import { typedViews } from '../../ingest/typed-views.ts';
import { type ConversationOptions, ConversationTracker } from '../conversation/conversation-tracker.ts';
import {
  CONVERSATION_FEATURES,
  FEATURE_NAMES,
  featureIndex,
  LEG_EVENT_FEATURES,
  LEG_PREFIXES,
  LEG_STATS,
  TONE_NAMES,
} from '../feature-names.ts';
import type { LoopDetector } from '../fingerprint/loop-detector.ts';
import type { ReplayStatus } from '../fingerprint/replay-index.ts';

/** The per-frame fields the aggregator reads (FrameFeatures has them all). */
export interface FrameFeatureView {
  levelDbfs: number;
  clipFraction: number;
  zcr: number;
  centroidHz: number;
  flatness: number;
  readonly bands: Float32Array;
  pitchHz: number;
  voicing: number;
  speechProb: number;
  isSpeech: boolean;
  tonality: number;
  snrDb: number;
}

export interface WindowAggregatorOptions extends ConversationOptions {
  /** Length of the `recent` scope, in windows (hops). */
  recentWindows?: number;
}

// Cumulative accumulators per leg; `recent` values are differences against a snapshot taken recentWindows ago.
const N = 0;
const LEVEL = 1;
const LEVEL2 = 2;
const CENTROID = 3;
const CENTROID2 = 4;
const FLAT = 5;
const FLAT2 = 6;
const ZCR = 7;
const VOICING = 8;
const VOICED = 9;
const ST = 10;
const ST2 = 11;
const JUMPS = 12;
const JUMP_SUM = 13;
const TILT = 14;
const BAND_MOD = 15;
const CLIP = 16;
const SPEECH = 17;
const PROB = 18;
const TONALITY = 19;
const SNR = 20;
const FINGERPRINTED = 21;
const LEG_ACC = 22;
// Call-level accumulators after the two legs' blocks.
const RX_TALK = 2 * LEG_ACC;
const TX_TALK = RX_TALK + 1;
const DOUBLE = RX_TALK + 2;
const SILENCE = RX_TALK + 3;
const TURNS = RX_TALK + 4;
const JOINT = RX_TALK + 5;
const DIGITS = RX_TALK + 6; // + leg
const ACC = DIGITS + 2;

const TILT_BANDS = 4;
const MAX_PITCH_JUMP_ST = 12;
const MAX_BAND_MOD_DB = 40;
const MAX_LATENCY_S = 3;

/**
 * Turns per-frame features of both legs, conversation state, detector counts, loop and replay results and
 * transport statistics into one fixed-order feature vector (FEATURE_NAMES) per window.
 * Allocation-free after construction: `compute` rewrites the same Float32Array.
 */
/** Feature index of each leg's first recent and call-scope transport statistic, and of its first event feature. */
const LEG_STAT_BASE = new Int32Array(4);
const LEG_EVENT_BASE = new Int32Array(2);
for (let leg = 0; leg < 2; leg++) {
  const p = LEG_PREFIXES[leg];
  LEG_STAT_BASE[leg * 2] = featureIndex(`${p}_recent_${LEG_STATS[0]}`);
  LEG_STAT_BASE[leg * 2 + 1] = featureIndex(`${p}_call_${LEG_STATS[0]}`);
  LEG_EVENT_BASE[leg] = featureIndex(`${p}_${LEG_EVENT_FEATURES[0]}`);
}

export class WindowAggregator {
  // The per-call arrays of one element type are views of one buffer (src/ingest/typed-views.ts).
  readonly features: Float32Array;
  readonly conversation: ConversationTracker;
  readonly recentWindows: number;
  /** Events counted so far, per leg: digits, tones per family (TONE_NAMES order), seconds of tone. */
  readonly digitCounts: Float64Array;
  readonly toneCounts: readonly [Float64Array, Float64Array];
  readonly toneSeconds: Float64Array;
  /** Real frames seen per leg (a missing leg is fed as silence and is not counted here). */
  readonly presentFrames: Float64Array;

  private readonly cum: Float64Array;
  private readonly snapshots: Float64Array;
  private windows = 0;
  private readonly prevBands: Float32Array[];
  private readonly prevVoicedSt: Float64Array;
  private readonly legStatBase = LEG_STAT_BASE;
  private readonly legEventBase = LEG_EVENT_BASE;
  private readonly conversationBase: number;
  private readonly replayCallsIndex: number;

  constructor(bandCount: number, options: WindowAggregatorOptions = {}) {
    this.conversation = new ConversationTracker(options);
    this.recentWindows = Math.max(1, Math.round(options.recentWindows ?? 8));
    const tones = TONE_NAMES.length;
    const [digitCounts, toneSeconds, presentFrames, prevVoicedSt, rxTones, txTones, cum, snapshots] =
      typedViews(Float64Array, [2, 2, 2, 2, tones, tones, ACC, ACC * (this.recentWindows + 1)]);
    this.digitCounts = digitCounts;
    this.toneSeconds = toneSeconds;
    this.presentFrames = presentFrames;
    this.prevVoicedSt = prevVoicedSt.fill(Number.NaN);
    this.toneCounts = [rxTones, txTones];
    this.cum = cum;
    this.snapshots = snapshots;
    const [features, rxBands, txBands] = typedViews(Float32Array, [
      FEATURE_NAMES.length,
      bandCount,
      bandCount,
    ]);
    this.features = features;
    this.prevBands = [rxBands, txBands];
    this.conversationBase = featureIndex(CONVERSATION_FEATURES[0]);
    this.replayCallsIndex = featureIndex('replay_calls_log1p');
  }

  /** One analysed frame of one leg. */
  pushLegFrame(leg: number, f: FrameFeatureView, fingerprinted: boolean): void {
    const c = this.cum;
    const o = leg * LEG_ACC;
    const level = clamp(f.levelDbfs, -100, 0);
    const centroid = f.centroidHz / 1000;
    c[o + N]++;
    c[o + LEVEL] += level;
    c[o + LEVEL2] += level * level;
    c[o + CENTROID] += centroid;
    c[o + CENTROID2] += centroid * centroid;
    c[o + FLAT] += f.flatness;
    c[o + FLAT2] += f.flatness * f.flatness;
    c[o + ZCR] += f.zcr / 1000;
    c[o + VOICING] += f.voicing;
    c[o + CLIP] += f.clipFraction;
    c[o + SPEECH] += f.isSpeech ? 1 : 0;
    c[o + PROB] += f.speechProb;
    c[o + TONALITY] += f.tonality;
    c[o + SNR] += clamp(f.snrDb, 0, 100);
    c[o + FINGERPRINTED] += fingerprinted ? 1 : 0;
    if (f.pitchHz > 0) {
      const st = 12 * Math.log2(f.pitchHz / 100);
      c[o + VOICED]++;
      c[o + ST] += st;
      c[o + ST2] += st * st;
      const prev = this.prevVoicedSt[leg];
      if (!Number.isNaN(prev)) {
        c[o + JUMPS]++;
        c[o + JUMP_SUM] += Math.min(MAX_PITCH_JUMP_ST, Math.abs(st - prev));
      }
      this.prevVoicedSt[leg] = st;
    } else {
      this.prevVoicedSt[leg] = Number.NaN;
    }
    const bands = f.bands;
    const prevBands = this.prevBands[leg];
    const count = Math.min(bands.length, prevBands.length);
    const k = Math.min(count, TILT_BANDS);
    let low = 0;
    let high = 0;
    let modulation = 0;
    for (let b = 0; b < count; b++) {
      const v = bands[b];
      if (b < k) low += v;
      if (b >= count - k) high += v;
      modulation += Math.abs(v - prevBands[b]);
      prevBands[b] = v;
    }
    if (count > 0) {
      c[o + TILT] += clamp((low - high) / k, -100, 100);
      c[o + BAND_MOD] += c[o + N] > 1 ? Math.min(MAX_BAND_MOD_DB, modulation / count) : 0;
    }
  }

  /** Both legs' voice-activity decisions for the next call frame; `present` = the leg had a real frame. */
  pushCallFrame(rxSpeech: boolean, txSpeech: boolean, rxPresent: boolean, txPresent: boolean): void {
    this.conversation.push(rxSpeech, txSpeech);
    const c = this.cum;
    c[JOINT]++;
    if (rxSpeech) c[RX_TALK]++;
    if (txSpeech) c[TX_TALK]++;
    if (rxSpeech && txSpeech) c[DOUBLE]++;
    else if (!rxSpeech && !txSpeech) c[SILENCE]++;
    c[TURNS] = this.conversation.turns;
    if (rxPresent) this.presentFrames[0]++;
    if (txPresent) this.presentFrames[1]++;
  }

  countDigit(leg: number): void {
    this.digitCounts[leg]++;
    this.cum[DIGITS + leg]++;
  }

  countTone(leg: number, toneIndex: number, durS: number): void {
    this.toneCounts[leg][toneIndex]++;
    this.toneSeconds[leg] += Math.max(durS, 0);
  }

  /**
   * Writes the window's vector into `features` (and returns it), then snapshots the accumulators for `recent`.
   * legStats may be null (WAV input has no transport).
   */
  compute(
    mediaS: number,
    rxLoop: LoopDetector,
    txLoop: LoopDetector,
    replay: ReplayStatus,
    legStats: readonly [LegStats, LegStats] | null,
  ): Float32Array {
    const out = this.features;
    const c = this.cum;
    const snaps = this.snapshots;
    const slots = this.recentWindows + 1;
    // The snapshot taken recentWindows windows ago (zeros before that: the call start).
    const back = this.windows - this.recentWindows;
    const s = back >= 0 ? (back % slots) * ACC : -1;
    for (let leg = 0; leg < 2; leg++) {
      const o = leg * LEG_ACC;
      this.writeLegStats(this.legStatBase[leg * 2], o, s);
      this.writeLegStats(this.legStatBase[leg * 2 + 1], o, -1);
    }

    const conv = this.conversation;
    let i = this.conversationBase;
    const joint = c[JOINT] - (s >= 0 ? snaps[s + JOINT] : 0);
    out[i++] = ratio(c[RX_TALK] - (s >= 0 ? snaps[s + RX_TALK] : 0), joint);
    out[i++] = ratio(c[TX_TALK] - (s >= 0 ? snaps[s + TX_TALK] : 0), joint);
    out[i++] = ratio(c[DOUBLE] - (s >= 0 ? snaps[s + DOUBLE] : 0), joint);
    out[i++] = ratio(c[SILENCE] - (s >= 0 ? snaps[s + SILENCE] : 0), joint);
    out[i++] = Math.log1p(c[TURNS] - (s >= 0 ? snaps[s + TURNS] : 0));
    const rxTalk = conv.talkFraction(0);
    const txTalk = conv.talkFraction(1);
    out[i++] = rxTalk;
    out[i++] = txTalk;
    out[i++] = conv.doubleTalkFraction();
    out[i++] = conv.mutualSilenceFraction();
    out[i++] = rxTalk + txTalk > 0 ? (rxTalk - txTalk) / (rxTalk + txTalk) : 0;
    out[i++] = Math.log1p(conv.turns);
    const minutes = (conv.frames * FRAME_MS) / 60000;
    out[i++] = minutes > 0 ? Math.min(120, conv.turns / Math.max(minutes, 1 / 6)) : 0;
    out[i++] = Math.min(MAX_LATENCY_S, conv.gapQuantileS(0.5));
    out[i++] = Math.min(MAX_LATENCY_S, conv.gapQuantileS(0.9));
    out[i++] = Math.min(MAX_LATENCY_S, conv.responseQuantileS(0, 0.5));
    out[i++] = Math.log1p(conv.responseCounts[0]);
    out[i++] = Math.min(MAX_LATENCY_S, conv.responseQuantileS(1, 0.5));
    out[i++] = Math.log1p(conv.responseCounts[1]);
    out[i++] = conv.yieldRate(0);
    out[i++] = Math.log1p(conv.talkOvers[0]);
    out[i++] = conv.yieldRate(1);
    out[i++] = Math.log1p(conv.talkOvers[1]);
    out[i++] = Math.log1p(conv.longestMonologueS(0));
    out[i++] = Math.log1p(conv.longestMonologueS(1));

    for (let leg = 0; leg < 2; leg++) {
      let j = this.legEventBase[leg];
      const loop = leg === 0 ? rxLoop : txLoop;
      out[j++] = Math.log1p(this.digitCounts[leg]);
      out[j++] = Math.log1p(c[DIGITS + leg] - (s >= 0 ? snaps[s + DIGITS + leg] : 0));
      const tones = this.toneCounts[leg];
      for (let t = 0; t < tones.length; t++) out[j++] = Math.log1p(tones[t]);
      out[j++] = clamp(ratio(this.toneSeconds[leg], mediaS), 0, 1);
      out[j++] = clamp(loop.score, 0, 1);
      out[j++] = clamp(loop.periodS, 0, 60);
      out[j++] = clamp(loop.maxScore, 0, 1);
      if (legStats !== null) {
        const st = legStats[leg];
        const expected = st.packets + st.lost;
        out[j++] = clamp(ratio(st.lost, expected), 0, 1);
        out[j++] = clamp(ratio(st.late, expected), 0, 1);
        out[j++] = Math.log1p(clamp(st.jitterMs, 0, 10000));
      } else {
        out[j++] = 0;
        out[j++] = 0;
        out[j++] = 0;
      }
      out[j++] = clamp(ratio(this.presentFrames[leg], c[JOINT]), 0, 1);
    }

    let r = this.replayCallsIndex;
    out[r++] = Math.log1p(replay.matchedCalls);
    out[r++] = Math.log1p(clamp(replay.bestOverlapS, 0, 86400));
    out[r++] = Math.log1p(clamp(mediaS, 0, 86400 * 7));

    // Never hand a model NaN or Infinity, whatever a producer fed in.
    for (let k = 0; k < out.length; k++) {
      const v = out[k];
      if (!(v > -1e6 && v < 1e6)) out[k] = 0;
    }

    const slot = (this.windows % slots) * ACC;
    for (let k = 0; k < ACC; k++) snaps[slot + k] = c[k];
    this.windows++;
    return out;
  }

  /** Writes LEG_STATS for one leg starting at out[base]; s = snapshot offset to subtract, or -1 for the whole call. */
  private writeLegStats(base: number, o: number, s: number): void {
    const out = this.features;
    const n = this.delta(o + N, s);
    const voiced = this.delta(o + VOICED, s);
    let i = base;
    out[i++] = n > 0 ? this.delta(o + LEVEL, s) / n : -100;
    out[i++] = std(this.delta(o + LEVEL, s), this.delta(o + LEVEL2, s), n);
    out[i++] = ratio(this.delta(o + CENTROID, s), n);
    out[i++] = std(this.delta(o + CENTROID, s), this.delta(o + CENTROID2, s), n);
    out[i++] = ratio(this.delta(o + FLAT, s), n);
    out[i++] = std(this.delta(o + FLAT, s), this.delta(o + FLAT2, s), n);
    out[i++] = ratio(this.delta(o + ZCR, s), n);
    out[i++] = ratio(this.delta(o + VOICING, s), n);
    out[i++] = ratio(voiced, n);
    out[i++] = std(this.delta(o + ST, s), this.delta(o + ST2, s), voiced);
    out[i++] = ratio(this.delta(o + JUMP_SUM, s), this.delta(o + JUMPS, s));
    out[i++] = ratio(this.delta(o + TILT, s), n);
    out[i++] = ratio(this.delta(o + BAND_MOD, s), n);
    out[i++] = ratio(this.delta(o + CLIP, s), n);
    out[i++] = ratio(this.delta(o + SPEECH, s), n);
    out[i++] = ratio(this.delta(o + PROB, s), n);
    out[i++] = ratio(this.delta(o + TONALITY, s), n);
    out[i++] = ratio(this.delta(o + SNR, s), n);
    out[i++] = ratio(this.delta(o + FINGERPRINTED, s), n);
  }

  /** Accumulator k since snapshot offset s (-1: since the call began). */
  private delta(k: number, s: number): number {
    return s >= 0 ? this.cum[k] - this.snapshots[s + k] : this.cum[k];
  }
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}

function std(sum: number, sumSquares: number, n: number): number {
  if (n < 2) return 0;
  const mean = sum / n;
  const variance = sumSquares / n - mean * mean;
  return variance > 0 ? Math.sqrt(variance) : 0;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : Math.min(v, hi);
}
