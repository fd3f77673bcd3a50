/**
 * Per-frame DSP throughput per leg: FrameAnalyzer's full feature set vs meyda's six spectral features on the same
 * 256-point, 20 ms-hop frames, measured in the same run; the spectral floor (window + FFT + magnitudes) with fft.js,
 * with the hand-written JS RealFft and with the WebAssembly WasmRealFft that FrameAnalyzer uses; then 10^6 frames
 * for heap growth and GC count (zero steady-state allocation).
 *
 *   npx tsx bench/dsp.bench.ts            (writes bench/results/dsp.json)
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import FFT from 'fft.js';
import Meyda from 'meyda';
import { medianBy } from '../src/bench-harness/median.ts';
import { RealFft } from '../src/dsp/fft/real-fft.ts';
import { WasmRealFft } from '../src/dsp/fft/wasm-real-fft.ts';
import { FrameAnalyzer } from '../src/dsp/frame/frame-analyzer.ts';
import { FrameFeatures } from '../src/dsp/frame/frame-features.ts';
import { concat, hothNoise, mix, speechLike, toPcm } from '../test/dsp/frame/signals.ts';
import { cpuSeconds, FRAME_S, loadLine, machine, type Rate, rate } from './frame-rate.ts';

const FRAME = 160;
const FFT_SIZE = 256;
const MEYDA_FEATURES = [
  'rms',
  'zcr',
  'spectralCentroid',
  'spectralFlatness',
  'spectralRolloff',
  'spectralSpread',
];
const ROUNDS = 3;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

// 20 s of a speech-like talker over speech-shaped noise at ~20 dB SNR, with pauses: every code path (voiced, unvoiced,
// noise floor) is exercised in realistic proportion.
const talker = speechLike(20, 11).samples;
const signal = mix(talker, hothNoise(300, talker.length, 12));
const pcm = toPcm(concat(signal));
const frameCount = Math.floor(pcm.length / FRAME);
const frames: Int16Array[] = [];
for (let i = 0; i < frameCount; i++) frames.push(pcm.subarray(i * FRAME, (i + 1) * FRAME));
const floatSignal = new Float32Array(pcm.length);
for (let i = 0; i < pcm.length; i++) floatSignal[i] = pcm[i] / 32768;
// meyda sees the same 256-sample blocks FrameAnalyzer transforms: the current frame plus the previous 96 samples.
const blocks: Float32Array[] = [];
for (let i = 1; i < frameCount; i++) {
  const end = (i + 1) * FRAME;
  blocks.push(floatSignal.subarray(end - FFT_SIZE, end));
}

/** The part of meyda's (untyped-default) API used here. */
interface MeydaApi {
  bufferSize: number;
  sampleRate: number;
  windowingFunction: string;
  extract(features: string[], signal: Float32Array): Record<string, number> | null;
}
// Share of frames standing out of the noise floor (where pitch is searched by default).
let foregroundCount = 0;
{
  const probe = new FrameAnalyzer();
  const f = new FrameFeatures();
  for (const frame of frames) {
    probe.process(frame, f);
    if (f.snrDb > 2) foregroundCount++;
  }
}
const foregroundShare = foregroundCount / frameCount;

const meyda = ((Meyda as unknown as { default?: MeydaApi }).default ?? Meyda) as unknown as MeydaApi;
meyda.bufferSize = FFT_SIZE;
meyda.sampleRate = 8000;
meyda.windowingFunction = 'hanning';

function runAnalyzer(analyzer: FrameAnalyzer, out: FrameFeatures, n: number): Rate {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) analyzer.process(frames[i % frameCount], out);
  return rate(n, cpuSeconds(start));
}

function runMeyda(n: number): Rate {
  const start = process.cpuUsage();
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const r = meyda.extract(MEYDA_FEATURES, blocks[i % blocks.length]);
    sink += r ? r.rms : 0;
  }
  if (Number.isNaN(sink)) console.log('');
  return rate(n, cpuSeconds(start));
}

const hann = new Float64Array(FFT_SIZE);
for (let i = 0; i < FFT_SIZE; i++) hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (FFT_SIZE - 1));
const wasmFft = new WasmRealFft(hann);
// Both FFT paths read the same 256-sample blocks as Float64 (FrameAnalyzer's history is Float64).
const blocks64 = blocks.map((b) => Float64Array.from(b));

/** The floor any FFT-based analyzer pays: Hann window, fft.js realTransform, magnitudes. */
function runFftJs(n: number): Rate {
  const fft = new FFT(FFT_SIZE);
  const input = new Float64Array(FFT_SIZE);
  const complex = new Float64Array(2 * FFT_SIZE);
  const mags = new Float32Array(FFT_SIZE / 2 + 1);
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const b = blocks64[i % blocks64.length];
    for (let j = 0; j < FFT_SIZE; j++) input[j] = b[j] * hann[j];
    fft.realTransform(complex, input);
    for (let k = 0; k <= FFT_SIZE / 2; k++)
      mags[k] = Math.sqrt(complex[2 * k] ** 2 + complex[2 * k + 1] ** 2);
  }
  return rate(n, cpuSeconds(start));
}

/** The same floor with the hand-written RealFft (window fused into its load pass). */
function runRealFft(n: number): Rate {
  const fft = new RealFft(FFT_SIZE);
  const re = fft.re;
  const im = fft.im;
  const mags = new Float32Array(FFT_SIZE / 2 + 1);
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    fft.transform(blocks64[i % blocks64.length], 0, hann);
    for (let k = 0; k <= FFT_SIZE / 2; k++) mags[k] = Math.sqrt(re[k] * re[k] + im[k] * im[k]);
  }
  return rate(n, cpuSeconds(start));
}

/**
 * The same floor with WasmRealFft, as FrameAnalyzer runs it: the block copied into WebAssembly memory, then one call
 * that windows, transforms and leaves power and magnitudes there (where the analyzer reads them).
 */
function runWasmFft(n: number): Rate {
  const input = wasmFft.input;
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    input.set(blocks64[i % blocks64.length]);
    wasmFft.transform();
  }
  return rate(n, cpuSeconds(start));
}

function median(rs: Rate[]): Rate {
  return medianBy(rs, (r) => r.nsPerFrame);
}

const analyzer = new FrameAnalyzer();
const features = new FrameFeatures();
// Worst case: pitch searched on every frame, including the noise floor (pitchEveryFrame).
const everyFrame = new FrameAnalyzer({ pitchEveryFrame: true });
// Warm-up: let every path reach optimised code.
runAnalyzer(analyzer, features, 20_000);
runAnalyzer(everyFrame, features, 20_000);
runMeyda(3_000);
runFftJs(20_000);
runRealFft(20_000);
runWasmFft(20_000);

// Interleaved rounds so that load from other processes hits both sides alike; the median round is reported.
const ours: Rate[] = [];
const oursEveryFrame: Rate[] = [];
const theirs: Rate[] = [];
const fftJsOnly: Rate[] = [];
const realFftOnly: Rate[] = [];
const wasmFftOnly: Rate[] = [];
for (let r = 0; r < ROUNDS; r++) {
  ours.push(runAnalyzer(analyzer, features, 150_000));
  oursEveryFrame.push(runAnalyzer(everyFrame, features, 150_000));
  theirs.push(runMeyda(25_000));
  fftJsOnly.push(runFftJs(150_000));
  realFftOnly.push(runRealFft(150_000));
  wasmFftOnly.push(runWasmFft(150_000));
}
const full = median(ours);
const fullEveryFrame = median(oursEveryFrame);
const meydaRate = median(theirs);
const fftJsRate = median(fftJsOnly);
const realFftRate = median(realFftOnly);
const wasmFftRate = median(wasmFftOnly);
const realFftVsFftJs = fftJsRate.nsPerFrame / realFftRate.nsPerFrame;
const wasmFftVsFftJs = fftJsRate.nsPerFrame / wasmFftRate.nsPerFrame;
const wasmFftVsRealFft = realFftRate.nsPerFrame / wasmFftRate.nsPerFrame;
const ratioVsMeyda = full.xRealTime / meydaRate.xRealTime;
const ratioEveryFrameVsMeyda = fullEveryFrame.xRealTime / meydaRate.xRealTime;

// Steady state: 10^6 frames on one analyzer, GC events observed, heap compared after full collections.
const STEADY_FRAMES = 1_000_000;
const gcKinds: Record<string, number> = {};
let gcCount = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcCount++;
    const kind = String((entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 'unknown');
    gcKinds[kind] = (gcKinds[kind] ?? 0) + 1;
  }
});
const steadyAnalyzer = new FrameAnalyzer();
const steadyOut = new FrameFeatures();
runAnalyzer(steadyAnalyzer, steadyOut, 50_000);
gc();
gc();
const heapBefore = process.memoryUsage().heapUsed;
observer.observe({ entryTypes: ['gc'] });
// Ten chunks of 10^5 frames; heap sampled after each (into a preallocated array) so that growth can be read per
// frame between the first and the last chunk, after any one-time compilation.
const CHUNKS = 10;
const heapAfterChunk = new Float64Array(CHUNKS);
const steadyStart = process.cpuUsage();
for (let c = 0; c < CHUNKS; c++) {
  runAnalyzer(steadyAnalyzer, steadyOut, STEADY_FRAMES / CHUNKS);
  heapAfterChunk[c] = process.memoryUsage().heapUsed;
}
const steady = rate(STEADY_FRAMES, cpuSeconds(steadyStart));
const heapAfterNoGc = heapAfterChunk[CHUNKS - 1];
const bytesPerFrame =
  (heapAfterChunk[CHUNKS - 1] - heapAfterChunk[0]) / (STEADY_FRAMES - STEADY_FRAMES / CHUNKS);
await new Promise((resolve) => setImmediate(resolve));
observer.disconnect();
const gcDuringRun = gcCount;
gc();
gc();
const heapAfter = process.memoryUsage().heapUsed;

const table = [
  ['FrameAnalyzer (full per-frame set)', full],
  ['FrameAnalyzer, pitch on every frame', fullEveryFrame],
  ['meyda (6 spectral features)', meydaRate],
  ['window + fft.js + magnitudes only', fftJsRate],
  ['window + RealFft + magnitudes only', realFftRate],
  ['window + WasmRealFft + magnitudes only', wasmFftRate],
] as const;
console.log(
  `\nDSP per-frame, per leg (8 kHz, 20 ms frames, 256-point FFT); median of ${ROUNDS} interleaved rounds`,
);
console.log(`${'path'.padEnd(40)}${'ns/frame'.padStart(10)}${'x real time'.padStart(14)}`);
for (const [name, r] of table) {
  console.log(
    `${name.padEnd(40)}${r.nsPerFrame.toFixed(0).padStart(10)}${r.xRealTime.toFixed(0).padStart(14)}`,
  );
}
console.log(
  `ratio FrameAnalyzer / meyda: ${ratioVsMeyda.toFixed(2)}x (pitch on every frame: ${ratioEveryFrameVsMeyda.toFixed(2)}x); targets >= 5x meyda, >= 5000x real time`,
);
console.log(
  `hand-written RealFft vs fft.js (window + FFT + magnitudes): ${realFftVsFftJs.toFixed(2)}x (equality: test/dsp/frame/real-fft.test.ts)`,
);
console.log(
  `WasmRealFft vs fft.js: ${wasmFftVsFftJs.toFixed(2)}x, vs RealFft: ${wasmFftVsRealFft.toFixed(2)}x (equality: test/dsp/frame/wasm-real-fft.test.ts)`,
);
console.log(
  `signal: ${(frameCount * FRAME_S).toFixed(0)} s talker with pauses over speech-shaped noise, ${(100 * foregroundShare).toFixed(0)}% of frames above the noise floor`,
);
console.log(
  `steady state: ${STEADY_FRAMES} frames at ${steady.xRealTime.toFixed(0)}x real time, GC events during run: ${gcDuringRun}, ` +
    `heap growth (after full GC): ${heapAfter - heapBefore} bytes, without GC: ${heapAfterNoGc - heapBefore} bytes ` +
    `(${bytesPerFrame.toFixed(3)} bytes/frame between the first and last 10^5-frame chunk)`,
);
console.log(loadLine('load average during run'));

const result = {
  benchmark: 'dsp',
  command: 'npx tsx bench/dsp.bench.ts',
  ...machine(),
  frameSamples: FRAME,
  fftSize: FFT_SIZE,
  rounds: ROUNDS,
  frameAnalyzer: full,
  frameAnalyzerPitchEveryFrame: fullEveryFrame,
  foregroundShare,
  meydaSixFeatures: meydaRate,
  fftJsOnly: fftJsRate,
  realFftOnly: realFftRate,
  wasmFftOnly: wasmFftRate,
  realFftVsFftJs,
  wasmFftVsFftJs,
  wasmFftVsRealFft,
  ratioVsMeyda,
  ratioEveryFrameVsMeyda,
  targets: { xRealTime: 5000, ratioVsMeyda: 5 },
  steadyState: {
    frames: STEADY_FRAMES,
    xRealTime: steady.xRealTime,
    gcEvents: gcDuringRun,
    gcKinds,
    heapGrowthBytesAfterFullGc: heapAfter - heapBefore,
    heapGrowthBytesWithoutGc: heapAfterNoGc - heapBefore,
    heapBytesPerFrameAfterFirstChunk: bytesPerFrame,
    heapAfterEachChunk: Array.from(heapAfterChunk),
  },
  allRounds: {
    frameAnalyzer: ours,
    frameAnalyzerPitchEveryFrame: oursEveryFrame,
    meyda: theirs,
    fftJsOnly,
    realFftOnly,
    wasmFftOnly,
  },
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/dsp.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
