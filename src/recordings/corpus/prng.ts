/**
 * Seeded pseudo-random numbers for the corpus: the same seed gives the same corpus on any machine.
 * mulberry32 is tiny and good enough for choosing scenarios and jitter (not for cryptography).
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(min: number, maxInclusive: number): number {
    return Math.floor(this.uniform(min, maxInclusive + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal by Box-Muller. */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A child generator whose sequence depends only on this seed and `salt`, so calls are independent. */
  fork(salt: number): Prng {
    return new Prng(Math.imul(this.state ^ salt, 0x85ebca6b) ^ (salt * 0x27d4eb2f));
  }
}

/** Derives a per-call seed from the corpus seed and the call index (stable across runs and worker counts). */
export function callSeed(corpusSeed: number, index: number): number {
  // Both inputs go through a full avalanche before they meet, so no two (seed, index) pairs map to one call
  // systematically (a plain xor of seed and index would make call i of seed s equal call j of seed t whenever
  // s ^ i == t ^ j, and corpora made with different seeds would share calls).
  return fmix32(fmix32(corpusSeed + 0x9e3779b9) ^ Math.imul(index + 1, 0x27d4eb2f));
}

/** MurmurHash3's 32-bit finaliser. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
