/**
 * STREP — the Simple Telnyx RTP Encapsulation Protocol that Telnyx puts in front of every RTP packet when a call
 * is forked with the single legacy `target` (fork_start docs, "STREP Specification"):
 *
 *   byte 0   bit 7-6  `11`  magic: tells STREP apart from RTP (`10`), T.38 (`00`) and SIP text (`01`)
 *            bit 5-2  version, starting at 1
 *            bit 1    L: 0 = A (first) leg of the call, 1 = B (second) leg
 *            bit 0    D: 0 = media received by Telnyx (rx), 1 = media transmitted by Telnyx (tx)
 *   byte 1   HeaderLen: header length in bytes (24 in version 1); the RTP packet starts right after it
 *   2..7     reserved (zero when written)
 *   8..23    call_leg_id of Call Control, 16 binary bytes (a UUID, rendered as lowercase 8-4-4-4-12 text)
 *
 * Any version from 1 up is accepted and a HeaderLen above 24 is honoured: the length byte exists so that a
 * receiver can skip fields it does not know, and dropping every packet of a newer sender would lose whole calls.
 * Version 0 (never issued) or a wrong magic is `bad_version`.
 */
import { DROP } from './drop-reasons.ts';
import type { Leg } from './media-sink.ts';

export const STREP_HEADER_BYTES = 24;
export const STREP_VERSION = 1;
/** Offset of the 16-byte call_leg_id inside the header. */
export const STREP_CALL_LEG_ID_OFFSET = 8;

export type StrepLegLetter = 'A' | 'B';

export interface StrepHeader {
  version: number;
  leg: StrepLegLetter;
  /** D bit: 0 = rx (received by Telnyx), 1 = tx (sent by Telnyx). */
  direction: Leg;
  headerLength: number;
  /** UUID text of header bytes 8-23. */
  callLegId: string;
}

/**
 * Reusable parse result. The call_leg_id is kept as four big-endian 32-bit words (signed) so that the session
 * lookup runs on numbers; its text is built only when a new session needs it (`callLegId()`).
 */
export class StrepHeaderView {
  /** True only when the last parse succeeded (the parse then returned DROP.none, 0). */
  ok = false;
  version = 0;
  /** L bit: 0 = A leg, 1 = B leg. */
  legBit = 0;
  direction: Leg = 0;
  headerLength = 0;
  id0 = 0;
  id1 = 0;
  id2 = 0;
  id3 = 0;

  /** UUID text of the parsed call_leg_id (allocates: call once per new session, not per packet). */
  callLegId(): string {
    return formatCallLegId(this.id0, this.id1, this.id2, this.id3);
  }

  toHeader(): StrepHeader {
    return {
      version: this.version,
      leg: this.legBit === 0 ? 'A' : 'B',
      direction: this.direction,
      headerLength: this.headerLength,
      callLegId: this.callLegId(),
    };
  }
}

/** Big-endian 32-bit word as a signed int: stays a small integer in V8, where an unsigned one above 2^31 boxes. */
function readWord(data: Uint8Array, at: number): number {
  return (data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3];
}

/**
 * Parses the STREP header of data[offset, offset+length) into `out`. Returns 0 with `out.ok` set, or the DROP
 * index of why the datagram is unusable (`truncated`, `bad_version`, `bad_strep`) with `out.ok` false; the RTP
 * packet is then data[offset + out.headerLength, offset + length).
 */
export function parseStrepHeader(
  data: Uint8Array,
  offset: number,
  length: number,
  out: StrepHeaderView,
): number {
  out.ok = false;
  if (length < 1) return DROP.truncated;
  const b0 = data[offset];
  const version = (b0 >> 2) & 0x0f;
  if ((b0 & 0xc0) !== 0xc0 || version === 0) return DROP.bad_version;
  if (length < STREP_HEADER_BYTES) return DROP.truncated;
  const headerLength = data[offset + 1];
  if (headerLength < STREP_HEADER_BYTES) return DROP.bad_strep;
  if (headerLength > length) return DROP.truncated;
  out.version = version;
  out.legBit = (b0 >> 1) & 1;
  out.direction = (b0 & 1) as Leg;
  out.headerLength = headerLength;
  const id = offset + STREP_CALL_LEG_ID_OFFSET;
  out.id0 = readWord(data, id);
  out.id1 = readWord(data, id + 4);
  out.id2 = readWord(data, id + 8);
  out.id3 = readWord(data, id + 12);
  out.ok = true;
  return 0;
}

export interface StrepHeaderFields {
  version?: number;
  leg?: StrepLegLetter;
  direction: Leg;
  /** At least 24; bytes beyond 24 are written as zero. */
  headerLength?: number;
  callLegId: string;
}

/**
 * Writes a STREP header at out[offset]; returns the number of bytes written (the header length), after which the
 * caller puts the RTP packet. Throws on fields that do not fit the format (replay input, not the hot path).
 */
export function writeStrepHeader(out: Uint8Array, offset: number, h: StrepHeaderFields): number {
  const version = h.version ?? STREP_VERSION;
  const headerLength = h.headerLength ?? STREP_HEADER_BYTES;
  if (!Number.isInteger(version) || version < 1 || version > 15) {
    throw new RangeError(`STREP version must be 1-15, got ${version}`);
  }
  if (!Number.isInteger(headerLength) || headerLength < STREP_HEADER_BYTES || headerLength > 255) {
    throw new RangeError(`STREP header length must be ${STREP_HEADER_BYTES}-255, got ${headerLength}`);
  }
  if (out.length - offset < headerLength) throw new RangeError('STREP header does not fit the output buffer');
  const words = callLegIdWords(h.callLegId);
  out.fill(0, offset, offset + headerLength);
  out[offset] = 0xc0 | (version << 2) | ((h.leg === 'B' ? 1 : 0) << 1) | (h.direction & 1);
  out[offset + 1] = headerLength;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < 4; i++) view.setInt32(offset + STREP_CALL_LEG_ID_OFFSET + 4 * i, words[i]);
  return headerLength;
}

const UUID_TEXT = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * The four big-endian words (signed, as StrepHeaderView holds them) of a call_leg_id given as UUID text, dashes
 * optional. Throws on anything else.
 */
export function callLegIdWords(text: string): Int32Array {
  if (!UUID_TEXT.test(text)) throw new Error(`call_leg_id is not a UUID: ${JSON.stringify(text)}`);
  const hex = text.replace(/-/g, '');
  const words = new Int32Array(4);
  for (let i = 0; i < 4; i++) words[i] = Number.parseInt(hex.slice(8 * i, 8 * i + 8), 16);
  return words;
}

function hex8(word: number): string {
  return (word >>> 0).toString(16).padStart(8, '0');
}

/** Lowercase 8-4-4-4-12 text of a call_leg_id given as four big-endian words (signed or unsigned). */
export function formatCallLegId(w0: number, w1: number, w2: number, w3: number): string {
  const b = hex8(w1);
  const c = hex8(w2);
  return `${hex8(w0)}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${hex8(w3)}`;
}
