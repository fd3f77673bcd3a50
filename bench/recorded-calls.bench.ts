/**
 * A short `forkguard bench`: steps of 25, 50 and 100 calls, 8 s each (bare receiver 4 s), on the corpus in
 * $FORKGUARD_BENCH_CORPUS (default ./corpus) with $FORKGUARD_BENCH_MODEL (default models/default.json). Prints
 * the service/bare table with ratios against the bare receiver measured in the same run, and writes
 * bench/results/recorded-calls.json (plus Markdown and SVG in bench/results/recorded-calls-short/).
 * The full run is `forkguard bench` (see its --help).
 *
 * Run: npx tsx bench/recorded-calls.bench.ts
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { benchDocument, writeBenchResults } from '../src/bench-harness/bench-report.ts';
import { type BenchOptions, runBench } from '../src/bench-harness/run-bench.ts';

const corpus = process.env.FORKGUARD_BENCH_CORPUS ?? 'corpus';
if (!existsSync(corpus)) {
  console.error(
    `no corpus at ${corpus}: make one with \`forkguard corpus --out corpus\` or set FORKGUARD_BENCH_CORPUS`,
  );
  process.exit(2);
}
const options: BenchOptions = {
  corpus,
  steps: [25, 50, 100],
  durationS: 8,
  bareDurationS: 4,
  recordings: 40,
  evidenceS: 5,
  host: '127.0.0.1',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  firstPort: 25000,
  idleMs: 1000,
  codec: 'pcmu',
  model: process.env.FORKGUARD_BENCH_MODEL,
  stopAfterLossySteps: 2,
  startTimeoutMs: 60_000,
  pin: cpus().length >= 2 ? { target: '0', sender: '1' } : null,
};
const loadBefore = loadavg();
const startedAt = new Date();
const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
process.once('SIGTERM', () => abort.abort());
const run = await runBench(options, { onNote: (m) => console.error(m) }, abort.signal);
const doc = benchDocument(run, options, {
  startedAt,
  command: 'npx tsx bench/recorded-calls.bench.ts',
  loadBefore,
});
console.table(
  run.service.map((s) => {
    const bare = run.bare.find((b) => b.concurrency === s.concurrency);
    return {
      calls: s.concurrency,
      'offered/s': s.offered_pps,
      'received/s': s.received_pps,
      loss: `${(100 * s.loss).toFixed(2)}%`,
      'cpu µs/pkt': s.cpu_us_per_packet,
      'bare cpu µs/pkt': bare?.cpu_us_per_packet ?? null,
      'cpu/pkt vs bare':
        bare?.cpu_us_per_packet && s.cpu_us_per_packet
          ? (s.cpu_us_per_packet / bare.cpu_us_per_packet).toFixed(1)
          : null,
      'KiB/call': s.rss_kib_per_call_marginal,
      'p99 alert ms': s.alerts?.latency.p99_ms ?? null,
    };
  }),
);
console.log(`load average (1 min) before/after: ${loadBefore[0].toFixed(2)} / ${loadavg()[0].toFixed(2)}`);
const paths = writeBenchResults(
  doc,
  'bench/results/recorded-calls-short',
  'bench/results/recorded-calls.json',
);
console.log(`wrote ${paths.json}, ${paths.markdown}, ${paths.chart}`);
