/**
 * RTCP that arrives on a media port (RTP and RTCP multiplexed, RFC 5761): told apart from RTP by its second octet,
 * never decoded as media, and, when it comes from the leg's own latched source, read for what the sender and the
 * receiver of the call's streams report about them. Forks carry RTP, so this is for the peers that mux RTCP in
 * (WebRTC-style clients, recorded calls replayed from a capture); a datagram at a time, off the per-packet path, so
 * werift-rtp parses it (it is the project's RTCP parser, and the RTP parser's oracle in the property tests).
 */
import { RtcpPacketConverter, RtcpRrPacket, RtcpSrPacket } from 'werift-rtp';
import type { LegStats } from '../media-sink.ts';

const RTCP_HEADER_BYTES = 4;

/**
 * True when the second octet of a version-2 datagram makes it RTCP. RFC 5761 §4 keeps RTP payload types 64-95 out
 * of use so that RTCP packet types 192-223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206, XR 207
 * and later ones) read as those types with the marker bit set; the marker is not looked at (as WebRTC's demultiplexer
 * does), since an RTP packet with a type of that range is not valid either way.
 */
export function isRtcpSecondOctet(secondOctet: number): boolean {
  const type = secondOctet & 0x7f;
  return type >= 64 && type <= 95;
}

/**
 * RFC 3550 §A.2's validity check of an RTCP datagram: every packet in it version 2, no padding in the first, and
 * the packets' lengths adding up to the datagram's exactly. A.2 also wants an SR or RR first, which reduced-size
 * RTCP (RFC 5506: a lone feedback packet, as WebRTC sends) does not have, so that is not required. A datagram that
 * fails it is not read at all (werift would read what it could of it).
 */
export function isValidCompoundRtcp(data: Uint8Array, offset: number, length: number): boolean {
  if (length < RTCP_HEADER_BYTES || (data[offset] & 0xe0) !== 0x80) return false;
  const end = offset + length;
  let at = offset;
  while (at + RTCP_HEADER_BYTES <= end) {
    if (data[at] >> 6 !== 2) return false;
    at += 4 * (((data[at + 2] << 8) | data[at + 3]) + 1);
  }
  return at === end;
}

/**
 * Reads the RTCP datagram data[offset, offset + length) of a leg into its stats: counts of RTCP datagrams, the
 * malformed among them, sender reports and reception report blocks, and the last block's figures (what the
 * receiver of a stream says it lost, and its jitter). Never throws: what cannot be read is counted as malformed.
 */
export function readRtcp(data: Buffer, offset: number, length: number, stats: LegStats): void {
  stats.rtcpPackets++;
  if (!isValidCompoundRtcp(data, offset, length)) {
    stats.rtcpMalformed++;
    return;
  }
  let packets: ReturnType<typeof RtcpPacketConverter.deSerialize>;
  try {
    packets = RtcpPacketConverter.deSerialize(data.subarray(offset, offset + length));
  } catch {
    stats.rtcpMalformed++;
    return;
  }
  for (const packet of packets) {
    if (packet.type === RtcpSrPacket.type) stats.rtcpSenderReports++;
    if (packet.type !== RtcpSrPacket.type && packet.type !== RtcpRrPacket.type) continue;
    for (const block of packet.reports) {
      stats.rtcpReportBlocks++;
      stats.reportedFractionLost = block.fractionLost / 256;
      stats.reportedCumulativeLost = block.packetsLost;
      stats.reportedJitter = block.jitter;
    }
  }
}
