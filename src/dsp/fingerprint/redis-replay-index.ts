import { Redis } from 'ioredis';
import {
  batchFrame,
  type ReplayIndex,
  ReplayMatcher,
  type ReplayMatchOptions,
  type ReplayStatus,
} from './replay-index.ts';

export interface RedisReplayIndexOptions extends ReplayMatchOptions {
  /** Prefix of every key this index writes (`<prefix>fp:<hash>`). */
  keyPrefix?: string;
  /** Seconds a fingerprint stays indexed after it was last heard. */
  ttlS?: number;
  /** Newest entries kept per fingerprint value: bounds the cost of very common fingerprints. */
  perHashCap?: number;
  /** Only the first this-many seconds of each call are indexed (look-ups continue): bounds Redis memory per call. */
  maxIndexedSecondsPerCall?: number;
}

/**
 * Replay index shared through Redis, so calls handled by different processes and hosts see each other.
 *
 * Layout: one sorted set per fingerprint value, `<prefix>fp:<hash>`, members `<callKey>|<frame>` scored by the
 * time they were written; each write trims the set to its newest perHashCap members and renews its EXPIRE.
 * Total size is bounded by (calls per TTL) x maxIndexedSecondsPerCall x 50 fingerprints.
 *
 * One pipeline per add() — i.e. per call per second — carries the look-ups (ZRANGE) of the batch followed by its
 * writes, so a call never matches its own batch and Redis sees a few round trips per call per second, not one per
 * frame. Replies update the call's status asynchronously. A failed pipeline (Redis down) loses that second's
 * look-ups and writes; it is counted in `errors`, never thrown into the media path.
 */
export class RedisReplayIndex implements ReplayIndex {
  readonly keyPrefix: string;
  errors = 0;
  lastError: Error | null = null;
  private readonly redis: Redis;
  private readonly ownsRedis: boolean;
  private readonly matcher: ReplayMatcher;
  private readonly ttlS: number;
  private readonly perHashCap: number;
  /** ZREMRANGEBYRANK stop index that keeps the newest perHashCap members. */
  private readonly trimStop: string;
  private readonly maxIndexedFramesPerCall: number;
  private readonly pending = new Set<Promise<void>>();
  /** Calls not ended yet: replies arriving after endCall() must not resurrect their bookkeeping. */
  private readonly active = new Set<string>();

  constructor(redis: Redis | string, options: RedisReplayIndexOptions = {}) {
    this.ownsRedis = typeof redis === 'string';
    this.redis = typeof redis === 'string' ? new Redis(redis, { maxRetriesPerRequest: 2 }) : redis;
    this.keyPrefix = options.keyPrefix ?? 'forkguard:replay:';
    this.ttlS = Math.max(1, Math.round(options.ttlS ?? 7200));
    this.perHashCap = Math.max(1, Math.round(options.perHashCap ?? 64));
    this.trimStop = String(-(this.perHashCap + 1));
    this.maxIndexedFramesPerCall = Math.round((options.maxIndexedSecondsPerCall ?? 600) * 50);
    this.matcher = new ReplayMatcher(options);
  }

  add(callKey: string, mediaS: number, hashes: Uint32Array, count: number): void {
    this.active.add(callKey);
    const pipeline = this.redis.pipeline();
    const frames: number[] = [];
    for (let i = 0; i < count; i++) {
      const h = hashes[i];
      if (h === 0) continue;
      frames.push(batchFrame(mediaS, i));
      pipeline.zrange(`${this.keyPrefix}fp:${h}`, '0', '-1');
    }
    if (frames.length === 0) return;
    const lookups = frames.length;
    const nowMs = String(Date.now());
    for (let i = 0; i < count; i++) {
      const h = hashes[i];
      const frame = batchFrame(mediaS, i);
      if (h === 0 || frame >= this.maxIndexedFramesPerCall) continue;
      const key = `${this.keyPrefix}fp:${h}`;
      pipeline.zadd(key, nowMs, `${callKey}|${frame}`);
      pipeline.zremrangebyrank(key, 0, this.trimStop);
      pipeline.expire(key, this.ttlS);
    }
    const done = pipeline.exec().then(
      (replies) => {
        if (replies === null || !this.active.has(callKey)) return;
        for (let r = 0; r < lookups; r++) {
          const [err, members] = replies[r];
          if (err !== null) {
            this.fail(err);
            continue;
          }
          for (const member of members as string[]) {
            const bar = member.lastIndexOf('|');
            if (bar <= 0) continue;
            this.matcher.hit(callKey, frames[r], member.slice(0, bar), Number(member.slice(bar + 1)));
          }
        }
        this.matcher.settle(callKey);
      },
      (err: Error) => this.fail(err),
    );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  private fail(err: Error): void {
    this.errors++;
    this.lastError = err;
  }

  status(callKey: string): ReplayStatus {
    return this.matcher.status(callKey);
  }

  endCall(callKey: string): void {
    this.active.delete(callKey);
    this.matcher.forget(callKey);
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.ownsRedis) await this.redis.quit();
  }
}
