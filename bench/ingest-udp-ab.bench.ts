/**
 * CPU per datagram of the real UDP receive path at one fixed load, two receivers alternating pair by pair, every
 * measurement in a fresh process: what an ingest change saves or costs. ingest-udp.bench.ts cannot tell that
 * apart: its flat-out and capacity figures move 5-10 % from run to run, more than most changes are worth.
 *
 *   A against B, by default  the bare dgram receiver against this checkout's IngestServer
 *   --base REF               the IngestServer of git ref REF (checked out into a temporary worktree) against this
 *                            checkout's
 *
 * Load: --calls N STREP calls, two streams each, at --pps P datagrams/s in all (default 2,000 calls at 200,000/s:
 * real time for 20 ms packets), spread over each 20 ms round and in a shuffled order, from the sender of the UDP
 * benchmark (src/bench-harness/stream-sender.ts) on CPU 1; the receiver's process, every thread of it, on CPU 0.
 * Each measurement warms up for 1.5 s (the calls are set up, the code optimised), then counts the receiver's CPU
 * time and datagrams for --seconds. A pair measures A then B, the next pair B then A, so a drift of the host
 * during the run falls on both alike. Reported: each measurement, each pair's B over A, their median and how many
 * pairs came out lower; the JSON goes to bench/results/ingest-udp-ab.json.
 *
 * --loss F leaves each datagram unsent with probability F (the sender's; independent, the same pattern every run),
 * as a lossy network would: what a change does to the cost of loss on the real path.
 *
 *   npx tsx bench/ingest-udp-ab.bench.ts [--base REF] [--calls 2000] [--pps 200000] [--seconds 4] [--pairs 6]
 *                                        [--loss 0]
 */
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { baseWorktree } from '../src/bench-harness/base-worktree.ts';
import { fractionArg, parseBenchOptions, positiveIntegerArg } from '../src/bench-harness/bench-options.ts';
import { DiscardingSink } from '../src/bench-harness/discarding-sink.ts';
import { runMeasureChild } from '../src/bench-harness/measure-child.ts';
import { pinProcess } from '../src/bench-harness/process-stats.ts';
import { startStreamSender } from '../src/bench-harness/stream-sender.ts';
import type { IngestServer as IngestServerType } from '../src/ingest/udp/ingest-server.ts';
import { quantile } from '../src/score/training/evaluation.ts';

const args = parseBenchOptions(
  'ingest-udp-ab.bench.ts',
  'CPU per datagram of two UDP receivers at one fixed load, alternating pair by pair',
  {
    base: { description: 'measure the IngestServer of this git ref rather than the bare dgram receiver' },
    calls: { description: 'STREP calls, two streams each', default: '2000' },
    pps: { description: 'datagrams per second in all (default: real time, 100 per call)' },
    seconds: { description: 'seconds measured per measurement', default: '4' },
    pairs: { description: 'pairs of measurements', default: '6' },
    loss: { description: 'probability that the sender leaves a datagram unsent', default: '0' },
    // Set by the orchestrator for the process that runs one measurement.
    measure: { description: 'the receiver to measure (internal)', internal: true },
    src: { description: 'its source tree (internal)', internal: true },
  },
);

const HOST = '127.0.0.1';
const WARMUP_MS = 1500;

const CALLS = positiveIntegerArg('calls', args.calls);
const PPS = args.pps === undefined ? CALLS * 100 : positiveIntegerArg('pps', args.pps);
const SECONDS = positiveIntegerArg('seconds', args.seconds);
const PAIRS = positiveIntegerArg('pairs', args.pairs);
const LOSS = fractionArg('loss', args.loss);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One measurement, as the child process prints it on its last line. */
interface Measurement {
  label: string;
  cpuMicrosPerPacket: number;
  receivedPerSecond: number;
  /** Datagrams not received in the measured window, against what the sender was paced to send in it (less --loss). */
  windowLoss: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A receiver on an OS-chosen STREP port: its port, its count of datagrams read, and how to close it. */
interface Receiver {
  port: number;
  received(): number;
  close(): Promise<void>;
}

async function bareReceiver(): Promise<Receiver> {
  let count = 0;
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', () => {
    count++;
  });
  await new Promise<void>((resolve) => socket.bind(0, HOST, () => resolve()));
  return {
    port: socket.address().port,
    received: () => count,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** IngestServer from the source tree `src` (this checkout's, or a worktree's of another commit). */
async function forkguardReceiver(src: string): Promise<Receiver> {
  const module = (await import(pathToFileURL(join(src, 'ingest/udp/ingest-server.ts')).href)) as {
    IngestServer: typeof IngestServerType;
  };
  const server = new module.IngestServer(
    { host: HOST, strepPort: 0, strepRecvBufferBytes: 4 * 1024 * 1024, maxSessions: 2 * CALLS + 16 },
    { open: () => new DiscardingSink(), closed: () => {} },
  );
  await server.start();
  const address = server.strepAddress();
  if (address === null) throw new Error('the IngestServer has no STREP socket');
  return { port: address.port, received: () => server.counters.received, close: () => server.stop() };
}

/** The child: one receiver under the sender's load, measured after the warm-up. */
async function measureOne(label: string, src: string | undefined): Promise<Measurement> {
  pinProcess(process.pid, '0');
  const receiver = src === undefined ? await bareReceiver() : await forkguardReceiver(src);
  const seconds = (WARMUP_MS + SECONDS * 1000 + 500) / 1000;
  const sender = startStreamSender(
    ['strep', HOST, String(receiver.port), String(2 * CALLS), String(seconds), String(PPS), String(LOSS)],
    '1',
  );
  await sleep(WARMUP_MS);
  const count0 = receiver.received();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const packets = receiver.received() - count0;
  const cpu = process.cpuUsage(cpu0);
  const elapsedS = (performance.now() - t0) / 1000;
  await sender;
  await receiver.close();
  return {
    label,
    cpuMicrosPerPacket: (cpu.user + cpu.system) / packets,
    receivedPerSecond: packets / elapsedS,
    windowLoss: Math.max(0, 1 - packets / (PPS * (1 - LOSS) * elapsedS)),
  };
}

if (args.measure !== undefined) {
  const result = await measureOne(args.measure, args.src);
  console.log(JSON.stringify(result));
  process.exit(0);
}

/** Runs one measurement in a fresh process of this script (the server's start-up log line left out). */
function runChild(label: string, src: string | undefined): Measurement {
  return runMeasureChild<Measurement>(
    import.meta.url,
    [
      '--measure',
      label,
      '--calls',
      String(CALLS),
      '--pps',
      String(PPS),
      '--seconds',
      String(SECONDS),
      '--loss',
      String(LOSS),
      ...(src === undefined ? [] : ['--src', src]),
    ],
    { LOG_LEVEL: 'warn' },
  );
}

/** The median, the mean of the two middle values of an even count: a ratio of pairs, not one measured round. */
function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

const base = args.base === undefined ? null : baseWorktree(ROOT, args.base);
const a = { label: base === null ? 'bare' : `forkguard ${args.base}`, src: base?.src };
const b = { label: 'forkguard (this checkout)', src: join(ROOT, 'src') };
const pairs: { a: Measurement; b: Measurement; ratio: number }[] = [];
try {
  console.error(
    `${a.label} against ${b.label}: ${CALLS} STREP calls, ${PPS} datagrams/s, ${100 * LOSS} % of them lost on the way, ${SECONDS} s per measurement, ${PAIRS} pairs`,
  );
  for (let pair = 0; pair < PAIRS; pair++) {
    const first = pair % 2 === 0 ? a : b;
    const second = first === a ? b : a;
    const one = runChild(first.label, first.src);
    const two = runChild(second.label, second.src);
    const [ma, mb] = first === a ? [one, two] : [two, one];
    const ratio = mb.cpuMicrosPerPacket / ma.cpuMicrosPerPacket;
    pairs.push({ a: ma, b: mb, ratio });
    console.error(
      `  pair ${pair + 1}: ${ma.cpuMicrosPerPacket.toFixed(3)} against ${mb.cpuMicrosPerPacket.toFixed(3)} µs per datagram (loss ${(100 * ma.windowLoss).toFixed(1)} % / ${(100 * mb.windowLoss).toFixed(1)} %): ${ratio.toFixed(3)}`,
    );
  }
} finally {
  base?.remove();
}

const ratios = pairs.map((p) => p.ratio);
const result = {
  bench: 'ingest-udp-ab',
  node: process.version,
  cpus: availableParallelism(),
  loadAverage1m: loadavg()[0],
  a: a.label,
  b: b.label,
  calls: CALLS,
  datagramsPerSecond: PPS,
  loss: LOSS,
  secondsPerMeasurement: SECONDS,
  pairs,
  medianRatio: median(ratios),
  pairsLower: ratios.filter((r) => r < 1).length,
  medianCpuMicrosA: median(pairs.map((p) => p.a.cpuMicrosPerPacket)),
  medianCpuMicrosB: median(pairs.map((p) => p.b.cpuMicrosPerPacket)),
};
console.log(
  `CPU per datagram, ${b.label} over ${a.label}: median ${result.medianRatio.toFixed(3)} over ${PAIRS} pairs, ${result.pairsLower} lower (medians ${result.medianCpuMicrosA.toFixed(3)} and ${result.medianCpuMicrosB.toFixed(3)} µs)`,
);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/ingest-udp-ab.json'), `${JSON.stringify(result, null, 2)}\n`);
