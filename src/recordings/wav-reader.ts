/**
 * Reads a call recording in WAV form: PCM16, μ-law or A-law (plain or WAVE_FORMAT_EXTENSIBLE), 8 or 16 kHz,
 * mono (rx) or stereo (channel 1 rx, channel 2 tx).
 *
 * A small chunk reader instead of the `wavefile` package: wavefile returns G.711 samples as raw code bytes
 * (decoding them means converting the whole file through its generic bit unpacker) and takes seconds per hour of
 * stereo PCM in `getSamples`, while this walks the chunks once and decodes with the codecs' own G.711 tables.
 */
import { aLawToLinear, muLawToLinear } from '../ingest/codecs/registry.ts';
import { recordingError } from './capture-file.ts';

export type WavEncoding = 'pcm16' | 'mulaw' | 'alaw';

export interface WavContents {
  sampleRate: 8000 | 16000;
  channels: 1 | 2;
  encoding: WavEncoding;
  /** Linear PCM per channel at the file rate: [rx, tx or null]. */
  legs: [Int16Array, Int16Array | null];
  /** What the reader read with a caveat (a data chunk cut short), for the caller to show. */
  warnings: string[];
}

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Names of formats people actually meet, so the error says what the file is rather than a number. */
const FORMAT_NAMES: Record<number, string> = {
  2: 'MS ADPCM',
  3: 'IEEE float',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  64: 'G.721 ADPCM',
  80: 'MPEG',
  85: 'MP3',
  100: 'G.726 ADPCM',
  101: 'G.722 ADPCM',
  131: 'G.729',
  307: 'G.729',
  41216: 'G.723.1',
};

function formatName(tag: number): string {
  return FORMAT_NAMES[tag] ?? `format tag 0x${tag.toString(16).padStart(4, '0')}`;
}

export function isWavMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ascii(bytes, 0) === 'RIFF';
}

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

export function readWav(path: string, bytes: Uint8Array): WavContents {
  if (bytes.length < 12 || ascii(bytes, 0) !== 'RIFF')
    throw recordingError(path, 'not a WAV file (no RIFF header)');
  if (ascii(bytes, 8) !== 'WAVE') throw recordingError(path, 'not a WAV file (RIFF type is not WAVE)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: { tag: number; channels: number; rate: number; blockAlign: number; bits: number } | null = null;
  let data: { offset: number; length: number } | null = null;
  const warnings: string[] = [];
  let p = 12;
  while (p + 8 <= bytes.length && data === null) {
    const id = ascii(bytes, p);
    const size = view.getUint32(p + 4, true);
    const body = p + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.length) throw recordingError(path, 'truncated WAV fmt chunk');
      let tag = view.getUint16(body, true);
      if (tag === FORMAT_EXTENSIBLE) {
        // The real format is the first two bytes of the SubFormat GUID (…-0000-0010-8000-00aa00389b71).
        if (size < 40) throw recordingError(path, 'truncated WAVE_FORMAT_EXTENSIBLE fmt chunk');
        tag = view.getUint16(body + 24, true);
      }
      fmt = {
        tag,
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (fmt === null) throw recordingError(path, 'WAV data chunk before its fmt chunk');
      // Writers that stream (and crash) leave the size at 0 or 0xFFFFFFFF: take what the file holds. A file that
      // ends before a size it states was cut short (a recording stopped while writing): read it, and say so.
      const available = bytes.length - body;
      const streamed = size === 0 || size === 0xffffffff;
      data = { offset: body, length: streamed || size > available ? available : size };
      if (!streamed && size > available)
        warnings.push(`WAV data cut short: ${available} of its ${size} bytes are in the file`);
    }
    p = body + size + (size & 1);
  }
  if (fmt === null) throw recordingError(path, 'WAV file has no fmt chunk');
  if (data === null) throw recordingError(path, 'WAV file has no data chunk');

  let encoding: WavEncoding;
  if (fmt.tag === FORMAT_PCM && fmt.bits === 16) encoding = 'pcm16';
  else if (fmt.tag === FORMAT_MULAW && fmt.bits === 8) encoding = 'mulaw';
  else if (fmt.tag === FORMAT_ALAW && fmt.bits === 8) encoding = 'alaw';
  else if (fmt.tag === FORMAT_PCM)
    throw recordingError(path, `unsupported WAV encoding '${fmt.bits}-bit PCM'`);
  else throw recordingError(path, `unsupported WAV encoding '${formatName(fmt.tag)}'`);
  if (fmt.rate !== 8000 && fmt.rate !== 16000) {
    throw recordingError(path, `unsupported WAV sample rate ${fmt.rate} Hz (8000 or 16000)`);
  }
  if (fmt.channels !== 1 && fmt.channels !== 2) {
    throw recordingError(path, `unsupported WAV channel count ${fmt.channels} (1 = rx, 2 = rx and tx)`);
  }
  const bytesPerSample = encoding === 'pcm16' ? 2 : 1;
  if (fmt.blockAlign !== bytesPerSample * fmt.channels) {
    throw recordingError(path, `inconsistent WAV block align ${fmt.blockAlign}`);
  }
  const frames = Math.floor(data.length / fmt.blockAlign);
  const legs: [Int16Array, Int16Array | null] = [
    new Int16Array(frames),
    fmt.channels === 2 ? new Int16Array(frames) : null,
  ];
  for (let c = 0; c < fmt.channels; c++) {
    const out = legs[c]!;
    let at = data.offset + c * bytesPerSample;
    if (encoding === 'pcm16') {
      for (let i = 0; i < frames; i++, at += fmt.blockAlign) out[i] = view.getInt16(at, true);
    } else {
      const decode = encoding === 'mulaw' ? muLawToLinear : aLawToLinear;
      for (let i = 0; i < frames; i++, at += fmt.blockAlign) out[i] = decode(bytes[at]);
    }
  }
  return { sampleRate: fmt.rate, channels: fmt.channels, encoding, legs, warnings };
}
