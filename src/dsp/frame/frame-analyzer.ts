/**
 * Per-leg, per-frame analysis: level, clipping, zero crossings, spectral shape, mel band energies, pitch/voicing and
 * voice activity, for each 20 ms frame of 8 kHz audio. One instance per leg; everything is allocated in the
 * constructor and `process` allocates nothing (bench/dsp.bench.ts: 10^6 frames, no GC). Numbers cross method
 * boundaries through fields and objects, never as arguments or return values, because a double passed to or from a
 * call that is not inlined is boxed on the heap.
 *
 * Order per frame: time-domain stats -> Hann-windowed 256-point real FFT of the latest 32 ms with power and
 * magnitude per bin (WasmRealFft, WebAssembly SIMD; RealFftSpectrum on big-endian hosts; the same numbers bit for
 * bit) -> one pass over the 129 bins for the sums of spectral shape and flux (WasmSpectralSums, WebAssembly SIMD;
 * JsSpectralSums on big-endian hosts; again the same numbers) -> the telephone-band power and its two strongest
 * peaks -> mel bands -> VAD energy stage -> pitch (only on frames out of the noise floor) -> VAD decision.
 */

import * as media from '../../ingest/media-sink.ts';
import { HOST_LITTLE_ENDIAN } from '../../ingest/wasm-memory.ts';
import { type PowerSpectrumTransform, RealFftSpectrum } from '../fft/real-fft.ts';
import { WasmRealFft } from '../fft/wasm-real-fft.ts';
import type { FrameFeatures } from './frame-features.ts';
import * as ff from './frame-features.ts';
import { MelBands } from './mel-bands.ts';
import { PITCH_INPUT, PitchTracker } from './pitch-tracker.ts';
import {
  DOT,
  ENERGY,
  FLATNESS_GROUPS,
  JsSpectralSums,
  PRODUCTS,
  type SpectralSums,
  SUM,
  SUM_K,
  SUM_K2,
  WasmSpectralSums,
} from './spectral-sums.ts';

// Imported bindings are live (read through an accessor under some loaders); the hot loops read these plain
// module constants instead.
const FRAME_SAMPLES: number = media.FRAME_SAMPLES;
const FRAME_SECONDS: number = media.FRAME_MS / 1000;
const FFT_SIZE: number = ff.FFT_SIZE;
const BIN_COUNT: number = ff.BIN_COUNT;
const BIN_HZ: number = ff.BIN_HZ;
const BAND_COUNT: number = ff.BAND_COUNT;
const BAND_FLOOR_DB: number = ff.BAND_FLOOR_DB;
const LEVEL_FLOOR_DBFS: number = ff.LEVEL_FLOOR_DBFS;

import { VoiceActivity } from './voice-activity.ts';

/**
 * A sample counts as clipped at |x| >= 32000: the largest G.711 codewords decode to 32124 (mu-law) and 32256
 * (A-law), and linear PCM saturates at 32767, so this catches a saturated signal whichever codec carried it.
 */
export const CLIP_THRESHOLD = 32000;
/** Default roll-off point: 95% of the spectral magnitude (85% is common for music; 95% keeps fricatives' tails). */
export const DEFAULT_ROLLOFF_FRACTION = 0.95;

/** The pitch tracker's input (40 ms and its decimation filter's lead-in), which also contains the 32 ms FFT block. */
const HISTORY: number = PITCH_INPUT;
const FFT_START = HISTORY - FFT_SIZE;
const INV_FULL_SCALE = 1 / 32768;
/** Sum of |X|^2 below this is digital silence (far below one LSB of 16-bit audio); shape features are then 0. */
const SILENT_SPECTRUM_ENERGY = 1e-12;
/** Telephone band for the VAD level and tonality (G.712 passband). */
const TEL_LOW_BIN = Math.ceil(300 / BIN_HZ);
const TEL_HIGH_BIN = Math.floor(3400 / BIN_HZ);
/** Top of the low band (300-1000 Hz) where voiced speech puts most of its power: first formant and low harmonics. */
const LOW_HIGH_BIN = Math.floor(1000 / BIN_HZ);
/** Tonality counts +-2 bins around a peak: the Hann main lobe is 4 bins wide. */
const PEAK_HALF_WIDTH = 2;

export interface FrameAnalyzerOptions {
  /** Fraction of spectral magnitude below the roll-off frequency, 0..1 (default 0.95). */
  rolloffFraction?: number;
  /**
   * Search pitch on every frame, including frames within 2 dB of the noise floor (default false: those report
   * pitchHz = voicing = 0). For offline studies of background sounds; costs up to ~30% more per frame.
   */
  pitchEveryFrame?: boolean;
}

/**
 * Read-only tables shared by every analyzer (two per call): one copy stays in cache across calls, where a copy per
 * analyzer would be evicted between one call's frame and the next's.
 */
// Symmetric Hann (the definition meyda and most feature literature use); at 256 points it differs from the
// periodic form by < 0.4% in any coefficient.
const HANN_WINDOW = new Float64Array(FFT_SIZE);
let hannSumSq = 0;
for (let i = 0; i < FFT_SIZE; i++) {
  const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (FFT_SIZE - 1));
  HANN_WINDOW[i] = w;
  hannSumSq += w * w;
}
const INV_HANN_POWER = 1 / hannSumSq;
const SHARED_MEL_BANDS = new MelBands();
/**
 * One transform for every analyzer: its input and outputs live only within one process() call (WasmRealFft keeps
 * them in one WebAssembly work area), so analyzers take turns with it and nothing of it is per analyzer.
 */
const SHARED_FFT: PowerSpectrumTransform = HOST_LITTLE_ENDIAN
  ? new WasmRealFft(HANN_WINDOW)
  : new RealFftSpectrum(HANN_WINDOW);
/** Likewise the per-bin sums over its outputs (the same numbers either way). */
const SHARED_SUMS: SpectralSums = HOST_LITTLE_ENDIAN
  ? new WasmSpectralSums(SHARED_FFT)
  : new JsSpectralSums(SHARED_FFT);

export class FrameAnalyzer {
  /** Magnitudes |X_k| (k = 0..128, 31.25 Hz apart) of the last frame's 256-point Hann-windowed FFT, full scale = 1. */
  readonly spectrum = new Float32Array(BIN_COUNT);

  private readonly rolloffFraction: number;
  private readonly pitchEveryFrame: boolean;
  private readonly fft = SHARED_FFT;
  /** Power |X_k|^2 of the last transform (the shared transform's output, read in place). */
  private readonly power = SHARED_FFT.power;
  private readonly sums = SHARED_SUMS;
  /** The two strongest telephone-band peaks of the last frame's power spectrum (-1: none), found in spectralShape. */
  private peak1 = -1;
  private peak2 = -1;
  /** Telephone-band power sum of the last frame (bins TEL_LOW_BIN..TEL_HIGH_BIN). */
  private bandTotal = 0;
  /** Power sum of its low part (bins TEL_LOW_BIN..LOW_HIGH_BIN), for the VAD's low-band energy cue. */
  private lowTotal = 0;
  /** 1 / sum of squared window coefficients: turns |X|^2 into power per bin (Parseval). */
  private readonly invWindowPower = INV_HANN_POWER;
  /** Latest 42 ms, oldest first; shifted by one frame per call so both the FFT and the pitch search see it unwrapped. */
  private readonly history = new Float64Array(HISTORY);
  /** The FFT block (the latest 256 samples) as a view made once, so that copying it in allocates nothing. */
  private readonly fftBlock = this.history.subarray(FFT_START);
  /** L2 norm of the previous frame's magnitudes (which `spectrum` holds until overwritten), for flux. */
  private previousNorm = 0;
  private readonly bands = SHARED_MEL_BANDS;
  private readonly pitch = new PitchTracker();
  private readonly vad = new VoiceActivity();
  private lastSample = 0;

  constructor(options: FrameAnalyzerOptions = {}) {
    this.rolloffFraction = options.rolloffFraction ?? DEFAULT_ROLLOFF_FRACTION;
    this.pitchEveryFrame = options.pitchEveryFrame ?? false;
  }

  reset(): void {
    this.history.fill(0);
    this.previousNorm = 0;
    this.spectrum.fill(0);
    this.pitch.reset();
    this.vad.reset();
    this.lastSample = 0;
  }

  /** Analyses the next 160-sample frame of this leg into `out`. */
  process(pcm: Int16Array, out: FrameFeatures): void {
    this.timeDomain(pcm, out);
    const h = this.history;
    const fft = this.fft;
    fft.input.set(this.fftBlock);
    fft.transform();
    this.spectralShape(out);
    this.tonality(out);
    this.melBands(out);
    const vad = this.vad;
    vad.updateEnergy(out);
    const pitch = this.pitch;
    // Frames at the noise floor cannot be speech; their pitch is not searched unless asked for (it is most of the
    // per-frame cost), and reads 0.
    if (vad.foreground || this.pitchEveryFrame) pitch.update(h, FRAME_SAMPLES);
    else pitch.skip();
    out.pitchHz = pitch.pitchHz;
    out.voicing = pitch.voicing;
    vad.decide(out);
  }

  /** Level, clipping and zero crossings of the new samples; appends them to the history. */
  private timeDomain(pcm: Int16Array, out: FrameFeatures): void {
    const h = this.history;
    h.copyWithin(0, FRAME_SAMPLES);
    const base = HISTORY - FRAME_SAMPLES;
    // Squares of 16-bit samples summed as integers: exact in a double (< 2^38), so the level equals the sum of
    // squared full-scale-relative samples bit for bit, in whatever order they are added. Zero crossings are counted
    // without a branch (speech and noise make it unpredictable); the clipping test is a branch that real audio almost
    // never takes. Two samples per iteration (the frame length is even) with two sums halve the loop overhead and
    // the add-latency chain.
    let sumSqEven = 0;
    let sumSqOdd = 0;
    let clipped = 0;
    let crossings = 0;
    let prev = this.lastSample;
    for (let i = 0; i < FRAME_SAMPLES; i += 2) {
      const s = pcm[i];
      const t = pcm[i + 1];
      h[base + i] = s * INV_FULL_SCALE;
      h[base + i + 1] = t * INV_FULL_SCALE;
      sumSqEven += s * s;
      sumSqOdd += t * t;
      if (s >= CLIP_THRESHOLD || s <= -CLIP_THRESHOLD) clipped++;
      if (t >= CLIP_THRESHOLD || t <= -CLIP_THRESHOLD) clipped++;
      // Sign bits differ: one sample negative, the other >= 0 (zero counts as positive, as in meyda).
      crossings += ((s ^ prev) >>> 31) + ((t ^ s) >>> 31);
      prev = t;
    }
    const sumSq = sumSqEven + sumSqOdd;
    this.lastSample = prev;
    const meanSq = (sumSq * INV_FULL_SCALE * INV_FULL_SCALE) / FRAME_SAMPLES;
    out.levelDbfs = meanSq > 1e-12 ? 10 * Math.log10(meanSq) : LEVEL_FLOOR_DBFS;
    out.clipFraction = clipped / FRAME_SAMPLES;
    out.zcr = crossings / FRAME_SECONDS;
  }

  /**
   * Centroid, spread, roll-off, flatness and flux over bins 0..128 (magnitude-weighted, as in Peeters 2004 and
   * meyda), from one pass over the transform's magnitudes (SpectralSums, which also moves this frame's magnitudes
   * into `spectrum`); then the telephone band's sum and two strongest peaks for tonality().
   */
  private spectralShape(out: FrameFeatures): void {
    // `spectrum` holds the previous frame's magnitudes (as Float32, the precision flux has always used) until the
    // sums replace them, so it doubles as the flux reference.
    const a = this.spectrum;
    const sums = this.sums;
    sums.run(a);
    const r = sums.results;
    const sum = r[SUM];
    const sumK = r[SUM_K];
    const sumK2 = r[SUM_K2];
    const energy = r[ENERGY];
    const dot = r[DOT];
    // One logarithm per group of bins (its product stays within double range).
    let logSum = 0;
    for (let g = 0; g < FLATNESS_GROUPS; g++) logSum += Math.log(r[PRODUCTS + g]);
    this.findPeaks();

    const norm = Math.sqrt(energy);
    const prevNorm = this.previousNorm;
    const silent = energy < SILENT_SPECTRUM_ENERGY;
    // Flux between unit-norm spectra: |u - v|^2 = 2 - 2 u.v; a silent frame counts as the zero vector.
    if (silent) out.flux = prevNorm > 0 ? 1 : 0;
    else if (prevNorm > 0) out.flux = Math.sqrt(Math.max(0, 2 - (2 * dot) / (norm * prevNorm)));
    else out.flux = 1;
    this.previousNorm = silent ? 0 : norm;

    if (silent) {
      out.centroidHz = 0;
      out.bandwidthHz = 0;
      out.rolloffHz = 0;
      out.flatness = 0;
      return;
    }
    const centroid = sumK / sum;
    out.centroidHz = centroid * BIN_HZ;
    out.bandwidthHz = Math.sqrt(Math.max(0, sumK2 / sum - centroid * centroid)) * BIN_HZ;
    // The geometric mean never exceeds the arithmetic mean; the clamp only absorbs rounding.
    out.flatness = Math.min(1, Math.exp(logSum / BIN_COUNT) / (sum / BIN_COUNT));
    const target = this.rolloffFraction * sum;
    let cumulative = 0;
    let k = 0;
    for (; k < BIN_COUNT - 1; k++) {
      cumulative += a[k];
      if (cumulative >= target) break;
    }
    out.rolloffHz = k * BIN_HZ;
  }

  /** Sums the telephone band's power and finds its two strongest peaks, for tonality(). */
  private findPeaks(): void {
    const p = this.power;
    let band = 0;
    let low = 0;
    let best1 = -1;
    let best2 = -1;
    let v1 = 0;
    let v2 = 0;
    for (let k = TEL_LOW_BIN; k <= TEL_HIGH_BIN; k++) {
      const v = p[k];
      band += v;
      if (k <= LOW_HIGH_BIN) low = band;
      // Only a bin above the current second-best can change the result, so the rarely taken comparison comes first
      // and the peak test, which noise makes unpredictable, runs on few bins.
      if (v > v2 && v >= p[k - 1] && v > p[k + 1]) {
        if (v > v1) {
          best2 = best1;
          v2 = v1;
          best1 = k;
          v1 = v;
        } else {
          best2 = k;
          v2 = v;
        }
      }
    }
    this.peak1 = best1;
    this.peak2 = best2;
    this.bandTotal = band;
    this.lowTotal = low;
  }

  /**
   * Share of telephone-band power within +-2 bins of the two strongest spectral peaks (found by spectralShape); also
   * hands the band's mean-square power (relative to full scale) to the VAD.
   */
  private tonality(out: FrameFeatures): void {
    const p = this.power;
    const total = this.bandTotal;
    const best1 = this.peak1;
    const best2 = this.peak2;
    // One-sided spectrum: each interior bin stands for two (positive and negative frequency).
    this.vad.bandPower = (2 * total * this.invWindowPower) / FFT_SIZE;
    this.vad.lowBandPower = (2 * this.lowTotal * this.invWindowPower) / FFT_SIZE;
    if (best1 < 0 || total <= 0) {
      out.tonality = 0;
      return;
    }
    // Lobes are clipped to the band so that numerator and denominator count the same bins.
    let peak = 0;
    const lo1 = Math.max(best1 - PEAK_HALF_WIDTH, TEL_LOW_BIN);
    const hi1 = Math.min(best1 + PEAK_HALF_WIDTH, TEL_HIGH_BIN);
    for (let k = lo1; k <= hi1; k++) peak += p[k];
    if (best2 >= 0) {
      const lo2 = Math.max(best2 - PEAK_HALF_WIDTH, TEL_LOW_BIN);
      const hi2 = Math.min(best2 + PEAK_HALF_WIDTH, TEL_HIGH_BIN);
      // Skip bins already counted when the two peaks' lobes overlap.
      for (let k = lo2; k <= hi2; k++) if (k < lo1 || k > hi1) peak += p[k];
    }
    out.tonality = Math.min(1, peak / total);
  }

  private melBands(out: FrameFeatures): void {
    const p = this.power;
    const mel = this.bands;
    const segmentStart = mel.segmentStart;
    const left = mel.left;
    const right = mel.right;
    const riseScale = mel.riseScale;
    const fallScale = mel.fallScale;
    const weightSum = mel.weightSum;
    const bands = out.bands;
    const scale = this.invWindowPower;
    // Segment s is band s's rising side and band s-1's falling side (MelBands); the previous segment's sums are kept.
    let previous0 = 0;
    let previous1 = 0;
    for (let s = 0; s <= BAND_COUNT; s++) {
      let sum0 = 0;
      let sum1 = 0;
      const end = segmentStart[s + 1];
      for (let k = segmentStart[s]; k < end; k++) {
        const pk = p[k];
        sum0 += pk;
        sum1 += k * pk;
      }
      if (s > 0) {
        const b = s - 1;
        const acc =
          (BIN_HZ * previous1 - left[b] * previous0) * riseScale[b] +
          (right[b] * sum0 - BIN_HZ * sum1) * fallScale[b];
        // E|X_k|^2 = variance * sum(w^2) for white noise, so this is the band's mean power spectral density with
        // full-scale white noise (variance 1) at 0 dB.
        const meanPower = (acc / weightSum[b]) * scale;
        bands[b] = meanPower > 1e-12 ? 10 * Math.log10(meanPower) : BAND_FLOOR_DB;
      }
      previous0 = sum0;
      previous1 = sum1;
    }
  }
}
