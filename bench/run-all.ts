/**
 * Runs every in-process benchmark one after another (so they do not compete for the cores) and gathers their
 * JSON into bench/results/summary.json. `forkguard bench` is the separate end-to-end benchmark over UDP.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  'ingest-inprocess',
  'ingest-calls',
  'ingest-loss',
  'codecs',
  'dsp',
  'detectors',
  'call-analyzer',
  'scoring',
  'ingest-udp',
];
const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.slice(2);
if (only.includes('--help') || only.includes('-h')) {
  console.log(
    `Usage: npm run bench -- [name...]\nRuns the benchmarks one after another, or only those named: ${BENCHES.join(', ')}`,
  );
  process.exit(0);
}
const unknown = only.filter((name) => !BENCHES.includes(name));
if (unknown.length > 0) {
  console.error(`bench: no benchmark named ${unknown.join(', ')}; one of ${BENCHES.join(', ')}`);
  process.exit(2);
}
const summary: Record<string, unknown> = { startedAt: new Date().toISOString(), loadavg: loadavg() };
mkdirSync(`${root}bench/results`, { recursive: true });
for (const name of BENCHES.filter((b) => only.length === 0 || only.includes(b))) {
  process.stderr.write(`\n=== bench/${name}.bench.ts\n`);
  execFileSync('npx', ['tsx', `bench/${name}.bench.ts`], { cwd: root, stdio: 'inherit' });
  summary[name] = JSON.parse(readFileSync(`${root}bench/results/${name}.json`, 'utf8'));
}
writeFileSync(`${root}bench/results/summary.json`, `${JSON.stringify(summary, null, 2)}\n`);
process.stderr.write(`\nbench: results in bench/results/summary.json\n`);
