import { DROP } from '../drop-reasons.ts';
import { isRtcpSecondOctet } from '../rtp/rtcp.ts';

/** "Go on" answer of the admission checks: DROP.none, the reserved index 0 of the drop catalogue. */
export const PASS = DROP.none;

/** IP MTU on Ethernet: a 20 ms packet of any codec forkguard takes fits with room to spare. */
export const DEFAULT_MAX_DATAGRAM_BYTES = 1500;
const RTP_FIXED_HEADER_BYTES = 12;

/**
 * The checks a datagram must pass before it may open a session or latch a leg: long enough for an RTP header,
 * RTP version 2, and not RTCP (RFC 5761: its packet types 192-223 occupy what would be RTP marker + PT 64-95).
 * Everything deeper is the stream's job. Returns PASS or a DROP index.
 */
export function checkRtpShape(data: Uint8Array, offset: number, length: number): number {
  if (length < RTP_FIXED_HEADER_BYTES)
    return length > 0 && (data[offset] & 0xc0) !== 0x80 ? DROP.bad_version : DROP.truncated;
  if ((data[offset] & 0xc0) !== 0x80) return DROP.bad_version;
  const b1 = data[offset + 1];
  if (isRtcpSecondOctet(b1)) return DROP.rtcp;
  return PASS;
}
