import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FADE_SAMPLES, RepeatFadeConcealer } from '../../../src/ingest/codecs/conceal.ts';
import { CONCEAL_FRAME, WASM_FADE } from '../../../src/ingest/codecs/conceal-wasm.ts';

/** The fade by its definition: the d-th concealed sample repeats the frame at d mod period, times 1 - (d+1)/480. */
function expectedFade(frame: Int16Array, start: number, count: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const d = start + k;
    if (d >= FADE_SAMPLES) break;
    out.push(Math.round(frame[d % frame.length] * (1 - (d + 1) / FADE_SAMPLES)) | 0);
  }
  return out;
}

function concealerHolding(frame: Int16Array): RepeatFadeConcealer {
  const concealer = new RepeatFadeConcealer();
  concealer.remember(frame, frame.length);
  return concealer;
}

/** Frames whose products land on and next to half-way values, and on the int16 extremes. */
function edgeFrame(period: number): Int16Array {
  const frame = new Int16Array(period);
  const edges = [-32768, 32767, -32767, 1, -1, 0, 240, -240, 480, -480, 12345, -12345, 3, -3];
  for (let i = 0; i < period; i++) frame[i] = edges[i % edges.length] + (i >= edges.length ? i : 0);
  return frame;
}

describe('RepeatFadeConcealer', () => {
  it('runs on the WebAssembly fade on this host', () => {
    expect(WASM_FADE).toBe(true);
  });

  it('fades every position of the fade exactly as the formula, frame by frame and across the wrap', () => {
    for (const period of [160, 80, 240, 7, 3, 1, 960]) {
      const frame = edgeFrame(period);
      for (const step of [160, 1, 3, 37, FADE_SAMPLES]) {
        const concealer = concealerHolding(frame);
        const got: number[] = [];
        for (let start = 0; start < FADE_SAMPLES; start += step) {
          const out = new Int16Array(step + 5);
          const made = concealer.conceal(step, out, 5);
          got.push(...out.subarray(5, 5 + made));
        }
        expect(got, `period ${period}, ${step} per call`).toEqual(expectedFade(frame, 0, FADE_SAMPLES));
      }
    }
  });

  it('matches the formula on random frames, lengths and output offsets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 960 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 40 }),
        (samples, calls, offset) => {
          const frame = Int16Array.from(samples);
          const concealer = concealerHolding(frame);
          let position = 0;
          for (const count of calls) {
            const out = new Int16Array(offset + count + 8).fill(7);
            const made = concealer.conceal(count, out, offset);
            const want = expectedFade(frame, position, count);
            expect(made).toBe(want.length);
            expect(Array.from(out.subarray(offset, offset + made))).toEqual(want);
            // Nothing written outside the asked range.
            expect(out.subarray(0, offset).every((v) => v === 7)).toBe(true);
            expect(out.subarray(offset + made).every((v) => v === 7)).toBe(true);
            position += made;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes a whole concealed frame into CONCEAL_FRAME in place', () => {
    const frame = edgeFrame(160);
    const concealer = concealerHolding(frame);
    expect(concealer.conceal(160, CONCEAL_FRAME, 0)).toBe(160);
    expect(Array.from(CONCEAL_FRAME)).toEqual(expectedFade(frame, 0, 160));
    expect(concealer.conceal(160, CONCEAL_FRAME, 0)).toBe(160);
    expect(Array.from(CONCEAL_FRAME)).toEqual(expectedFade(frame, 160, 160));
  });

  it('stops at the end of the fade, and starts again after a new frame', () => {
    const frame = edgeFrame(160);
    const concealer = concealerHolding(frame);
    const out = new Int16Array(600);
    expect(concealer.conceal(600, out, 0)).toBe(FADE_SAMPLES);
    expect(concealer.conceal(160, out, 0)).toBe(0);
    concealer.remember(frame, 160);
    expect(concealer.conceal(160, out, 0)).toBe(160);
    expect(Array.from(out.subarray(0, 160))).toEqual(expectedFade(frame, 0, 160));
  });
});
