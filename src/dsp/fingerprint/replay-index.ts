import { FRAME_MS } from '../../ingest/media-sink.ts';
import { STAGES, WORK } from '../../telemetry/stage-clock.ts';

/**
 * Cross-call replay: the same recording heard on several calls (a robocall campaign, a pumping loop shared by
 * many lines). Calls submit their frame fingerprints in batches; the index answers, per call, how many other calls
 * share a run of identical fingerprints at one consistent time offset.
 */
export interface ReplayStatus {
  /** Distinct other calls sharing at least minMatches identical fingerprints at a consistent offset. */
  matchedCalls: number;
  /** The other call with the most matching frames, or null. */
  bestCallKey: string | null;
  /** Media time spanned by the best call's matching frames, seconds. */
  bestOverlapS: number;
  /** Matching frames with the best call. */
  bestMatchedFrames: number;
}

export interface ReplayIndex {
  /**
   * Index a batch of consecutive frame fingerprints of one call (0 = frame without fingerprint: silence, tones)
   * whose first frame starts at mediaS, and look them up against every other call. Meant to be called about once
   * a second per call with that second's frames, never per frame.
   */
  add(callKey: string, mediaS: number, hashes: Uint32Array, count: number): void;
  /** Latest result for the call; synchronous (a shared index updates it when its replies arrive). */
  status(callKey: string): ReplayStatus;
  /** The call is over: forget its match bookkeeping (its fingerprints stay indexed until they expire). */
  endCall(callKey: string): void;
  /** Resolves when every batch submitted so far has been stored and looked up. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface ReplayMatchOptions {
  /** Identical fingerprints at one offset (+-1 frame) needed before another call counts as a match. */
  minMatches?: number;
  /** Media time the matching frames must span before another call counts as a match. */
  minOverlapS?: number;
}

export const NO_REPLAY: ReplayStatus = Object.freeze({
  matchedCalls: 0,
  bestCallKey: null,
  bestOverlapS: 0,
  bestMatchedFrames: 0,
}) as ReplayStatus;

/** Frame number in call media time of the i-th fingerprint of a batch that starts at mediaS. */
export function batchFrame(mediaS: number, i: number): number {
  return Math.round((mediaS * 1000) / FRAME_MS) + i;
}

interface OffsetTally {
  count: number;
  firstFrame: number;
  lastFrame: number;
}

/**
 * Per-call tallies of fingerprint hits by (other call, time offset), shared by every ReplayIndex implementation.
 * Runs on look-up replies (once a second per call), so maps here are fine; the per-frame path never touches it.
 */
export class ReplayMatcher {
  readonly minMatches: number;
  readonly minOverlapS: number;
  private readonly tallies = new Map<string, Map<string, Map<number, OffsetTally>>>();
  private readonly statuses = new Map<string, ReplayStatus>();

  constructor(options: ReplayMatchOptions = {}) {
    this.minMatches = options.minMatches ?? 6;
    this.minOverlapS = options.minOverlapS ?? 1;
  }

  /** One hit: frame `frame` of `callKey` has the same fingerprint as frame `otherFrame` of `otherKey`. */
  hit(callKey: string, frame: number, otherKey: string, otherFrame: number): void {
    if (otherKey === callKey) return;
    let byOther = this.tallies.get(callKey);
    if (byOther === undefined) {
      byOther = new Map();
      this.tallies.set(callKey, byOther);
    }
    let byOffset = byOther.get(otherKey);
    if (byOffset === undefined) {
      byOffset = new Map();
      byOther.set(otherKey, byOffset);
    }
    const offset = frame - otherFrame;
    const t = byOffset.get(offset);
    if (t === undefined) {
      byOffset.set(offset, { count: 1, firstFrame: frame, lastFrame: frame });
    } else if (frame !== t.lastFrame) {
      t.count++;
      if (frame < t.firstFrame) t.firstFrame = frame;
      if (frame > t.lastFrame) t.lastFrame = frame;
    }
  }

  /** Recompute the call's status after a batch of hits. */
  settle(callKey: string): void {
    const byOther = this.tallies.get(callKey);
    if (byOther === undefined) return;
    let matchedCalls = 0;
    let bestCallKey: string | null = null;
    let bestFrames = 0;
    let bestOverlapS = 0;
    for (const [otherKey, byOffset] of byOther) {
      STAGES.count(WORK.replay_tallies_visited, byOffset.size);
      let callBest = 0;
      let callOverlapS = 0;
      for (const [offset, t] of byOffset) {
        // The same recording at a sub-frame misalignment lands on two neighbouring offsets.
        const before = byOffset.get(offset - 1);
        const after = byOffset.get(offset + 1);
        let count = t.count;
        let first = t.firstFrame;
        let last = t.lastFrame;
        if (before !== undefined) {
          count += before.count;
          first = Math.min(first, before.firstFrame);
          last = Math.max(last, before.lastFrame);
        }
        if (after !== undefined) {
          count += after.count;
          first = Math.min(first, after.firstFrame);
          last = Math.max(last, after.lastFrame);
        }
        if (count > callBest) {
          callBest = count;
          callOverlapS = ((last - first + 1) * FRAME_MS) / 1000;
        }
      }
      if (callBest >= this.minMatches && callOverlapS >= this.minOverlapS) {
        matchedCalls++;
        if (callBest > bestFrames) {
          bestFrames = callBest;
          bestCallKey = otherKey;
          bestOverlapS = callOverlapS;
        }
      }
    }
    this.statuses.set(callKey, {
      matchedCalls,
      bestCallKey,
      bestOverlapS,
      bestMatchedFrames: bestFrames,
    });
  }

  status(callKey: string): ReplayStatus {
    return this.statuses.get(callKey) ?? NO_REPLAY;
  }

  forget(callKey: string): void {
    this.tallies.delete(callKey);
    this.statuses.delete(callKey);
  }
}
