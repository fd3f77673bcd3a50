/**
 * Writes call recordings as WAV (CONTRACTS §2): one leg = mono rx, two legs = stereo (channel 1 rx, channel 2
 * tx), 16-bit PCM or G.711 (8-bit μ-law/A-law with the fmt extension size and fact chunk the spec asks of
 * non-PCM formats).
 */
import { writeFile } from 'node:fs/promises';
import { linearToALaw, linearToMuLaw } from '../ingest/codecs/registry.ts';
import type { WavEncoding } from './wav-reader.ts';

const FORMAT_TAG: Record<WavEncoding, number> = { pcm16: 1, alaw: 6, mulaw: 7 };

/** The WAV file bytes for `legs` (equal lengths; a shorter tx leg is padded with silence). */
export function encodeWav(legs: Int16Array[], sampleRate: number, encoding: WavEncoding): Uint8Array {
  if (legs.length !== 1 && legs.length !== 2)
    throw new RangeError(`WAV needs 1 or 2 legs, got ${legs.length}`);
  if (!Number.isInteger(sampleRate) || sampleRate <= 0)
    throw new RangeError(`bad WAV sample rate ${sampleRate}`);
  const channels = legs.length;
  const frames = Math.max(...legs.map((leg) => leg.length));
  const bytesPerSample = encoding === 'pcm16' ? 2 : 1;
  const blockAlign = channels * bytesPerSample;
  const dataBytes = frames * blockAlign;
  const pcm = encoding === 'pcm16';
  const fmtBytes = pcm ? 16 : 18;
  const factBytes = pcm ? 0 : 12;
  const headerBytes = 12 + 8 + fmtBytes + factBytes + 8;
  const out = new Uint8Array(headerBytes + dataBytes + (dataBytes & 1));
  const view = new DataView(out.buffer);
  const tag = (at: number, text: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = text.charCodeAt(i);
  };
  tag(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  tag(8, 'WAVE');
  tag(12, 'fmt ');
  view.setUint32(16, fmtBytes, true);
  view.setUint16(20, FORMAT_TAG[encoding], true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bytesPerSample * 8, true);
  let p = 20 + fmtBytes;
  if (!pcm) {
    view.setUint16(36, 0, true); // cbSize
    tag(p, 'fact');
    view.setUint32(p + 4, 4, true);
    view.setUint32(p + 8, frames, true);
    p += 12;
  }
  tag(p, 'data');
  view.setUint32(p + 4, dataBytes, true);
  p += 8;
  for (let c = 0; c < channels; c++) {
    const leg = legs[c];
    let at = p + c * bytesPerSample;
    if (pcm) {
      for (let i = 0; i < frames; i++, at += blockAlign) view.setInt16(at, i < leg.length ? leg[i] : 0, true);
    } else {
      const encode = encoding === 'mulaw' ? linearToMuLaw : linearToALaw;
      for (let i = 0; i < frames; i++, at += blockAlign) out[at] = encode(i < leg.length ? leg[i] : 0);
    }
  }
  return out;
}

export async function writeWav(
  path: string,
  legs: Int16Array[],
  sampleRate: number,
  encoding: WavEncoding,
): Promise<void> {
  await writeFile(path, encodeWav(legs, sampleRate, encoding));
}
