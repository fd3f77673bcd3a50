/**
 * Per-frame features of one leg (one 20 ms, 160-sample frame at 8 kHz), written in place by FrameAnalyzer.
 *
 * One instance is reused for every frame of a leg, so consumers read the fields right after `process` and copy what
 * they keep. Every field is always finite, including for digital silence and clipped full-scale input.
 */

import { SAMPLE_RATE } from '../../ingest/media-sink.ts';

/**
 * Spectral analysis: a 256-point FFT over the latest 32 ms (the current 20 ms frame plus the last 12 ms of the
 * previous one), Hann window, 20 ms hop. 256 is the smallest power of two covering a frame; 31.25 Hz bins resolve
 * harmonics of voices above ~80 Hz and the DTMF row/column spacing, and 37.5% overlap keeps Hann's tapered edges
 * from losing the start of each frame.
 */
export const FFT_SIZE = 256;
/** Bins 0..FFT_SIZE/2 inclusive (DC to Nyquist). */
export const BIN_COUNT = FFT_SIZE / 2 + 1;
export const BIN_HZ = SAMPLE_RATE / FFT_SIZE;

/**
 * Log band energies: mel-spaced triangular bands over 100-3800 Hz. 16 bands keep every band at least three FFT bins
 * wide at the low end (the mel spacing there is ~90 Hz), which a 20-band split over this range would not.
 */
export const BAND_COUNT = 16;
export const BAND_LOW_HZ = 100;
export const BAND_HIGH_HZ = 3800;

/** Values reported for digital silence, so that no field is ever -Infinity or NaN. */
export const LEVEL_FLOOR_DBFS = -120;
export const BAND_FLOOR_DB = -120;

export class FrameFeatures {
  /** RMS of the 160 new samples in dB relative to full scale (a full-scale square wave is 0, a full-scale sine -3.01). */
  levelDbfs = LEVEL_FLOOR_DBFS;
  /** Fraction (0..1) of the 160 samples at the codec/linear ceiling (|x| >= CLIP_THRESHOLD). */
  clipFraction = 0;
  /** Zero crossings per second over the 160 new samples (a sine of f Hz gives ~2f). */
  zcr = 0;
  /** Magnitude-weighted mean frequency of the spectrum, Hz (0 for silence). */
  centroidHz = 0;
  /** Magnitude-weighted standard deviation of frequency around the centroid (spectral spread), Hz (0 for silence). */
  bandwidthHz = 0;
  /** Frequency below which ROLLOFF_FRACTION of the spectral magnitude lies, Hz (0 for silence). */
  rolloffHz = 0;
  /** Geometric over arithmetic mean of the magnitude spectrum, 0..1 (white noise ~0.85, a pure tone ~0; 0 for silence). */
  flatness = 0;
  /** L2 distance between this and the previous frame's unit-norm magnitude spectra, 0..sqrt(2). */
  flux = 0;
  /** Mean power spectral density per mel band, dB relative to full-scale white noise (variance 1); floor BAND_FLOOR_DB. */
  readonly bands = new Float32Array(BAND_COUNT);
  /**
   * Fundamental frequency, Hz, when voiced (60-400 Hz); 0 when unvoiced, and 0 on frames within 2 dB of the noise
   * floor, where it is not searched unless FrameAnalyzerOptions.pitchEveryFrame is set.
   */
  pitchHz = 0;
  /** Periodicity 0..1: 1 minus the YIN cumulative-mean-normalised difference at the chosen lag (0 where not searched). */
  voicing = 0;
  /** Signal-processing speech evidence 0..1 before hangover (a classic detector, not a trained model). */
  speechProb = 0;
  /** Voice-activity decision with hangover. */
  isSpeech = false;
  /** Noise floor tracked by minimum statistics, dBFS. */
  noiseFloorDbfs = LEVEL_FLOOR_DBFS;
  /** Telephone-band (300-3400 Hz) level above the noise floor, dB. */
  snrDb = 0;
  /** Fraction (0..1) of in-band power held by the two strongest spectral peaks: ~1 for tones and DTMF. */
  tonality = 0;
  /** Syllabic (2-8 Hz) modulation depth of the frame energy envelope, dB. */
  modulationDb = 0;
}
