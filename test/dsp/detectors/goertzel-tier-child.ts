/**
 * Run by goertzel-bank.test.ts under one V8 compiler tier (--liftoff-only or --no-liftoff): the WebAssembly
 * Goertzel banks against their JS form on random blocks of the detectors' bank shapes, many times over. Prints
 * the number of blocks compared and of values that differed, as JSON.
 */
import { GoertzelBank } from '../../../src/dsp/detectors/goertzel-bank.ts';
import { random } from './signals.ts';

const SHAPES: Array<[number[], number]> = [
  [[697, 770, 852, 941, 1209, 1336, 1477, 1633], 51],
  [
    [
      350, 440, 480, 620, 1070, 1100, 1130, 913.8, 985.2, 1370.6, 1428.5, 1776.7, 1650, 1750, 1850, 2100,
      2225, 1600, 1700, 1800,
    ],
    80,
  ],
  [[1550, 1900, 1950], 160],
];
const BLOCKS = 3000;
const rnd = random(3);
const x = new Float32Array(160);
let blocks = 0;
let differing = 0;
for (const [hz, n] of SHAPES) {
  const wasm = new GoertzelBank(hz, n, 'wasm');
  const js = new GoertzelBank(hz, n, 'js');
  for (let b = 0; b < BLOCKS; b++) {
    const scale = b % 11 === 0 ? 0 : 10 ** (5 * rnd() - 1);
    for (let i = 0; i < n; i++) x[i] = Math.round(scale * (2 * rnd() - 1));
    wasm.measureComplex(x, 0);
    js.measureComplex(x, 0);
    for (let k = 0; k < hz.length; k++) {
      if (!Object.is(wasm.power[k], js.power[k])) differing++;
      if (!Object.is(wasm.re[k], js.re[k]) || !Object.is(wasm.im[k], js.im[k])) differing++;
    }
    blocks++;
  }
}
process.stdout.write(JSON.stringify({ blocks, differing }));
