/**
 * Model scoring: one onnxruntime run per window (the naive way) against one run per tick over a batch of all
 * live calls' windows (what ScoringLoop does), with the committed default model, on one thread.
 * Run: npx tsx bench/scoring.bench.ts   (JSON: bench/results/scoring.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { FEATURE_NAMES } from '../src/dsp/feature-names.ts';
import { defaultManifestPath } from '../src/score/model-manifest.ts';
import { OnnxScorer } from '../src/score/onnx-scorer.ts';

const F = FEATURE_NAMES.length;
const BATCHES = [1, 64, 256, 1024, 4096];
const SECONDS_PER_CASE = 3;

function windows(n: number, seed: number): Float32Array {
  const out = new Float32Array(n * F);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}

const scorer = await OnnxScorer.load(await defaultManifestPath(), 4096);
const results: Record<string, { batch: number; windowsPerS: number; cpuWindowsPerS: number; runs: number }> =
  {};
for (const batch of BATCHES) {
  const data = windows(batch, batch);
  let runs = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < SECONDS_PER_CASE) {
    for (let w = 0; w < batch; w++) scorer.add(data.subarray(w * F, (w + 1) * F));
    await scorer.run();
    runs++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  results[`batch_${batch}`] = {
    batch,
    runs,
    windowsPerS: Math.round((runs * batch) / elapsed),
    cpuWindowsPerS: Math.round((runs * batch) / cpuS),
  };
}
await scorer.close();
const single = results.batch_1.windowsPerS;
console.log(
  `model ${scorer.manifest.name}@${scorer.manifest.version}, ${F} features, 1 thread, load ${loadavg()[0].toFixed(2)}`,
);
console.log('batch    windows/s (wall)   per CPU-s   vs one run per window');
for (const r of Object.values(results)) {
  console.log(
    `${String(r.batch).padStart(5)}  ${String(r.windowsPerS).padStart(17)}  ${String(r.cpuWindowsPerS).padStart(10)}   ${(r.windowsPerS / single).toFixed(1)}x`,
  );
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/scoring.json',
  `${JSON.stringify({ model: `${scorer.manifest.name}@${scorer.manifest.version}`, loadavg: loadavg(), target_windows_per_s: 50_000, results }, null, 2)}\n`,
);
