/**
 * One step of Marsaglia's xorshift32: the next state after `x` (as a signed 32-bit integer; `>>> 0` for the
 * unsigned value). The benchmarks' seeded sequences (shuffled call orders, loss patterns, noise payloads) all step
 * with it, so every run sees the same ones.
 */
export function xorshift32(x: number): number {
  let s = x ^ (x << 13);
  s ^= s >>> 17;
  return s ^ (s << 5);
}
