import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtpPacket } from 'werift-rtp';
import { DROP } from '../../../src/ingest/drop-reasons.ts';
import { parseRtpHeader, RtpHeaderView } from '../../../src/ingest/rtp/rtp-header.ts';

interface PacketSpec {
  padding: number; // 0 = none, else total padding octets incl. count
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension: null | { profile: number; body: number[] };
  payload: Uint8Array;
}

/** RFC 8285 one-byte elements (ID 1-14) then zero padding to a 32-bit boundary: what werift walks cleanly. */
const oneByteBody = fc
  .array(
    fc.record({ id: fc.integer({ min: 1, max: 14 }), data: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    {
      maxLength: 4,
    },
  )
  .map((elements) => {
    const body: number[] = [];
    for (const e of elements) body.push((e.id << 4) | (e.data.length - 1), ...e.data);
    while (body.length % 4 !== 0) body.push(0);
    return { profile: 0xbede, body };
  });

const twoByteBody = fc
  .array(fc.record({ id: fc.integer({ min: 1, max: 255 }), data: fc.uint8Array({ maxLength: 20 }) }), {
    maxLength: 3,
  })
  .map((elements) => {
    const body: number[] = [];
    for (const e of elements) body.push(e.id, e.data.length, ...e.data);
    while (body.length % 4 !== 0) body.push(0);
    return { profile: 0x1000, body };
  });

const opaqueBody = fc
  .tuple(
    fc.integer({ min: 0, max: 0xffff }).filter((p) => p !== 0xbede && p !== 0x1000),
    fc.integer({ min: 0, max: 6 }),
  )
  .chain(([profile, words]) =>
    fc.uint8Array({ minLength: words * 4, maxLength: words * 4 }).map((b) => ({ profile, body: [...b] })),
  );

const packetSpec: fc.Arbitrary<PacketSpec> = fc.record({
  padding: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 })),
  marker: fc.boolean(),
  payloadType: fc.integer({ min: 0, max: 127 }),
  sequence: fc.integer({ min: 0, max: 0xffff }),
  timestamp: fc.integer({ min: 0, max: 0xffffffff }),
  ssrc: fc.integer({ min: 0, max: 0xffffffff }),
  csrcs: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 15 }),
  extension: fc.oneof(fc.constant(null), oneByteBody, twoByteBody, opaqueBody),
  payload: fc.uint8Array({ maxLength: 400 }),
});

function encode(spec: PacketSpec): Uint8Array {
  const ext = spec.extension;
  const size =
    12 + spec.csrcs.length * 4 + (ext ? 4 + ext.body.length : 0) + spec.payload.length + spec.padding;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = 0x80 | (spec.padding ? 0x20 : 0) | (ext ? 0x10 : 0) | spec.csrcs.length;
  out[1] = (spec.marker ? 0x80 : 0) | spec.payloadType;
  view.setUint16(2, spec.sequence);
  view.setUint32(4, spec.timestamp);
  view.setUint32(8, spec.ssrc);
  let at = 12;
  for (const c of spec.csrcs) {
    view.setUint32(at, c);
    at += 4;
  }
  if (ext) {
    view.setUint16(at, ext.profile);
    view.setUint16(at + 2, ext.body.length / 4);
    out.set(ext.body, at + 4);
    at += 4 + ext.body.length;
  }
  out.set(spec.payload, at);
  if (spec.padding) out[size - 1] = spec.padding;
  return out;
}

type Werift = { threw: true } | { threw: false; packet: RtpPacket };

function werift(bytes: Uint8Array): Werift {
  try {
    return { threw: false, packet: RtpPacket.deSerialize(Buffer.from(bytes)) };
  } catch {
    return { threw: true };
  }
}

/** Where the headers end by their declared lengths (RFC 3550), independent of either parser. */
function declaredHeaderEnd(bytes: Uint8Array): number {
  const cc = bytes[0] & 0x0f;
  let end = 12 + cc * 4;
  if (bytes[0] & 0x10) {
    if (end + 4 > bytes.length) return Number.POSITIVE_INFINITY;
    end += 4 + ((bytes[end + 2] << 8) | bytes[end + 3]) * 4;
  }
  return end;
}

function expectSameAsWerift(bytes: Uint8Array, view: RtpHeaderView, packet: RtpPacket): void {
  const h = packet.header;
  expect(view.version).toBe(h.version);
  expect(view.padding).toBe(h.padding);
  expect(view.extension).toBe(h.extension);
  expect(view.csrcCount).toBe(h.csrcLength);
  expect(view.marker).toBe(h.marker);
  expect(view.payloadType).toBe(h.payloadType);
  expect(view.sequence).toBe(h.sequenceNumber);
  expect(view.timestamp).toBe(h.timestamp);
  expect(view.ssrc).toBe(h.ssrc);
  expect(view.paddingLength).toBe(h.paddingSize);
  if (h.extension) {
    expect(view.extensionProfile).toBe(h.extensionProfile);
    expect(view.extensionLength).toBe(h.extensionLength);
  }
  expect(view.payloadOffset).toBe(h.payloadOffset);
  expect(Buffer.from(bytes.subarray(view.payloadOffset, view.payloadOffset + view.payloadLength))).toEqual(
    packet.payload,
  );
}

/**
 * The shared property for any byte string. Mine never throws. Where mine accepts, werift parses too and — when
 * its own walk of the extension ends where the declared length says (it is consistent) — every field and the
 * payload agree. Where mine rejects, the reason is true of the bytes.
 */
function checkAgainstWerift(bytes: Uint8Array, offsetPad = 0): void {
  const buffer = new Uint8Array(offsetPad + bytes.length + 3);
  buffer.set(bytes, offsetPad);
  const view = new RtpHeaderView();
  const result = parseRtpHeader(buffer, offsetPad, bytes.length, view);
  // Offsets are absolute into the datagram buffer; compare relative to the packet start.
  view.payloadOffset -= offsetPad;
  // werift walks a one-byte extension block up to its declared end even past the buffer, copying its element
  // array on every step: a declared length far beyond the datagram costs it O(n^2) (seconds for 256 KiB). That
  // input is malformed by its own lengths, so it is checked without the oracle.
  const overrun = declaredHeaderEnd(bytes) > bytes.length + 64;
  const theirs: Werift = overrun ? { threw: true } : werift(bytes);
  const version = bytes.length > 0 ? bytes[0] >> 6 : -1;
  if (view.ok) {
    expect(result).toBe(0);
    expect(overrun).toBe(false);
    expect(theirs.threw).toBe(false);
    if (theirs.threw) return;
    const headerEnd = declaredHeaderEnd(bytes);
    if (theirs.packet.header.payloadOffset === headerEnd) {
      expectSameAsWerift(bytes, view, theirs.packet);
    } else {
      // Deliberate difference: werift stops its RFC 8285 element walk early (ID 15) or overruns the block;
      // the declared length is authoritative (RFC 3550 §5.3.1).
      expect(view.extension).toBe(true);
      expect([0xbede, 0x1000]).toContain(view.extensionProfile);
      expect(view.payloadOffset).toBe(headerEnd);
    }
    return;
  }
  if (result === DROP.bad_version) {
    expect(version).not.toBe(2);
    return;
  }
  if (result === DROP.rtcp) {
    // RFC 5761 §4: RTP payload types 64-95 are left free for RTCP's packet types 192-223.
    expect(bytes[1] & 0x7f).toBeGreaterThanOrEqual(64);
    expect(bytes[1] & 0x7f).toBeLessThanOrEqual(95);
    return;
  }
  expect(result).toBe(DROP.truncated);
  const headerEnd = declaredHeaderEnd(bytes);
  const padding = bytes[0] & 0x20 ? bytes[bytes.length - 1] : 0;
  const badPadding = (bytes[0] & 0x20) !== 0 && (padding === 0 || headerEnd + padding > bytes.length);
  expect(bytes.length < 12 || headerEnd > bytes.length || badPadding).toBe(true);
  // Whenever werift threw on a version-2 non-RTCP packet, the packet really was short.
  if (theirs.threw && !overrun) expect(bytes.length < 12 || headerEnd > bytes.length).toBe(true);
}

describe('parseRtpHeader against werift-rtp RtpPacket.deSerialize', () => {
  it('agrees on every field and the payload of random valid packets', () => {
    fc.assert(
      fc.property(packetSpec, fc.integer({ min: 0, max: 9 }), (spec, offsetPad) => {
        const bytes = encode(spec);
        const buffer = new Uint8Array(offsetPad + bytes.length);
        buffer.set(bytes, offsetPad);
        const view = new RtpHeaderView();
        const result = parseRtpHeader(buffer, offsetPad, bytes.length, view);
        if (spec.payloadType >= 64 && spec.payloadType <= 95) {
          expect(result).toBe(DROP.rtcp);
          expect(view.ok).toBe(false);
          return;
        }
        expect(view.ok).toBe(true);
        expect(result).toBe(0);
        view.payloadOffset -= offsetPad;
        expectSameAsWerift(bytes, view, RtpPacket.deSerialize(Buffer.from(bytes)));
        expect(view.payloadLength).toBe(spec.payload.length);
        expect(view.csrcCount).toBe(spec.csrcs.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws and agrees or rejects with a true reason on random byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 5 }), (bytes, pad) => {
        checkAgainstWerift(bytes, pad);
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws and agrees or rejects with a true reason on mutated valid packets', () => {
    const mutated = fc
      .tuple(packetSpec, fc.nat(), fc.nat(255), fc.nat(255), fc.boolean())
      .map(([spec, cut, at, value, flipPadding]) => {
        const bytes = encode(spec);
        const length = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        const out = bytes.slice(0, length);
        if (out.length > 0) out[at % out.length] = value;
        if (flipPadding && out.length > 0) out[0] ^= 0x20;
        return out;
      });
    fc.assert(
      fc.property(mutated, (bytes) => checkAgainstWerift(bytes)),
      { numRuns: 5000 },
    );
  });

  it('never reads outside [offset, offset+length) of a larger buffer', () => {
    const view = new RtpHeaderView();
    const bytes = new Uint8Array([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0xbb]);
    expect(parseRtpHeader(bytes, 0, 11, view)).toBe(DROP.truncated);
    expect(view.ok).toBe(false);
    expect(parseRtpHeader(bytes, 4, 12, view)).toBe(DROP.truncated); // runs past the buffer
    expect(view.ok).toBe(false);
    expect(parseRtpHeader(bytes, -1, 12, view)).toBe(DROP.truncated);
    expect(view.ok).toBe(false);
    expect(parseRtpHeader(bytes, 0, 14, view)).toBe(0);
    expect(view.ok).toBe(true);
    expect(view.payloadLength).toBe(2);
  });

  it('documents the deliberate differences from werift', () => {
    const view = new RtpHeaderView();
    // P set with padding count 0: werift returns the whole tail as payload; RFC 3550 says the count includes
    // itself, so this is malformed.
    const zeroPad = new Uint8Array([0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 7, 7, 0]);
    expect(werift(zeroPad).threw).toBe(false);
    expect(parseRtpHeader(zeroPad, 0, zeroPad.length, view)).toBe(DROP.truncated);
    expect(view.ok).toBe(false);
    // Padding count larger than the payload: werift yields an empty payload.
    const overPad = new Uint8Array([0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 7, 9]);
    const w = werift(overPad);
    expect(w.threw || (w as { packet: RtpPacket }).packet.payload.length === 0).toBe(true);
    expect(parseRtpHeader(overPad, 0, overPad.length, view)).toBe(DROP.truncated);
    expect(view.ok).toBe(false);
    // One-byte extension element ID 15 (stop): werift's payload starts right after it; ours after the block.
    const stop = new Uint8Array([
      0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0xf0, 0, 0, 0, 0x55,
    ]);
    const ws = werift(stop);
    expect(ws.threw).toBe(false);
    expect((ws as { packet: RtpPacket }).packet.header.payloadOffset).toBe(17);
    expect(parseRtpHeader(stop, 0, stop.length, view)).toBe(0);
    expect(view.payloadOffset).toBe(20);
    expect(view.payloadLength).toBe(1);
    // RTCP receiver report multiplexed on the media port.
    const rtcp = new Uint8Array([0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(parseRtpHeader(rtcp, 0, rtcp.length, view)).toBe(DROP.rtcp);
    const v1 = new Uint8Array(12);
    v1[0] = 0x40;
    expect(parseRtpHeader(v1, 0, 12, view)).toBe(DROP.bad_version);
  });
});
