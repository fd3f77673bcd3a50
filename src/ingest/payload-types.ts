/**
 * RTP payload type -> codec. Static types follow RFC 3551 §6; dynamic types (96-127) are whatever the SDP
 * negotiated, so the defaults below are the values Telnyx and most SIP stacks offer and are overridable per
 * deployment (`withPayloadTypes`). G.729 and AMR-WB are known so they can be reported as unsupported per
 * session instead of being decoded as noise or counted as unknown.
 */

export type CodecName =
  | 'pcmu'
  | 'pcma'
  | 'g722'
  | 'opus'
  | 'l16'
  | 'l16-16k'
  | 'telephone-event'
  | 'cn'
  | 'g729'
  | 'amr-wb';

/** The codecs section B decodes to canonical PCM. */
export type DecodableCodec = 'pcmu' | 'pcma' | 'g722' | 'opus' | 'l16' | 'l16-16k';

export interface PayloadTypeMap {
  [pt: number]: CodecName;
}

export const CODEC_NAMES: readonly CodecName[] = [
  'pcmu',
  'pcma',
  'g722',
  'opus',
  'l16',
  'l16-16k',
  'telephone-event',
  'cn',
  'g729',
  'amr-wb',
];

export const DEFAULT_PAYLOAD_TYPES: PayloadTypeMap = Object.freeze({
  0: 'pcmu',
  8: 'pcma',
  9: 'g722',
  13: 'cn',
  18: 'g729',
  96: 'opus',
  97: 'l16',
  98: 'l16',
  99: 'amr-wb',
  100: 'l16-16k',
  101: 'telephone-event',
}) as PayloadTypeMap;

/** What the stream does with a payload type; indices of a per-PT Uint8Array on the hot path. */
export const PT_KIND_UNKNOWN = 0;
export const PT_KIND_AUDIO = 1;
export const PT_KIND_EVENT = 2;
export const PT_KIND_CN = 3;
export const PT_KIND_UNSUPPORTED = 4;

export function isDecodable(codec: CodecName): codec is DecodableCodec {
  return (
    codec === 'pcmu' ||
    codec === 'pcma' ||
    codec === 'g722' ||
    codec === 'opus' ||
    codec === 'l16' ||
    codec === 'l16-16k'
  );
}

export function payloadKindOf(codec: CodecName | undefined): number {
  if (codec === undefined) return PT_KIND_UNKNOWN;
  if (isDecodable(codec)) return PT_KIND_AUDIO;
  if (codec === 'telephone-event') return PT_KIND_EVENT;
  if (codec === 'cn') return PT_KIND_CN;
  return PT_KIND_UNSUPPORTED;
}

/**
 * The defaults with `overrides` applied (a deployment's SDP choices, e.g. `{ 111: 'opus', 126: 'telephone-event' }`).
 * Throws naming the entry when a payload type is outside 0-127 or a codec name is unknown, so a bad config is
 * caught at start-up rather than as silently dropped packets.
 */
export function withPayloadTypes(
  overrides: PayloadTypeMap,
  base: PayloadTypeMap = DEFAULT_PAYLOAD_TYPES,
): PayloadTypeMap {
  const merged: PayloadTypeMap = { ...base };
  for (const key of Object.keys(overrides)) {
    const pt = Number(key);
    const codec = overrides[pt];
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) {
      throw new Error(`payloadTypes.${key}: payload type must be an integer 0-127`);
    }
    if (!CODEC_NAMES.includes(codec)) {
      throw new Error(
        `payloadTypes.${key}: unknown codec '${String(codec)}' (one of ${CODEC_NAMES.join(', ')})`,
      );
    }
    merged[pt] = codec;
  }
  return merged;
}

/** Parses `96=opus,101=telephone-event` (CLI/env form) into overrides for `withPayloadTypes`. */
export function parsePayloadTypeList(text: string): PayloadTypeMap {
  const out: PayloadTypeMap = {};
  for (const item of text.split(',')) {
    const entry = item.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`payload type '${entry}': expected PT=codec, e.g. 96=opus`);
    const pt = Number(entry.slice(0, eq).trim());
    out[pt] = entry.slice(eq + 1).trim() as CodecName;
  }
  return withPayloadTypes(out, {});
}
