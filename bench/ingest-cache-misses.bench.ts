/**
 * What a packet costs in cache misses and instructions with many calls, counted rather than timed: the IngestServer
 * path driven in process (STREP, PCMU, a fresh Buffer with a store of its own per datagram as dgram hands them over,
 * the queue drained every 256 datagrams and the sessions swept once per round, in the shuffled order of
 * bench/ingest-calls) under valgrind's cachegrind, which simulates the caches and counts every instruction and miss.
 * The counts do not move with the host's load, its neighbours or its clock, which move the timed ingest benchmarks
 * by more than most ingest changes are worth (identical code measures up to 0.73-1.29 apart pair by pair on real UDP).
 *
 * Each configuration runs twice, for a short and a long number of rounds; the difference over the packets between
 * them is the cost per packet once the calls are set up and the code optimised (loading, start-up and set-up cancel
 * out). The simulated caches are fixed, not the host's: 32 KiB first-level caches and a 2 MiB last level, about one
 * core's share of a server's, so that thousands of calls' state does not fit it as it does not on a busy host.
 *
 *   default       this checkout with 100 calls (the baseline: the state fits the caches) against --calls calls
 *   --base REF    the IngestServer of git ref REF against this checkout's, both with --calls calls
 *
 *   npx tsx bench/ingest-cache-misses.bench.ts [--base REF] [--calls 3000] [--repeats 1]
 *   (needs valgrind; about three minutes per repeat on two cores)
 *
 * Not quite deterministic: the compiler's and the collector's timing still differ from run to run, and identical
 * code has measured up to about 1 % apart in instructions, 5 % in data misses and 40 % in first-level instruction
 * misses (where the compiled code lands in memory). --repeats N measures every configuration N times and reports
 * the median and the range. Prints per packet: instructions, first-level data misses, last-level misses (data and
 * instructions), first-level instruction misses, and B over A (of the medians); the JSON goes to
 * bench/results/ingest-cache-misses.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { baseWorktree } from '../src/bench-harness/base-worktree.ts';
import { parseBenchOptions, positiveIntegerArg } from '../src/bench-harness/bench-options.ts';
import { DiscardingSink } from '../src/bench-harness/discarding-sink.ts';
import { median } from '../src/bench-harness/median.ts';
import { shuffledOrder, strepPcmuDatagram, strepPcmuModel } from '../src/bench-harness/strep-pcmu-stream.ts';
import type { IngestServer as IngestServerType } from '../src/ingest/udp/ingest-server.ts';

const args = parseBenchOptions(
  'ingest-cache-misses.bench.ts',
  'last-level cache misses and instructions per packet of the ingest path, counted under cachegrind',
  {
    base: { description: "measure the IngestServer of this git ref against this checkout's" },
    calls: { description: 'STREP calls held', default: '3000' },
    repeats: { description: 'runs of each configuration', default: '1' },
    // Set by the orchestrator for the process that drives one configuration under cachegrind.
    drive: { description: 'source tree to drive (internal)', internal: true },
    rounds: { description: '20 ms rounds to drive (internal)', internal: true },
  },
);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** About what one I/O pass reads on a busy socket (as bench/ingest-calls). */
const DRAIN_EVERY = 256;
/** The baseline's call count: every call's state fits the simulated caches. */
const FEW_CALLS = 100;
/** Packets of the short run (set-up and optimisation), and between the short and the long run, per configuration. */
const SHORT_PACKETS = 120_000;
const MEASURED_PACKETS = 600_000;
const CACHES = ['--I1=32768,8,64', '--D1=32768,8,64', '--LL=2097152,16,64'];

const CALLS = positiveIntegerArg('calls', args.calls);
const REPEATS = positiveIntegerArg('repeats', args.repeats);

/** The child: `calls` calls for `rounds` rounds through the IngestServer of source tree `src`. */
async function drive(src: string, calls: number, rounds: number): Promise<void> {
  const module = (await import(pathToFileURL(join(src, 'ingest/udp/ingest-server.ts')).href)) as {
    IngestServer: typeof IngestServerType;
  };
  const server = new module.IngestServer(
    { host: '127.0.0.1', strepPort: 0, maxSessions: 2 * calls + 16, idleMs: 3_600_000 },
    { open: () => new DiscardingSink(), closed: () => {} },
  );
  const streams = 2 * calls;
  const order = shuffledOrder(streams);
  const model = strepPcmuModel(0x5eed0000);
  let nowMs = 1000;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < streams; i++) {
      // Round 0 in the order the calls start, then the shuffled order (see bench/ingest-calls).
      const stream = round === 0 ? i : order[i];
      const datagram = strepPcmuDatagram(model, stream, round, true);
      server.receiveStrep(datagram, '127.0.0.1', 5000, nowMs + (20 * i) / streams);
      if ((i + 1) % DRAIN_EVERY === 0) server.drain();
    }
    server.drain();
    nowMs += 20;
    server.sweep(nowMs);
  }
  const { received, errors } = server.counters;
  console.log(JSON.stringify({ sessions: server.activeSessions, received, errors }));
}

if (args.drive !== undefined) {
  await drive(args.drive, CALLS, positiveIntegerArg('rounds', args.rounds));
  process.exit(0);
}

/** Per-packet counts of one configuration. */
interface PerPacket {
  instructions: number;
  firstLevelDataMisses: number;
  lastLevelMisses: number;
  firstLevelInstructionMisses: number;
}

interface Configuration {
  label: string;
  src: string;
  calls: number;
}

/** cachegrind's event totals (Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw) of one run of the child. */
async function countEvents(
  config: Configuration,
  rounds: number,
  dir: string,
  repeat: number,
): Promise<Map<string, number>> {
  const out = join(dir, `${config.label.replace(/\W+/g, '-')}-${rounds}-${repeat}.cg`);
  const argv = [
    '--tool=cachegrind',
    '--cache-sim=yes',
    ...CACHES,
    `--cachegrind-out-file=${out}`,
    process.execPath,
    '--single-threaded',
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    '--drive',
    config.src,
    '--calls',
    String(config.calls),
    '--rounds',
    String(rounds),
  ];
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn('valgrind', argv, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    let text = '';
    let errorText = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errorText += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(text);
      else
        reject(
          new Error(
            `cachegrind run of ${config.label} (${rounds} rounds) exited ${code}:\n${errorText.slice(-2000)}`,
          ),
        );
    });
  });
  const run = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { received: number; errors: number };
  if (run.received !== 2 * config.calls * rounds || run.errors !== 0) {
    throw new Error(
      `${config.label}: the driver received ${run.received} datagrams with ${run.errors} errors`,
    );
  }
  const text = readFileSync(out, 'utf8');
  const names = /^events: (.*)$/m.exec(text)?.[1].trim().split(/\s+/);
  const totals = /^summary: (.*)$/m.exec(text)?.[1].trim().split(/\s+/).map(Number);
  if (names === undefined || totals === undefined) throw new Error(`no cachegrind summary in ${out}`);
  return new Map(names.map((name, i) => [name, totals[i]]));
}

function perPacket(short: Map<string, number>, long: Map<string, number>, packets: number): PerPacket {
  const d = (...names: string[]) =>
    names.reduce((sum, name) => sum + ((long.get(name) ?? 0) - (short.get(name) ?? 0)), 0) / packets;
  return {
    instructions: d('Ir'),
    firstLevelDataMisses: d('D1mr', 'D1mw'),
    lastLevelMisses: d('DLmr', 'DLmw', 'ILmr'),
    firstLevelInstructionMisses: d('I1mr'),
  };
}

/** Runs `tasks` at most `limit` at a time (the counts are the same however many run together). */
async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('this benchmark needs valgrind (Debian: apt-get install valgrind)');
  process.exit(2);
}

const base = args.base === undefined ? null : baseWorktree(ROOT, args.base);
const here = join(ROOT, 'src');
const a: Configuration =
  base === null
    ? { label: `this checkout, ${FEW_CALLS} calls`, src: here, calls: FEW_CALLS }
    : { label: `${args.base}, ${CALLS} calls`, src: base.src, calls: CALLS };
const b: Configuration = { label: `this checkout, ${CALLS} calls`, src: here, calls: CALLS };
const dir = mkdtempSync(join(tmpdir(), 'forkguard-cachegrind-'));
let runs: PerPacket[][];
try {
  console.error(
    `${a.label} against ${b.label}: cachegrind, ${MEASURED_PACKETS} packets measured per configuration, ${REPEATS} time(s)`,
  );
  const plans = [a, b].map((config) => {
    const shortRounds = Math.ceil(SHORT_PACKETS / (2 * config.calls));
    const measuredRounds = Math.round(MEASURED_PACKETS / (2 * config.calls));
    return {
      config,
      shortRounds,
      longRounds: shortRounds + measuredRounds,
      packets: 2 * config.calls * measuredRounds,
    };
  });
  const tasks = [];
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const plan of plans) {
      tasks.push(() => countEvents(plan.config, plan.shortRounds, dir, repeat));
      tasks.push(() => countEvents(plan.config, plan.longRounds, dir, repeat));
    }
  }
  const counts = await inParallel(tasks, availableParallelism());
  runs = plans.map((plan, p) =>
    Array.from({ length: REPEATS }, (_, repeat) => {
      const at = 2 * (repeat * plans.length + p);
      return perPacket(counts[at], counts[at + 1], plan.packets);
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  base?.remove();
}

const KEYS = [
  'instructions',
  'firstLevelDataMisses',
  'lastLevelMisses',
  'firstLevelInstructionMisses',
] as const;
/** Median and range of one count over the repeats of a configuration. */
function spread(values: number[]): { median: number; min: number; max: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}
const summaries = runs.map((repeats) =>
  Object.fromEntries(KEYS.map((key) => [key, spread(repeats.map((r) => r[key]))])),
) as Record<(typeof KEYS)[number], { median: number; min: number; max: number }>[];
const [sa, sb] = summaries;
const shown = (x: { median: number; min: number; max: number }) =>
  REPEATS === 1 ? x.median.toFixed(1) : `${x.median.toFixed(1)} (${x.min.toFixed(1)}-${x.max.toFixed(1)})`;
console.table(
  KEYS.map((key) => ({
    'per packet': key,
    [a.label]: shown(sa[key]),
    [b.label]: shown(sb[key]),
    'B over A': (sb[key].median / sa[key].median).toFixed(3),
  })),
);
const result = {
  bench: 'ingest-cache-misses',
  node: process.version,
  caches: CACHES,
  measuredPackets: MEASURED_PACKETS,
  repeats: REPEATS,
  a: { label: a.label, calls: a.calls, perPacket: sa, runs: runs[0] },
  b: { label: b.label, calls: b.calls, perPacket: sb, runs: runs[1] },
  ratios: Object.fromEntries(KEYS.map((key) => [key, sb[key].median / sa[key].median])),
};
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/ingest-cache-misses.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log('wrote bench/results/ingest-cache-misses.json');
