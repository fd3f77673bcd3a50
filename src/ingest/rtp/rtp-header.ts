/**
 * RTP fixed header (RFC 3550 §5.1) parsed in place into a reusable view: no Buffer, no arrays, no objects per
 * packet. werift-rtp's `RtpPacket.deSerialize` is the oracle in the property tests; it stays the parser for
 * RTCP and tooling, not for the per-packet path.
 *
 * Deliberate differences from werift-rtp 0.8 (both covered by test/ingest/stream/rtp-header.test.ts):
 * - The header extension is skipped by its declared length. werift walks RFC 8285 one-/two-byte elements and
 *   stops where the walk ends, so an element ID 15 (stop marker) or an element overrunning the block leaves its
 *   payload offset inside or past the block. RFC 3550 §5.3.1 makes the length authoritative: the contents are
 *   opaque to a receiver that does not use them.
 * - Padding is validated: P set with a count of 0 (the count includes its own octet), or a count larger than
 *   what follows the headers, is malformed and dropped as `truncated`. werift accepts both and returns an empty
 *   or unpadded payload.
 * - A truncated extension block is dropped; werift reads past the end and returns an empty payload.
 * - Version must be 2, and RTCP multiplexed on the media port (second octet 192-223, RFC 5761 §4: SR, RR, SDES,
 *   BYE, APP, feedback, XR; see rtcp.ts) is recognised and dropped as `rtcp`; werift parses both as RTP.
 */
import { DROP } from '../drop-reasons.ts';
import { isRtcpSecondOctet } from './rtcp.ts';

export const RTP_FIXED_HEADER_BYTES = 12;

export class RtpHeaderView {
  /** True only when the last parse succeeded (the parse then returned DROP.none, 0). */
  ok = false;
  version = 0;
  padding = false;
  extension = false;
  csrcCount = 0;
  marker = false;
  payloadType = 0;
  sequence = 0;
  timestamp = 0;
  ssrc = 0;
  /** Extension profile (0xBEDE one-byte, 0x100x two-byte, or other) when `extension`. */
  extensionProfile = 0;
  /** Extension block length in bytes, without its 4-byte header. */
  extensionLength = 0;
  /** Padding octets at the end, including the count octet (0 when P is clear). */
  paddingLength = 0;
  /** Absolute offset of the payload in the datagram buffer. */
  payloadOffset = 0;
  payloadLength = 0;
}

/**
 * Parses data[offset, offset+length) as an RTP packet into `out`. Returns 0 when the packet is well formed
 * (`out.ok`), otherwise a DROP index (`truncated`, `bad_version`, `rtcp`) and `out.ok` is false.
 * Never throws for any input, including a length that runs past the buffer.
 */
export function parseRtpHeader(data: Uint8Array, offset: number, length: number, out: RtpHeaderView): number {
  out.ok = false;
  const end = offset + length;
  if (length < RTP_FIXED_HEADER_BYTES || offset < 0 || end > data.length) return DROP.truncated;
  const b0 = data[offset];
  const b1 = data[offset + 1];
  const version = b0 >>> 6;
  out.version = version;
  if (version !== 2) return DROP.bad_version;
  if (isRtcpSecondOctet(b1)) return DROP.rtcp;
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  out.padding = padding;
  out.extension = extension;
  out.csrcCount = csrcCount;
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = b1 & 0x7f;
  out.sequence = (data[offset + 2] << 8) | data[offset + 3];
  out.timestamp =
    ((data[offset + 4] << 24) | (data[offset + 5] << 16) | (data[offset + 6] << 8) | data[offset + 7]) >>> 0;
  out.ssrc =
    ((data[offset + 8] << 24) | (data[offset + 9] << 16) | (data[offset + 10] << 8) | data[offset + 11]) >>>
    0;
  let cursor = offset + RTP_FIXED_HEADER_BYTES + csrcCount * 4;
  if (cursor > end) return DROP.truncated;
  out.extensionProfile = 0;
  out.extensionLength = 0;
  if (extension) {
    if (cursor + 4 > end) return DROP.truncated;
    out.extensionProfile = (data[cursor] << 8) | data[cursor + 1];
    const extensionLength = ((data[cursor + 2] << 8) | data[cursor + 3]) * 4;
    out.extensionLength = extensionLength;
    cursor += 4 + extensionLength;
    if (cursor > end) return DROP.truncated;
  }
  let paddingLength = 0;
  if (padding) {
    paddingLength = data[end - 1];
    if (paddingLength === 0 || cursor + paddingLength > end) return DROP.truncated;
  }
  out.paddingLength = paddingLength;
  out.payloadOffset = cursor;
  out.payloadLength = end - paddingLength - cursor;
  out.ok = true;
  return 0;
}
