/**
 * The middle of repeated measurements, as the benchmarks report them: the item whose key is the median, the upper
 * middle one of an even count, so the figure reported is one that was measured (with its other fields), never an
 * average of two rounds.
 */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[sorted.length >> 1];
}

/** medianBy for plain numbers. */
export function median(values: readonly number[]): number {
  return medianBy(values, (v) => v);
}
