import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { GoertzelBank } from '../../../src/dsp/detectors/goertzel-bank.ts';
import { GOERTZEL_INPUT } from '../../../src/dsp/detectors/wasm-goertzel.ts';
import {
  answerTone,
  cadence,
  concat,
  DTMF_KEYS,
  dtmf,
  fsk,
  hdlcFlags,
  mixInto,
  Recorder,
  random,
  type Signal,
  silence,
  tones,
  toPcm,
  whiteNoise,
} from './signals.ts';
import { espeakSpeech } from './speech.ts';

/** The banks the detectors run (DTMF halves, tone halves, V.21 band edges), plus odd shapes. */
const BANKS: Array<{ hz: number[]; block: number }> = [
  { hz: [697, 770, 852, 941, 1209, 1336, 1477, 1633], block: 51 },
  {
    hz: [
      350, 440, 480, 620, 1070, 1100, 1130, 913.8, 985.2, 1370.6, 1428.5, 1776.7, 1650, 1750, 1850, 2100,
      2225, 1600, 1700, 1800,
    ],
    block: 80,
  },
  { hz: [1550, 1900, 1950], block: 160 },
  { hz: [2418, 2672, 2954, 3266], block: 102 },
  { hz: [100, 3999, 2000, 1000, 500, 250, 125, 3000, 1500, 750, 375], block: 1 },
  { hz: [1234.5], block: 77 },
];

/** Every kind of input the detectors see: all DTMF keys, the tones they look for, speech, noise, full scale. */
function corpus(): Signal {
  const digits: Signal[] = [];
  for (const key of DTMF_KEYS) digits.push(dtmf({ key, seconds: 0.06, dbm0: -8 }), silence(0.05));
  const rnd = random(5);
  const loudNoise = new Float64Array(8000);
  for (let i = 0; i < loudNoise.length; i++) loudNoise[i] = (2 * rnd() - 1) * 40000; // clipped by toPcm
  return concat(
    concat(...digits),
    answerTone(1.2, -10, 0.2, 0.45),
    fsk(0.6, -12, hdlcFlags(20)),
    tones(0.6, [{ hz: 1100, dbm0: -10 }]),
    tones(0.3, [{ hz: 913.8, dbm0: -15 }]),
    tones(0.3, [{ hz: 1370.6, dbm0: -15 }]),
    tones(0.3, [{ hz: 1776.7, dbm0: -15 }]),
    cadence(
      (s) =>
        tones(s, [
          { hz: 480, dbm0: -20 },
          { hz: 620, dbm0: -20 },
        ]),
      [0.5, 0.5, 0.5, 0.5],
    ),
    tones(1.1, [
      { hz: 350, dbm0: -15 },
      { hz: 440, dbm0: -15 },
    ]),
    espeakSpeech(),
    whiteNoise(1, -20, 3),
    whiteNoise(1, -70, 4),
    loudNoise,
  );
}

function samplesOf(pcm: Int16Array): Float32Array {
  return Float32Array.from(pcm);
}

describe('GoertzelBank WebAssembly and JS engines', () => {
  const signal = samplesOf(toPcm(corpus()));
  const rnd = random(11);
  const randomBlock = new Float32Array(160);

  it('give bit-identical power and complex outputs on every bank shape, real-like and random blocks', () => {
    for (const { hz, block } of BANKS) {
      const wasm = new GoertzelBank(hz, block, 'wasm');
      const js = new GoertzelBank(hz, block, 'js');
      let compared = 0;
      let differing = 0;
      const check = (x: Float32Array, offset: number, complex: boolean) => {
        if (complex) {
          wasm.measureComplex(x, offset);
          js.measureComplex(x, offset);
        } else {
          wasm.measurePower(x, offset);
          js.measurePower(x, offset);
        }
        for (let k = 0; k < hz.length; k++) {
          if (!Object.is(wasm.power[k], js.power[k])) differing++;
          if (complex && (!Object.is(wasm.re[k], js.re[k]) || !Object.is(wasm.im[k], js.im[k]))) differing++;
        }
        compared++;
      };
      // Consecutive blocks at a stride that is not the block length, so blocks start at every phase.
      for (let o = 0; o + block <= signal.length; o += block + 3) check(signal, o, (o & 1) === 0);
      for (let r = 0; r < 500; r++) {
        const scale = 10 ** (6 * rnd() - 2);
        for (let i = 0; i < block; i++) randomBlock[i] = Math.fround(scale * (2 * rnd() - 1));
        check(randomBlock, 0, r % 3 !== 0);
      }
      expect(compared).toBeGreaterThan(500);
      expect(differing, `${hz.length} filters over ${block} samples`).toBe(0);
      // The outputs are real measurements, not zeros on both sides.
      expect(js.power.some((p) => p > 0)).toBe(true);
    }
  });

  it('agree under the baseline and the optimising WebAssembly compiler', { timeout: 120_000 }, async () => {
    // Each tier alone in a child process (see test/dsp/frame/wasm-tiers.test.ts on tier-only miscompiles).
    const child = fileURLToPath(new URL('./goertzel-tier-child.ts', import.meta.url));
    for (const tier of ['--liftoff-only', '--no-liftoff']) {
      const { stdout } = await promisify(execFile)(process.execPath, [tier, '--import', 'tsx', child]);
      const result = JSON.parse(stdout) as { blocks: number; differing: number };
      expect(result.blocks).toBeGreaterThan(1000);
      expect(result.differing, tier).toBe(0);
    }
  });

  it('filter blocks in place in the WebAssembly input area as they do from a copy', () => {
    const hz = [350, 440, 1100, 1650, 2100];
    const wasm = new GoertzelBank(hz, 80, 'wasm');
    const js = new GoertzelBank(hz, 80, 'js');
    const copy = new Float32Array(160);
    for (let r = 0; r < 200; r++) {
      for (let i = 0; i < 160; i++) copy[i] = Math.round(20000 * (2 * rnd() - 1));
      for (const offset of [0, 80, 37]) {
        GOERTZEL_INPUT.set(copy);
        wasm.measureComplex(GOERTZEL_INPUT, offset);
        js.measureComplex(copy, offset);
        expect(Array.from(wasm.re)).toEqual(Array.from(js.re));
        expect(Array.from(wasm.im)).toEqual(Array.from(js.im));
        expect(Array.from(wasm.power)).toEqual(Array.from(js.power));
      }
    }
    expect(() => wasm.measurePower(GOERTZEL_INPUT, 81)).toThrow(RangeError);
  });

  it('measureOne agrees with the bank', () => {
    const bank = new GoertzelBank([697, 1633], 102, 'wasm');
    bank.measurePower(signal, 800);
    expect(bank.measureOne(signal, 800, 1)).toBe(bank.power[1]);
  });
});

describe('detectors on the WebAssembly engine and on the JS engine (as on big-endian hosts)', () => {
  it('report identical digits and tones with identical times', { timeout: 60_000 }, async () => {
    const pcm = toPcm(mixInto(corpus(), whiteNoise(corpus().length / 8000, -60, 9)));
    const run = async (js: boolean) => {
      vi.resetModules();
      if (js) {
        vi.doMock('../../../src/ingest/wasm-memory.ts', async (original) => ({
          ...(await original<typeof import('../../../src/ingest/wasm-memory.ts')>()),
          HOST_LITTLE_ENDIAN: false,
        }));
      }
      const { DtmfDetector } = await import('../../../src/dsp/detectors/dtmf-detector.ts');
      const { ToneDetector } = await import('../../../src/dsp/detectors/tone-detector.ts');
      const { GoertzelBank: Bank } = await import('../../../src/dsp/detectors/goertzel-bank.ts');
      expect(new Bank([1000], 10).engine).toBe(js ? 'js' : 'wasm');
      vi.doUnmock('../../../src/ingest/wasm-memory.ts');
      const recorder = new Recorder();
      const d = new DtmfDetector(0, recorder);
      const t = new ToneDetector(0, recorder);
      const frame = new Int16Array(160);
      let f = 0;
      for (let o = 0; o + 160 <= pcm.length; o += 160, f++) {
        frame.set(pcm.subarray(o, o + 160));
        d.process(frame, f);
        t.process(frame, f);
      }
      d.finish(f);
      t.finish(f);
      return recorder;
    };
    const wasm = await run(false);
    const js = await run(true);
    expect(wasm.digitString()).toContain(DTMF_KEYS);
    expect(wasm.tones.map((t) => t.tone)).toEqual(
      expect.arrayContaining(['ansam', 'v21', 'cng', 'sit', 'busy', 'dialtone']),
    );
    expect(js.digits).toEqual(wasm.digits);
    expect(js.tones).toEqual(wasm.tones);
  });
});
