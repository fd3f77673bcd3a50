import type { PortPairRange } from '../../ingest/sessions/session-table.ts';

/**
 * Splits an RTP range into `workers` contiguous slices of whole port pairs, as even as possible (sizes differ by at
 * most one pair), so every pair has exactly one owning process and rx/tx of a pair never land on different ones.
 */
export function splitPortRange(range: PortPairRange, workers: number): PortPairRange[] {
  const pairs = (range.last - range.first + 1) / 2;
  if (!Number.isInteger(workers) || workers < 1 || workers > pairs) {
    throw new RangeError(`cannot split ${pairs} port pairs among ${workers} workers`);
  }
  const slices: PortPairRange[] = [];
  for (let i = 0; i < workers; i++) {
    const fromPair = Math.floor((i * pairs) / workers);
    const toPair = Math.floor(((i + 1) * pairs) / workers);
    slices.push({ first: range.first + 2 * fromPair, last: range.first + 2 * toPair - 1 });
  }
  return slices;
}

/** Index of the slice holding `port` (rx or tx of a pair), or -1. */
export function ownerOfPort(slices: readonly PortPairRange[], port: number): number {
  for (let i = 0; i < slices.length; i++) {
    if (port >= slices[i].first && port <= slices[i].last) return i;
  }
  return -1;
}

/** The process that receives a stream: `udp:P` by port, `strep:<leg>` on the STREP owner (worker 0). */
export function ownerOfStream(slices: readonly PortPairRange[], stream: string): number {
  if (stream.startsWith('udp:')) return ownerOfPort(slices, Number(stream.slice(4)));
  if (stream.startsWith('strep:')) return 0;
  return -1;
}
