/**
 * One direction of a call: RTP packets in (any order, duplicated, lost), 20 ms frames of 8 kHz PCM out on the
 * call media timeline, plus RFC 4733 digits and transport statistics.
 *
 * Sequence: 16-bit numbers are extended across wrap. A packet is held in a fixed ring of preallocated slots
 * (payload bytes copied in) until every lower sequence number has been played or declared lost. The first
 * packet of a stream waits `reorderMs` so a reordered start is not lost; afterwards in-order packets play at
 * once and only a gap waits, until the packet after it has waited `reorderMs` (then the gap is lost) — unless the
 * leg's recent gaps have all come out lost with nothing arriving out of order, when the gap is lost at once
 * (see NO_WAIT_AFTER_LOST_GAPS).
 *
 * Timeline: the stream is anchored at its first played packet: RTP timestamp T0 sits at the 20 ms frame nearest
 * to that packet's arrival in call media time, and later audio lands at T0's position plus its timestamp offset.
 * A gap in timestamps is filled with codec concealment when packets were lost, comfort noise after a CN packet,
 * and silence otherwise (marker bit/talkspurt start, DTX, telephone-events). A timestamp jump of more than
 * MAX_TIMESTAMP_GAP_MS forward or MAX_TIMESTAMP_OVERLAP_SAMPLES backward, an SSRC change, a sequence restart or
 * a clock-rate change re-anchors the stream at the packet's arrival (never before audio already emitted): the
 * silence that fills is the wall-clock time that really passed, so both legs stay aligned and a bogus timestamp
 * cannot produce minutes of silence.
 */

import { STAGE, STAGES } from '../telemetry/stage-clock.ts';
import type { PayloadDecoder } from './codecs/decoder.ts';
import { createDecoder } from './codecs/registry.ts';
import {
  copyWords,
  DATAGRAM_STAGE,
  DATAGRAM_STAGE_WORDS,
  HELD_STAGE,
  HELD_STAGE_WORDS,
} from './datagram-stage.ts';
import { DROP, newDropCounts } from './drop-reasons.ts';
import { LEG_ROW_WORDS, type LegStateHolder, releaseRow, takeRow } from './leg-state-pool.ts';
import {
  emptyLegStats,
  FRAME_MS,
  FRAME_SAMPLES,
  type Leg,
  type LegStats,
  type MediaSink,
  SAMPLE_RATE,
} from './media-sink.ts';
import {
  type CodecName,
  DEFAULT_PAYLOAD_TYPES,
  type DecodableCodec,
  type PayloadTypeMap,
  PT_KIND_AUDIO,
  PT_KIND_CN,
  PT_KIND_EVENT,
  PT_KIND_UNKNOWN,
  PT_KIND_UNSUPPORTED,
  payloadKindOf,
} from './payload-types.ts';
import {
  decodeOnTimeline,
  FRAME_POSITION_WORDS,
  FrameAssembler,
  framePositionOf,
} from './rtp/frame-assembler.ts';
import { JITTER_DOUBLES, JITTER_MS, JITTER_WORDS, restartJitter, updateJitter } from './rtp/jitter.ts';
import type { RtpHeaderView } from './rtp/rtp-header.ts';
import { type EventClock, TELEPHONE_EVENT_BYTES, TelephoneEventTracker } from './rtp/telephone-events.ts';
import { dueIndex, type FlushSchedule, type FlushSlot, UNSWEPT_SLOT } from './sessions/flush-schedule.ts';
import { HELD_STAGE_BYTES } from './wasm-memory.ts';

export const DEFAULT_REORDER_MS = 40;
export const MAX_REORDER_MS = 60;
/** Slots in the reorder ring: 60 ms at 10 ms packets is 6; the rest absorbs bursts without forcing playout. */
export const REORDER_SLOTS = 16;
/** Largest payload kept: an Ethernet MTU. Anything bigger is not a 20-60 ms voice packet. */
export const MAX_PAYLOAD_BYTES = 1500;
if (MAX_PAYLOAD_BYTES > HELD_STAGE_BYTES)
  throw new Error('HELD_STAGE must hold the largest payload a leg holds');
/**
 * Held payload bytes per slot at first: a 20 ms G.711 or G.722 packet, and most Opus ones. Slots grow (up to
 * MAX_PAYLOAD_BYTES) on the first bigger payload a stream holds (8 kHz L16: 320), so an MTU per slot (24 KiB per
 * leg) is paid only by the streams that carry such packets.
 */
const INITIAL_SLOT_STRIDE = 160;

/** Codec per payload type of one map, and each PT's kind before any decoder has failed. */
interface PayloadTable {
  codec: (CodecName | undefined)[];
  kind: Uint8Array;
}

/** `unsupported:<pt>` for every PT, built once rather than per packet. */
const UNSUPPORTED_NAMES: readonly string[] = Array.from({ length: 128 }, (_, pt) => `unsupported:${pt}`);

/** Tables per payload-type map object: every leg of a server shares its map (see CallMedia), so one table. */
const PAYLOAD_TABLES = new WeakMap<PayloadTypeMap, PayloadTable>();

function payloadTable(map: PayloadTypeMap): PayloadTable {
  let table = PAYLOAD_TABLES.get(map);
  if (table !== undefined) return table;
  table = {
    codec: new Array(128).fill(undefined),
    kind: new Uint8Array(128),
  };
  for (let pt = 0; pt < 128; pt++) {
    const codec = map[pt];
    table.codec[pt] = codec;
    table.kind[pt] = payloadKindOf(codec);
  }
  PAYLOAD_TABLES.set(map, table);
  return table;
}
export const MAX_TIMESTAMP_GAP_MS = 4000;
export const MAX_TIMESTAMP_OVERLAP_SAMPLES = FRAME_SAMPLES;
const MAX_TIMESTAMP_GAP_SAMPLES = (MAX_TIMESTAMP_GAP_MS * SAMPLE_RATE) / 1000;
/**
 * A leg without packets for its idle delay is idle and is advanced with silence to that far behind the clock. The
 * delay must outlast the lateness of a delayed packet (so it is not overtaken) and is also how far behind the clock
 * every window of a call with a quiet leg completes (one-sided silence is what a traffic-pumping call sounds like).
 * So it follows the leg's own lateness: the reorder wait, four times its RFC 3550 jitter and one frame of margin,
 * at most IDLE_FILL_MS. A steady leg is filled 60 ms behind (default reorder wait), a leg with 25 ms of jitter
 * about 160 ms behind. The price: the first stall of a steady leg that outlasts its delay has silence filled over
 * its start (a frame of it skipped, or the leg re-anchored at the burst that ends it); from then on the jitter it
 * showed lengthens the delay.
 */
export const IDLE_FILL_MS = 200;
const IDLE_FILL_MARGIN_MS = 20;
const IDLE_FILL_JITTERS = 4;
/**
 * After this many gaps in a row that it waited the reorder wait for and that came out lost, with no packet arriving
 * out of order meanwhile, a leg stops waiting: the next gap is lost at once, concealed as the packet after it plays.
 * Any packet out of order (one filling a gap, or one too late for its gap) brings the wait back until as many
 * gaps have again come out lost.
 *
 * Waiting costs a lost packet its price: the packets behind the gap are copied into the reorder ring and played
 * from it later, when the leg's state has left the CPU caches again, which measured several times a received
 * packet's cost. A receiver that falls behind its load loses datagrams from its socket buffer, and if each loss
 * costs it that much more than a packet, it falls further behind the more it loses instead of recovering. Packets
 * lost from a socket buffer never arrive late, and most networks that lose packets do not reorder them; a leg that
 * has shown neither gets nothing from waiting. What a leg that does reorder pays for the adaptation: a reordered
 * packet coming right after this many losses is too late for its gap (dropped as late, its 20 ms concealed),
 * once, and the wait is back. Eight gaps: on a leg whose gaps are half reorderings and half losses, about one
 * reordering in 256 (0.5^8) comes after eight losses in a row and is too late; a leg that only loses stops waiting
 * after eight losses. For the same packets in the same order, the frames are the same with or without waiting:
 * only when they are emitted changes.
 */
export const NO_WAIT_AFTER_LOST_GAPS = 8;
/** Sequence steps beyond this (either way) are a sender restart, not loss or reordering (RFC 3550 A.1). */
export const MAX_SEQUENCE_STEP = 3000;
/** Concealment longer than this is silence: a codec PLC has nothing left to say after 120 ms. */
const MAX_CONCEAL_SAMPLES = 960;
/** Extended sequence numbers start here so they never go negative when the first packets arrive reordered. */
const SEQUENCE_BASE = 1 << 20;
const SLOT_MASK = REORDER_SLOTS - 1;
const SLOT_EMPTY = 0;
const SLOT_PENDING = 1;
const SLOT_DONE = 2;
/**
 * The reorder ring's bookkeeping: one 64-byte row of one Float64Array per slot, written for a packet that is held
 * (a packet played as it arrives needs none of it). The sequence number each slot holds is in the leg's pooled row
 * (WORD_SEQUENCE_RING), which every packet reads to find duplicates; a slot's row is valid while its sequence is there.
 */
const SLOT_SHIFT = 3;
const SLOT_TIMESTAMP = 0;
const SLOT_ARRIVAL_MS = 1;
const SLOT_STATE = 2;
const SLOT_KIND = 3;
const SLOT_PAYLOAD_TYPE = 4;
const SLOT_MARKER = 5;
/** Payload bytes held (0 for a slot that only takes its sequence number). */
const SLOT_LENGTH = 6;
/** A slot row's fields, SLOT_TIMESTAMP to SLOT_LENGTH: what is copied into PLAYING (SLOT_STATE goes unread). */
const SLOT_FIELDS = 7;
/**
 * The packet being played: its slot row's fields (the same indices), copied there from the ring for a held packet
 * and written from the header for one played as it arrives. Shared by every leg: a packet is played completely
 * before the next one is, and playing never leads to another packet being pushed.
 */
const PLAYING = new Float64Array(1 << SLOT_SHIFT);

/** Writes a packet's slot-row fields (all but SLOT_STATE) at target[row...]: a slot row of the ring, or PLAYING. */
function describePacket(
  target: Float64Array,
  row: number,
  header: RtpHeaderView,
  kind: number,
  arrivalMs: number,
  heldBytes: number,
): void {
  target[row + SLOT_KIND] = kind;
  target[row + SLOT_PAYLOAD_TYPE] = header.payloadType;
  target[row + SLOT_MARKER] = header.marker ? 1 : 0;
  target[row + SLOT_TIMESTAMP] = header.timestamp;
  target[row + SLOT_ARRIVAL_MS] = arrivalMs;
  target[row + SLOT_LENGTH] = heldBytes;
}

/**
 * A leg's pooled row (see leg-state-pool.ts): every field a packet reads or writes on its way through, so that
 * with thousands of calls a packet fetches three adjacent cache lines of one page instead of a dozen scattered
 * objects. Each field is as narrow as what it holds allows, so that the whole row is three lines: times and
 * counts as doubles (line 0: ROW_*), sequence numbers, payload types, clock rates and RTP timestamps as 32-bit words
 * (line 1: WORD_*, offsets in words from the row's start), flags as bytes (BYTE_*, in line 1's tail, offsets in
 * bytes), and the reorder ring's sequence numbers (line 2). Fields named as the accessors of LegStream that read
 * them; flags are 0 or 1.
 */
const ROW_CALL_ZERO_MS = 0;
const ROW_LAST_ARRIVAL_MS = 1;
const ROW_HOLD_UNTIL_MS = 2;
const ROW_HELD_SINCE_MS = 3;
const ROW_ANCHOR_SAMPLE = 4;
/** stats.packets (see LegStreamStats). */
const ROW_PACKETS = 5;
/** The jitter estimator's doubles (see jitter.ts); its estimate is stats.jitterMs. */
const ROW_JITTER = 6;
/** The SSRC as a signed word (`| 0`); the accessor gives it back unsigned. */
const WORD_SSRC = 16;
const WORD_HIGHEST_SEQUENCE = 17;
const WORD_NEXT_PLAY_SEQUENCE = 18;
const WORD_PENDING = 19;
const WORD_AUDIO_PT = 20;
const WORD_AUDIO_STAGE = 21;
const WORD_CODEC_PT = 22;
const WORD_CLOCK_RATE = 23;
/**
 * Gaps this leg waited for that came out lost, since it last saw a packet arrive out of order (see
 * NO_WAIT_AFTER_LOST_GAPS).
 */
const WORD_LOST_GAPS = 24;
/** An RTP timestamp as a signed word: only ever used in differences taken modulo 2^32 (`| 0`). */
const WORD_ANCHOR_TIMESTAMP = 25;
/** The jitter estimator's words (see jitter.ts). */
const WORD_JITTER = 26;
/** The frame assembler's position (see FramePositionRow): what a packet's audio lands after. */
const WORD_FRAME_POSITION = 30;
const BYTE_STREAM_STARTED = 112;
const BYTE_PLAYING = 113;
const BYTE_ANCHORED = 114;
const BYTE_REANCHOR_PENDING = 115;
const BYTE_LOST_SINCE_AUDIO = 116;
const BYTE_COMFORT_NOISE = 117;
/** An RFC 4733 event is open in `events` (the flush that expires it then has to look at it). */
const BYTE_EVENT_OPEN = 118;
/** The sequence number each reorder slot holds (-1: none): REORDER_SLOTS words, the row's last line. */
const WORD_SEQUENCE_RING = LEG_ROW_WORDS - REORDER_SLOTS;
/** 32-bit words per 64-byte cache line: readAhead reads the first word of each of the row's three lines. */
const LINE_WORDS = 16;
if (
  ROW_JITTER + JITTER_DOUBLES > LINE_WORDS / 2 ||
  WORD_JITTER + JITTER_WORDS > BYTE_STREAM_STARTED / 4 ||
  BYTE_EVENT_OPEN >= 4 * WORD_FRAME_POSITION ||
  WORD_FRAME_POSITION + FRAME_POSITION_WORDS > WORD_SEQUENCE_RING ||
  WORD_SEQUENCE_RING !== 2 * LINE_WORDS
) {
  throw new Error('a leg row does not hold its fields in three lines');
}
/** The per-PT fields of a leg, a 4-byte row per PT for the same reason: one line per packet, not three arrays. */
const PT_SHIFT = 2;
const PT_KIND_FIELD = 0;
/** Index + 1 of the PT's decoder in `decoders` (0: none created yet). */
const PT_DECODER_FIELD = 1;
/** Stage-clock stage that the PT's decoding is counted under (see decodeStageOf). */
const PT_STAGE_FIELD = 2;
/**
 * A leg's reorder rows, PT rows and first held-payload ring share one ArrayBuffer, in that order: one backing
 * store to allocate (and for the GC to sweep) per leg instead of three, when a burst of calls opens at once.
 */
const SLOT_ROWS_BYTES = (REORDER_SLOTS << SLOT_SHIFT) * Float64Array.BYTES_PER_ELEMENT;
const PT_ROWS_BYTES = 128 << PT_SHIFT;
const RING_OFFSET = SLOT_ROWS_BYTES + PT_ROWS_BYTES;
const LEG_BLOCK_BYTES = RING_OFFSET + REORDER_SLOTS * INITIAL_SLOT_STRIDE;
/** Rebase the timestamp anchor before signed 32-bit offsets could overflow on long calls. */
const REBASE_TIMESTAMP_SPAN = 1 << 28;

const GAP_SILENCE = 0;
const GAP_CONCEAL = 1;
const GAP_COMFORT_NOISE = 2;

/** Signed distance from the extended sequence number `reference` to the 16-bit `sequence`, in -32768..32767. */
function sequenceStep(sequence: number, reference: number): number {
  // Masks rather than `%`: extended numbers are non-negative integers, and `& 0xffff` is their value mod 65536
  // even past 2^31 (ToInt32 wraps mod 2^32, a multiple of 65536).
  return ((sequence - (reference & 0xffff) + 98304) & 0xffff) - 32768;
}

export type DecoderFactory = (codec: DecodableCodec) => PayloadDecoder;

/** The stage-clock stage a codec's decoding is counted under. */
function decodeStageOf(codec: DecodableCodec): number {
  switch (codec) {
    case 'g722':
      return STAGE.decode_g722;
    case 'opus':
      return STAGE.decode_opus;
    case 'l16':
    case 'l16-16k':
      return STAGE.decode_l16;
    default:
      return STAGE.decode_g711;
  }
}

export interface LegStreamOptions {
  /** Reorder wait in ms, 0..MAX_REORDER_MS (default DEFAULT_REORDER_MS). */
  reorderMs?: number;
  /**
   * Wait reorderMs for every gap, even on a leg whose gaps keep coming out lost (default false: see
   * NO_WAIT_AFTER_LOST_GAPS).
   */
  fixedReorderWait?: boolean;
  /** Complete payload-type map (see `withPayloadTypes` to extend the defaults). */
  payloadTypes?: PayloadTypeMap;
  /** Shared per-reason drop counters (CallMedia passes one array for both legs). */
  drops?: Float64Array;
  /** Shared set the unsupported codecs seen are added to. */
  unsupportedCodecs?: Set<string>;
  /** Called when a codec is added to unsupportedCodecs (once per codec per set). */
  onUnsupportedCodec?: (codec: string) => void;
  createDecoder?: DecoderFactory;
  /**
   * The call's slot in its owner's sweep schedule, where this leg tells when it next needs a flush (see
   * FlushSchedule); a slot nothing reads by default.
   */
  flushSlot?: FlushSlot;
}

/**
 * A leg's LegStats: the two that every packet changes (packets, jitterMs) are read from its pooled row, the rest
 * (changed by loss, reordering, stream changes) are fields.
 */
class LegStreamStats implements LegStats {
  lost = 0;
  duplicates = 0;
  reordered = 0;
  late = 0;
  ssrcChanges = 0;
  codec = '';
  rtcpPackets = 0;
  rtcpMalformed = 0;
  rtcpSenderReports = 0;
  rtcpReportBlocks = 0;
  reportedFractionLost = 0;
  reportedCumulativeLost = 0;
  reportedJitter = 0;

  constructor(private readonly owner: LegStateHolder) {}

  get packets(): number {
    return this.owner.rowState[this.owner.rowBase + ROW_PACKETS];
  }
  set packets(value: number) {
    this.owner.rowState[this.owner.rowBase + ROW_PACKETS] = value;
  }
  get jitterMs(): number {
    return this.owner.rowState[this.owner.rowBase + ROW_JITTER + JITTER_MS];
  }
  set jitterMs(value: number) {
    this.owner.rowState[this.owner.rowBase + ROW_JITTER + JITTER_MS] = value;
  }

  /**
   * What JSON and logs show: every statistic, as plain emptyLegStats() fields (packets and jitterMs are getters,
   * which JSON leaves out, and `owner` must stay out).
   */
  toJSON(): LegStats {
    const json = emptyLegStats();
    const fields = json as unknown as Record<string, unknown>;
    for (const key of Object.keys(json) as (keyof LegStats)[]) fields[key] = this[key];
    return json;
  }
}

export class LegStream implements EventClock, LegStateHolder {
  // The fields every packet reads, first (after `leg`, the constructor's), through quietMs: two or three cache lines
  // of the object, which readAhead reads across (the rest of a packet's state is the pooled row: see
  // leg-state-pool.ts).
  /** The leg's pooled row: rowState[rowBase...] (LegStateHolder; leg-state-pool.ts keeps these up to date). */
  rowState!: Float64Array;
  rowWords!: Int32Array;
  rowBytes!: Uint8Array;
  rowBase = 0;
  readonly stats: LegStats = new LegStreamStats(this);
  private readonly frames: FrameAssembler;
  /** The frames' sink, also here: a whole-frame packet goes to it without reading `frames` (see decodeOnTimeline). */
  private readonly sink: MediaSink;
  /** The decoder of the current audio PT (see audioPt). */
  private audioDecoder: PayloadDecoder | null = null;
  /** Where nextFlushMs() goes after every packet and flush: schedule.due[scheduleIndex]. */
  private readonly schedule: FlushSchedule;
  private readonly scheduleIndex: number;
  /**
   * The shortest a leg can be without packets before a flush has work for it (an idle fill: see idleDelayMs, which
   * is never shorter) or its session can be idle (the schedule's horizon).
   */
  private readonly quietMs: number;
  readonly drops: Float64Array;
  readonly unsupportedCodecs: Set<string>;
  private readonly onUnsupportedCodec: ((codec: string) => void) | null;
  readonly reorderMs: number;
  /** Lost gaps in a row after which the leg stops waiting (NO_WAIT_AFTER_LOST_GAPS, or Infinity: always waits). */
  private readonly waitLimitGaps: number;
  /** Gaps declared lost at once, without the reorder wait (see NO_WAIT_AFTER_LOST_GAPS). */
  unwaitedGaps = 0;
  /** Timeline re-anchors for timestamp jumps, sequence restarts and clock-rate changes (SSRC changes apart). */
  resyncs = 0;
  /** Samples filled by concealment, comfort noise and silence respectively. */
  concealedSamples = 0;
  comfortNoiseSamples = 0;
  silenceSamples = 0;
  /** Of those, samples written because the leg had no packets while time went on (see `flush`). */
  idleFilledSamples = 0;
  readonly events: TelephoneEventTracker;

  private readonly newDecoder: DecoderFactory;

  // Payload types: kind, codec and decoder per PT, decoders created on first use and kept. The codec names
  // come from the table shared by every leg of the same map; the kinds in ptFields are this leg's own copy (a
  // codec whose decoder fails to load becomes unsupported for this leg only).
  private readonly ptTable: PayloadTable;
  /** Decoders created so far (a leg carries one or two audio PTs: a short list, found through ptFields). */
  private readonly decoders: PayloadDecoder[] = [];
  /** See LEG_BLOCK_BYTES. */
  private readonly block = new ArrayBuffer(LEG_BLOCK_BYTES);
  /** Per PT, one 4-byte row (see PT_SHIFT): its kind, decoder index + 1 (0: none yet) and stage-clock stage. */
  private readonly ptFields = new Uint8Array(this.block, SLOT_ROWS_BYTES, PT_ROWS_BYTES);

  /** Reorder ring: the fields of slot k at [k << SLOT_SHIFT, (k + 1) << SLOT_SHIFT) (see SLOT_SHIFT). */
  private readonly slots = new Float64Array(this.block, 0, REORDER_SLOTS << SLOT_SHIFT);
  /** Held payloads: slotStride bytes per slot, in the leg's block until a bigger payload widens them (growSlots). */
  private slotBytes = new Uint8Array(this.block, RING_OFFSET, REORDER_SLOTS * INITIAL_SLOT_STRIDE);
  /** slotBytes as words: a staged payload is copied in four bytes per access (strides are multiples of 4). */
  private slotWords = new Int32Array(this.block, RING_OFFSET, (REORDER_SLOTS * INITIAL_SLOT_STRIDE) >> 2);
  private slotStride = INITIAL_SLOT_STRIDE;

  // The stream before an SSRC change: read only when the SSRC changes.
  private previousSsrc = -1;
  private previousHighestSequence = 0;
  private comfortNoiseRms = 0;

  // The pooled fields (see ROW_CALL_ZERO_MS).

  /** Call media time zero (arrival ms of the call's first packet); set by the owner before the first push. */
  get callZeroMs(): number {
    return this.rowState[this.rowBase + ROW_CALL_ZERO_MS];
  }
  set callZeroMs(value: number) {
    this.rowState[this.rowBase + ROW_CALL_ZERO_MS] = value;
  }
  /** Arrival time of this leg's last packet (NaN before the first). */
  get lastArrivalMs(): number {
    return this.rowState[this.rowBase + ROW_LAST_ARRIVAL_MS];
  }
  private set lastArrivalMs(value: number) {
    this.rowState[this.rowBase + ROW_LAST_ARRIVAL_MS] = value;
  }
  /** Clock rate of the timeline's anchor (the current stream's codec). */
  get clockRate(): number {
    return this.rowWords[2 * this.rowBase + WORD_CLOCK_RATE];
  }
  private set clockRate(value: number) {
    this.rowWords[2 * this.rowBase + WORD_CLOCK_RATE] = value;
  }

  // Sequence state of the current RTP stream.
  private get streamStarted(): boolean {
    return this.rowBytes[8 * this.rowBase + BYTE_STREAM_STARTED] !== 0;
  }
  private set streamStarted(value: boolean) {
    this.rowBytes[8 * this.rowBase + BYTE_STREAM_STARTED] = value ? 1 : 0;
  }
  private get playing(): boolean {
    return this.rowBytes[8 * this.rowBase + BYTE_PLAYING] !== 0;
  }
  private set playing(value: boolean) {
    this.rowBytes[8 * this.rowBase + BYTE_PLAYING] = value ? 1 : 0;
  }
  private get holdUntilMs(): number {
    return this.rowState[this.rowBase + ROW_HOLD_UNTIL_MS];
  }
  private set holdUntilMs(value: number) {
    this.rowState[this.rowBase + ROW_HOLD_UNTIL_MS] = value;
  }
  private get ssrc(): number {
    return this.rowWords[2 * this.rowBase + WORD_SSRC] >>> 0;
  }
  private set ssrc(value: number) {
    this.rowWords[2 * this.rowBase + WORD_SSRC] = value;
  }
  private get highestSequence(): number {
    return this.rowWords[2 * this.rowBase + WORD_HIGHEST_SEQUENCE];
  }
  private set highestSequence(value: number) {
    this.rowWords[2 * this.rowBase + WORD_HIGHEST_SEQUENCE] = value;
  }
  private get nextPlaySequence(): number {
    return this.rowWords[2 * this.rowBase + WORD_NEXT_PLAY_SEQUENCE];
  }
  private set nextPlaySequence(value: number) {
    this.rowWords[2 * this.rowBase + WORD_NEXT_PLAY_SEQUENCE] = value;
  }
  /** Packets held in the ring. */
  private get pending(): number {
    return this.rowWords[2 * this.rowBase + WORD_PENDING];
  }
  private set pending(value: number) {
    this.rowWords[2 * this.rowBase + WORD_PENDING] = value;
  }
  /**
   * Arrival of the oldest held packet, or NaN when it must be found again by a scan of the ring (after a held
   * packet played). A leg that lost a packet holds every packet behind the gap for up to reorderMs, and each of
   * them used to rescan all 16 rows (16 cache lines) to learn what it already knew.
   */
  private get heldSinceMs(): number {
    return this.rowState[this.rowBase + ROW_HELD_SINCE_MS];
  }
  private set heldSinceMs(value: number) {
    this.rowState[this.rowBase + ROW_HELD_SINCE_MS] = value;
  }
  /** The sequence number reorder slot `slot` holds, -1 for none. */
  private slotSequence(slot: number): number {
    return this.rowWords[2 * this.rowBase + WORD_SEQUENCE_RING + slot];
  }
  private setSlotSequence(slot: number, sequence: number): void {
    this.rowWords[2 * this.rowBase + WORD_SEQUENCE_RING + slot] = sequence;
  }

  /**
   * The audio PT of the leg's last audio packet (-1: none yet), beside audioDecoder and its stage-clock stage
   * (WORD_AUDIO_STAGE): a stream keeps one PT, and its ptFields row and the decoders list would be more cold cache
   * lines per packet. Only written through this setter: the packet path reads the row directly, as it does codecPt
   * and lostSinceAudio.
   */
  private set audioPt(value: number) {
    this.rowWords[2 * this.rowBase + WORD_AUDIO_PT] = value;
  }
  /** The PT whose name `stats.codec` holds (-1: none yet): the name is looked up again only when the PT changes. */
  private set codecPt(value: number) {
    this.rowWords[2 * this.rowBase + WORD_CODEC_PT] = value;
  }

  // Timeline.
  private get anchored(): boolean {
    return this.rowBytes[8 * this.rowBase + BYTE_ANCHORED] !== 0;
  }
  private set anchored(value: boolean) {
    this.rowBytes[8 * this.rowBase + BYTE_ANCHORED] = value ? 1 : 0;
  }
  private get reanchorPending(): boolean {
    return this.rowBytes[8 * this.rowBase + BYTE_REANCHOR_PENDING] !== 0;
  }
  private set reanchorPending(value: boolean) {
    this.rowBytes[8 * this.rowBase + BYTE_REANCHOR_PENDING] = value ? 1 : 0;
  }
  private get anchorTimestamp(): number {
    return this.rowWords[2 * this.rowBase + WORD_ANCHOR_TIMESTAMP];
  }
  private set anchorTimestamp(value: number) {
    this.rowWords[2 * this.rowBase + WORD_ANCHOR_TIMESTAMP] = value;
  }
  private get anchorSample(): number {
    return this.rowState[this.rowBase + ROW_ANCHOR_SAMPLE];
  }
  private set anchorSample(value: number) {
    this.rowState[this.rowBase + ROW_ANCHOR_SAMPLE] = value;
  }
  private set lostSinceAudio(value: boolean) {
    this.rowBytes[8 * this.rowBase + BYTE_LOST_SINCE_AUDIO] = value ? 1 : 0;
  }
  private get comfortNoise(): boolean {
    return this.rowBytes[8 * this.rowBase + BYTE_COMFORT_NOISE] !== 0;
  }
  private set comfortNoise(value: boolean) {
    this.rowBytes[8 * this.rowBase + BYTE_COMFORT_NOISE] = value ? 1 : 0;
  }
  private get eventOpen(): boolean {
    return this.rowBytes[8 * this.rowBase + BYTE_EVENT_OPEN] !== 0;
  }
  private set eventOpen(value: boolean) {
    this.rowBytes[8 * this.rowBase + BYTE_EVENT_OPEN] = value ? 1 : 0;
  }
  /** RFC 3550 jitter estimate of the current stream, ms. */
  private get jitterMs(): number {
    return this.rowState[this.rowBase + ROW_JITTER + JITTER_MS];
  }

  constructor(
    readonly leg: Leg,
    sink: MediaSink,
    options: LegStreamOptions = {},
  ) {
    const reorderMs = options.reorderMs ?? DEFAULT_REORDER_MS;
    if (!(reorderMs >= 0 && reorderMs <= MAX_REORDER_MS)) {
      throw new Error(`reorderMs: must be between 0 and ${MAX_REORDER_MS} ms, got ${reorderMs}`);
    }
    this.reorderMs = reorderMs;
    this.waitLimitGaps =
      options.fixedReorderWait === true ? Number.POSITIVE_INFINITY : NO_WAIT_AFTER_LOST_GAPS;
    const { schedule, slot } = options.flushSlot ?? UNSWEPT_SLOT;
    this.schedule = schedule;
    this.scheduleIndex = dueIndex(slot, leg);
    this.quietMs = Math.min(IDLE_FILL_MS, reorderMs + IDLE_FILL_MARGIN_MS, schedule.horizonMs);
    this.drops = options.drops ?? newDropCounts();
    this.unsupportedCodecs = options.unsupportedCodecs ?? new Set();
    this.onUnsupportedCodec = options.onUnsupportedCodec ?? null;
    this.newDecoder = options.createDecoder ?? createDecoder;
    this.sink = sink;
    this.frames = new FrameAssembler(leg, sink, this, WORD_FRAME_POSITION);
    this.events = new TelephoneEventTracker(leg, sink);
    this.ptTable = payloadTable(options.payloadTypes ?? DEFAULT_PAYLOAD_TYPES);
    takeRow(this);
    this.callZeroMs = Number.NaN;
    this.lastArrivalMs = Number.NaN;
    this.audioPt = -1;
    this.codecPt = -1;
    this.clockRate = SAMPLE_RATE;
    this.emptySlots();
    for (let pt = 0; pt < 128; pt++) this.ptFields[(pt << PT_SHIFT) + PT_KIND_FIELD] = this.ptTable.kind[pt];
  }

  /** Name a PT's packets give `stats.codec`: the codec, or `unsupported:<pt>` (also for a decoder that failed). */
  private statName(pt: number): string {
    return this.ptFields[(pt << PT_SHIFT) + PT_KIND_FIELD] === PT_KIND_UNSUPPORTED
      ? UNSUPPORTED_NAMES[pt]
      : (this.ptTable.codec[pt] ?? '');
  }

  /**
   * Reads, ahead of this leg's next packet, one number from each cache line of its state that the packet's handling
   * starts with: the first word of each of its row's three lines (the row holds the frame position too), its
   * decoder, the sink its frames go to, and this object's own fields up to quietMs, the last one a packet reads.
   * Returns their sum, which the caller keeps so that no read is dropped as unused. See
   * src/ingest/udp/call-state-read-ahead.ts for why.
   */
  readAhead(): number {
    const words = this.rowWords;
    const at = 2 * this.rowBase;
    // The fields a packet reads span two or three lines of this object (where they break depends on where the
    // object lies). The call to this method reads its first word (the map), and rowWords, sink, audioDecoder and
    // quietMs, the last field a packet reads, follow at most 48 bytes apart: every one of those lines is read.
    let sum = words[at] + words[at + LINE_WORDS] + words[at + 2 * LINE_WORDS] + this.quietMs;
    const decoder = this.audioDecoder;
    if (decoder !== null) sum += decoder.clockRate;
    // The sink is the call's own object (the call's analyser in the service), and the frame's call to pushFrame
    // first reads its map, from the object's first line: on real UDP with a thousand calls that read was most of
    // what playing a frame waited for (perf annotate). Looking the method up reads the same word.
    return this.sink.pushFrame === undefined ? sum : sum + 1;
  }

  /**
   * Takes one parsed packet (payload still in `data`). Returns 0 when it was accepted into the stream, else the
   * DROP index it was counted under. Plays out whatever became ready.
   */
  push(header: RtpHeaderView, data: Uint8Array, arrivalMs: number): number {
    const stats = this.stats;
    // The common path reads the row directly, not through the accessors: each accessor is a call V8 must inline,
    // and the packet path makes so many of them that its inlining budget ran out (a tenth more CPU per packet).
    // `state` is read again after anything that plays out media: a sink may open a call, and the pool grow.
    // `words` and `bytes` likewise: the same row's memory.
    let state = this.rowState;
    let words = this.rowWords;
    let bytes = this.rowBytes;
    const at = this.rowBase;
    const w = 2 * at;
    const b = 8 * at;
    if (Number.isNaN(state[at + ROW_CALL_ZERO_MS])) state[at + ROW_CALL_ZERO_MS] = arrivalMs;
    state[at + ROW_LAST_ARRIVAL_MS] = arrivalMs;
    if (bytes[b + BYTE_STREAM_STARTED] !== 0 && (header.ssrc | 0) !== words[w + WORD_SSRC]) {
      if (header.ssrc === this.previousSsrc) {
        // A straggler of the stream just replaced is late; the old source coming back with newer sequence
        // numbers (a media server switching back) is a stream change like any other.
        const step = sequenceStep(header.sequence, this.previousHighestSequence);
        if (step <= 0 && step > -MAX_SEQUENCE_STEP) {
          stats.late++;
          return this.drop(DROP.late);
        }
      }
      this.restartStream(arrivalMs);
      stats.ssrcChanges++;
      this.previousSsrc = this.ssrc;
      this.previousHighestSequence = this.highestSequence;
    }
    let sequence: number;
    if (bytes[b + BYTE_STREAM_STARTED] === 0) {
      sequence = SEQUENCE_BASE + header.sequence;
      this.startStream(header.ssrc, sequence, arrivalMs);
    } else {
      const highest = words[w + WORD_HIGHEST_SEQUENCE];
      const step = sequenceStep(header.sequence, highest);
      sequence = highest + step;
      if (step > MAX_SEQUENCE_STEP || step < -MAX_SEQUENCE_STEP) {
        this.restartStream(arrivalMs);
        this.resyncs++;
        sequence = SEQUENCE_BASE + header.sequence;
        this.startStream(header.ssrc, sequence, arrivalMs);
      }
    }
    state = this.rowState;
    words = this.rowWords;
    bytes = this.rowBytes;

    const slot = sequence & SLOT_MASK;
    if (this.slotSequence(slot) === sequence) {
      stats.duplicates++;
      return this.drop(DROP.duplicate);
    }
    if (sequence < words[w + WORD_NEXT_PLAY_SEQUENCE]) {
      if (bytes[b + BYTE_PLAYING] !== 0 || words[w + WORD_HIGHEST_SEQUENCE] - sequence >= REORDER_SLOTS) {
        return this.dropLate();
      }
      // Still holding the stream start: a reordered first packet moves the start back.
      words[w + WORD_NEXT_PLAY_SEQUENCE] = sequence;
    }
    if (sequence >= words[w + WORD_NEXT_PLAY_SEQUENCE] + REORDER_SLOTS) {
      // Ring full of range: play or declare lost whatever must leave to make room.
      this.playing = true;
      this.playOut(arrivalMs, sequence - REORDER_SLOTS + 1);
      state = this.rowState;
      words = this.rowWords;
      bytes = this.rowBytes;
    }
    const highest = words[w + WORD_HIGHEST_SEQUENCE];
    if (sequence > highest) words[w + WORD_HIGHEST_SEQUENCE] = sequence;
    else if (sequence !== highest) stats.reordered++;

    const pt = header.payloadType;
    let kind = PT_KIND_AUDIO;
    if (pt !== words[w + WORD_AUDIO_PT]) {
      kind = this.ptFields[(pt << PT_SHIFT) + PT_KIND_FIELD];
      if (kind === PT_KIND_AUDIO && !this.useAudioPt(pt))
        kind = this.ptFields[(pt << PT_SHIFT) + PT_KIND_FIELD];
    }
    let result = DROP.none;
    const length = header.payloadLength;
    // Audio first: nearly every packet is audio, and the checks for the other kinds never apply to it.
    if (kind === PT_KIND_AUDIO && length <= MAX_PAYLOAD_BYTES) {
      const clockRate = (this.audioDecoder as PayloadDecoder).clockRate;
      updateJitter(state, at + ROW_JITTER, words, w + WORD_JITTER, arrivalMs, header.timestamp, clockRate);
    } else if (kind === PT_KIND_UNKNOWN) {
      result = DROP.unknown_payload_type;
    } else if (kind === PT_KIND_UNSUPPORTED) {
      result = DROP.unsupported_codec;
      const codec = this.ptTable.codec[pt] as string;
      if (!this.unsupportedCodecs.has(codec)) {
        this.unsupportedCodecs.add(codec);
        this.onUnsupportedCodec?.(codec);
      }
      stats.codec = this.statName(pt);
      this.codecPt = pt;
    } else if (length > MAX_PAYLOAD_BYTES) {
      result = DROP.oversized;
    } else if (kind === PT_KIND_EVENT && length < TELEPHONE_EVENT_BYTES) {
      result = DROP.truncated;
    } else if (kind === PT_KIND_CN) {
      updateJitter(
        state,
        at + ROW_JITTER,
        words,
        w + WORD_JITTER,
        arrivalMs,
        header.timestamp,
        words[w + WORD_CLOCK_RATE],
      );
    }
    if (result !== DROP.none) {
      this.drops[result]++;
      // The slot still takes the sequence number so the gap it leaves is not counted as loss.
      kind = PT_KIND_UNKNOWN;
    } else {
      state[at + ROW_PACKETS]++;
    }
    this.setSlotSequence(slot, sequence);
    if (
      bytes[b + BYTE_PLAYING] !== 0 &&
      words[w + WORD_PENDING] === 0 &&
      sequence === words[w + WORD_NEXT_PLAY_SEQUENCE]
    ) {
      // In order with nothing held: play straight from the datagram, no copy into the ring, and no slot row.
      describePacket(PLAYING, 0, header, kind, arrivalMs, result === DROP.none ? length : 0);
      words[w + WORD_NEXT_PLAY_SEQUENCE] = sequence + 1;
      if (kind === PT_KIND_AUDIO) this.playAudio(data, header.payloadOffset);
      else this.play(data, header.payloadOffset);
    } else {
      this.hold(header, data, sequence, kind, result === DROP.none ? length : 0, arrivalMs);
    }
    // The returns above (duplicate, late) change nothing a flush would do: the time written last still holds.
    this.schedule.due[this.scheduleIndex] = this.nextFlushMs(false);
    return result;
  }

  /**
   * Keeps a packet that cannot play yet in its reorder slot, `heldBytes` of payload copied into the ring (0: the slot
   * only takes its sequence number) — unless it is the first packet behind a gap on a leg that has stopped waiting
   * (see NO_WAIT_AFTER_LOST_GAPS): the gap is lost now, and the packet plays as an in-order one. Out of push, whose
   * size decides what the compiler inlines into the path every packet takes (this one only a packet behind a gap
   * takes).
   */
  private hold(
    header: RtpHeaderView,
    data: Uint8Array,
    sequence: number,
    kind: number,
    heldBytes: number,
    arrivalMs: number,
  ): void {
    const state = this.rowState;
    const at = this.rowBase;
    const bytes = this.rowBytes;
    const words = this.rowWords;
    if (
      bytes[8 * at + BYTE_PLAYING] !== 0 &&
      words[2 * at + WORD_PENDING] === 0 &&
      words[2 * at + WORD_LOST_GAPS] >= this.waitLimitGaps
    ) {
      this.declareGapLost(sequence);
      describePacket(PLAYING, 0, header, kind, arrivalMs, heldBytes);
      words[2 * at + WORD_NEXT_PLAY_SEQUENCE] = sequence + 1;
      this.play(data, header.payloadOffset);
      return;
    }
    // A packet older than the newest is out of order (it is held: the newer ones wait behind its gap): the leg waits
    // for its gaps again. Here rather than in push, where every packet would carry the check's code.
    if (sequence < words[2 * at + WORD_HIGHEST_SEQUENCE]) words[2 * at + WORD_LOST_GAPS] = 0;
    const slot = sequence & SLOT_MASK;
    const slots = this.slots;
    const row = slot << SLOT_SHIFT;
    describePacket(slots, row, header, kind, arrivalMs, heldBytes);
    if (heldBytes > this.slotStride) this.growSlots(heldBytes);
    const base = slot * this.slotStride;
    const from = header.payloadOffset;
    if (data === DATAGRAM_STAGE && (from & 3) === 0) {
      // Whole words: the copy may run up to 3 bytes past the payload, still inside the slot and the stage.
      copyWords(DATAGRAM_STAGE_WORDS, from >> 2, this.slotWords, base >> 2, (heldBytes + 3) >> 2);
    } else {
      const bytes = this.slotBytes;
      for (let i = 0; i < heldBytes; i++) bytes[base + i] = data[from + i];
    }
    slots[row + SLOT_STATE] = SLOT_PENDING;
    // Kept exact while nothing plays: the first held packet sets it, later ones can only lower it (NaN stays NaN).
    const pending = words[2 * at + WORD_PENDING];
    if (pending === 0 || arrivalMs < state[at + ROW_HELD_SINCE_MS]) state[at + ROW_HELD_SINCE_MS] = arrivalMs;
    words[2 * at + WORD_PENDING] = pending + 1;
    this.flush(arrivalMs);
  }

  /**
   * Declares the sequence numbers from the next one to play up to `sequence` lost without waiting for them (a gap on a
   * leg that has stopped waiting: see NO_WAIT_AFTER_LOST_GAPS); `sequence` is then the next to play. Out of push,
   * like hold.
   */
  private declareGapLost(sequence: number): void {
    const at = this.rowBase;
    const bytes = this.rowBytes;
    const words = this.rowWords;
    this.stats.lost += sequence - words[2 * at + WORD_NEXT_PLAY_SEQUENCE];
    this.unwaitedGaps++;
    words[2 * at + WORD_NEXT_PLAY_SEQUENCE] = sequence;
    bytes[8 * at + BYTE_LOST_SINCE_AUDIO] = 1;
  }

  /**
   * Plays out what is in order, and gaps whose reorder deadline has passed by `nowMs`; closes stale events; and
   * keeps a leg that has gone quiet (hold, DTX, a stalled sender) moving with silence or comfort noise up to its
   * idle delay before `nowMs`, so the other leg's frames are not left waiting for this one — unless `paused`
   * (the call's owner saw neither leg carry media for a while: there is no other leg to keep up with).
   */
  flush(nowMs: number, paused = false): void {
    if (this.streamStarted && !this.playing && nowMs >= this.holdUntilMs) this.playing = true;
    if (this.playing && this.pending > 0) this.playOut(nowMs, -1);
    if (this.eventOpen) {
      this.events.expire(nowMs, this);
      this.eventOpen = this.events.active;
    }
    if (!paused && this.playing && this.pending === 0 && this.anchored && !this.reanchorPending) {
      const delayMs = this.idleDelayMs;
      if (nowMs - this.lastArrivalMs >= delayMs) this.fillIdle(nowMs, delayMs);
    }
    this.schedule.due[this.scheduleIndex] = this.nextFlushMs(paused);
  }

  /**
   * The earliest time at which flush() could have work for this leg, or its session be idle because of it (see
   * FlushSchedule): none before the stream starts; every sweep while a telephone event is open (its deadlines are
   * the tracker's); while packets are held, the deadline of the gap before them (the oldest held packet's arrival
   * plus the reorder wait), or every sweep when that arrival is not known (heldSinceMs is NaN after a held packet
   * played); the end of the start-up hold; else once the leg has been quiet for quietMs, or, while the call's media
   * is `paused` (no idle fill until a packet comes, and a packet writes the time again), once the leg has been quiet
   * for the schedule's horizon, when the session may be idle. Only packets and flushes change these, and each writes
   * the time again.
   *
   * A loss used to bring its leg to every sweep until the gap's deadline: with many calls each visit read the leg's
   * state back from memory, more than the concealment of the loss itself cost.
   */
  private nextFlushMs(paused: boolean): number {
    const state = this.rowState;
    const at = this.rowBase;
    const bytes = this.rowBytes;
    const words = this.rowWords;
    if (bytes[8 * at + BYTE_STREAM_STARTED] === 0) return Number.POSITIVE_INFINITY;
    if (bytes[8 * at + BYTE_EVENT_OPEN] !== 0) return Number.NEGATIVE_INFINITY;
    const quiet = state[at + ROW_LAST_ARRIVAL_MS] + (paused ? this.schedule.horizonMs : this.quietMs);
    if (bytes[8 * at + BYTE_PLAYING] === 0) return Math.min(state[at + ROW_HOLD_UNTIL_MS], quiet);
    // The held case out of line: this runs after every packet, inlined into push, whose size decides what else the
    // compiler inlines there.
    return words[2 * at + WORD_PENDING] > 0 ? this.heldDeadlineMs(quiet) : quiet;
  }

  /** nextFlushMs while packets are held: the gap's deadline, or every sweep when it is not known. */
  private heldDeadlineMs(quiet: number): number {
    const heldSince = this.rowState[this.rowBase + ROW_HELD_SINCE_MS];
    return Number.isNaN(heldSince) ? Number.NEGATIVE_INFINITY : Math.min(heldSince + this.reorderMs, quiet);
  }

  /** How long this leg must be without packets before it is idle, and how far behind the clock it is then filled. */
  get idleDelayMs(): number {
    return Math.min(IDLE_FILL_MS, this.reorderMs + IDLE_FILL_JITTERS * this.jitterMs + IDLE_FILL_MARGIN_MS);
  }

  /** Plays out everything held, closes an open event and completes the last frame. */
  finish(): void {
    this.drain();
    this.events.finish(this);
    this.eventOpen = false;
    this.frames.finish();
    // The pool's row goes to the next leg; this one keeps a copy for whoever reads it after the call.
    releaseRow(this);
    // Nothing is decoded or concealed after this: what a decoder keeps for it (a datagram) is let go now.
    for (const decoder of this.decoders) decoder.reset();
  }

  /** Call media seconds of an RTP timestamp of the current stream (EventClock). */
  secondsOf(timestamp: number): number {
    if (!this.anchored) return this.frames.position / SAMPLE_RATE;
    return this.positionOf(timestamp) / SAMPLE_RATE;
  }

  /** A packet too late for its gap, which has been played out (counted lost): out of order, so the leg waits again. */
  private dropLate(): number {
    this.stats.late++;
    this.rowWords[2 * this.rowBase + WORD_LOST_GAPS] = 0;
    return this.drop(DROP.late);
  }

  private drop(reason: number): number {
    this.drops[reason]++;
    return reason;
  }

  /**
   * Makes an audio PT the leg's current one (audioPt, audioDecoder, audioStage), creating its decoder on its first
   * packet. False when the decoder cannot be created: the PT is then unsupported (see createDecoderFor).
   */
  private useAudioPt(pt: number): boolean {
    let decoderSlot = this.ptFields[(pt << PT_SHIFT) + PT_DECODER_FIELD];
    if (decoderSlot === 0) {
      if (!this.createDecoderFor(pt)) return false;
      decoderSlot = this.ptFields[(pt << PT_SHIFT) + PT_DECODER_FIELD];
    }
    this.audioPt = pt;
    this.audioDecoder = this.decoders[decoderSlot - 1];
    this.rowWords[2 * this.rowBase + WORD_AUDIO_STAGE] = this.ptFields[(pt << PT_SHIFT) + PT_STAGE_FIELD];
    return true;
  }

  /**
   * Creates the PT's decoder on its first packet. A codec this build cannot decode (its decoder missing or failing
   * to load) is reported like G.729: unsupported for the session, never decoded as noise. Returns success.
   */
  private createDecoderFor(pt: number): boolean {
    try {
      const codec = this.ptTable.codec[pt] as DecodableCodec;
      this.decoders.push(this.newDecoder(codec));
      this.ptFields[(pt << PT_SHIFT) + PT_DECODER_FIELD] = this.decoders.length;
      this.ptFields[(pt << PT_SHIFT) + PT_STAGE_FIELD] = decodeStageOf(codec);
      return true;
    } catch {
      this.ptFields[(pt << PT_SHIFT) + PT_KIND_FIELD] = PT_KIND_UNSUPPORTED;
      return false;
    }
  }

  private startStream(ssrc: number, sequence: number, arrivalMs: number): void {
    this.streamStarted = true;
    this.playing = false;
    this.holdUntilMs = arrivalMs + this.reorderMs;
    this.ssrc = ssrc;
    this.highestSequence = sequence;
    this.nextPlaySequence = sequence;
  }

  /** Ends the current RTP stream: plays out what it holds and forgets its sequence space. */
  private restartStream(arrivalMs: number): void {
    this.drain();
    this.events.finish(this);
    this.eventOpen = false;
    this.emptySlots();
    this.streamStarted = false;
    this.reanchorPending = true;
    restartJitter(this.rowWords, 2 * this.rowBase + WORD_JITTER);
    this.holdUntilMs = arrivalMs;
  }

  /** Marks every slot of the ring empty and holding no sequence number. */
  private emptySlots(): void {
    const slots = this.slots;
    for (let slot = 0; slot < REORDER_SLOTS; slot++) {
      this.setSlotSequence(slot, -1);
      slots[(slot << SLOT_SHIFT) + SLOT_STATE] = SLOT_EMPTY;
    }
    this.heldSinceMs = Number.NaN;
  }

  private drain(): void {
    if (this.pending > 0) this.playOut(Number.POSITIVE_INFINITY, -1);
  }

  /**
   * Plays slots in sequence order. Stops at a gap unless the next held packet has waited `reorderMs` by `nowMs`,
   * or the gap lies below `forceBelow` (room needed in the ring).
   */
  private playOut(nowMs: number, forceBelow: number): void {
    const stats = this.stats;
    const slots = this.slots;
    // Whether the sequence number before this one was declared lost here: a run of them is one gap. A gap drained
    // at a stream's end or change (nowMs Infinity) was not waited for, and says nothing about reordering.
    let inGap = false;
    const waited = nowMs !== Number.POSITIVE_INFINITY;
    // The oldest held packet's arrival (heldSinceMs) is found again only after a held packet has played: a loss
    // burst walks many gaps in one call, and the ring scan per gap was most of what a lossy leg cost.
    while (this.pending > 0 || this.nextPlaySequence < forceBelow) {
      const sequence = this.nextPlaySequence;
      const slot = sequence & SLOT_MASK;
      const row = slot << SLOT_SHIFT;
      if (this.slotSequence(slot) === sequence && slots[row + SLOT_STATE] === SLOT_PENDING) {
        // Slot state moves before any decoder or sink runs, so an exception there cannot replay it.
        slots[row + SLOT_STATE] = SLOT_DONE;
        inGap = false;
        this.pending--;
        this.nextPlaySequence = sequence + 1;
        this.heldSinceMs = Number.NaN;
        for (let field = 0; field < SLOT_FIELDS; field++) PLAYING[field] = slots[row + field];
        if (slots[row + SLOT_KIND] === PT_KIND_AUDIO) {
          // Back into WebAssembly memory for the decoder (see HELD_STAGE); slots are whole words long.
          const words = (slots[row + SLOT_LENGTH] + 3) >> 2;
          copyWords(this.slotWords, (slot * this.slotStride) >> 2, HELD_STAGE_WORDS, 0, words);
          this.playAudio(HELD_STAGE, 0);
        } else {
          this.play(this.slotBytes, slot * this.slotStride);
        }
        continue;
      }
      if (sequence >= forceBelow) {
        if (Number.isNaN(this.heldSinceMs)) this.heldSinceMs = this.oldestPendingArrivalMs();
        if (this.heldSinceMs + this.reorderMs > nowMs) return;
      }
      this.nextPlaySequence = sequence + 1;
      stats.lost++;
      this.lostSinceAudio = true;
      if (!inGap) {
        inGap = true;
        if (waited) this.rowWords[2 * this.rowBase + WORD_LOST_GAPS]++;
      }
    }
  }

  /** Widens every slot to hold `length` bytes, on the first payload over the stride (rare: doubling at least). */
  private growSlots(length: number): void {
    // A multiple of 4, so every slot starts on a word (MAX_PAYLOAD_BYTES is one too).
    const stride = Math.min(MAX_PAYLOAD_BYTES, (Math.max(length, this.slotStride * 2) + 3) & ~3);
    const bytes = new Uint8Array(REORDER_SLOTS * stride);
    const old = this.slotBytes;
    const oldStride = this.slotStride;
    for (let slot = 0; slot < REORDER_SLOTS; slot++) {
      const from = slot * oldStride;
      const to = slot * stride;
      for (let i = 0; i < oldStride; i++) bytes[to + i] = old[from + i];
    }
    this.slotBytes = bytes;
    this.slotWords = new Int32Array(bytes.buffer);
    this.slotStride = stride;
  }

  private oldestPendingArrivalMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    const slots = this.slots;
    for (let row = 0; row < slots.length; row += 1 << SLOT_SHIFT) {
      if (slots[row + SLOT_STATE] === SLOT_PENDING && slots[row + SLOT_ARRIVAL_MS] < oldest) {
        oldest = slots[row + SLOT_ARRIVAL_MS];
      }
    }
    return oldest;
  }

  /** Plays one packet whose payload is at bytes[offset, offset + its SLOT_LENGTH). */
  private play(bytes: Uint8Array, offset: number): void {
    const kind = PLAYING[SLOT_KIND];
    if (kind === PT_KIND_AUDIO) this.playAudio(bytes, offset);
    else if (kind === PT_KIND_EVENT) this.playEvent(bytes, offset);
    else if (kind === PT_KIND_CN) this.playComfortNoise(bytes, offset);
  }

  private playAudio(bytes: Uint8Array, offset: number): void {
    const pt = PLAYING[SLOT_PAYLOAD_TYPE];
    // The row read directly, as in push.
    const words = this.rowWords;
    const at = this.rowBase;
    // A held packet may carry the PT the stream had before its latest packets: it becomes the current one again
    // (its decoder exists since the packet was pushed), and the next newer packet switches back.
    if (pt !== words[2 * at + WORD_AUDIO_PT]) this.useAudioPt(pt);
    const decoder = this.audioDecoder as PayloadDecoder;
    if (pt !== words[2 * at + WORD_CODEC_PT]) {
      this.stats.codec = this.statName(pt);
      words[2 * at + WORD_CODEC_PT] = pt;
    }
    // Gap fill, concealment, decoding and re-framing count as the codec's stage (in the datagrams the clock
    // samples); the frames they complete are timed by the sink under their own stage.
    const outer = STAGES.enterInDatagram(words[2 * at + WORD_AUDIO_STAGE]);
    try {
      const overlap = this.advanceTo(decoder.clockRate, decoder);
      const length = PLAYING[SLOT_LENGTH];
      decodeOnTimeline(
        this.frames,
        this,
        WORD_FRAME_POSITION,
        this.sink,
        this.leg,
        decoder,
        bytes,
        offset,
        length,
        overlap,
      );
    } finally {
      STAGES.leave(outer);
    }
    // Read again: the frames went to the sink.
    const after = this.rowBytes;
    after[8 * at + BYTE_LOST_SINCE_AUDIO] = 0;
    after[8 * at + BYTE_COMFORT_NOISE] = 0;
  }

  private playComfortNoise(bytes: Uint8Array, offset: number): void {
    this.advanceTo(this.clockRate, null);
    // RFC 3389: first octet is the noise level in -dBov (0..127); a level-less CN packet means "very quiet".
    const level = PLAYING[SLOT_LENGTH] > 0 ? bytes[offset] & 0x7f : 127;
    this.comfortNoiseRms = 32767 * 10 ** (-level / 20);
    this.comfortNoise = true;
    this.lostSinceAudio = false;
  }

  private playEvent(bytes: Uint8Array, offset: number): void {
    if (!this.anchored || this.reanchorPending) this.anchor(this.clockRate);
    this.events.handle(bytes, offset, PLAYING[SLOT_TIMESTAMP], PLAYING[SLOT_ARRIVAL_MS], this);
    this.eventOpen = this.events.active;
  }

  /**
   * Moves the timeline to the playing packet's timestamp: fills a gap before it, re-anchors on a jump, and returns
   * how many leading samples of the packet overlap audio already written (to be skipped).
   */
  private advanceTo(clockRate: number, decoder: PayloadDecoder | null): number {
    const at = this.rowBase;
    const bytes = this.rowBytes;
    const words = this.rowWords;
    if (
      bytes[8 * at + BYTE_ANCHORED] === 0 ||
      bytes[8 * at + BYTE_REANCHOR_PENDING] !== 0 ||
      clockRate !== words[2 * at + WORD_CLOCK_RATE]
    ) {
      if (this.anchored && !this.reanchorPending) this.resyncs++;
      this.anchor(clockRate);
    }
    const timestamp = PLAYING[SLOT_TIMESTAMP];
    let gap = this.positionOf(timestamp) - this.framePosition;
    if (gap > MAX_TIMESTAMP_GAP_SAMPLES || gap < -MAX_TIMESTAMP_OVERLAP_SAMPLES) {
      this.resyncs++;
      this.anchor(clockRate);
      gap = this.anchorSample - this.framePosition;
    }
    if (gap > 0) {
      let mode = GAP_SILENCE;
      if (bytes[8 * at + BYTE_COMFORT_NOISE] !== 0) mode = GAP_COMFORT_NOISE;
      else if (bytes[8 * at + BYTE_LOST_SINCE_AUDIO] !== 0 && PLAYING[SLOT_MARKER] === 0) mode = GAP_CONCEAL;
      this.fillGap(gap, mode, decoder);
    }
    const offset = (timestamp - this.anchorTimestamp) | 0;
    if (offset > REBASE_TIMESTAMP_SPAN) {
      this.anchorSample += Math.round((offset * SAMPLE_RATE) / this.clockRate);
      this.anchorTimestamp = timestamp;
    }
    return gap < 0 ? -gap : 0;
  }

  /** Anchors the stream's timestamps at the playing packet's arrival, never before audio already emitted. */
  private anchor(clockRate: number): void {
    const arrivalFrame = Math.round((PLAYING[SLOT_ARRIVAL_MS] - this.callZeroMs) / 20);
    const arrivalSample = Math.max(arrivalFrame, 0) * FRAME_SAMPLES;
    const position = this.frames.position;
    this.anchorSample = Math.max(arrivalSample, position);
    this.anchorTimestamp = PLAYING[SLOT_TIMESTAMP];
    this.clockRate = clockRate;
    this.anchored = true;
    this.reanchorPending = false;
    // Audio before a re-anchor is a different stream: what fills up to the anchor is silence, not its PLC.
    this.lostSinceAudio = false;
  }

  private positionOf(timestamp: number): number {
    const state = this.rowState;
    const at = this.rowBase;
    const words = this.rowWords;
    const offset = (timestamp - words[2 * at + WORD_ANCHOR_TIMESTAMP]) | 0;
    const clockRate = words[2 * at + WORD_CLOCK_RATE];
    // 8 kHz clocks (G.711, G.722, L16 narrowband) map one to one: the same value as the scaled form, no division.
    if (clockRate === SAMPLE_RATE) return state[at + ROW_ANCHOR_SAMPLE] + offset;
    return state[at + ROW_ANCHOR_SAMPLE] + Math.round((offset * SAMPLE_RATE) / clockRate);
  }
  /** The frames' position (FrameAssembler.position), read from the row rather than the assembler object. */
  private get framePosition(): number {
    return framePositionOf(this, WORD_FRAME_POSITION);
  }

  private fillIdle(nowMs: number, delayMs: number): void {
    const target = Math.floor((nowMs - this.callZeroMs - delayMs) / FRAME_MS) * FRAME_SAMPLES;
    const gap = target - this.frames.position;
    if (gap <= 0) return;
    this.idleFilledSamples += gap;
    this.fillGap(gap, this.comfortNoise ? GAP_COMFORT_NOISE : GAP_SILENCE, null);
  }

  private fillGap(count: number, mode: number, decoder: PayloadDecoder | null): void {
    const frames = this.frames;
    if (mode === GAP_COMFORT_NOISE) {
      frames.writeNoise(count, this.comfortNoiseRms);
      this.comfortNoiseSamples += count;
      return;
    }
    let left = count;
    if (mode === GAP_CONCEAL && decoder !== null) {
      const made = frames.writeConcealed(decoder, Math.min(left, MAX_CONCEAL_SAMPLES));
      left -= made;
      this.concealedSamples += made;
    }
    if (left > 0) {
      frames.writeSilence(left);
      this.silenceSamples += left;
    }
  }
}
