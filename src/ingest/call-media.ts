/**
 * Both legs of one call, from RTP datagrams to time-aligned 20 ms frames on one MediaSink.
 *
 * Call media time zero is the arrival of the first packet of either leg. Each leg anchors its RTP timestamps at
 * the 20 ms frame nearest to its first packet's arrival on that clock, so frame k of rx and frame k of tx are the
 * same 20 ms of wall-clock time.
 *
 * Leading frames: a leg that starts later than the other is filled with silence from frame 0 up to its first
 * packet, so once a leg has any media, every frame index from 0 on is emitted exactly once for it, in order (the
 * MediaSink contract). A leg that never receives a packet emits no frames at all: absence of a leg (one-sided
 * fork, lost stream) stays visible to the sink instead of looking like a silent party.
 *
 * A leg that goes quiet after it has started (hold, DTX, a stalled sender) is advanced by `flush` with silence
 * (comfort noise after a CN packet) up to its idle delay behind the clock (60-200 ms by the leg's jitter, see
 * IDLE_FILL_MS), so the two legs' frames stay within that distance of each other live; when packets resume they
 * land at their timestamps' place (or re-anchor at their arrival if their timestamps fell behind what was filled).
 *
 * When neither leg has had a packet for MEDIA_PAUSE_MS, the call's media is paused (both parties silent with DTX,
 * or the call is over and the session waits for its idle timeout) and idle filling stops. Nothing is lost: when a
 * packet comes back, the gap up to it is filled from its timestamp or arrival exactly as after any quiet spell, so
 * the frames are the same, only emitted later. What stops is analysing up to the idle timeout's worth of silence
 * after every call whose end nobody announced, which a recording played offline (ending at its last packet) never
 * has either.
 *
 * Live use calls `flush(now)` from a timer (every 10-20 ms) so gaps play out when their reorder deadline passes;
 * offline use calls it after each packet with the capture time. `end()` plays out everything held; it does not
 * pad the shorter leg to the longer one's length.
 */
import { DATAGRAM_STAGE, stageDatagram } from './datagram-stage.ts';
import { DROP, newDropCounts } from './drop-reasons.ts';
import { type DecoderFactory, LegStream } from './leg-stream.ts';
import type { Leg, LegStats, MediaSink } from './media-sink.ts';
import { type PayloadTypeMap, withPayloadTypes } from './payload-types.ts';
import { readRtcp } from './rtp/rtcp.ts';
import { parseRtpHeader, RtpHeaderView } from './rtp/rtp-header.ts';
import type { FlushSlot } from './sessions/flush-schedule.ts';

/** Both legs without packets this long: stop filling silence until media comes back (see above). */
export const MEDIA_PAUSE_MS = 1000;

export interface CallMediaOptions {
  /** Reorder wait, ms (default 40, max 60). */
  reorderMs?: number;
  /** Wait reorderMs for every gap, even on a leg whose gaps keep coming out lost (see LegStreamOptions). */
  fixedReorderWait?: boolean;
  /** Payload types added to or overriding DEFAULT_PAYLOAD_TYPES (e.g. `{ 111: 'opus' }`). */
  payloadTypes?: PayloadTypeMap;
  /** Decoder factory; the codec registry by default. */
  createDecoder?: DecoderFactory;
  /**
   * Called the first time the call carries a codec forkguard does not decode (G.729, AMR-WB), while the call runs:
   * its owner reports it then, not only when the call ends.
   */
  onUnsupportedCodec?: (codec: string) => void;
  /**
   * The caller never changes a datagram's bytes after pushing it (dgram hands each datagram over in a Buffer of its
   * own): decoders may then keep a reference to a payload they may need again rather than a copy (see
   * STAGED_ORIGIN). Off by default, for callers that reuse a buffer.
   */
  retainedDatagrams?: boolean;
  /**
   * The owner's sweep schedule and this call's slot in it: the legs write there when they next need flush()
   * (see FlushSchedule). Without it the owner calls flush() when it likes.
   */
  flushSlot?: FlushSlot;
}

/**
 * The merged payload-type map per overrides object. Every session of a server passes the same options, so its
 * legs share one map, and with it one set of payload tables (see LegStream).
 */
const MERGED_PAYLOAD_TYPES = new WeakMap<PayloadTypeMap, PayloadTypeMap>();
const NO_OVERRIDES: PayloadTypeMap = {};

function mergedPayloadTypes(overrides: PayloadTypeMap = NO_OVERRIDES): PayloadTypeMap {
  let merged = MERGED_PAYLOAD_TYPES.get(overrides);
  if (merged === undefined) {
    merged = withPayloadTypes(overrides);
    MERGED_PAYLOAD_TYPES.set(overrides, merged);
  }
  return merged;
}

/**
 * The parsed header of the datagram being handled, shared by every call like DATAGRAM_STAGE (a packet is handled
 * completely before pushPacket returns): one object every packet finds in cache, not one per call.
 */
const RTP_HEADER = new RtpHeaderView();

export class CallMedia {
  // The fields every packet reads, first, its leg last: with thousands of calls the object is cold at each packet,
  // and the read-ahead (call-state-read-ahead.ts) reads its map and then rx or tx. What a packet reads then lies
  // between those two reads, less than a line apart, so the line or two it spans are both read ahead. Declared
  // after the six fields below, `ended` and `retainedDatagrams` were in a line nothing read ahead.
  private ended = false;
  private readonly retainedDatagrams: boolean;
  /** legs[0] and legs[1] as fields: the packet path reads them from this object, not from the array and its elements. */
  private readonly rx: LegStream;
  private readonly tx: LegStream;
  readonly stats: readonly [LegStats, LegStats];
  /** Per DROP reason, both legs together. */
  readonly drops: Float64Array = newDropCounts();
  /** Codecs seen on this call that forkguard does not decode (report once per session). */
  readonly unsupportedCodecs = new Set<string>();
  readonly legs: readonly [LegStream, LegStream];
  /** Exceptions caught at the packet boundary (a decoder or sink failing); the packet is dropped. */
  failures = 0;
  lastFailure: unknown = null;

  /**
   * Arrival time of the last packet of either leg (NaN before the first), for idle detection. Taken from the legs,
   * which keep theirs in their pooled rows: a packet writes nothing to this object (see leg-state-pool.ts).
   */
  get lastArrivalMs(): number {
    const rx = this.rx.lastArrivalMs;
    const tx = this.tx.lastArrivalMs;
    return rx > tx || Number.isNaN(tx) ? rx : tx;
  }

  /** Call media time zero: arrival of the first packet (NaN before it). Both legs hold it. */
  get callZeroMs(): number {
    return this.rx.callZeroMs;
  }

  constructor(
    private readonly sink: MediaSink,
    options: CallMediaOptions = {},
  ) {
    const payloadTypes = mergedPayloadTypes(options.payloadTypes);
    this.retainedDatagrams = options.retainedDatagrams ?? false;
    const legOptions = {
      reorderMs: options.reorderMs,
      fixedReorderWait: options.fixedReorderWait,
      payloadTypes,
      drops: this.drops,
      unsupportedCodecs: this.unsupportedCodecs,
      onUnsupportedCodec: options.onUnsupportedCodec,
      createDecoder: options.createDecoder,
      flushSlot: options.flushSlot,
    };
    const rx = new LegStream(0, sink, legOptions);
    const tx = new LegStream(1, sink, legOptions);
    this.legs = [rx, tx];
    this.rx = rx;
    this.tx = tx;
    this.stats = [rx.stats, tx.stats];
  }

  /** Takes one RTP datagram of `leg`. Returns 0 when accepted, else the DROP index it was counted under. */
  pushPacket(leg: Leg, data: Uint8Array, offset: number, length: number, arrivalMs: number): number {
    if (this.ended) {
      this.drops[DROP.closed]++;
      return DROP.closed;
    }
    const header = RTP_HEADER;
    const staged = stageDatagram(data, offset, length, this.retainedDatagrams);
    const bytes = staged < 0 ? data : DATAGRAM_STAGE;
    const parsed = parseRtpHeader(bytes, staged < 0 ? offset : staged, length, header);
    if (!header.ok) {
      this.drops[parsed]++;
      return parsed;
    }
    const stream = leg === 1 ? this.tx : this.rx;
    if (Number.isNaN(stream.callZeroMs)) {
      this.rx.callZeroMs = arrivalMs;
      this.tx.callZeroMs = arrivalMs;
    }
    try {
      return stream.push(header, bytes, arrivalMs);
    } catch (error) {
      return this.fail(error);
    }
  }

  /** Reads an RTCP datagram of `leg` (from the leg's own source) into its stats; media and frames are untouched. */
  pushRtcp(leg: Leg, data: Buffer, offset: number, length: number): void {
    readRtcp(data, offset, length, this.stats[leg]);
  }

  /** The leg whose state a packet of `leg` reads, for reading it ahead (see SessionMedia.legState). */
  legState(leg: Leg): LegStream {
    return leg === 1 ? this.tx : this.rx;
  }

  /**
   * Plays out, on both legs, gaps whose reorder deadline has passed by `nowMs`; closes stale digit events; moves a
   * quiet leg on with silence unless the call's media is paused.
   */
  flush(nowMs: number): void {
    if (this.ended) return;
    const paused = nowMs - this.lastArrivalMs >= MEDIA_PAUSE_MS;
    try {
      this.rx.flush(nowMs, paused);
      this.tx.flush(nowMs, paused);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Plays out everything held, completes the last frames and ends the sink. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.rx.finish();
      this.tx.finish();
    } catch (error) {
      this.fail(error);
    }
    this.sink.end();
  }

  private fail(error: unknown): number {
    this.failures++;
    this.lastFailure = error;
    this.drops[DROP.internal_error]++;
    return DROP.internal_error;
  }
}
