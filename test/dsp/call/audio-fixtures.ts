import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAME_SAMPLES } from '../../../src/ingest/media-sink.ts';

/**
 * Speech for tests: espeak-ng renders the text, sox resamples it to 8 kHz 16-bit and optionally applies a
 * G.711 round trip and a gain, exactly as a telephone path would.
 */
export function speech(
  text: string,
  options: { voice?: string; codec?: 'mu-law' | 'a-law'; gainDb?: number; speed?: number } = {},
): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), 'fg-call-'));
  try {
    const wav = join(dir, 'speech.wav');
    execFileSync('espeak-ng', [
      '-v',
      options.voice ?? 'en-us',
      '-s',
      String(options.speed ?? 160),
      '-w',
      wav,
      text,
    ]);
    const raw8k = join(dir, 'speech8k.raw');
    const effects = options.gainDb === undefined ? [] : ['vol', `${options.gainDb}dB`];
    execFileSync('sox', [
      wav,
      '-r',
      '8000',
      '-c',
      '1',
      '-e',
      'signed',
      '-b',
      '16',
      '-t',
      'raw',
      raw8k,
      ...effects,
    ]);
    let out = raw8k;
    if (options.codec !== undefined) {
      const coded = join(dir, 'coded.raw');
      const back = join(dir, 'back.raw');
      const fmt = ['-r', '8000', '-c', '1'];
      execFileSync('sox', [
        '-t',
        'raw',
        ...fmt,
        '-e',
        'signed',
        '-b',
        '16',
        raw8k,
        '-t',
        'raw',
        '-e',
        options.codec,
        '-b',
        '8',
        coded,
      ]);
      execFileSync('sox', [
        '-t',
        'raw',
        ...fmt,
        '-e',
        options.codec,
        '-b',
        '8',
        coded,
        '-t',
        'raw',
        '-e',
        'signed',
        '-b',
        '16',
        back,
      ]);
      out = back;
    }
    const bytes = readFileSync(out);
    return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1).slice();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Concatenation of PCM pieces; numbers are that many seconds of silence. */
export function concat(...parts: (Int16Array | number)[]): Int16Array {
  const pieces = parts.map((p) => (typeof p === 'number' ? new Int16Array(Math.round(p * 8000)) : p));
  const out = new Int16Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function sine(freqs: number[], seconds: number, amplitude = 8000): Int16Array {
  const out = new Int16Array(Math.round(seconds * 8000));
  for (let i = 0; i < out.length; i++) {
    let v = 0;
    for (const f of freqs) v += Math.sin((2 * Math.PI * f * i) / 8000);
    out[i] = Math.round((amplitude * v) / freqs.length);
  }
  return out;
}

/** Deterministic white noise (xorshift), so tests never depend on Math.random. */
export function noise(seconds: number, amplitude = 3000, seed = 1): Int16Array {
  const out = new Int16Array(Math.round(seconds * 8000));
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = Math.round(((s / 0xffffffff) * 2 - 1) * amplitude);
  }
  return out;
}

/** Calls fn with each 160-sample frame of pcm (zero-padded at the end), and its frame index. */
export function forEachFrame(pcm: Int16Array, fn: (frame: Int16Array, index: number) => void): number {
  const frame = new Int16Array(FRAME_SAMPLES);
  const count = Math.ceil(pcm.length / FRAME_SAMPLES);
  for (let k = 0; k < count; k++) {
    frame.fill(0);
    frame.set(pcm.subarray(k * FRAME_SAMPLES, Math.min(pcm.length, (k + 1) * FRAME_SAMPLES)));
    fn(frame, k);
  }
  return count;
}
