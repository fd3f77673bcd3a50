import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStrepHeader, STREP_HEADER_BYTES, StrepHeaderView } from '../../src/ingest/strep.ts';
import { replayCalls } from '../../src/recordings/replay-engine.ts';
import type { UdpTarget } from '../../src/recordings/udp-target.ts';
import { writeWav } from '../../src/recordings/wav-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'fg-replay-'));
const oneSecond = join(dir, 'one-second.wav');
const short = join(dir, 'short.wav');
/** Port range of this test file for consecutive pairs (concurrency). */
const PAIR_BASE = 27_310;

beforeAll(async () => {
  const tone = (n: number) => Int16Array.from({ length: n }, (_, i) => Math.round(5000 * Math.sin(i / 7)));
  await writeWav(oneSecond, [tone(8000), tone(8000)], 8000, 'pcm16');
  await writeWav(short, [tone(1600), tone(1600)], 8000, 'mulaw');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Arrival {
  port: number;
  atNs: bigint;
  data: Buffer;
}

async function listen(
  ports: number[],
): Promise<{ sockets: Socket[]; arrivals: Arrival[]; close: () => Promise<void> }> {
  const arrivals: Arrival[] = [];
  const sockets = await Promise.all(
    ports.map(
      (port) =>
        new Promise<Socket>((resolve, reject) => {
          const socket = createSocket('udp4');
          socket.on('message', (data) =>
            arrivals.push({ port: socket.address().port, atNs: process.hrtime.bigint(), data }),
          );
          socket.once('error', reject);
          socket.bind(port, '127.0.0.1', () => resolve(socket));
        }),
    ),
  );
  const close = () =>
    Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
  return { sockets, arrivals, close };
}

const target = (port: number): UdpTarget => ({ host: '127.0.0.1', port, family: 4 });

async function settle(arrivals: Arrival[], expected: number): Promise<void> {
  for (let i = 0; i < 100 && arrivals.length < expected; i++) await new Promise((r) => setTimeout(r, 10));
}

/** Replays the one-second call once to the rx/tx ports at `speed`. */
function replayOneSecond(rxPort: number, txPort: number, codec: 'pcmu' | 'pcma', speed: number) {
  return replayCalls({
    files: [oneSecond],
    destination: { mode: 'pair', rx: target(rxPort), tx: target(txPort) },
    codec,
    speed,
    repeat: 1,
    concurrency: 1,
  });
}

describe('replay pacing', () => {
  it('sends a 1 s call in about 1 s at 20 ms per packet (loose sanity bound)', async () => {
    const rx = await listen([0, 0]);
    const [rxPort, txPort] = rx.sockets.map((s) => s.address().port);
    const summary = await replayOneSecond(rxPort, txPort, 'pcmu', 1);
    await settle(rx.arrivals, 100);
    await rx.close();
    expect(summary).toMatchObject({ calls: 1, failed: 0, packets: 100, sendErrors: 0 });
    const rxTimes = rx.arrivals.filter((a) => a.port === rxPort).map((a) => Number(a.atNs) / 1e6);
    expect(rxTimes.length).toBe(50);
    const spanMs = rxTimes[49] - rxTimes[0];
    const meanGapMs = spanMs / 49;
    expect(meanGapMs).toBeGreaterThan(17);
    expect(meanGapMs).toBeLessThan(25);
    expect(summary.seconds).toBeGreaterThan(0.9);
    expect(summary.seconds).toBeLessThan(1.6);
    // Each packet carries 20 ms of audio and its own sequence number, in order.
    const seqs = rx.arrivals.filter((a) => a.port === rxPort).map((a) => a.data.readUInt16BE(2));
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] + i) & 0xffff));
  });

  it('does not drift: after the event loop stalls it sends what fell due at once and keeps the original schedule', async () => {
    const rx = await listen([0, 0]);
    const [rxPort, txPort] = rx.sockets.map((s) => s.address().port);
    // A 300 ms stall of the whole process 300 ms in. A pacer that sleeps 20 ms after each send would end 300 ms
    // late; one with absolute due times ends on time, having sent the packets due during the stall at once.
    const stall = setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until) {}
    }, 300);
    const summary = await replayOneSecond(rxPort, txPort, 'pcmu', 1);
    clearTimeout(stall);
    await settle(rx.arrivals, 100);
    await rx.close();
    expect(summary.packets).toBe(100);
    const rxTimes = rx.arrivals.filter((a) => a.port === rxPort).map((a) => Number(a.atNs) / 1e6);
    expect(rxTimes.length).toBe(50);
    // Never early: packet k leaves no sooner than k * 20 ms after the first (1 ms for clock granularity).
    for (let k = 1; k < 50; k++) expect(rxTimes[k] - rxTimes[0]).toBeGreaterThan(k * 20 - 1);
    // On time at the end despite the stall (980 ms of schedule; 1,280 ms or more for a drifting pacer).
    expect(rxTimes[49] - rxTimes[0]).toBeLessThan(1150);
    // The stall shows as a burst: some packets arrived together.
    const gaps = rxTimes.slice(1).map((t, k) => t - rxTimes[k]);
    expect(Math.min(...gaps)).toBeLessThan(5);
  });

  it('--speed 4 scales the schedule', async () => {
    const rx = await listen([0, 0]);
    const [rxPort, txPort] = rx.sockets.map((s) => s.address().port);
    const summary = await replayOneSecond(rxPort, txPort, 'pcma', 4);
    await rx.close();
    expect(summary.packets).toBe(100);
    expect(summary.seconds).toBeGreaterThan(0.2);
    expect(summary.seconds).toBeLessThan(0.6);
  });
});

describe('replay concurrency, repeat and STREP', () => {
  it('--concurrency 3 uses rx/tx ports + 2i and --repeat loops the file list', async () => {
    const ports = [0, 1, 2, 3, 4, 5].map((i) => PAIR_BASE + i);
    const rx = await listen(ports);
    const summary = await replayCalls({
      files: [short, oneSecond],
      destination: { mode: 'pair', rx: target(PAIR_BASE), tx: target(PAIR_BASE + 1) },
      codec: 'pcmu',
      speed: Number.POSITIVE_INFINITY,
      repeat: 3,
      concurrency: 3,
    });
    await settle(rx.arrivals, summary.packets);
    await rx.close();
    // 3 x (10 + 50) packets per leg.
    expect(summary).toMatchObject({ calls: 6, failed: 0, packets: 360 });
    expect(rx.arrivals.length).toBe(360);
    for (const port of ports) expect(rx.arrivals.some((a) => a.port === port)).toBe(true);
    const perPort = (port: number) => rx.arrivals.filter((a) => a.port === port).length;
    expect(perPort(PAIR_BASE) + perPort(PAIR_BASE + 2) + perPort(PAIR_BASE + 4)).toBe(180);
    // rx ports carry payload type 0 packets with distinct SSRCs per replayed call.
    const ssrcs = new Set(rx.arrivals.filter((a) => a.port % 2 === 0).map((a) => a.data.readUInt32BE(8)));
    expect(ssrcs.size).toBe(6);
  });

  it('--target wraps every packet in STREP with one fresh call_leg_id per call and the D bit per leg', async () => {
    const rx = await listen([0]);
    const port = rx.sockets[0].address().port;
    const summary = await replayCalls({
      files: [short],
      destination: { mode: 'strep', target: target(port) },
      codec: 'pcmu',
      speed: Number.POSITIVE_INFINITY,
      repeat: 1,
      concurrency: 1,
    });
    const second = await replayCalls({
      files: [short],
      destination: { mode: 'strep', target: target(port) },
      codec: 'pcmu',
      speed: Number.POSITIVE_INFINITY,
      repeat: 2,
      concurrency: 2,
    });
    await settle(rx.arrivals, summary.packets + second.packets);
    await rx.close();
    const view = new StrepHeaderView();
    const byCall = new Map<string, number[]>();
    for (const a of rx.arrivals) {
      expect(parseStrepHeader(a.data, 0, a.data.length, view)).toBe(0);
      expect(a.data[STREP_HEADER_BYTES] >> 6).toBe(2);
      const list = byCall.get(view.callLegId()) ?? [];
      list.push(view.direction);
      byCall.set(view.callLegId(), list);
    }
    expect(byCall.size).toBe(3);
    for (const directions of byCall.values()) {
      expect(directions.filter((d) => d === 0).length).toBe(10);
      expect(directions.filter((d) => d === 1).length).toBe(10);
    }
  });
});
