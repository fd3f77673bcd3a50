import { describe, expect, it } from 'vitest';
import { LoopDetector, loopTableBucket } from '../../../src/dsp/fingerprint/loop-detector.ts';

/** Deterministic distinct non-zero 32-bit fingerprints. */
function fingerprints(count: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let x = seed >>> 0;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    out[i] = x | 1;
  }
  return out;
}

/** `count` distinct fingerprints that share the table bucket of `like`. */
function sameBucket(like: number, count: number): number[] {
  const out: number[] = [];
  for (let h = like + 1; out.length < count; h++)
    if (loopTableBucket(h) === loopTableBucket(like)) out.push(h);
  return out;
}

function pushAll(detector: LoopDetector, hashes: Uint32Array): void {
  for (const h of hashes) detector.push(h);
}

function pushSilence(detector: LoopDetector, frames: number): void {
  for (let i = 0; i < frames; i++) detector.push(0);
}

describe('LoopDetector (fingerprint streams)', () => {
  it('holds no table while the leg has no fingerprint, and a few KiB once it has', () => {
    const detector = new LoopDetector();
    pushSilence(detector, 3000);
    expect(detector.byteLength).toBe(0);
    expect(detector.score).toBe(0);
    detector.push(0x1234567);
    expect(detector.byteLength).toBeGreaterThan(0);
    expect(detector.byteLength).toBeLessThanOrEqual(16 * 1024);
  });

  it('finds a loop that starts after half an hour of call (frame numbers far past the table stamps)', () => {
    const detector = new LoopDetector();
    // 30 minutes of changing audio: every frame fingerprinted, nothing repeats.
    const minutes = fingerprints(30 * 60 * 50, 7);
    pushAll(detector, minutes);
    expect(detector.maxScore).toBe(0);
    const piece = fingerprints(3 * 50 + 7, 11); // 3.14 s
    for (let i = 0; i < 5; i++) pushAll(detector, piece);
    expect(detector.score).toBeGreaterThan(0.9);
    // Within a frame: each frame is verified against lag - 1, lag and lag + 1.
    expect(Math.abs(detector.periodS - 3.14)).toBeLessThanOrEqual(0.021);
  });

  it('does not take audio heard again after 2^15 or 2^16 frames of silence for a short loop', () => {
    for (const gap of [1 << 15, 1 << 16, (1 << 15) - 200]) {
      const detector = new LoopDetector();
      const piece = fingerprints(400, gap);
      pushAll(detector, piece);
      // Silence keeps the table as it was: only the stamps' age grows.
      pushSilence(detector, gap - piece.length + 200);
      pushAll(detector, piece);
      pushSilence(detector, 50);
      expect(detector.maxScore, `gap ${gap}`).toBe(0);
    }
  });

  it('ages table ways correctly past 2^15 frames: a way too old to vote is evicted before a younger one', () => {
    // Three ways of one bucket hold audio heard 2^15 - 10 frames before F1 and F2 (same bucket) arrive. Two newer
    // fingerprints of the bucket follow: they must evict those three long-stale ways, not F1 and F2, whose
    // repeat 100 frames later is then voted for and verified (a weak loop, two frames of evidence).
    const [s1, s2, s3, f1, f2, n1, n2] = sameBucket(0x5bd1e995, 7);
    const detector = new LoopDetector();
    pushSilence(detector, 1000);
    pushAll(detector, Uint32Array.of(s1, s2, s3)); // frames 1000..1002
    pushSilence(detector, (1 << 15) - 10 - 3);
    pushAll(detector, Uint32Array.of(f1, f2)); // frames 1000 + 2^15 - 10, + 1
    pushSilence(detector, 20);
    pushAll(detector, Uint32Array.of(n1, n2));
    pushSilence(detector, 100 - 24);
    pushAll(detector, Uint32Array.of(f1, f2)); // 100 frames after the first F1, F2
    pushSilence(detector, 50);
    expect(detector.maxScore).toBeGreaterThan(0);
    expect(Math.abs(detector.maxScorePeriodS - 2)).toBeLessThanOrEqual(0.021);
  });

  it('votes exactly as a plain 4-way table of (frame, hash) that replaces its oldest way, on colliding streams', () => {
    // Reference: full frame numbers and stored hashes, no stamps, no chains. Few distinct hashes in few buckets
    // make repeats at every lag and full buckets; silent stretches (up to 2^15 frames) age everything out.
    const minLag = 75;
    const maxLag = 600;
    const decay = new Float32Array(1);
    const alphabet = sameBucket(0x1234567, 6).concat(
      sameBucket(0x7654321, 5),
      Array.from(fingerprints(30, 3)),
    );
    let x = 2024;
    const random = (): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32;
    };
    for (let round = 0; round < 3; round++) {
      const detector = new LoopDetector();
      const table = new Map<number, { frame: number; hash: number }[]>();
      const votes = new Float32Array(maxLag + 2);
      let n = 0;
      let mismatches = 0;
      for (let block = 0; block < 40; block++) {
        const silent = random() < 0.15;
        const frames = silent ? Math.floor(random() * (random() < 0.3 ? 1 << 15 : 900)) : 200;
        for (let i = 0; i < frames; i++, n++) {
          const hash = silent ? 0 : alphabet[Math.floor(random() * alphabet.length)];
          detector.push(hash);
          if (hash !== 0) {
            const bucket = loopTableBucket(hash);
            const ways = table.get(bucket) ?? [];
            for (const way of ways) {
              const age = n - way.frame;
              if (age >= minLag && age <= maxLag && way.hash === hash) votes[age] += 1;
            }
            ways.unshift({ frame: n, hash });
            if (ways.length > 4) ways.pop();
            table.set(bucket, ways);
          }
          if ((n + 1) % 50 === 0)
            for (let lag = 0; lag < votes.length; lag++) {
              decay[0] = votes[lag] * 0.7;
              votes[lag] = decay[0];
            }
          if (!silent && i % 7 === 0)
            for (let lag = minLag; lag <= maxLag; lag++)
              if (detector.votesAt(lag) !== votes[lag]) mismatches++;
        }
      }
      expect(mismatches, `round ${round}`).toBe(0);
      expect(votes.some((v) => v > 1)).toBe(true);
    }
  });
});
