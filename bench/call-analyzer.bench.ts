import { mkdirSync, writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CallAnalyzer, type CallAnalyzerListener } from '../src/dsp/call-analyzer.ts';
import { MemoryReplayIndex } from '../src/dsp/fingerprint/memory-replay-index.ts';
import { FrameAnalyzer } from '../src/dsp/frame/frame-analyzer.ts';
import { FrameFeatures } from '../src/dsp/frame/frame-features.ts';
import { FRAME_SAMPLES, RX, TX } from '../src/ingest/media-sink.ts';
import { speech } from '../test/dsp/call/audio-fixtures.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Frames of a leg: speech, a pause, then low noise, cycled. */
function legFrames(pcm: Int16Array, silenceS: number, seed: number): Int16Array[] {
  const total = pcm.length + Math.round(silenceS * 8000);
  const frames: Int16Array[] = [];
  let s = seed;
  for (let at = 0; at + FRAME_SAMPLES <= total; at += FRAME_SAMPLES) {
    const f = new Int16Array(FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const n = ((s >>> 16) / 32768 - 1) * 60;
      const j = at + i;
      f[i] = (j < pcm.length ? pcm[j] : 0) + n;
    }
    frames.push(f);
  }
  return frames;
}

const rxFrames = legFrames(
  speech('Hello, this is a message about your account. Please press one to speak with an agent now.', {
    voice: 'en-us',
  }),
  1.5,
  7,
);
const txFrames = legFrames(
  speech('Hello? Who is this? I did not ask for any call.', { voice: 'en-us+f3' }),
  3,
  11,
);
const quiet: CallAnalyzerListener = { onWindow() {}, onEvent() {}, onEnd() {} };

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function runCall(frames: number, replay: MemoryReplayIndex | undefined, key: string): CallAnalyzer {
  const call = new CallAnalyzer(key, quiet, { replayIndex: replay });
  for (let k = 0; k < frames; k++) {
    call.pushFrame(RX, k, rxFrames[k % rxFrames.length]);
    call.pushFrame(TX, k, txFrames[k % txFrames.length]);
  }
  call.end();
  return call;
}

function runFrameOnly(frames: number): void {
  const a = [new FrameAnalyzer(), new FrameAnalyzer()];
  const f = [new FrameFeatures(), new FrameFeatures()];
  for (let k = 0; k < frames; k++) {
    a[0].process(rxFrames[k % rxFrames.length], f[0]);
    a[1].process(txFrames[k % txFrames.length], f[1]);
  }
}

const CALL_S = 300;
const CALL_FRAMES = CALL_S * 50;
const CALLS = 8;

function measure(label: string, fn: () => void): { label: string; xRealTimePerCall: number; cpuS: number } {
  fn(); // warm-up
  const start = cpuSeconds();
  for (let c = 0; c < CALLS; c++) fn();
  const cpuS = cpuSeconds() - start;
  return { label, xRealTimePerCall: (CALLS * CALL_S) / cpuS, cpuS };
}

const baseline = measure('FrameAnalyzer x2 legs only (baseline)', () => runFrameOnly(CALL_FRAMES));
const full = measure('CallAnalyzer, all features, no replay index', () =>
  runCall(CALL_FRAMES, undefined, 'c'),
);
let n = 0;
const replayIndex = new MemoryReplayIndex();
const withReplay = measure('CallAnalyzer + in-memory replay index', () =>
  runCall(CALL_FRAMES, replayIndex, `r${n++}`),
);

// Steady state: 10^6 frames (500,000 per leg) through one call.
const TOTAL_FRAMES = 1_000_000;
let gcCount = 0;
const observer = new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
});
function steadyState(replay: MemoryReplayIndex | undefined): { heapGrowthBytes: number; gcCount: number } {
  const call = new CallAnalyzer('steady', quiet, { replayIndex: replay });
  const warm = 5000;
  for (let k = 0; k < warm; k++) {
    call.pushFrame(RX, k, rxFrames[k % rxFrames.length]);
    call.pushFrame(TX, k, txFrames[k % txFrames.length]);
  }
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  gcCount = 0;
  observer.observe({ entryTypes: ['gc'] });
  for (let k = warm; k < warm + TOTAL_FRAMES / 2; k++) {
    call.pushFrame(RX, k, rxFrames[k % rxFrames.length]);
    call.pushFrame(TX, k, txFrames[k % txFrames.length]);
  }
  const gcs = gcCount;
  observer.disconnect();
  gc();
  const heapGrowthBytes = process.memoryUsage().heapUsed - heapBefore;
  call.end();
  return { heapGrowthBytes, gcCount: gcs };
}
const steady = steadyState(undefined);
const steadyReplay = steadyState(new MemoryReplayIndex({ maxIndexedSecondsPerCall: 60 }));

const rows = [baseline, full, withReplay].map((r) => ({
  ...r,
  ratioToBaseline: r.xRealTimePerCall / baseline.xRealTimePerCall,
}));
console.log('\ncall-analyzer: x real time per call (both legs), 8 calls x 300 s each');
console.table(
  rows.map((r) => ({
    run: r.label,
    'x real time': Math.round(r.xRealTimePerCall),
    'vs baseline': r.ratioToBaseline.toFixed(2),
  })),
);
console.log('10^6 frames (both legs) through one call, after warm-up:');
console.table([
  {
    run: 'no replay index',
    'heap growth KiB': (steady.heapGrowthBytes / 1024).toFixed(1),
    'GC events': steady.gcCount,
  },
  {
    run: 'in-memory replay index (first 60 s indexed)',
    'heap growth KiB': (steadyReplay.heapGrowthBytes / 1024).toFixed(1),
    'GC events': steadyReplay.gcCount,
  },
]);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/call-analyzer.json',
  `${JSON.stringify(
    {
      node: process.version,
      callSeconds: CALL_S,
      calls: CALLS,
      runs: rows,
      steadyState: { frames: TOTAL_FRAMES, noReplayIndex: steady, memoryReplayIndex: steadyReplay },
    },
    null,
    2,
  )}\n`,
);
