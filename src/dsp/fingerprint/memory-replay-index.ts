import {
  batchFrame,
  type ReplayIndex,
  ReplayMatcher,
  type ReplayMatchOptions,
  type ReplayStatus,
} from './replay-index.ts';

export interface MemoryReplayIndexOptions extends ReplayMatchOptions {
  /** Calls kept per fingerprint value (oldest dropped): bounds the cost of very common fingerprints. */
  perHashCap?: number;
  /** Distinct fingerprint values kept (oldest inserted dropped first): bounds memory. */
  maxHashes?: number;
  /** Only the first this-many seconds of each call are indexed (look-ups continue): bounds memory per call. */
  maxIndexedSecondsPerCall?: number;
}

/**
 * Replay index inside one process: for `analyze` over a folder, where every call of the run sees the others.
 * Entries per fingerprint are flat [callId, frame, callId, frame, ...] arrays; call keys are interned to ids.
 */
export class MemoryReplayIndex implements ReplayIndex {
  private readonly matcher: ReplayMatcher;
  private readonly perHashCap: number;
  private readonly maxHashes: number;
  private readonly maxIndexedFramesPerCall: number;
  private readonly entries = new Map<number, number[]>();
  private readonly callIds = new Map<string, number>();
  private readonly callKeys: string[] = [];

  constructor(options: MemoryReplayIndexOptions = {}) {
    this.matcher = new ReplayMatcher(options);
    this.perHashCap = options.perHashCap ?? 64;
    this.maxHashes = options.maxHashes ?? 2_000_000;
    this.maxIndexedFramesPerCall = Math.round((options.maxIndexedSecondsPerCall ?? 600) * 50);
  }

  add(callKey: string, mediaS: number, hashes: Uint32Array, count: number): void {
    let id = this.callIds.get(callKey);
    if (id === undefined) {
      id = this.callKeys.length;
      this.callKeys.push(callKey);
      this.callIds.set(callKey, id);
    }
    // Look everything up before storing, so frames of this batch never match each other.
    for (let i = 0; i < count; i++) {
      const h = hashes[i];
      if (h === 0) continue;
      const list = this.entries.get(h);
      if (list === undefined) continue;
      const frame = batchFrame(mediaS, i);
      for (let e = 0; e < list.length; e += 2) {
        if (list[e] !== id) this.matcher.hit(callKey, frame, this.callKeys[list[e]], list[e + 1]);
      }
    }
    this.matcher.settle(callKey);
    for (let i = 0; i < count; i++) {
      const h = hashes[i];
      const frame = batchFrame(mediaS, i);
      if (h === 0 || frame >= this.maxIndexedFramesPerCall) continue;
      let list = this.entries.get(h);
      if (list === undefined) {
        if (this.entries.size >= this.maxHashes) {
          const oldest = this.entries.keys().next().value;
          if (oldest !== undefined) this.entries.delete(oldest);
        }
        list = [];
        this.entries.set(h, list);
      }
      if (list.length >= this.perHashCap * 2) list.splice(0, 2);
      list.push(id, frame);
    }
  }

  status(callKey: string): ReplayStatus {
    return this.matcher.status(callKey);
  }

  endCall(callKey: string): void {
    this.matcher.forget(callKey);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
