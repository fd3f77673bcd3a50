/**
 * Run by wasm-tiers.test.ts under one V8 compiler tier (--liftoff-only or --no-liftoff): the WebAssembly transform
 * and sums against their JS forms on random blocks, many times over. Prints the number of frames compared and of
 * values that differed, as JSON.
 */
import { RealFftSpectrum } from '../../../src/dsp/fft/real-fft.ts';
import { WASM_FFT_SIZE, WasmRealFft } from '../../../src/dsp/fft/wasm-real-fft.ts';
import { JsSpectralSums, WasmSpectralSums } from '../../../src/dsp/frame/spectral-sums.ts';
import { rng } from './signals.ts';

const FRAMES = 3000;
const window = new Float64Array(WASM_FFT_SIZE);
for (let i = 0; i < WASM_FFT_SIZE; i++)
  window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (WASM_FFT_SIZE - 1));
const wasm = new WasmRealFft(window);
const js = new RealFftSpectrum(window);
const wasmSums = new WasmSpectralSums(wasm);
const jsSums = new JsSpectralSums(js);
const wasmSpectrum = new Float32Array(WASM_FFT_SIZE / 2 + 1);
const jsSpectrum = new Float32Array(WASM_FFT_SIZE / 2 + 1);
const random = rng(7);
let differing = 0;
const count = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differing++;
};
for (let frame = 0; frame < FRAMES; frame++) {
  const scale = frame % 7 === 0 ? 0 : 10 ** (4 * random() - 3);
  for (let i = 0; i < WASM_FFT_SIZE; i++) {
    const x = scale * (2 * random() - 1);
    wasm.input[i] = x;
    js.input[i] = x;
  }
  wasm.transform();
  js.transform();
  count(wasm.power, js.power);
  count(wasm.magnitude, js.magnitude);
  // Consecutive frames: each run's spectrum is the next one's flux reference.
  wasmSums.run(wasmSpectrum);
  jsSums.run(jsSpectrum);
  count(wasmSums.results, jsSums.results);
  count(wasmSpectrum, jsSpectrum);
}
process.stdout.write(JSON.stringify({ frames: FRAMES, differing }));
