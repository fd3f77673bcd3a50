/**
 * Synthetic STREP datagrams for driving an IngestServer in process (bench/ingest-calls, bench/ingest-loss): stream
 * s is leg s & 1 of call s >> 1, carrying one 20 ms PCMU packet per round, each datagram a fresh Buffer as dgram
 * hands them over.
 */
import type { Leg, MediaSink } from '../ingest/media-sink.ts';
import { xorshift32 } from './xorshift32.ts';

const STREP_BYTES = 24;
export const STREP_PCMU_DATAGRAM_BYTES = STREP_BYTES + 12 + 160;

/** A datagram with every field but the per-packet ones filled in; `idTag` makes the call_leg_ids of a run its own. */
export function strepPcmuModel(idTag: number): Buffer {
  const b = Buffer.alloc(STREP_PCMU_DATAGRAM_BYTES);
  b[0] = 0xc4; // STREP version 1, leg A, direction rx (bit 0 set per datagram)
  b[1] = STREP_BYTES;
  b.writeUInt32BE(idTag >>> 0, 8);
  b.writeUInt32BE(0x40000000, 16);
  b.writeUInt32BE(0x80000000, 20);
  b[STREP_BYTES] = 0x80;
  for (let k = 0; k < 160; k++) b[STREP_BYTES + 12 + k] = (k * 37 + 5) & 0x7f;
  return b;
}

/**
 * Stream `stream`'s datagram of round `round` (sequence and timestamp follow the round), in a fresh Buffer. With
 * `ownStore` the Buffer has a backing store of its own, as dgram allocates each one; otherwise it is cut from Node's
 * shared pool, which is cheaper to make and to collect and keeps a datagram held by the server from costing what it
 * does on the real path.
 */
export function strepPcmuDatagram(model: Buffer, stream: number, round: number, ownStore = false): Buffer {
  const datagram = ownStore
    ? Buffer.allocUnsafeSlow(STREP_PCMU_DATAGRAM_BYTES)
    : Buffer.allocUnsafe(STREP_PCMU_DATAGRAM_BYTES);
  model.copy(datagram);
  datagram[0] = 0xc4 | (stream & 1);
  datagram.writeUInt32BE(stream >>> 1, 12);
  datagram.writeUInt16BE(round & 0xffff, STREP_BYTES + 2);
  datagram.writeUInt32BE((round * 160) >>> 0, STREP_BYTES + 4);
  datagram.writeUInt32BE(stream + 1, STREP_BYTES + 8);
  return datagram;
}

/** A permutation of 0..n-1, the same every run (xorshift32 Fisher-Yates). */
export function shuffledOrder(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let state = 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    state = xorshift32(state);
    const j = (state >>> 0) % (i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Counts the 20 ms frames it gets, per sink and over all of them. */
export class FrameCountingSink implements MediaSink {
  static total = 0;
  frames = 0;
  pushFrame(_leg: Leg, _frameIndex: number, pcm: Int16Array): void {
    if (pcm.length !== 160) return;
    this.frames++;
    FrameCountingSink.total++;
  }
  pushDigit(): void {}
  end(): void {}
}
