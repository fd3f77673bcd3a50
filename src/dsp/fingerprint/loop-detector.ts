import { FRAME_MS } from '../../ingest/media-sink.ts';
import { hammingDistance } from './hamming.ts';

/**
 * Finds the same few seconds of audio repeating on one leg (a looped recording: a classic traffic-pumping filler).
 *
 * Two stages, because exact fingerprint equality is cheap but sparse and bit-error rates are dense but costly:
 * 1. Candidates: every fingerprinted frame looks its hash up in a small table of recently seen hashes; each
 *    exact hit at a distance of minPeriod..maxPeriod votes for that distance (the lag). Votes decay each
 *    second so a loop that stopped fades out.
 * 2. Verification, once a second: for the best-voted lag, the last verifyS seconds of fingerprints are compared
 *    with the ones one lag earlier (each frame taking the best of lag-1, lag, lag+1, because a period that is not a
 *    multiple of 20 ms drifts across frame boundaries). The loop score is the fraction of compared frames within
 *    maxBitErrors bits, scaled down when too few frames carried a fingerprint to be sure.
 *
 * Memory (one detector per leg of every live call): the candidate table is a hash chain over the history ring,
 * as in LZ77 match finders: per bucket the stamp of the newest frame that hashed there, and per ring slot the stamp
 * of the previous frame of the same bucket. A look-up walks at most BUCKET_WAYS links, newest first: exactly the
 * ways a BUCKET_WAYS-way table that replaces its oldest way would hold, so the votes are the same as with such a
 * table, for about 3.6 KiB per leg instead of 8. Hashes are not stored twice: a frame can vote only while it is at
 * most maxLag old, and the history ring (longer than maxLag) still holds its hash and its link then. A stamp is the
 * frame number modulo 2^15, EMPTY (the top bit) marking no frame; every SWEEP_FRAMES the bucket heads too old to
 * vote are emptied and a link is only made to a frame at most maxLag old, so every stamp a walk reads is younger
 * than 2 maxLag + SWEEP_FRAMES < 2^15 frames and its age is exact.
 * Nothing is allocated before the leg's first fingerprint: a leg that stays silent costs a few fields.
 */
export interface LoopDetectorOptions {
  minPeriodS?: number;
  maxPeriodS?: number;
  verifyS?: number;
  /** A frame pair within this many differing bits (of 32) counts as the same audio. */
  maxBitErrors?: number;
}

/** A repeat still counts as a loop at this score (what `loopingSinceS` marks). */
export const LOOP_SCORE_THRESHOLD = 0.5;

const FRAMES_PER_SECOND = 1000 / FRAME_MS;
const TABLE_BUCKETS = 1024;
/** Links a look-up follows: the earlier occurrences of a bucket that can vote. */
const BUCKET_WAYS = 4;
const VOTE_DECAY_PER_SECOND = 0.7;
/** Stamp bits of a bucket head or link; EMPTY (the top bit) marks none. */
const STAMP_MASK = 0x7fff;
const EMPTY = 0x8000;
/** Heads too old to vote are emptied this often, so no stamp read wraps (2 maxLag + SWEEP_FRAMES < 2^15). */
const SWEEP_FRAMES = 8192;
const MAX_LAG_FRAMES = (STAMP_MASK - SWEEP_FRAMES) >> 1;

/** The candidate-table bucket of a fingerprint: Fibonacci hashing spreads ones that differ only in high bits. */
export function loopTableBucket(hash: number): number {
  return (Math.imul(hash, 0x9e3779b1) >>> 22) & (TABLE_BUCKETS - 1);
}

export class LoopDetector {
  /** 0..1, updated once a second. */
  score = 0;
  /** Period of the best candidate loop in seconds (0 when none). */
  periodS = 0;
  /** Media time at which the score last rose to LOOP_SCORE_THRESHOLD (-1 when not looping). */
  loopingSinceS = -1;
  /** Highest score seen in the call and its period. */
  maxScore = 0;
  maxScorePeriodS = 0;

  private readonly minLag: number;
  private readonly maxLag: number;
  private readonly verifyFrames: number;
  private readonly maxBitErrors: number;
  /** Fingerprints of the last maxLag + verifyFrames frames (a ring indexed by frame number). */
  private history = new Uint32Array(0);
  /** Per bucket, the stamp of the newest frame that hashed there (see the class comment). */
  private heads = new Uint16Array(0);
  /** Per history slot, the stamp of the previous frame of the same bucket. */
  private links = new Uint16Array(0);
  private votes = new Float32Array(0);
  private frames = 0;

  constructor(options: LoopDetectorOptions = {}) {
    this.minLag = Math.max(2, Math.round((options.minPeriodS ?? 1.5) * FRAMES_PER_SECOND));
    this.maxLag = Math.round((options.maxPeriodS ?? 12) * FRAMES_PER_SECOND);
    this.verifyFrames = Math.round((options.verifyS ?? 4) * FRAMES_PER_SECOND);
    this.maxBitErrors = options.maxBitErrors ?? 10;
    if (this.maxLag > MAX_LAG_FRAMES)
      throw new RangeError(`maxPeriodS: at most ${(MAX_LAG_FRAMES * FRAME_MS) / 1000} s`);
  }

  /** Bytes of typed-array state held now (none before the leg's first fingerprint). */
  get byteLength(): number {
    return this.history.byteLength + this.heads.byteLength + this.links.byteLength + this.votes.byteLength;
  }

  /** One frame's fingerprint (0 = none) for consecutive frames of the leg. */
  push(hash: number): void {
    const n = this.frames;
    if (hash !== 0 && this.history.length === 0) this.allocate();
    if (this.history.length !== 0) {
      this.history[n % this.history.length] = hash;
      if (hash !== 0) this.voteAndRemember(hash, n);
      if (n % SWEEP_FRAMES === SWEEP_FRAMES - 1) this.sweep(n);
    }
    this.frames = n + 1;
    if (this.frames % FRAMES_PER_SECOND === 0) this.evaluate();
  }

  /** Every frame so far had no fingerprint: a zeroed history, empty chains and no votes say exactly that. */
  private allocate(): void {
    const size = this.maxLag + this.verifyFrames + 2;
    this.history = new Uint32Array(size);
    // One allocation for both chain arrays: they live and die together.
    const chains = new Uint16Array(TABLE_BUCKETS + size).fill(EMPTY);
    this.heads = chains.subarray(0, TABLE_BUCKETS);
    this.links = chains.subarray(TABLE_BUCKETS);
    this.votes = new Float32Array(this.maxLag + 2);
  }

  /** Votes of one lag now (for tests comparing the chain with a plain way table). */
  votesAt(lag: number): number {
    return lag < this.votes.length ? this.votes[lag] : 0;
  }

  private voteAndRemember(hash: number, n: number): void {
    const bucket = loopTableBucket(hash);
    const heads = this.heads;
    const links = this.links;
    const history = this.history;
    const size = history.length;
    const stamp = n & STAMP_MASK;
    const maxLag = this.maxLag;
    const head = heads[bucket];
    let t = head;
    for (let way = 0; way < BUCKET_WAYS && t !== EMPTY; way++) {
      const age = (stamp - t) & STAMP_MASK;
      // Links lead to older frames only, so the first one too old to vote ends the walk.
      if (age > maxLag) break;
      const slot = (n - age) % size;
      if (age >= this.minLag && history[slot] === hash) this.votes[age] += 1;
      t = links[slot];
    }
    // The newest occurrence of a hash is the one later repeats are closest to: it becomes the head.
    links[n % size] = head !== EMPTY && ((stamp - head) & STAMP_MASK) <= maxLag ? head : EMPTY;
    heads[bucket] = stamp;
  }

  /** At frame `n` (after its insertion): empties the heads too old to vote, before any stamp could wrap. */
  private sweep(n: number): void {
    const heads = this.heads;
    const stamp = n & STAMP_MASK;
    for (let b = 0; b < heads.length; b++) {
      const t = heads[b];
      if (t !== EMPTY && ((stamp - t) & STAMP_MASK) > this.maxLag) heads[b] = EMPTY;
    }
  }

  private evaluate(): void {
    const votes = this.votes;
    if (votes.length === 0) {
      this.setScore(0, 0, (this.frames * FRAME_MS) / 1000);
      return;
    }
    let bestLag = 0;
    let bestVotes = 0;
    for (let lag = this.minLag; lag <= this.maxLag; lag++) {
      const v = votes[lag - 1] + votes[lag] + votes[lag + 1];
      if (v > bestVotes) {
        bestVotes = v;
        bestLag = lag;
      }
    }
    for (let lag = 0; lag < votes.length; lag++) votes[lag] *= VOTE_DECAY_PER_SECOND;
    const nowS = (this.frames * FRAME_MS) / 1000;
    if (bestVotes < 2) {
      this.setScore(0, 0, nowS);
      return;
    }
    // A loop of period P also repeats at 2P and 3P and those lags collect votes too; report the fundamental: the
    // shortest of lag, lag/2, lag/3 that verifies nearly as well as the best of them.
    const bestLagScore = this.verify(bestLag);
    let best = bestLagScore;
    let period = bestLag;
    for (let divisor = 2; divisor <= 3; divisor++) {
      const lag = Math.round(bestLag / divisor);
      if (lag < this.minLag) break;
      const score = this.verify(lag);
      if (score >= 0.9 * bestLagScore && score > 0) {
        best = score;
        period = lag;
      }
    }
    this.setScore(best, (period * FRAME_MS) / 1000, nowS);
  }

  /** Loop score of one candidate lag over the last verifyS seconds. */
  private verify(candidateLag: number): number {
    const h = this.history;
    const size = h.length;
    const last = this.frames - 1;
    const span = Math.min(this.verifyFrames, this.frames - candidateLag - 1);
    let compared = 0;
    let matched = 0;
    for (let i = last - span + 1; i <= last; i++) {
      const a = h[i % size];
      if (a === 0) continue;
      let best = 33;
      for (let lag = candidateLag - 1; lag <= candidateLag + 1; lag++) {
        const j = i - lag;
        if (j < 0) continue;
        const b = h[j % size];
        if (b === 0) continue;
        const d = hammingDistance(a, b);
        if (d < best) best = d;
      }
      if (best > 32) continue;
      compared++;
      if (best <= this.maxBitErrors) matched++;
    }
    // Fewer than a fifth of the window fingerprinted is too little to call a loop with full confidence.
    const confidence = Math.min(1, compared / (0.2 * this.verifyFrames));
    return compared > 0 ? (matched / compared) * confidence : 0;
  }

  private setScore(score: number, periodS: number, nowS: number): void {
    this.score = score;
    this.periodS = score > 0 ? periodS : 0;
    if (score >= LOOP_SCORE_THRESHOLD) {
      if (this.loopingSinceS < 0) this.loopingSinceS = nowS;
    } else {
      this.loopingSinceS = -1;
    }
    if (score > this.maxScore) {
      this.maxScore = score;
      this.maxScorePeriodS = periodS;
    }
  }

  reset(): void {
    this.history.fill(0);
    this.heads.fill(EMPTY);
    this.links.fill(EMPTY);
    this.votes.fill(0);
    this.frames = 0;
    this.score = 0;
    this.periodS = 0;
    this.loopingSinceS = -1;
    this.maxScore = 0;
    this.maxScorePeriodS = 0;
  }
}
