/**
 * G.711 μ-law (PCMU) and A-law (PCMA).
 *
 * Decode is a 256-entry table lookup. Encode is a 64 Ki-entry table indexed by the 16-bit sample, built once from
 * the ITU-T G.711 segment algorithm (the Sun/CCITT g711.c formulation used by ITU-T G.191): the 16-bit input is
 * truncated to 14 bits (μ-law) or 13 bits (A-law) before quantisation. SoX rounds to nearest instead of
 * truncating, so sox(x) == ours(min(x + 2, 32767)) for μ-law and ours(min(x + 4, 32767)) for A-law; the tests
 * prove both the agreement and this exact difference over all 65 536 inputs.
 */

const MU_BIAS = 0x84;
const MU_CLIP = 8159;

function muLawDecodeByte(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0x0f) << 3) + MU_BIAS;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? MU_BIAS - t : t - MU_BIAS;
}

function aLawDecodeByte(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** Segment end points of the 14-bit (μ-law, biased) and 13-bit (A-law) magnitudes. */
const MU_SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const A_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function segmentOf(value: number, ends: readonly number[]): number {
  for (let i = 0; i < 8; i++) if (value <= ends[i]) return i;
  return 8;
}

function muLawEncodeSample(sample: number): number {
  let v = sample >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  if (v > MU_CLIP) v = MU_CLIP;
  v += MU_BIAS >> 2;
  const seg = segmentOf(v, MU_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

function aLawEncodeSample(sample: number): number {
  let v = sample >> 3;
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = segmentOf(v, A_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  const mantissa = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return ((seg << 4) | mantissa) ^ mask;
}

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let c = 0; c < 256; c++) table[c] = decode(c);
  return table;
}

/** Indexed by `sample & 0xffff` (two's complement 16-bit). */
function buildEncodeTable(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let s = -32768; s < 32768; s++) table[s & 0xffff] = encode(s);
  return table;
}

export const MULAW_DECODE_TABLE: Int16Array = buildDecodeTable(muLawDecodeByte);
export const ALAW_DECODE_TABLE: Int16Array = buildDecodeTable(aLawDecodeByte);
export const MULAW_ENCODE_TABLE: Uint8Array = buildEncodeTable(muLawEncodeSample);
export const ALAW_ENCODE_TABLE: Uint8Array = buildEncodeTable(aLawEncodeSample);

/** μ-law byte -> 16-bit linear sample (range ±32124). */
export function muLawToLinear(byte: number): number {
  return MULAW_DECODE_TABLE[byte & 0xff];
}

/** A-law byte -> 16-bit linear sample (range ±32256). */
export function aLawToLinear(byte: number): number {
  return ALAW_DECODE_TABLE[byte & 0xff];
}

/** 16-bit linear sample -> μ-law byte (input outside int16 wraps; clamp first if it may overflow). */
export function linearToMuLaw(sample: number): number {
  return MULAW_ENCODE_TABLE[sample & 0xffff];
}

/** 16-bit linear sample -> A-law byte. */
export function linearToALaw(sample: number): number {
  return ALAW_ENCODE_TABLE[sample & 0xffff];
}

/** Decodes `length` G.711 bytes through `table` into out[outOffset...]. */
export function decodeG711(
  table: Int16Array,
  payload: Uint8Array,
  offset: number,
  length: number,
  out: Int16Array,
  outOffset: number,
): void {
  for (let i = 0; i < length; i++) out[outOffset + i] = table[payload[offset + i]];
}

/** Encodes `length` samples through an encode table into out[outOffset...]. */
export function encodeG711(
  table: Uint8Array,
  pcm: Int16Array,
  offset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
): void {
  for (let i = 0; i < length; i++) out[outOffset + i] = table[pcm[offset + i] & 0xffff];
}
