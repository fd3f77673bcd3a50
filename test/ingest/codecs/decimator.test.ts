import { describe, expect, it } from 'vitest';
import { Decimator, type DecimatorInputRate, designLowPass } from '../../../src/ingest/codecs/decimator.ts';
import { createDecoder, createEncoder } from '../../../src/ingest/codecs/registry.ts';

function tone(rate: number, hz: number, amplitude: number, samples: number): Int16Array {
  const x = new Int16Array(samples);
  for (let i = 0; i < samples; i++) x[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
  return x;
}

function rms(x: Int16Array, from: number): number {
  let s = 0;
  for (let i = from; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / (x.length - from));
}

function gainDb(rate: DecimatorInputRate, hz: number, seconds = 1): number {
  const amplitude = 30000;
  const input = tone(rate, hz, amplitude, rate * seconds);
  const d = new Decimator(rate);
  const out = new Int16Array(8000 * seconds);
  expect(d.process(input, 0, input.length, out, 0)).toBe(8000 * seconds);
  // Skip the filter's start-up (< 10 ms) before measuring.
  // At -60 dB a 30000-amplitude tone leaves ~21 LSB rms; int16 rounding adds ~0.3 LSB, so the measure holds.
  return 20 * Math.log10(rms(out, 400) / (amplitude / Math.SQRT2));
}

describe('Decimator', () => {
  for (const [rate, stopHz] of [
    [16000, 5000],
    [48000, 6000],
  ] as const) {
    it(`${rate} -> 8000: 1 kHz passes within 0.5 dB, ${stopHz} Hz is >= 50 dB down`, () => {
      expect(Math.abs(gainDb(rate, 1000))).toBeLessThan(0.5);
      expect(gainDb(rate, stopHz)).toBeLessThan(-50);
    });

    it(`${rate} -> 8000: measured end to end, flat to 3.4 kHz and >= 60 dB down from 4 kHz to ${rate / 2} Hz`, () => {
      // Includes what folds back on decimation, so this is the response the DSP stage actually sees.
      for (let f = 100; f <= 3400; f += 300) expect(Math.abs(gainDb(rate, f, 0.25))).toBeLessThan(0.05);
      for (let f = 4000; f < rate / 2; f += rate === 16000 ? 100 : 250)
        expect(gainDb(rate, f, 0.25)).toBeLessThan(-60);
    });

    it(`${rate} -> 8000: equals a plain convolution with the designed taps, output by output`, () => {
      // Reference: zero history, every stage a direct sum over its taps at the kept instants, no folding or
      // unrolling. Summation order differs, so outputs may differ by rounding only (1 LSB).
      const input = new Int16Array(rate / 10);
      let seed = 99;
      for (let i = 0; i < input.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        input[i] = ((seed >>> 16) & 0xffff) - 32768;
      }
      const stage = (x: Float64Array, h: Float64Array, factor: number): Float64Array => {
        const y = new Float64Array(Math.floor(x.length / factor));
        for (let j = 0; j < y.length; j++) {
          let acc = 0;
          for (let k = 0; k < h.length; k++) {
            const at = j * factor - (h.length - 1) + k;
            if (at >= 0) acc += h[k] * x[at];
          }
          y[j] = acc;
        }
        return y;
      };
      let ref = stage(Float64Array.from(input), designLowPass(16000), 2);
      if (rate === 48000) {
        ref = stage(
          stage(Float64Array.from(input), designLowPass(48000, 3700, 12000), 3),
          designLowPass(16000),
          2,
        );
      }
      const out = new Int16Array(input.length);
      const n = new Decimator(rate).process(input, 0, input.length, out, 0);
      expect(n).toBe(ref.length);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const want = Math.max(-32768, Math.min(32767, Math.round(ref[i])));
        worst = Math.max(worst, Math.abs(out[i] - want));
      }
      expect(worst).toBeLessThanOrEqual(1);
    });

    it(`${rate} -> 8000: chunked processing equals whole-buffer processing (state carries across calls)`, () => {
      const input = new Int16Array(rate / 4);
      let seed = 12345;
      for (let i = 0; i < input.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        input[i] = ((seed >>> 16) & 0xffff) - 32768;
      }
      const whole = new Int16Array(input.length);
      const nWhole = new Decimator(rate).process(input, 0, input.length, whole, 0);
      const chunked = new Int16Array(input.length);
      const d = new Decimator(rate, 200); // small maxChunk forces several inner passes too
      let pos = 0;
      let written = 0;
      const sizes = [1, 7, 320, 13, 960, 5, 2, 641];
      for (let k = 0; pos < input.length; k++) {
        const n = Math.min(sizes[k % sizes.length], input.length - pos);
        written += d.process(input, pos, n, chunked, written);
        pos += n;
      }
      expect(written).toBe(nWhole);
      expect(Array.from(chunked.subarray(0, written))).toEqual(Array.from(whole.subarray(0, nWhole)));
    });
  }
});

describe('Decimator engines', () => {
  it("the WebAssembly stages give the JS stages' outputs bit for bit, at both rates and any chunking", () => {
    for (const rate of [16000, 48000] as const) {
      const input = new Int16Array(rate);
      let seed = 5;
      for (let i = 0; i < input.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        // Full-scale noise with bursts of clipping: every tap and the saturation matter.
        input[i] = i % 4000 < 40 ? (i & 1 ? 32767 : -32768) : ((seed >>> 16) & 0xffff) - 32768;
      }
      const js = new Decimator(rate, 5760, 'js');
      const wasm = new Decimator(rate, 5760, 'wasm');
      const a = new Int16Array(input.length);
      const b = new Int16Array(input.length);
      const sizes = [320, 1, 7, 960, 13, 5760, 2, 641, 3, 4];
      let pos = 0;
      let wa = 0;
      let wb = 0;
      for (let k = 0; pos < input.length; k++) {
        const n = Math.min(sizes[k % sizes.length], input.length - pos);
        wa += js.process(input, pos, n, a, wa);
        wb += wasm.process(input, pos, n, b, wb);
        pos += n;
      }
      expect(wb).toBe(wa);
      expect(wa).toBe(8000);
      let differing = 0;
      for (let i = 0; i < wa; i++) if (a[i] !== b[i]) differing++;
      expect(differing, `${rate} Hz`).toBe(0);
    }
  });
});

describe('L16', () => {
  it('8 kHz: decodes network byte order', () => {
    const payload = new Uint8Array([0x7f, 0xff, 0x80, 0x00, 0x00, 0x01, 0xff, 0xff]);
    const out = new Int16Array(960);
    expect(createDecoder('l16').decode(payload, 0, payload.length, out)).toBe(4);
    expect(Array.from(out.subarray(0, 4))).toEqual([32767, -32768, 1, -1]);
  });

  it('encoder writes network byte order and round-trips exactly at 8 kHz', () => {
    const pcm = new Int16Array([0, 1, -1, 32767, -32768, 1234, -4321, 256]);
    const enc = createEncoder('l16', 118);
    expect(enc.payloadType).toBe(118);
    const payload = enc.encode(pcm, 8000);
    expect(Array.from(payload.subarray(0, 6))).toEqual([0, 0, 0, 1, 0xff, 0xff]);
    const out = new Int16Array(960);
    expect(createDecoder('l16').decode(payload, 0, payload.length, out)).toBe(pcm.length);
    expect(Array.from(out.subarray(0, pcm.length))).toEqual(Array.from(pcm));
  });

  it('16 kHz: 20 ms packets decimate to 160 samples, tone level kept', () => {
    const pcm = tone(16000, 1000, 10000, 16000);
    const dec = createDecoder('l16-16k');
    expect(dec.clockRate).toBe(16000);
    const payload = new Uint8Array(640);
    const out = new Int16Array(960);
    const all = new Int16Array(8000);
    for (let p = 0; p < 50; p++) {
      for (let i = 0; i < 320; i++) {
        const s = pcm[p * 320 + i];
        payload[2 * i] = (s >> 8) & 0xff;
        payload[2 * i + 1] = s & 0xff;
      }
      expect(dec.decode(payload, 0, 640, out)).toBe(160);
      all.set(out.subarray(0, 160), p * 160);
    }
    expect(Math.abs(20 * Math.log10(rms(all, 400) / (10000 / Math.SQRT2)))).toBeLessThan(0.5);
  });
});
