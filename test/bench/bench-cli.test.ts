import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchDocument } from '../../src/bench-harness/bench-report.ts';
import { Prng } from '../../src/recordings/corpus/prng.ts';
import { concat, keyDigits } from '../../src/recordings/corpus/signals.ts';
import { writeWav } from '../../src/recordings/wav-writer.ts';
import { writeTinyModel } from '../service/tiny-model.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/forkguard.js', import.meta.url));
/** Port pairs of this test file only: 4 calls need 4 x 4 ports. */
const FIRST_PORT = 23640;

function toPcm(audio: Float32Array): Int16Array {
  const pcm = new Int16Array(audio.length);
  for (let i = 0; i < audio.length; i++)
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round(audio[i] * 32767)));
  return pcm;
}

/**
 * A card number keyed as in-band DTMF from 0.5 s (7.6 s long), labelled card_entry: the card rule alerts on it
 * with any model. Its name sorts first among the card calls, and card_entry first among the labels, so it is the
 * first recording the bench plays: slot 0 of the first step, played whole.
 */
async function writeCardCall(dir: string): Promise<void> {
  const { audio } = keyDigits(new Prng(5), '4111111111111111', [4, 4, 4, 4]);
  const rx = toPcm(concat([new Float32Array(4000), audio, new Float32Array(8000)]));
  mkdirSync(join(dir, 'card_entry'), { recursive: true });
  await writeWav(join(dir, 'card_entry', 'a-keyed-card.wav'), [rx, new Int16Array(rx.length)], 8000, 'pcm16');
  writeFileSync(
    join(dir, 'card_entry', 'a-keyed-card.json'),
    JSON.stringify({ label: 'card_entry', onset_s: 0.5 }),
  );
}

describe('forkguard bench (small run: tiny model, 2 steps)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-test-'));
  const corpus = join(dir, 'corpus');
  const out = join(dir, 'results');
  let doc: BenchDocument;
  let stderr = '';

  beforeAll(async () => {
    const model = writeTinyModel(dir);
    await run(process.execPath, [BIN, 'corpus', '--out', corpus, '--calls', '6', '--seed', '21'], {
      timeout: 120_000,
    });
    await writeCardCall(corpus);
    const result = await run(
      process.execPath,
      [
        ...[
          BIN,
          'bench',
          '--corpus',
          corpus,
          '--model',
          model,
          '--out',
          out,
          '--first-port',
          String(FIRST_PORT),
        ],
        ...[
          '--step',
          '2,4',
          '--duration',
          '9',
          '--bare-duration',
          '3',
          '--evidence-s',
          '2',
          '--idle-ms',
          '1000',
        ],
      ],
      { timeout: 170_000, env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:6379' } },
    );
    stderr = result.stderr;
    doc = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
  }, 300_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes JSON, Markdown and the SVG chart', () => {
    expect(stderr).toContain('wrote');
    const md = readFileSync(join(out, 'bench.md'), 'utf8');
    expect(md).toContain('## Service steps');
    expect(md).toContain('## Bare dgram receiver');
    expect(md).toContain('](bench.svg)');
    const svg = readFileSync(join(out, 'bench.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)?.length).toBe(5);
    expect(existsSync(join(out, 'bench.json'))).toBe(true);
  });

  it('has one measured step per concurrency for the service and the bare receiver', () => {
    expect(doc.bench).toBe('recorded-calls');
    expect(doc.service_steps.map((s) => s.concurrency)).toEqual([2, 4]);
    expect(doc.bare_steps.map((s) => s.concurrency)).toEqual([2, 4]);
    expect(Object.keys(doc.targets).sort()).toEqual([
      'concurrent_calls_zero_loss',
      'kib_per_active_call',
      'p99_alert_latency_ms',
      'packets_per_second_zero_loss',
    ]);
    expect((doc.machine as { load_average_before: number[] }).load_average_before).toHaveLength(3);
  });

  it('reports offered and received counts that agree with each other', () => {
    for (const s of [...doc.service_steps, ...doc.bare_steps]) {
      expect(s.packets_sent).toBeGreaterThan(0);
      expect(s.send_errors).toBe(0);
      // Loopback at a few hundred datagrams/s: everything sent is read, and nothing is read that was not sent.
      expect(s.packets_received).toBe(s.packets_sent);
      expect(s.loss).toBe(0);
      expect(s.offered_pps).toBeGreaterThan(0);
      expect(s.received_pps).toBeGreaterThan(0);
      expect(s.calls_started).toBeGreaterThanOrEqual(s.concurrency);
    }
    for (const s of doc.service_steps) {
      expect(s.sessions_active).toBeGreaterThanOrEqual(1);
      expect(s.sessions_active).toBeLessThanOrEqual(2 * s.concurrency);
      expect(s.cpu_us_per_packet).toBeGreaterThan(0);
      expect(s.rss_mib).toBeGreaterThan(0);
    }
    for (const s of doc.service_steps) expect(s.backlog_s).not.toBeNull();
    const sustained = doc.service_steps.filter((s) => s.sustained).map((s) => s.concurrency);
    expect(doc.summary.service_zero_loss_calls).toBe(sustained.length > 0 ? Math.max(...sustained) : 0);
  });

  it('judges the replayed calls against their labels', () => {
    const acc = doc.accuracy;
    expect(acc).not.toBeNull();
    if (acc === null) return;
    const started = doc.service_steps.reduce((n, s) => n + s.calls_started, 0);
    expect(acc.calls_judged + acc.calls_not_judged).toBe(started);
    const perClass = Object.values(acc.classes).reduce((n, c) => n + c.calls, 0);
    expect(perClass).toBe(acc.calls_judged);
    const first = doc.service_steps[0];
    expect(first.accuracy?.misses.map((m) => m.call)).not.toContain('card_entry/a-keyed-card');
    expect(first.alerts?.by_kind.card_entry).toBeGreaterThanOrEqual(1);
    expect(acc.classes.card_entry.calls).toBeGreaterThanOrEqual(1);
    expect(acc.classes.card_entry.recall).toBeGreaterThan(0);
    expect(doc.latency.count + doc.latency.at_session_end).toBeGreaterThanOrEqual(1);
  });

  it("removes the run's Redis keys", async () => {
    const redis = new Redis('redis://127.0.0.1:6379');
    const [, keys] = await redis.scan('0', 'MATCH', `${doc.target.queue_prefix}:*`, 'COUNT', 10000);
    redis.disconnect();
    expect(doc.target.queue_prefix).toMatch(/^fgbench-/);
    expect(keys).toEqual([]);
  });
});
