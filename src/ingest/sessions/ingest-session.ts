import type { CallIdentity, LegStats, MediaSink } from '../media-sink.ts';
import type { StrepLegLetter } from '../strep.ts';
import { LegLatch } from '../trust/leg-latch.ts';
import type { FlushSlot } from './flush-schedule.ts';

/** A leg's per-packet state, as the UDP layer reads it ahead of a batch of packets (see call-state-read-ahead.ts). */
export interface LegStateReadAhead {
  /** Reads one number per cache line a packet of the leg starts with; returns their sum (kept by the caller). */
  readAhead(): number;
}

/** The part of CallMedia (src/ingest/call-media.ts) that the UDP layer drives and reads. */
export interface SessionMedia {
  readonly stats: readonly [LegStats, LegStats];
  readonly drops: Float64Array;
  readonly unsupportedCodecs: Set<string>;
  /** Packets a decoder or the sink threw on (counted as internal_error drops), and the last exception. */
  readonly failures: number;
  readonly lastFailure: unknown;
  /** Arrival time of the last packet of either leg (NaN before the first). */
  readonly lastArrivalMs: number;
  pushPacket(leg: 0 | 1, data: Uint8Array, offset: number, length: number, arrivalMs: number): number;
  /** Reads an RTCP datagram that came from the leg's own source into the leg's stats (see rtp/rtcp.ts). */
  pushRtcp(leg: 0 | 1, data: Buffer, offset: number, length: number): void;
  flush(nowMs: number): void;
  end(): void;
  /** The state a packet of `leg` is handled with, to be read ahead of it. */
  legState(leg: 0 | 1): LegStateReadAhead;
}

export type SessionEndReason = 'idle' | 'request' | 'shutdown';

/**
 * Builds the media pipeline of a new session around the sink its owner opened; it calls `onUnsupportedCodec` the
 * first time the call carries each codec forkguard does not decode, and keeps the session's slot of the sweep's
 * schedule up to date (see FlushSchedule).
 */
export type SessionMediaFactory = (
  sink: MediaSink,
  onUnsupportedCodec: (codec: string) => void,
  flushSlot: FlushSlot,
) => SessionMedia;

/**
 * One call as the UDP layer sees it: who it is, where its packets come from, and its media pipeline.
 *
 * It is its own latch (`latch` is the session itself), and the fields every datagram reads (the latch's, `media`,
 * `endReason`) come first: with thousands of calls each is a cache line to fetch per datagram, and a latch of its
 * own was one more object, one more line.
 */
export class IngestSession extends LegLatch {
  readonly media: SessionMedia;
  endReason: SessionEndReason | null = null;
  /** Kept by reference: an announcement after the first packets fills in the ids of this same object. */
  readonly identity: CallIdentity;
  /** Even port P of the pair for port-pair sessions, -1 for STREP sessions. */
  readonly pairPort: number;
  /** STREP L bit of the first packet ('A'/'B'), null for port pairs. */
  strepLeg: StrepLegLetter | null = null;
  /** Monotonic clock (performance.now()) at creation. */
  readonly createdMs: number;
  /** Wall-clock creation time, epoch milliseconds. */
  readonly startedAt: number;
  /** The session's slot in its table's FlushSchedule. */
  readonly flushSlot: number;
  announced: boolean;

  constructor(
    identity: CallIdentity,
    media: SessionMedia,
    pairPort: number,
    nowMs: number,
    announced: boolean,
    flushSlot: number,
  ) {
    super();
    this.identity = identity;
    this.media = media;
    this.pairPort = pairPort;
    this.createdMs = nowMs;
    this.startedAt = Date.now();
    this.announced = announced;
    this.flushSlot = flushSlot;
  }

  /**
   * Monotonic clock at the last packet its media took, or at creation before any: what idle ends are counted from.
   * Read from the media rather than written per packet (see leg-state-pool.ts).
   */
  get lastSeenMs(): number {
    const last = this.media.lastArrivalMs;
    return Number.isNaN(last) ? this.createdMs : Math.max(last, this.createdMs);
  }

  /** Where each leg's packets must come from (see LegLatch). */
  get latch(): LegLatch {
    return this;
  }

  get stream(): string {
    return this.identity.stream;
  }

  get ended(): boolean {
    return this.endReason !== null;
  }
}
