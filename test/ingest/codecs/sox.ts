/** Runs SoX as an independent reference on raw audio files in a temp folder. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function soxAvailable(): boolean {
  return spawnSync('sox', ['--version']).status === 0;
}

/** Converts raw bytes with sox; `from`/`to` are sox format args (e.g. ['-e', 'u-law']). -D: no dither. */
export function soxConvert(input: Uint8Array, from: string[], to: string[]): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'fg-codecs-sox-'));
  try {
    const inPath = join(dir, 'in.raw');
    const outPath = join(dir, 'out.raw');
    writeFileSync(inPath, input);
    const args = [
      '-D',
      '-V1',
      '-t',
      'raw',
      '-r',
      '8000',
      '-c',
      '1',
      ...from,
      inPath,
      '-t',
      'raw',
      ...to,
      outPath,
    ];
    const r = spawnSync('sox', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
    return new Uint8Array(readFileSync(outPath));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const SIGNED16 = ['-e', 'signed', '-b', '16', '-L'];
export const ULAW = ['-e', 'u-law'];
export const ALAW = ['-e', 'a-law'];
