import { describe, expect, it } from 'vitest';
import { FrameAnalyzer } from '../../../src/dsp/frame/frame-analyzer.ts';
import { BAND_COUNT, BIN_COUNT, BIN_HZ, FrameFeatures } from '../../../src/dsp/frame/frame-features.ts';
import {
  analyzeFrames,
  concat,
  type FrameRow,
  harmonicTone,
  pinkNoise,
  seconds,
  sine,
  speechLike,
  telephoneBand,
  toPcm,
  whiteNoise,
} from './signals.ts';

/** Frames after the 40 ms history has filled with the signal (the first two frames see leading zeros). */
function steady(rows: FrameRow[]): FrameRow[] {
  return rows.slice(2);
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

const NUMERIC_FIELDS = [
  'levelDbfs',
  'clipFraction',
  'zcr',
  'centroidHz',
  'bandwidthHz',
  'rolloffHz',
  'flatness',
  'flux',
  'pitchHz',
  'voicing',
  'speechProb',
  'noiseFloorDbfs',
  'snrDb',
  'tonality',
  'modulationDb',
] as const;

/** Every numeric field, every band and every spectrum bin finite, for every frame of `pcm`. */
function expectAllFinite(pcm: Int16Array): void {
  const analyzer = new FrameAnalyzer();
  const f = new FrameFeatures();
  for (let i = 0; i + 160 <= pcm.length; i += 160) {
    analyzer.process(pcm.subarray(i, i + 160), f);
    for (const name of NUMERIC_FIELDS)
      expect(Number.isFinite(f[name]), `${name} at frame ${i / 160}`).toBe(true);
    for (let b = 0; b < BAND_COUNT; b++) expect(Number.isFinite(f.bands[b])).toBe(true);
    for (let k = 0; k < BIN_COUNT; k++) expect(Number.isFinite(analyzer.spectrum[k])).toBe(true);
    expect(typeof f.isSpeech).toBe('boolean');
  }
}

describe('level, clipping and zero crossings', () => {
  it('gives the RMS level of a known-amplitude sine within 0.1 dB', () => {
    for (const [freq, amplitude] of [
      [1000, 16384],
      [437, 3000],
      [2911, 300],
    ]) {
      // RMS of a sine is A / sqrt(2), relative to full scale 32768.
      const expected = 20 * Math.log10(amplitude / Math.SQRT2 / 32768);
      for (const row of steady(analyzeFrames(sine(freq, amplitude, seconds(0.5))))) {
        expect(Math.abs(row.levelDbfs - expected)).toBeLessThan(0.1);
      }
    }
  });

  it('reports a full-scale square wave at 0 dBFS and fully clipped', () => {
    const square = new Int16Array(seconds(0.2)).map((_, i) => (Math.floor(i / 20) % 2 ? 32767 : -32768));
    for (const row of analyzeFrames(square)) {
      expect(Math.abs(row.levelDbfs)).toBeLessThan(0.01);
      expect(row.clipFraction).toBe(1);
    }
  });

  it('measures the clipped share of an over-driven sine', () => {
    // A sine of amplitude 2x full scale saturates wherever |sin| > 0.5 ... the clip threshold 32000 is reached where
    // |2 * 32768 sin| >= 32000, a fraction 1 - (2/pi) asin(32000 / 65536) of the time.
    const expected = 1 - (2 / Math.PI) * Math.asin(32000 / 65536);
    const rows = steady(analyzeFrames(sine(200, 65536, seconds(0.5))));
    // 20 ms is exactly 4 periods of 200 Hz, so each frame holds the same share up to one sample per crossing edge.
    for (const row of rows) expect(Math.abs(row.clipFraction - expected)).toBeLessThan(8 / 160);
    for (const row of steady(analyzeFrames(sine(200, 16000, seconds(0.2))))) expect(row.clipFraction).toBe(0);
  });

  it('counts two zero crossings per period of a sine', () => {
    for (const freq of [100, 440, 1000, 3000]) {
      for (const row of steady(analyzeFrames(sine(freq, 8000, seconds(0.3), 0.3)))) {
        // Up to one crossing more or less per 20 ms frame depending on where the frame boundary falls.
        expect(Math.abs(row.zcr - 2 * freq)).toBeLessThanOrEqual(50);
      }
    }
  });
});

describe('spectral shape', () => {
  it('puts the centroid of a sine at its frequency, with a narrow spread and the roll-off just above it', () => {
    for (const freq of [312.5, 1000, 1234.5, 2345.6, 3500]) {
      for (const row of steady(analyzeFrames(sine(freq, 10000, seconds(0.3))))) {
        // The Hann main lobe is symmetric about the tone, so the magnitude-weighted mean sits on it; a quarter bin
        // covers the slight asymmetry of leakage near DC and Nyquist.
        expect(Math.abs(row.centroidHz - freq)).toBeLessThan(BIN_HZ / 4);
        // The main lobe spans +-2 bins, so the spread is well under 2 bins.
        expect(row.bandwidthHz).toBeLessThan(2 * BIN_HZ);
        // 95% of the magnitude lies within the main lobe: the roll-off bin is the tone's bin or up to 2 above it.
        expect(row.rolloffHz).toBeGreaterThanOrEqual(freq - BIN_HZ);
        expect(row.rolloffHz).toBeLessThanOrEqual(freq + 2 * BIN_HZ);
        expect(row.flatness).toBeLessThan(0.05);
      }
    }
  });

  it('exposes the magnitude spectrum with the Hann coherent gain', () => {
    // An on-bin sine of amplitude a (full scale 1) gives |X_k| = a * sum(w) / 2 = a * 127.5 / 2 at its bin.
    const bin = 32;
    const amplitude = 0.25;
    const rows = steady(analyzeFrames(sine(bin * BIN_HZ, amplitude * 32768, seconds(0.2))));
    for (const row of rows) {
      expect(row.spectrum.length).toBe(BIN_COUNT);
      let peak = 0;
      for (let k = 1; k < BIN_COUNT; k++) if (row.spectrum[k] > row.spectrum[peak]) peak = k;
      expect(peak).toBe(bin);
      expect(Math.abs(row.spectrum[bin] / (amplitude * 63.75) - 1)).toBeLessThan(0.002);
    }
  });

  it('finds white noise flat (Rayleigh-distributed bins: 0.845) and pink noise less flat', () => {
    // For Rayleigh magnitudes GM/AM = exp((ln 2 - gamma) / 2) / sqrt(pi / 2) = 0.8455.
    const rayleigh = Math.exp((Math.LN2 - 0.5772156649) / 2) / Math.sqrt(Math.PI / 2);
    const white = mean(steady(analyzeFrames(whiteNoise(3000, seconds(4), 1))).map((r) => r.flatness));
    expect(Math.abs(white - rayleigh)).toBeLessThan(0.04);
    // Coloured noise: each bin is still Rayleigh around the spectral envelope S_k, so the expected flatness is the
    // Rayleigh factor times GM/AM of the envelope, taken here from the frames' mean power per bin.
    const pinkRows = steady(analyzeFrames(pinkNoise(3000, seconds(4), 2)));
    const envelope = new Float64Array(BIN_COUNT);
    for (const row of pinkRows)
      for (let k = 0; k < BIN_COUNT; k++) envelope[k] += row.spectrum[k] ** 2 / pinkRows.length;
    let logSum = 0;
    let sum = 0;
    for (let k = 0; k < BIN_COUNT; k++) {
      logSum += Math.log(Math.sqrt(envelope[k]));
      sum += Math.sqrt(envelope[k]);
    }
    const pinkExpected = rayleigh * (Math.exp(logSum / BIN_COUNT) / (sum / BIN_COUNT));
    const pink = mean(pinkRows.map((r) => r.flatness));
    expect(pink).toBeLessThan(white - 0.08);
    expect(Math.abs(pink - pinkExpected)).toBeLessThan(0.04);
    // Centroid of white noise: the middle of the band.
    const centroid = mean(steady(analyzeFrames(whiteNoise(3000, seconds(4), 3))).map((r) => r.centroidHz));
    expect(Math.abs(centroid - 2000)).toBeLessThan(60);
  });

  it('has no flux for a steady tone and near-maximal flux when the spectrum jumps', () => {
    const steadyTone = steady(analyzeFrames(sine(800, 8000, seconds(0.3))));
    for (const row of steadyTone) expect(row.flux).toBeLessThan(0.01);
    // Tones far apart have orthogonal unit-norm spectra (distance sqrt(2)); blocks overlap by 12 ms, so the change
    // is shared by two frame pairs, but one of them must still move more than half-way (distance > 1).
    const jump = analyzeFrames(concat(sine(500, 8000, seconds(0.2)), sine(2500, 8000, seconds(0.2))));
    const maxFlux = Math.max(...jump.map((r) => r.flux));
    expect(maxFlux).toBeGreaterThan(1);
    expect(maxFlux).toBeLessThanOrEqual(Math.SQRT2 + 1e-6);
  });

  it('puts a tone into the mel band whose centre is nearest', () => {
    // The band holding 1 kHz and the band holding 3 kHz: the energy maximum moves up with the tone.
    const low = steady(analyzeFrames(sine(1000, 8000, seconds(0.2))))[3].bands;
    const high = steady(analyzeFrames(sine(3000, 8000, seconds(0.2))))[3].bands;
    const argmax = (b: Float32Array) => b.indexOf(Math.max(...b));
    expect(argmax(high)).toBeGreaterThan(argmax(low));
    // Far from the tone the band sees only leakage: 60 dB below the peak band or more.
    expect(low[argmax(low)] - low[BAND_COUNT - 1]).toBeGreaterThan(60);
    // Full-scale-variance white noise is 0 dB in every band by construction (mean PSD relative to variance 1).
    const white = steady(analyzeFrames(whiteNoise(32768 * 0.25, seconds(3), 4)));
    for (let b = 0; b < BAND_COUNT; b++) {
      const level = mean(white.map((r) => r.bands[b]));
      // Variance 0.0625 -> -12.04 dB; the mean of a log of a fluctuating power sits ~1-2 dB lower (Jensen).
      expect(level).toBeGreaterThan(-15);
      expect(level).toBeLessThan(-11);
    }
  });
});

describe('pitch and voicing', () => {
  it('tracks the fundamental of harmonic tones within 1%', () => {
    for (const f0 of [62, 80, 100, 123.4, 150, 187, 220, 260, 310, 370, 395]) {
      const rows = steady(analyzeFrames(harmonicTone(f0, 6000, seconds(0.4)), { pitchEveryFrame: true }));
      for (const row of rows) {
        expect(Math.abs(row.pitchHz / f0 - 1)).toBeLessThan(0.01);
        expect(row.voicing).toBeGreaterThan(0.85);
      }
    }
  });

  it('recovers a missing fundamental through a telephone band-pass', () => {
    // 300 Hz high-pass removes the fundamental of low voices: the period is still there in the harmonics.
    for (const f0 of [90, 120, 150, 200, 250]) {
      const x = harmonicTone(f0, 6000, seconds(0.5));
      telephoneBand(x);
      for (const row of steady(analyzeFrames(x, { pitchEveryFrame: true })).slice(3)) {
        expect(Math.abs(row.pitchHz / f0 - 1)).toBeLessThan(0.01);
      }
    }
  });

  it('searches pitch by default on frames that rise out of the noise floor, not on the floor itself', () => {
    // A voice entering a quiet line is foreground from its first frames: pitch is measured there.
    const x = concat(whiteNoise(10, seconds(1), 6), harmonicTone(140, 6000, seconds(0.6)));
    const rows = analyzeFrames(x);
    for (const row of rows.slice(52, 75)) expect(Math.abs(row.pitchHz / 140 - 1)).toBeLessThan(0.01);
    // The quiet line before it is the floor: no search, pitch and voicing read 0.
    for (const row of rows.slice(10, 49)) {
      expect(row.pitchHz).toBe(0);
      expect(row.voicing).toBe(0);
    }
  });

  it('finds noise unvoiced most of the time', () => {
    const rows = steady(analyzeFrames(whiteNoise(3000, seconds(3), 5), { pitchEveryFrame: true }));
    const voiced = rows.filter((r) => r.pitchHz > 0).length / rows.length;
    expect(mean(rows.map((r) => r.voicing))).toBeLessThan(0.6);
    expect(voiced).toBeLessThan(0.5);
  });
});

describe('robustness', () => {
  it('keeps every field finite for silence, full-scale squares, clipped input and extreme alternation', () => {
    expectAllFinite(new Int16Array(seconds(1)));
    expectAllFinite(new Int16Array(seconds(0.5)).map((_, i) => (Math.floor(i / 4) % 2 ? 32767 : -32768)));
    expectAllFinite(new Int16Array(seconds(0.5)).map((_, i) => (i % 2 ? 32767 : -32768)));
    expectAllFinite(new Int16Array(seconds(0.5)).fill(-32768));
    expectAllFinite(new Int16Array(seconds(0.5)).fill(1));
    expectAllFinite(toPcm(sine(300, 200000, seconds(0.5))));
    expectAllFinite(
      toPcm(
        concat(new Float64Array(seconds(0.3)), speechLike(1.5, 3).samples, new Float64Array(seconds(0.3))),
      ),
    );
  });

  it('reports digital silence as the documented floor values', () => {
    for (const row of analyzeFrames(new Int16Array(seconds(0.3)))) {
      expect(row.levelDbfs).toBe(-120);
      expect(row.centroidHz).toBe(0);
      expect(row.flatness).toBe(0);
      expect(row.pitchHz).toBe(0);
      expect(row.isSpeech).toBe(false);
    }
  });

  it('returns to its initial state on reset()', () => {
    const pcm = toPcm(speechLike(2, 9).samples);
    const analyzer = new FrameAnalyzer();
    const first = new FrameFeatures();
    const second = new FrameFeatures();
    const fresh = new FrameAnalyzer();
    for (let i = 0; i + 160 <= pcm.length; i += 160) analyzer.process(pcm.subarray(i, i + 160), first);
    analyzer.reset();
    for (let i = 0; i + 160 <= pcm.length; i += 160) {
      analyzer.process(pcm.subarray(i, i + 160), first);
      fresh.process(pcm.subarray(i, i + 160), second);
      for (const name of NUMERIC_FIELDS) expect(first[name]).toBe(second[name]);
      expect(first.isSpeech).toBe(second.isSpeech);
    }
  });
});
