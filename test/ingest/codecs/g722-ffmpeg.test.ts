import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { G722Decoder, G722Encoder } from '../../../src/ingest/codecs/g722.ts';
import { chirp, harmonics } from './signals.ts';

// Independent reference: FFmpeg's libavcodec G.722 (its own implementation of the ITU algorithm), driven
// through Python ctypes. Bit-exact agreement on both encoder and decoder is the strongest evidence available
// here short of the ITU-T test vectors. Skipped where libavcodec 59 is not installed (outside CI).

const script = join(dirname(fileURLToPath(import.meta.url)), 'ffmpeg_g722.py');
const available = spawnSync('python3', [script, 'probe']).status === 0;

function runReference(mode: 'encode' | 'decode', input: Uint8Array): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'fg-codecs-g722-'));
  try {
    const inPath = join(dir, 'in');
    const outPath = join(dir, 'out');
    writeFileSync(inPath, input);
    const r = spawnSync('python3', [script, mode, inPath, outPath], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`reference ${mode} failed: ${r.stderr}`);
    return new Uint8Array(readFileSync(outPath));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

// scripts/setup.sh (run by the test command) installs it, so under CI a missing reference is a failure, not a skip.
it.runIf(process.env.CI === 'true')('has the libavcodec reference available under CI', () => {
  expect(available, 'python3 ffmpeg_g722.py probe failed: libavcodec 59 missing').toBe(true);
});

describe.skipIf(!available)('G.722 against libavcodec', () => {
  it('decoder: random code bytes decode bit-exactly (every code, saturation paths)', () => {
    const next = lcg(7);
    const codes = new Uint8Array(16000).map(() => next() >>> 24);
    const ref = runReference('decode', codes);
    const ours = new Int16Array(codes.length * 2);
    new G722Decoder().decode(codes, 0, codes.length, ours, 0);
    expect(Buffer.from(ours.buffer).equals(Buffer.from(ref))).toBe(true);
  });

  it('encoder: speech-like, chirp, full-scale and noise input encode bit-exactly', () => {
    const next = lcg(11);
    const parts = [
      harmonics(16000, 1, 120, 20000),
      harmonics(16000, 1, 220, 12000, 1),
      chirp(16000, 1, 50, 7900, 32767),
      new Int16Array(16000).map(() => ((next() >>> 16) & 0xffff) - 32768),
      new Int16Array(3200),
    ];
    const total = parts.reduce((n, p) => n + p.length, 0);
    const pcm = new Int16Array(total);
    let at = 0;
    for (const p of parts) {
      pcm.set(p, at);
      at += p.length;
    }
    const ref = runReference('encode', new Uint8Array(pcm.buffer));
    const ours = new Uint8Array(total >> 1);
    new G722Encoder().encode(pcm, 0, total, ours, 0);
    expect(ref.length).toBe(ours.length);
    expect(Buffer.from(ours).equals(Buffer.from(ref))).toBe(true);
  });
});
