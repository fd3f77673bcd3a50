import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.ts';
import { parseReplayFlags, type ReplayFlags } from '../../src/cli/commands/replay.ts';

const bin = new URL('../../bin/forkguard.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'fg-replay-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PAIR = { rx: 'udp:127.0.0.1:40000', tx: 'udp:127.0.0.1:40001' };

function flagError(flags: ReplayFlags): string {
  try {
    parseReplayFlags(flags);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error(`flags accepted: ${JSON.stringify(flags)}`);
}

describe('replay flag validation', () => {
  it('accepts the contract forms', () => {
    const pair = parseReplayFlags({ ...PAIR, codec: 'g722', speed: '2.5', repeat: '3', concurrency: '4' });
    expect(pair).toMatchObject({ codec: 'g722', speed: 2.5, repeat: 3, concurrency: 4 });
    expect(pair.destination).toEqual({
      mode: 'pair',
      rx: { host: '127.0.0.1', port: 40000, family: 4 },
      tx: { host: '127.0.0.1', port: 40001, family: 4 },
    });
    expect(parseReplayFlags({ target: 'udp:[::1]:9000', speed: 'max' })).toMatchObject({
      destination: { mode: 'strep', target: { host: '::1', port: 9000, family: 6 } },
      speed: Number.POSITIVE_INFINITY,
      codec: 'pcmu',
    });
    expect(parseReplayFlags({ target: 'udp:localhost:9000' }).destination).toMatchObject({
      target: { host: '127.0.0.1' },
    });
    expect(parseReplayFlags({ target: 'udp:::1:9000' }).destination).toMatchObject({
      target: { host: '::1' },
    });
  });

  const cases: [string, ReplayFlags, RegExp][] = [
    ['no destination', {}, /a destination is required/],
    ['rx without tx', { rx: PAIR.rx }, /a destination is required/],
    [
      'target with rx',
      { ...PAIR, target: 'udp:127.0.0.1:9000' },
      /--target cannot be combined with --rx\/--tx/,
    ],
    ['not udp:', { ...PAIR, rx: 'tcp:127.0.0.1:1' }, /^--rx 'tcp:127\.0\.0\.1:1': must start with udp:/],
    [
      'host name',
      { target: 'udp:example.com:9000' },
      /^--target 'udp:example\.com:9000': host 'example\.com' is not a literal IP/,
    ],
    [
      'bad port',
      { ...PAIR, tx: 'udp:127.0.0.1:70000' },
      /^--tx 'udp:127\.0\.0\.1:70000': port '70000' is not 1-65535/,
    ],
    ['no port', { target: 'udp:127.0.0.1' }, /missing host or port|not a literal IP/],
    [
      'unknown codec',
      { ...PAIR, codec: 'g729' },
      /^--codec 'g729': expected one of pcmu, pcma, g722, l16, opus$/,
    ],
    ['speed zero', { ...PAIR, speed: '0' }, /^--speed '0': expected a number from 0\.1 to 1000, or max$/],
    ['speed text', { ...PAIR, speed: 'fast' }, /^--speed 'fast'/],
    ['repeat zero', { ...PAIR, repeat: '0' }, /^--repeat '0': expected a whole number/],
    [
      'concurrency fraction',
      { ...PAIR, concurrency: '1.5' },
      /^--concurrency '1\.5': expected a whole number/,
    ],
    [
      'ports beyond 65535',
      { rx: 'udp:127.0.0.1:65530', tx: 'udp:127.0.0.1:65531', concurrency: '4' },
      /--rx port 65530 \+ 2 x/,
    ],
    ['same rx and tx', { rx: PAIR.rx, tx: PAIR.rx }, /--rx and --tx must differ/],
    [
      'overlapping pairs',
      { rx: 'udp:127.0.0.1:40000', tx: 'udp:127.0.0.1:40002', concurrency: '2' },
      /overlap/,
    ],
  ];
  for (const [name, flags, message] of cases) {
    it(`rejects ${name}`, () => {
      expect(flagError(flags)).toMatch(message);
    });
  }
});

describe('forkguard replay command line', () => {
  const run = (...args: string[]) => spawnSync('node', [bin, 'replay', ...args], { encoding: 'utf8' });

  it('documents every flag in --help', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    for (const flag of ['--rx', '--tx', '--target', '--codec', '--speed', '--repeat', '--concurrency']) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toMatch(/pcmu 0, pcma 8, g722 9, l16 97, opus 96/);
  });

  it('exits 2 with one line on a bad flag', () => {
    const result = run(
      join(dir, 'x.wav'),
      '--rx',
      'udp:127.0.0.1:40000',
      '--tx',
      'udp:127.0.0.1:40001',
      '--speed',
      '-1',
    );
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `forkguard: --speed '-1': expected a number from 0.1 to 1000, or max`,
    ]);
  });

  it('exits 2 naming a missing file', () => {
    const missing = join(dir, 'missing.wav');
    const result = run(missing, '--target', 'udp:127.0.0.1:9');
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(`forkguard: ${missing}: no such file or directory`);
  });

  it('reports an unreadable file on one line, sends the others and exits 2', () => {
    const bad = join(dir, 'bad.wav');
    writeFileSync(bad, 'not audio');
    const good = join(dir, 'good.wav');
    // 0.1 s of 8 kHz mono PCM16 silence.
    const wav = Buffer.alloc(44 + 1600);
    wav.write('RIFF', 0, 'ascii');
    wav.writeUInt32LE(wav.length - 8, 4);
    wav.write('WAVEfmt ', 8, 'ascii');
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20);
    wav.writeUInt16LE(1, 22);
    wav.writeUInt32LE(8000, 24);
    wav.writeUInt32LE(16000, 28);
    wav.writeUInt16LE(2, 32);
    wav.writeUInt16LE(16, 34);
    wav.write('data', 36, 'ascii');
    wav.writeUInt32LE(1600, 40);
    writeFileSync(good, wav);
    const result = run(bad, good, '--target', 'udp:127.0.0.1:9', '--speed', 'max');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`forkguard: ${bad}: not a WAV file (no RIFF header)\n`);
    expect(result.stdout).toMatch(
      /^replayed 1 call\(s\), 5 packets in [\d.]+ s \(\d+ packets\/s\), 1 unreadable\n$/,
    );
  });
});
