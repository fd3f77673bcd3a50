/**
 * What holding many calls costs ingest per packet, in process: the whole IngestServer path (queue, STREP demux,
 * sessions, latch, parse, reorder, G.711 decode, 20 ms frames into a counting sink) driven without sockets, for a
 * few calls and for many, in the same run. Per packet the work is the same; with many calls each call's state has
 * left the CPU caches by the time its next packet comes, and the difference is what that costs. On real UDP the
 * same difference hides among the kernel's and Node's per-datagram costs, which vary more from run to run than it.
 *
 * Each datagram is a fresh Buffer, as dgram hands them over (IngestServer keeps a reference to a G.711 leg's last
 * one for concealment). Calls send in rounds, one packet per leg per round: round 0 in the order the calls start,
 * every later round in one fixed shuffled order (live calls arrive by their phase in the 20 ms cycle, not in the
 * order their state was allocated). The queue is drained every DRAIN_EVERY datagrams, about what one I/O pass
 * reads on a busy socket, and the sessions are swept once per round, as the 20 ms sweep timer does at real time.
 *
 * Each call count is also measured with the server's read-ahead of call state off (IngestServerOptions.readAhead),
 * in the same rounds: what reading a batch's call state ahead saves with many calls, and costs with few.
 *
 * Run: npx tsx bench/ingest-calls.bench.ts [--seconds 2]   (JSON: bench/results/ingest-calls.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { collectGarbage } from '../src/bench-harness/collect-garbage.ts';
import { median } from '../src/bench-harness/median.ts';
import type { Leg, MediaSink } from '../src/ingest/media-sink.ts';
import { IngestServer } from '../src/ingest/udp/ingest-server.ts';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 2;
const FEW_CALLS = 100;
const MANY_CALLS = 3000;
/** Each call count is measured this many times, interleaved, and the median is reported. */
const ROUNDS = 5;
const DRAIN_EVERY = 32;
/** Rounds sent before timing: sessions open, code reaches its optimised tier. */
const WARMUP_ROUNDS = 50;
const STREP_BYTES = 24;
const DATAGRAM_BYTES = STREP_BYTES + 12 + 160;

class CountingSink implements MediaSink {
  static frames = 0;
  pushFrame(_leg: Leg, _frameIndex: number, pcm: Int16Array): void {
    CountingSink.frames += pcm.length === 160 ? 1 : 0;
  }
  pushDigit(): void {}
  end(): void {}
}

/** A STREP datagram carrying a 20 ms PCMU packet, with every field but the per-packet ones filled in. */
function template(): Buffer {
  const b = Buffer.alloc(DATAGRAM_BYTES);
  b[0] = 0xc4; // STREP version 1, leg A, direction rx (bit 0 set per datagram)
  b[1] = STREP_BYTES;
  b.writeUInt32BE(0x5eed0000, 8);
  b.writeUInt32BE(0x40000000, 16);
  b.writeUInt32BE(0x80000000, 20);
  b[STREP_BYTES] = 0x80;
  for (let k = 0; k < 160; k++) b[STREP_BYTES + 12 + k] = (k * 37 + 5) & 0x7f;
  return b;
}

/** A permutation of 0..n-1, the same every run (xorshift32 Fisher-Yates). */
function shuffled(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let state = 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const j = (state >>> 0) % (i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

interface Measurement {
  calls: number;
  readAhead: boolean;
  packets: number;
  nsPerPacket: number;
  cpuNsPerPacket: number;
}

async function measure(calls: number, readAhead: boolean): Promise<Measurement> {
  // The calls of the measurement before are garbage now: collected here, not inside this one's timing (the first
  // measurement of each round used to pay for the 3,000 calls of the last one).
  collectGarbage();
  const server = new IngestServer(
    { host: '127.0.0.1', strepPort: 0, maxSessions: MANY_CALLS + 1, idleMs: 3_600_000, readAhead },
    { open: () => new CountingSink(), closed: () => {} },
  );
  const streams = 2 * calls;
  const order = shuffled(streams);
  const model = template();
  let round = 0;
  const sendRound = (): void => {
    const sequence = round & 0xffff;
    const timestamp = (round * 160) >>> 0;
    for (let i = 0; i < streams; i++) {
      const stream = round === 0 ? i : order[i];
      const datagram = Buffer.allocUnsafe(DATAGRAM_BYTES);
      model.copy(datagram);
      datagram[0] = 0xc4 | (stream & 1);
      datagram.writeUInt32BE(stream >>> 1, 12);
      datagram.writeUInt16BE(sequence, STREP_BYTES + 2);
      datagram.writeUInt32BE(timestamp, STREP_BYTES + 4);
      datagram.writeUInt32BE(stream + 1, STREP_BYTES + 8);
      server.receiveStrep(datagram, '127.0.0.1', 5000);
      if ((i + 1) % DRAIN_EVERY === 0) server.drain();
    }
    server.drain();
    server.sweep();
    round++;
  };
  while (round < WARMUP_ROUNDS) sendRound();
  const received0 = server.counters.received;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) sendRound();
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const packets = server.counters.received - received0;
  const dropped = server.dropTotals().reduce((sum, n) => sum + n, 0);
  if (dropped > 0 || server.activeSessions !== calls) {
    throw new Error(`${calls} calls: ${dropped} datagrams dropped, ${server.activeSessions} sessions`);
  }
  // Ended before the next measurement, so its calls' state is not in the heap the next one runs in.
  await server.stop();
  return {
    calls,
    readAhead,
    packets,
    nsPerPacket: (elapsedMs * 1e6) / packets,
    cpuNsPerPacket: ((cpu.user + cpu.system) * 1e3) / packets,
  };
}

const loadBefore = loadavg()[0];
/** Per round: few and many calls, each with read-ahead and without. */
const runs: Measurement[][] = [];
for (let r = 0; r < ROUNDS; r++) {
  runs.push([
    await measure(FEW_CALLS, true),
    await measure(FEW_CALLS, false),
    await measure(MANY_CALLS, true),
    await measure(MANY_CALLS, false),
  ]);
}
const medianOf = (column: number): number => median(runs.map((run) => run[column].cpuNsPerPacket));
const [few, fewPlain, many, manyPlain] = [0, 1, 2, 3].map(medianOf);
console.table(
  runs.map((run, i) => ({
    round: i + 1,
    ...Object.fromEntries(
      run.map((m) => [
        `${m.calls} calls${m.readAhead ? '' : ', no read-ahead'} ns/pkt (CPU)`,
        m.cpuNsPerPacket.toFixed(0),
      ]),
    ),
  })),
);
console.log(
  `CPU per packet, median of ${ROUNDS}: ${few.toFixed(0)} ns with ${FEW_CALLS} calls (the baseline), ` +
    `${many.toFixed(0)} ns with ${MANY_CALLS} calls: ${(many / few).toFixed(2)}x, call state +${(many - few).toFixed(0)} ns`,
);
console.log(
  `read-ahead of call state: ${MANY_CALLS} calls ${many.toFixed(0)} ns against ${manyPlain.toFixed(0)} without ` +
    `(${(many / manyPlain).toFixed(2)}x); ${FEW_CALLS} calls ${few.toFixed(0)} against ${fewPlain.toFixed(0)} ` +
    `(${(few / fewPlain).toFixed(2)}x)`,
);
const json = {
  bench: 'ingest-calls',
  node: process.version,
  secondsPerMeasure: SECONDS,
  rounds: ROUNDS,
  loadAverage: { before: loadBefore, after: loadavg()[0] },
  baseline: { calls: FEW_CALLS, cpuNsPerPacket: few },
  manyCalls: { calls: MANY_CALLS, cpuNsPerPacket: many },
  ratioManyOverFew: many / few,
  callStateNsPerPacket: many - few,
  withoutReadAhead: {
    fewCalls: { calls: FEW_CALLS, cpuNsPerPacket: fewPlain },
    manyCalls: { calls: MANY_CALLS, cpuNsPerPacket: manyPlain },
    ratioManyWithOverWithout: many / manyPlain,
    ratioFewWithOverWithout: few / fewPlain,
  },
  frames: CountingSink.frames,
  runs,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/ingest-calls.json', import.meta.url), `${JSON.stringify(json, null, 2)}\n`);
console.log('wrote bench/results/ingest-calls.json');
