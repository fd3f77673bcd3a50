import { Redis } from 'ioredis';
import { STAGE, STAGES, WORK } from '../../telemetry/stage-clock.ts';
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

const REPLAY_BATCH_COMMAND = 'forkguardReplayBatch';

/**
 * One call's second of fingerprints in one round trip and one command. ARGV = key prefix (`<prefix>fp:`), now
 * (ms), TTL (s), trim stop rank, call key, number of leading look-ups to index, then the batch as one string of
 * `<hash> <frame>` pairs in frame order; the script builds each look-up's key (prefix .. hash) itself. Every
 * look-up (ZRANGE) runs before any write, so a call never matches its own batch; each write is ZADD +
 * ZREMRANGEBYRANK + EXPIRE. Reply: one string, per look-up in order `<member count>;` then `<byte length>:<member>`
 * per member. One bulk string instead of nested arrays because the client decodes a large nested reply far more
 * slowly than it copies bytes, and member keys are then decoded straight from the bytes (see parseReplay).
 * A script instead of four commands per fingerprint, and the batch as one argument instead of a key and a frame
 * argument per fingerprint, because the client's per-command and per-argument cost (objects, promises, argument
 * encoding) was a large share of the service's CPU per packet: ~100 arguments per batch cost about 100 us.
 * The fingerprint keys are not declared in KEYS, which a single Redis (what forkguard uses) does not require;
 * Redis Cluster would.
 */
const REPLAY_BATCH_LUA = `
local prefix = ARGV[1]
local keys = {}
local frames = {}
local count = 0
for hash, frame in string.gmatch(ARGV[7], '(%d+) (%d+)') do
  count = count + 1
  keys[count] = prefix .. hash
  frames[count] = frame
end
local out = {}
local n = 0
for i = 1, count do
  local members = redis.call('ZRANGE', keys[i], 0, -1)
  n = n + 1
  out[n] = #members .. ';'
  for j = 1, #members do
    n = n + 1
    out[n] = #members[j] .. ':' .. members[j]
  end
end
local writes = tonumber(ARGV[6])
local member = ARGV[5] .. '|'
for i = 1, writes do
  redis.call('ZADD', keys[i], ARGV[2], member .. frames[i])
  redis.call('ZREMRANGEBYRANK', keys[i], 0, ARGV[4])
  redis.call('EXPIRE', keys[i], ARGV[3])
end
return table.concat(out)
`;

const REPLAY_BATCH_BUFFER = `${REPLAY_BATCH_COMMAND}Buffer`;

interface ReplayBatchCommand {
  [REPLAY_BATCH_COMMAND](...args: (string | number)[]): Promise<string>;
  [REPLAY_BATCH_BUFFER](...args: (string | number)[]): Promise<Buffer>;
}

const SEMICOLON = 0x3b;
const COLON = 0x3a;
const BAR = 0x7c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Frame number after a member's last `|`: plain digits directly, anything else as Number() reads the text. */
function memberFrame(reply: Buffer, start: number, end: number): number {
  if (end - start > 0 && end - start <= 15) {
    let value = 0;
    let i = start;
    for (; i < end; i++) {
      const c = reply[i];
      if (c < DIGIT_0 || c > DIGIT_9) break;
      value = value * 10 + (c - DIGIT_0);
    }
    if (i === end) return value;
  }
  return Number(reply.toString('utf8', start, end));
}

/**
 * Replay index shared through Redis, so calls handled by different processes and hosts see each other.
 *
 * Layout: one sorted set per fingerprint value, `<prefix>fp:<hash>`, members `<callKey>|<frame>` scored by the
 * time they were written; each write trims the set to its newest perHashCap members and renews its EXPIRE.
 * Total size is bounded by (calls per TTL) x maxIndexedSecondsPerCall x 50 fingerprints.
 *
 * One script call per add() — i.e. per call per second — carries the look-ups (ZRANGE) of the batch followed by its
 * writes (REPLAY_BATCH_LUA), so a call never matches its own batch and Redis sees one command per call per second,
 * not four per frame. Replies update the call's status asynchronously. A failed call (Redis down) loses that
 * second's look-ups and writes; it is counted in `errors`, never thrown into the media path.
 */
export class RedisReplayIndex implements ReplayIndex {
  readonly keyPrefix: string;
  /** `<keyPrefix>fp:`: a fingerprint's key is this followed by its value. */
  private readonly fingerprintPrefix: string;
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
    this.fingerprintPrefix = `${this.keyPrefix}fp:`;
    this.ttlS = Math.max(1, Math.round(options.ttlS ?? 7200));
    this.perHashCap = Math.max(1, Math.round(options.perHashCap ?? 64));
    this.trimStop = String(-(this.perHashCap + 1));
    this.maxIndexedFramesPerCall = Math.round((options.maxIndexedSecondsPerCall ?? 600) * 50);
    this.matcher = new ReplayMatcher(options);
    if (typeof (this.redis as unknown as Partial<ReplayBatchCommand>)[REPLAY_BATCH_COMMAND] !== 'function') {
      this.redis.defineCommand(REPLAY_BATCH_COMMAND, { lua: REPLAY_BATCH_LUA });
    }
  }

  add(callKey: string, mediaS: number, hashes: Uint32Array, count: number): void {
    this.active.add(callKey);
    const frames: number[] = [];
    let batch = '';
    for (let i = 0; i < count; i++) {
      const h = hashes[i];
      if (h === 0) continue;
      const frame = batchFrame(mediaS, i);
      frames.push(frame);
      batch += frames.length === 1 ? `${h} ${frame}` : ` ${h} ${frame}`;
    }
    if (frames.length === 0) return;
    // Frames rise along the batch, so the ones still inside the indexed span are a prefix of the look-ups.
    let writes = 0;
    while (writes < frames.length && frames[writes] < this.maxIndexedFramesPerCall) writes++;
    const done = (this.redis as unknown as ReplayBatchCommand)
      [REPLAY_BATCH_BUFFER](
        0,
        this.fingerprintPrefix,
        String(Date.now()),
        this.ttlS,
        this.trimStop,
        callKey,
        writes,
        batch,
      )
      .then(
        (reply) => {
          if (!this.active.has(callKey)) return;
          const outer = STAGES.enter(STAGE.replay);
          try {
            this.parseReplay(callKey, frames, reply);
            this.matcher.settle(callKey);
          } finally {
            STAGES.leave(outer);
          }
        },
        (err: Error) => this.fail(err),
      );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  /**
   * Feeds each member `<other call>|<frame>` of each look-up to the matcher. The other call's key is decoded from
   * the bytes before the member's last `|` (a byte that never occurs inside a UTF-8 sequence), which yields the
   * same string as decoding the member and cutting it there.
   */
  private parseReplay(callKey: string, frames: number[], reply: Buffer): void {
    // Bounds are checked so that a reply this code did not produce ends the parse instead of looping or throwing.
    const size = reply.length;
    let p = 0;
    for (let r = 0; r < frames.length && p < size; r++) {
      let count = 0;
      while (p < size && reply[p] !== SEMICOLON) count = count * 10 + (reply[p++] - DIGIT_0);
      p++;
      for (let m = 0; m < count && p < size; m++) {
        let length = 0;
        while (p < size && reply[p] !== COLON) length = length * 10 + (reply[p++] - DIGIT_0);
        p++;
        const start = p;
        const end = Math.min(p + length, size);
        p = end;
        let bar = end - 1;
        while (bar >= start && reply[bar] !== BAR) bar--;
        if (bar <= start) continue;
        STAGES.count(WORK.replay_hits);
        this.matcher.hit(
          callKey,
          frames[r],
          reply.toString('utf8', start, bar),
          memberFrame(reply, bar + 1, end),
        );
      }
    }
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
