import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecordedCall } from '../../src/recordings/recorded-call.ts';
import { writeWav } from '../../src/recordings/wav-writer.ts';
import { expectOneLineReadError } from './read-error.ts';

const dir = mkdtempSync(join(tmpdir(), 'fg-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SOX_ENCODING = {
  pcm16: ['-e', 'signed', '-b', '16'],
  mulaw: ['-e', 'u-law'],
  alaw: ['-e', 'a-law'],
} as const;

/** What sox itself decodes the file to: interleaved little-endian 16-bit samples. */
function soxSamples(path: string): Int16Array {
  const raw = execFileSync('sox', [path, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', '-']);
  return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/** Writes `seconds` of sox-synthesised tones (one per channel) in the given encoding. */
function soxTones(
  path: string,
  rate: number,
  encoding: keyof typeof SOX_ENCODING,
  seconds: number,
  freqs: number[],
): void {
  const synth = freqs.flatMap((f) => ['sine', String(f)]);
  const args = ['-n', '-r', String(rate), '-c', String(freqs.length), ...SOX_ENCODING[encoding], path];
  execFileSync('sox', [...args, 'synth', String(seconds), ...synth, 'vol', '0.8']);
}

function deinterleave(samples: Int16Array, channels: number): Int16Array[] {
  const legs = Array.from({ length: channels }, () => new Int16Array(samples.length / channels));
  for (let i = 0; i < samples.length; i++) legs[i % channels][Math.floor(i / channels)] = samples[i];
  return legs;
}

describe('WAV reader against sox-written files', () => {
  for (const encoding of ['pcm16', 'mulaw', 'alaw'] as const) {
    for (const rate of [8000, 16000] as const) {
      for (const channels of [1, 2] as const) {
        it(`${encoding} ${rate} Hz ${channels} channel(s)`, async () => {
          const path = join(dir, `sox-${encoding}-${rate}-${channels}.wav`);
          // Different tones per channel so a swapped or interleaving mistake cannot pass.
          soxTones(path, rate, encoding, 0.5, channels === 2 ? [440, 1230] : [700]);
          const call = await readRecordedCall(path);
          expect(call.kind).toBe('pcm');
          if (call.kind !== 'pcm') return;
          expect(call.sampleRate).toBe(rate);
          expect(call.channels).toBe(channels);
          expect(call.encoding).toBe(encoding);
          const expected = deinterleave(soxSamples(path), channels);
          expect(call.legs[0].length).toBe(rate / 2);
          expect(call.legs[0]).toEqual(expected[0]);
          if (channels === 2) expect(call.legs[1]).toEqual(expected[1]);
          else expect(call.legs[1]).toBeNull();
        });
      }
    }
  }

  it('reads WAVE_FORMAT_EXTENSIBLE (PCM and mu-law sub-formats)', async () => {
    for (const [encoding, tag] of [
      ['pcm16', 1],
      ['mulaw', 7],
    ] as const) {
      const plain = join(dir, `ext-src-${encoding}.wav`);
      soxTones(plain, 8000, encoding, 0.2, [300, 900]);
      const extensible = join(dir, `ext-${encoding}.wav`);
      writeFileSync(extensible, toExtensible(readFileSync(plain), tag));
      const call = await readRecordedCall(extensible);
      const reference = await readRecordedCall(plain);
      expect(call.kind === 'pcm' && call.encoding).toBe(encoding);
      expect(call.kind === 'pcm' && call.legs).toEqual(reference.kind === 'pcm' && reference.legs);
    }
  });

  it('writes files sox reads back to the same samples (every encoding, mono and stereo)', async () => {
    const n = 4000;
    const rx = new Int16Array(n);
    const tx = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      rx[i] = Math.round(12000 * Math.sin(i * 0.05));
      tx[i] = Math.round(-9000 * Math.sin(i * 0.13));
    }
    for (const encoding of ['pcm16', 'mulaw', 'alaw'] as const) {
      for (const legs of [[rx], [rx, tx]]) {
        const path = join(dir, `written-${encoding}-${legs.length}.wav`);
        await writeWav(path, legs, 16000, encoding);
        const info = execFileSync('soxi', [path], { encoding: 'utf8' });
        expect(info).toMatch(new RegExp(`Channels\\s*: ${legs.length}`));
        expect(info).toMatch(/Sample Rate\s*: 16000/);
        expect(info).toMatch({ pcm16: /16-bit Signed Integer PCM/, mulaw: /u-law/, alaw: /A-law/ }[encoding]);
        const ours = await readRecordedCall(path);
        const sox = deinterleave(soxSamples(path), legs.length);
        if (ours.kind !== 'pcm') throw new Error('expected pcm');
        expect(ours.legs[0]).toEqual(sox[0]);
        if (legs.length === 2) expect(ours.legs[1]).toEqual(sox[1]);
        if (encoding === 'pcm16') expect(ours.legs[0]).toEqual(rx);
        else
          for (let i = 0; i < n; i++)
            expect(Math.abs(ours.legs[0][i] - rx[i])).toBeLessThanOrEqual(Math.abs(rx[i]) / 16 + 16);
      }
    }
  });

  it('reads a long stereo file (ten minutes at 8 kHz) whole', async () => {
    const path = join(dir, 'long.wav');
    soxTones(path, 8000, 'pcm16', 600, [440, 550]);
    const call = await readRecordedCall(path);
    expect(call.kind === 'pcm' && call.legs[1]?.length).toBe(600 * 8000);
    rmSync(path);
  });
});

describe('a WAV cut short (a recording stopped while writing)', () => {
  it('reads the samples the file holds and says how much of the stated data is missing', async () => {
    const path = join(dir, 'cut.wav');
    soxTones(path, 8000, 'pcm16', 1, [440, 550]);
    const whole = readFileSync(path);
    const body = whole.indexOf('data') + 8;
    const kept = whole.length - body - 1000 - 1; // an odd cut: half a stereo frame is dropped too
    writeFileSync(path, whole.subarray(0, body + kept));
    const call = await readRecordedCall(path);
    if (call.kind !== 'pcm') throw new Error('expected pcm');
    expect(call.legs[0].length).toBe(Math.floor(kept / 4));
    expect(call.warnings).toEqual([
      `WAV data cut short: ${kept} of its ${whole.length - body} bytes are in the file`,
    ]);
  });

  it('a data size left at 0 or 0xFFFFFFFF by a streaming writer is no warning', async () => {
    for (const size of [0, 0xffffffff]) {
      const path = join(dir, `stream-${size}.wav`);
      soxTones(path, 8000, 'pcm16', 0.5, [440]);
      const bytes = readFileSync(path);
      bytes.writeUInt32LE(size, bytes.indexOf('data') + 4);
      writeFileSync(path, bytes);
      const call = await readRecordedCall(path);
      if (call.kind !== 'pcm') throw new Error('expected pcm');
      expect(call.legs[0].length).toBe(4000);
      expect(call.warnings).toEqual([]);
    }
  });
});

/** Rewrites a plain fmt chunk (as sox writes it) into a 40-byte WAVE_FORMAT_EXTENSIBLE one. */
function toExtensible(wav: Buffer, subFormat: number): Buffer {
  const fmtSize = wav.readUInt32LE(16);
  const fmt = wav.subarray(20, 20 + 16);
  const ext = Buffer.alloc(8 + 40);
  ext.write('fmt ', 0, 'ascii');
  ext.writeUInt32LE(40, 4);
  fmt.copy(ext, 8);
  ext.writeUInt16LE(0xfffe, 8);
  ext.writeUInt16LE(22, 8 + 16); // cbSize
  ext.writeUInt16LE(fmt.readUInt16LE(14), 8 + 18); // valid bits
  ext.writeUInt32LE(3, 8 + 20); // channel mask: front left + right
  // SubFormat GUID xxxxxxxx-0000-0010-8000-00aa00389b71 with the format tag in the first two bytes.
  Buffer.from([subFormat, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]).copy(ext, 8 + 24);
  const rest = wav.subarray(20 + fmtSize + (fmtSize & 1));
  const out = Buffer.concat([wav.subarray(0, 12), ext, rest]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

describe('bad WAV files get one-line errors naming the file', () => {
  const cases: [string, () => Buffer, RegExp][] = [
    ['empty', () => Buffer.alloc(0), /: empty file$/],
    ['no RIFF', () => Buffer.from('hello world, not audio at all'), /: not a WAV file \(no RIFF header\)$/],
    [
      'not WAVE',
      () => Buffer.from('RIFF\x10\x00\x00\x00AVI LIST'),
      /: not a WAV file \(RIFF type is not WAVE\)$/,
    ],
    ['no data', () => wavHeader(1, 1, 8000, 16).subarray(0, 36), /: WAV file has no data chunk$/],
    ['G.729', () => wavHeader(0x133, 1, 8000, 0), /: unsupported WAV encoding 'G\.729'$/],
    ['float', () => wavHeader(3, 1, 8000, 32), /: unsupported WAV encoding 'IEEE float'$/],
    ['24-bit', () => wavHeader(1, 1, 8000, 24), /: unsupported WAV encoding '24-bit PCM'$/],
    [
      '44.1 kHz',
      () => wavHeader(1, 2, 44100, 16),
      /: unsupported WAV sample rate 44100 Hz \(8000 or 16000\)$/,
    ],
    ['3 channels', () => wavHeader(1, 3, 8000, 16), /: unsupported WAV channel count 3/],
    ['truncated fmt', () => wavHeader(1, 1, 8000, 16).subarray(0, 28), /: truncated WAV fmt chunk$/],
  ];
  for (const [name, bytes, message] of cases) {
    it(name, async () => {
      const path = join(dir, `bad-${name.replace(/\W/g, '')}.wav`);
      await expectOneLineReadError(path, bytes(), message);
    });
  }
});

function wavHeader(tag: number, channels: number, rate: number, bits: number): Buffer {
  const b = Buffer.alloc(44 + 16);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(b.length - 8, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(tag, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE((rate * channels * bits) / 8, 28);
  b.writeUInt16LE((channels * bits) / 8, 32);
  b.writeUInt16LE(bits, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(16, 40);
  return b;
}
