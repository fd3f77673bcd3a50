/**
 * The boundary between ingest and DSP: what a call's decoded media looks like once packets are gone.
 *
 * Live UDP ingest, pcap files and WAV files all end here, so the DSP stage never knows where audio came from
 * (CONTRACTS §1: `analyze` runs exactly the pipeline that live ingest uses).
 */

/** Which direction of the call. rx = media Telnyx received from the far end; tx = media Telnyx sent to it. */
export type Leg = 0 | 1;
export const RX: Leg = 0;
export const TX: Leg = 1;
export const LEG_NAMES = ['rx', 'tx'] as const;
export type LegName = (typeof LEG_NAMES)[number];

/** Canonical PCM handed to DSP: 8 kHz, 16-bit, 20 ms frames. Wideband codecs are decimated to this. */
export const SAMPLE_RATE = 8000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = 160;

/** A digit keyed on one leg, from RFC 4733 telephone-events (ingest) or in-band DTMF (DSP). */
export interface DigitEvent {
  /** '0'-'9', '*', '#', 'A'-'D'; other RFC 4733 events (e.g. 'flash') by name. */
  digit: string;
  /** Call media time of the event start, seconds from the call's first packet. */
  startS: number;
  durS: number;
  /** RFC 4733 volume field as -dBm0 (0..63) when known. */
  volume?: number;
  source: 'rfc4733' | 'inband';
}

/**
 * Consumer of one call's decoded media.
 * - Frames arrive in increasing frameIndex per leg; frameIndex counts 20 ms frames from call media time zero
 *   (the first packet of either leg), so frame k of rx and frame k of tx cover the same wall-clock 20 ms.
 * - Gaps are filled by the producer (concealed loss or silence), so every index arrives once per leg.
 * - `pcm` is a buffer the producer reuses and shares between legs and calls (one all-zero frame serves every
 *   silent frame): read it, never write it, and copy what you keep beyond the call.
 */
export interface MediaSink {
  pushFrame(leg: Leg, frameIndex: number, pcm: Int16Array): void;
  pushDigit(leg: Leg, event: DigitEvent): void;
  /** The call is over (hangup, idle timeout, end of file). No more frames follow. */
  end(): void;
}

/** Transport statistics of one leg, kept by ingest and read by the DSP window aggregator. */
export interface LegStats {
  packets: number;
  /** Packets the sequence numbers say were sent but never arrived in time (concealed). */
  lost: number;
  duplicates: number;
  reordered: number;
  /** Arrived after their slot was already played out. */
  late: number;
  /** RFC 3550 interarrival jitter, milliseconds. */
  jitterMs: number;
  ssrcChanges: number;
  /** Name of the codec last seen ('pcmu', 'pcma', 'g722', 'opus', 'l16', or 'unsupported:<pt>'). */
  codec: string;
  /**
   * RTCP datagrams multiplexed on the leg's port from its own source (RFC 5761; see rtp/rtcp.ts), and of those the
   * ones that were not valid RTCP. Counted apart from `packets`, which are RTP.
   */
  rtcpPackets: number;
  rtcpMalformed: number;
  /** Sender reports, and reception report blocks (in SRs and RRs), read from them. */
  rtcpSenderReports: number;
  rtcpReportBlocks: number;
  /**
   * The last reception report block's figures, as the receiver of a stream states them (RFC 3550 §6.4.1): the
   * fraction of its packets lost since its previous report (0-1), the cumulative count lost, and its interarrival
   * jitter in the reported stream's timestamp units. 0 until a block has come.
   */
  reportedFractionLost: number;
  reportedCumulativeLost: number;
  reportedJitter: number;
}

export function emptyLegStats(): LegStats {
  return {
    packets: 0,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    late: 0,
    jitterMs: 0,
    ssrcChanges: 0,
    codec: '',
    rtcpPackets: 0,
    rtcpMalformed: 0,
    rtcpSenderReports: 0,
    rtcpReportBlocks: 0,
    reportedFractionLost: 0,
    reportedCumulativeLost: 0,
    reportedJitter: 0,
  };
}

/** Who a call is, as far as forkguard knows: a Telnyx call with ids, or an unannounced stream. */
export interface CallIdentity {
  /** Stable name of the media stream: `udp:P` for a port pair, `strep:<call_leg_id>` for STREP. */
  stream: string;
  callControlId: string | null;
  callLegId: string | null;
  callSessionId: string | null;
}
