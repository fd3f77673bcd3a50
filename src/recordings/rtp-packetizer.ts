/**
 * Linear PCM -> 20 ms RTP packets, the one packetizer behind `replay` and the corpus generator's pcaps.
 */
import { createEncoder, type EncodableCodec } from '../ingest/codecs/registry.ts';
import { FRAME_MS } from '../ingest/media-sink.ts';
import { type CodecName, DEFAULT_PAYLOAD_TYPES } from '../ingest/payload-types.ts';

export type ReplayCodec = EncodableCodec;
export const REPLAY_CODECS: readonly ReplayCodec[] = ['pcmu', 'pcma', 'g722', 'l16', 'opus'];

/**
 * Payload type per codec: the lowest type forkguard's receiver maps to that codec by default, so a replay
 * decodes without configuration. Static types are RFC 3551 (PCMU 0, PCMA 8, G.722 9); Opus and L16 (8 kHz
 * mono) are dynamic and take the receiver's defaults (96 and 97).
 */
export const REPLAY_PAYLOAD_TYPES: Readonly<Record<ReplayCodec, number>> = Object.freeze(
  Object.fromEntries(REPLAY_CODECS.map((codec) => [codec, defaultPayloadType(codec)])) as Record<
    ReplayCodec,
    number
  >,
);

function defaultPayloadType(codec: CodecName): number {
  for (let pt = 0; pt < 128; pt++) if (DEFAULT_PAYLOAD_TYPES[pt] === codec) return pt;
  throw new Error(`no default payload type for codec '${codec}'`);
}

export const RTP_HEADER_BYTES = 12;

/** One RTP packet: 12-byte header (no CSRC, no extension) + payload. */
export function buildRtpPacket(
  payloadType: number,
  sequence: number,
  timestamp: number,
  ssrc: number,
  marker: boolean,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(RTP_HEADER_BYTES + payload.length);
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  out[2] = (sequence >>> 8) & 0xff;
  out[3] = sequence & 0xff;
  out[4] = timestamp >>> 24;
  out[5] = (timestamp >>> 16) & 0xff;
  out[6] = (timestamp >>> 8) & 0xff;
  out[7] = timestamp & 0xff;
  out[8] = ssrc >>> 24;
  out[9] = (ssrc >>> 16) & 0xff;
  out[10] = (ssrc >>> 8) & 0xff;
  out[11] = ssrc & 0xff;
  out.set(payload, RTP_HEADER_BYTES);
  return out;
}

export interface RtpDatagram {
  /** Send time, milliseconds from the stream start (packet k at k * 20 ms). */
  timeMs: number;
  data: Uint8Array;
}

/** One leg's audio encoded in 20 ms payloads, before RTP headers: what a replay can reuse across calls. */
export interface EncodedStream {
  payloadType: number;
  /** RTP timestamp increment per packet (20 ms of the codec's RTP clock). */
  timestampStep: number;
  /** Payload k covers [20k, 20k + 20) ms. */
  payloads: Uint8Array[];
}

/**
 * Cuts `pcm` (at `sampleRate`) into 20 ms frames (the last one padded with silence) and encodes each with a
 * fresh encoder for `codec`.
 */
export function encodeStream(
  pcm: Int16Array,
  sampleRate: 8000 | 16000,
  codec: ReplayCodec,
  payloadType: number = REPLAY_PAYLOAD_TYPES[codec],
): EncodedStream {
  const encoder = createEncoder(codec, payloadType);
  const frameSamples = (sampleRate * FRAME_MS) / 1000;
  const frame = new Int16Array(frameSamples);
  const count = Math.ceil(pcm.length / frameSamples);
  const payloads: Uint8Array[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const from = k * frameSamples;
    const to = Math.min(from + frameSamples, pcm.length);
    frame.set(pcm.subarray(from, to));
    if (to - from < frameSamples) frame.fill(0, to - from);
    payloads[k] = encoder.encode(frame, sampleRate);
  }
  return { payloadType: encoder.payloadType, timestampStep: (encoder.clockRate * FRAME_MS) / 1000, payloads };
}

export interface RtpStreamOptions {
  firstSequence?: number;
  firstTimestamp?: number;
  /** Added to every packet's timeMs. */
  startMs?: number;
}

/** Wraps each payload of `stream` in RTP: marker on the first packet, sequence +1 and timestamp +20 ms each. */
export function rtpPackets(
  stream: EncodedStream,
  ssrc: number,
  options: RtpStreamOptions = {},
): RtpDatagram[] {
  const startMs = options.startMs ?? 0;
  let sequence = (options.firstSequence ?? 0) & 0xffff;
  let timestamp = (options.firstTimestamp ?? 0) >>> 0;
  const out: RtpDatagram[] = new Array(stream.payloads.length);
  for (let k = 0; k < stream.payloads.length; k++) {
    out[k] = {
      timeMs: startMs + k * FRAME_MS,
      data: buildRtpPacket(stream.payloadType, sequence, timestamp, ssrc >>> 0, k === 0, stream.payloads[k]),
    };
    sequence = (sequence + 1) & 0xffff;
    timestamp = (timestamp + stream.timestampStep) >>> 0;
  }
  return out;
}

export interface PacketizeOptions extends RtpStreamOptions {
  /** Defaults to REPLAY_PAYLOAD_TYPES[codec]. */
  payloadType?: number;
}

/** `pcm` as 20 ms RTP packets of `codec`: encodeStream then rtpPackets. */
export function packetize(
  pcm: Int16Array,
  sampleRate: 8000 | 16000,
  codec: ReplayCodec,
  ssrc: number,
  options: PacketizeOptions = {},
): RtpDatagram[] {
  return rtpPackets(encodeStream(pcm, sampleRate, codec, options.payloadType), ssrc, options);
}
