/**
 * What one replayed call sends, in order: RTP datagrams per leg with their send times. WAV audio is encoded
 * once per file (`prepareCall`) and given fresh RTP identities per replayed call (`scheduleCall`); captured
 * packets are kept byte for byte with their recorded relative timing.
 */
import { randomInt } from 'node:crypto';
import { type Leg, RX, TX } from '../ingest/media-sink.ts';
import { STREP_HEADER_BYTES, writeStrepHeader } from '../ingest/strep.ts';
import type { RecordedCall } from './recorded-call.ts';
import { type EncodedStream, encodeStream, type ReplayCodec, rtpPackets } from './rtp-packetizer.ts';

export interface ScheduledDatagram {
  leg: Leg;
  /** Milliseconds from the call's start at speed 1. */
  timeMs: number;
  data: Uint8Array;
}

export type PreparedCall =
  | { kind: 'encoded'; legs: [EncodedStream, EncodedStream | null]; warnings: string[]; bytes: number }
  | { kind: 'captured'; datagrams: ScheduledDatagram[]; warnings: string[]; bytes: number };

/** Encodes WAV audio with `codec` (once per file); keeps captured packets as they are. */
export function prepareCall(call: RecordedCall, codec: ReplayCodec): PreparedCall {
  if (call.kind === 'packets') {
    const datagrams = call.packets.map((p) => ({ leg: p.leg, timeMs: p.timeMs, data: p.data }));
    return {
      kind: 'captured',
      datagrams,
      warnings: call.warnings,
      bytes: sumBytes(datagrams.map((d) => d.data)),
    };
  }
  const rx = encodeStream(call.legs[0], call.sampleRate, codec);
  const tx = call.legs[1] === null ? null : encodeStream(call.legs[1], call.sampleRate, codec);
  return {
    kind: 'encoded',
    legs: [rx, tx],
    warnings: call.warnings,
    bytes: sumBytes(rx.payloads) + sumBytes(tx?.payloads ?? []),
  };
}

function sumBytes(list: Uint8Array[]): number {
  let n = 0;
  for (const b of list) n += b.length + 64; // + object overhead, for cache accounting
  return n;
}

function randomUint32(): number {
  return randomInt(0, 2 ** 32 - 1);
}

/**
 * Both legs as one time-ordered list of datagrams (rx before tx at equal times). Encoded audio gets distinct
 * SSRCs and random initial sequence numbers and timestamps per call, as RFC 3550 §5.1 asks of a sender, so
 * replaying one file twice on one port pair looks like two streams, not like duplicates.
 */
export function scheduleCall(prepared: PreparedCall): ScheduledDatagram[] {
  if (prepared.kind === 'captured') return prepared.datagrams;
  const out: ScheduledDatagram[] = [];
  const rxSsrc = randomUint32();
  prepared.legs.forEach((stream, leg) => {
    if (stream === null) return;
    const ssrc = leg === RX ? rxSsrc : (rxSsrc + 1) >>> 0;
    const packets = rtpPackets(stream, ssrc, {
      firstSequence: randomInt(0, 0x10000),
      firstTimestamp: randomUint32(),
    });
    for (const p of packets) out.push({ leg: leg === 0 ? RX : TX, timeMs: p.timeMs, data: p.data });
  });
  // Stable sort keeps rx ahead of tx for the same 20 ms slot.
  out.sort((a, b) => a.timeMs - b.timeMs);
  return out;
}

/** The STREP headers (rx, tx) that `--target` puts in front of every datagram of the call `callLegId`. */
export function strepHeaders(callLegId: string): [Uint8Array, Uint8Array] {
  const make = (direction: Leg) => {
    const header = new Uint8Array(STREP_HEADER_BYTES);
    writeStrepHeader(header, 0, { direction, callLegId, leg: 'A' });
    return header;
  };
  return [make(RX), make(TX)];
}
