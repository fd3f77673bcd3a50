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
import { parseBenchOptions, positiveNumberArg } from '../src/bench-harness/bench-options.ts';
import { collectGarbage } from '../src/bench-harness/collect-garbage.ts';
import { median } from '../src/bench-harness/median.ts';
import {
  FrameCountingSink,
  shuffledOrder,
  strepPcmuDatagram,
  strepPcmuModel,
} from '../src/bench-harness/strep-pcmu-stream.ts';
import { IngestServer } from '../src/ingest/udp/ingest-server.ts';

const args = parseBenchOptions(
  'ingest-calls.bench.ts',
  'what holding many calls costs ingest per packet, in process',
  {
    seconds: { description: 'seconds per measurement', default: '2' },
  },
);
const SECONDS = positiveNumberArg('seconds', args.seconds);
const FEW_CALLS = 100;
const MANY_CALLS = 3000;
/** Each call count is measured this many times, interleaved, and the median is reported. */
const ROUNDS = 5;
const DRAIN_EVERY = 32;
/** Rounds sent before timing: sessions open, code reaches its optimised tier. */
const WARMUP_ROUNDS = 50;
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
    { open: () => new FrameCountingSink(), closed: () => {} },
  );
  const streams = 2 * calls;
  const order = shuffledOrder(streams);
  const model = strepPcmuModel(0x5eed0000);
  let round = 0;
  const sendRound = (): void => {
    for (let i = 0; i < streams; i++) {
      const stream = round === 0 ? i : order[i];
      server.receiveStrep(strepPcmuDatagram(model, stream, round), '127.0.0.1', 5000);
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
  frames: FrameCountingSink.total,
  runs,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/ingest-calls.json', import.meta.url), `${JSON.stringify(json, null, 2)}\n`);
console.log('wrote bench/results/ingest-calls.json');
