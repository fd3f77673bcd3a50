/**
 * Turns the UDP datagrams of a capture into the two legs of one call (CONTRACTS §2).
 *
 * - Flows are keyed by destination port, as a fork target sees them. A flow is STREP when its first packets
 *   all parse as STREP headers (first bits `11`, where RTP has `10`), RTP when they parse as RTP version 2 that
 *   is not RTCP; anything else (SIP, DNS, RTCP) is ignored and reported in `warnings`. RTCP and STUN among a
 *   media flow's packets (RTCP multiplexed on the media port, ICE checks) neither decide its kind nor reach a leg.
 * - Plain RTP: rx = the flow to the lowest destination port, tx = the next one. More than two RTP flows is an
 *   error: guessing which pair is the call would silently analyse the wrong media.
 * - STREP: direction from the D bit, header stripped. A capture holding several call_leg_ids yields the one with
 *   the most packets (a target port normally carries many calls, and a capture of it should still be usable);
 *   the others are named in `warnings`. When a capture has both, STREP wins.
 * - Times are made relative to the call's first packet. pcapng Simple Packet Blocks carry no time: a capture
 *   with any of them is timed from RTP sequence numbers at 20 ms per packet.
 */
import { type Leg, RX, TX } from '../ingest/media-sink.ts';
import { isRtcpSecondOctet } from '../ingest/rtp/rtcp.ts';
import { parseStrepHeader, StrepHeaderView } from '../ingest/strep.ts';
import { type CaptureContents, type CapturedDatagram, recordingError } from './capture-file.ts';

export interface RecordedPacket {
  leg: Leg;
  /** Capture time, milliseconds from the call's first packet. */
  timeMs: number;
  /** RTP bytes (STREP header stripped). */
  data: Uint8Array;
  callLegId?: string;
}

export interface CaptureLegs {
  packets: RecordedPacket[];
  callLegId?: string;
  warnings: string[];
}

/** How many leading packets of a flow must agree on its kind. */
const PROBE_PACKETS = 5;
const RTP_HEADER_BYTES = 12;
const PACKET_MS = 20;

type FlowKind = 'rtp' | 'strep' | 'other';

function looksLikeRtp(payload: Uint8Array): boolean {
  if (payload.length < RTP_HEADER_BYTES || payload[0] >> 6 !== 2) return false;
  // An RTCP packet type (SR, RR, SDES, BYE, APP, feedback, XR), not marker + payload type.
  return !isRtcpSecondOctet(payload[1]);
}

/**
 * A STUN message (RFC 8489 §5: first two bits 00, the magic cookie at bytes 4-7): ICE checks share the media's
 * ports in WebRTC-style calls and come before the first RTP packet.
 */
function isStun(payload: Uint8Array): boolean {
  return (
    payload.length >= 20 &&
    (payload[0] & 0xc0) === 0 &&
    payload[4] === 0x21 &&
    payload[5] === 0x12 &&
    payload[6] === 0xa4 &&
    payload[7] === 0x42
  );
}

/** RTCP (RFC 5761) or STUN on a media port: what a flow of media may carry besides its media. */
function isMediaControl(payload: Uint8Array): boolean {
  return isStun(payload) || (payload.length >= 2 && payload[0] >> 6 === 2 && isRtcpSecondOctet(payload[1]));
}

/**
 * RTP, STREP or other, by the flow's first PROBE_PACKETS datagrams that are not media control: a call whose
 * RTCP is multiplexed on its media port, or whose ICE checks come first, is still RTP.
 */
function flowKind(datagrams: CapturedDatagram[], strep: StrepHeaderView): FlowKind {
  let probed = 0;
  let rtp = 0;
  let strepCount = 0;
  for (let i = 0; i < datagrams.length && probed < PROBE_PACKETS; i++) {
    const payload = datagrams[i].payload;
    if (isMediaControl(payload)) continue;
    if (looksLikeRtp(payload)) rtp++;
    else if (parseStrepHeader(payload, 0, payload.length, strep) === 0) {
      const inner = payload.subarray(strep.headerLength);
      if (isMediaControl(inner)) continue;
      if (looksLikeRtp(inner)) strepCount++;
    }
    probed++;
  }
  if (probed === 0) return 'other';
  if (strepCount === probed) return 'strep';
  if (rtp === probed) return 'rtp';
  return 'other';
}

export function legsFromCapture(path: string, capture: CaptureContents): CaptureLegs {
  const flows = new Map<number, CapturedDatagram[]>();
  for (const d of capture.datagrams) {
    let flow = flows.get(d.dstPort);
    if (flow === undefined) {
      flow = [];
      flows.set(d.dstPort, flow);
    }
    flow.push(d);
  }
  const strep = new StrepHeaderView();
  const rtpPorts: number[] = [];
  const strepPorts: number[] = [];
  const ignored: number[] = [];
  for (const [port, datagrams] of flows) {
    const kind = flowKind(datagrams, strep);
    if (kind === 'rtp') rtpPorts.push(port);
    else if (kind === 'strep') strepPorts.push(port);
    else ignored.push(port);
  }
  const warnings: string[] = [];
  if (capture.cutShortAt !== null)
    warnings.push(
      `capture cut short inside its last record (byte ${capture.cutShortAt}): read what came before`,
    );
  if (ignored.length > 0)
    warnings.push(`ignored non-RTP UDP to port(s) ${ignored.sort((a, b) => a - b).join(', ')}`);
  let result: CaptureLegs;
  if (strepPorts.length > 0) {
    if (rtpPorts.length > 0)
      warnings.push(`ignored plain RTP to port(s) ${rtpPorts.join(', ')} beside STREP`);
    result = strepLegs(path, strepPorts, flows, warnings);
  } else if (rtpPorts.length > 0) {
    result = rtpLegs(path, rtpPorts, flows, warnings);
  } else {
    const cut =
      capture.cutShortAt === null ? '' : `, and the file is cut short at byte ${capture.cutShortAt}`;
    throw recordingError(path, `no RTP or STREP packets in capture${skippedSummary(capture)}${cut}`);
  }
  finishTimes(result.packets);
  return result;
}

function skippedSummary(capture: CaptureContents): string {
  const parts = Object.entries(capture.skipped)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${reason.replace('_', ' ')}`);
  const udp = capture.datagrams.length;
  return ` (${udp} UDP datagram${udp === 1 ? '' : 's'}${parts.length > 0 ? `; skipped ${parts.join(', ')}` : ''})`;
}

function rtpLegs(
  path: string,
  ports: number[],
  flows: Map<number, CapturedDatagram[]>,
  warnings: string[],
): CaptureLegs {
  ports.sort((a, b) => a - b);
  if (ports.length > 2) {
    throw recordingError(
      path,
      `${ports.length} RTP streams (destination ports ${ports.join(', ')}); expected 1 or 2`,
    );
  }
  const packets: RecordedPacket[] = [];
  ports.forEach((port, leg) => {
    for (const d of flows.get(port)!) {
      if (looksLikeRtp(d.payload)) packets.push({ leg: leg as Leg, timeMs: d.timeMs, data: d.payload });
    }
  });
  return { packets, warnings };
}

function strepLegs(
  path: string,
  ports: number[],
  flows: Map<number, CapturedDatagram[]>,
  warnings: string[],
): CaptureLegs {
  const view = new StrepHeaderView();
  const byCall = new Map<string, RecordedPacket[]>();
  let dropped = 0;
  for (const port of ports) {
    for (const d of flows.get(port)!) {
      const status = parseStrepHeader(d.payload, 0, d.payload.length, view);
      const inner = status === 0 ? d.payload.subarray(view.headerLength) : null;
      if (inner === null || !looksLikeRtp(inner)) {
        dropped++;
        continue;
      }
      const callLegId = view.callLegId();
      let list = byCall.get(callLegId);
      if (list === undefined) {
        list = [];
        byCall.set(callLegId, list);
      }
      list.push({ leg: view.direction === 0 ? RX : TX, timeMs: d.timeMs, data: inner, callLegId });
    }
  }
  if (dropped > 0)
    warnings.push(`ignored ${dropped} STREP datagram(s) without a valid header and RTP packet`);
  const calls = [...byCall.entries()].sort((a, b) => b[1].length - a[1].length);
  if (calls.length === 0) throw recordingError(path, 'no valid STREP packets in capture');
  if (calls.length > 1) {
    const others = calls.slice(1).map(([id, list]) => `${id} (${list.length})`);
    warnings.push(
      `capture holds ${calls.length} calls; using ${calls[0][0]} (${calls[0][1].length} packets), ignoring ${others.join(', ')}`,
    );
  }
  return { packets: calls[0][1], callLegId: calls[0][0], warnings };
}

/** Sorts by capture time (stable, so capture order breaks ties) and makes times relative to the first packet. */
function finishTimes(packets: RecordedPacket[]): void {
  timeUntimedPackets(packets);
  packets.sort((a, b) => a.timeMs - b.timeMs);
  const t0 = packets.length > 0 ? packets[0].timeMs : 0;
  for (const p of packets) p.timeMs -= t0;
}

/**
 * When some packets are untimed (pcapng SPB), times every packet from its unwrapped sequence number, per leg:
 * mixing capture clocks with sequence clocks would misalign the legs.
 */
function timeUntimedPackets(packets: RecordedPacket[]): void {
  if (!packets.some((p) => Number.isNaN(p.timeMs))) return;
  for (const leg of [RX, TX]) {
    let first = -1;
    let unwrapped = 0;
    let previous = 0;
    for (const p of packets) {
      if (p.leg !== leg) continue;
      const seq = (p.data[2] << 8) | p.data[3];
      if (first < 0) {
        first = seq;
        unwrapped = seq;
      } else {
        unwrapped += ((seq - previous + 0x8000) & 0xffff) - 0x8000;
      }
      previous = seq;
      p.timeMs = (unwrapped - first) * PACKET_MS;
    }
  }
}
