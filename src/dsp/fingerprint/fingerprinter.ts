/**
 * Per-frame audio fingerprint: 32 bits from the signs of time-and-frequency energy differences of 33 log-spaced
 * bands (Haitsma & Kalker, "A Highly Robust Audio Fingerprinting System", 2002).
 *
 * Why band-energy-difference bits rather than spectral-peak landmarks: at 8 kHz telephone band a 20 ms frame has
 * few resolvable peaks, G.711 quantisation noise and packet-loss concealment create spurious peaks, and landmark
 * pairs need a peak picker with its own thresholds. Energy-difference signs are invariant to any level change
 * (all bands scale together), robust to codec noise (only energy *orderings* matter), give exactly one 32-bit
 * word per frame (which makes within-call loop search and a Redis key per frame trivial), and cost 33 band sums
 * per frame over the FFT magnitudes the frame analyser already computed.
 *
 * The 20 ms hop is coarse for this scheme (the original uses 11.6 ms hops of 370 ms frames): the same recording
 * heard on another call starts at an arbitrary sub-frame offset. Energies are therefore summed over
 * SMOOTH_FRAMES consecutive frames and the time difference is taken DIFF_LAG frames apart, so a misalignment of up
 * to half a hop changes only a small part of each summed window. Measured on espeak-ng speech through mu-law at
 * -10 dB: aligned, 1.4 % bit errors and 73 % of frames exactly equal; shifted 5 ms, 8 % / 13 %; shifted 10 ms,
 * 12 % / 5 %; unrelated speech 50 % / 0 %. Exact-equal frames are what index look-ups find; bit error rates are
 * what the loop verifier measures.
 */

export const FINGERPRINT_BANDS = 33;
export const FINGERPRINT_LOW_HZ = 300;
export const FINGERPRINT_HIGH_HZ = 3400;
/** Frames summed into one band energy (see the module comment). */
export const SMOOTH_FRAMES = 6;
/** Frames between the two energy snapshots whose difference forms the bits. */
export const DIFF_LAG = 4;
/** Frames of history kept: exactly SMOOTH_FRAMES + DIFF_LAG, the oldest frame a fingerprint reads. */
const HISTORY = SMOOTH_FRAMES + DIFF_LAG;
// process() sums the smoothing windows with six terms written out (sumOfSix) over a ring of ten frames.
if (SMOOTH_FRAMES !== 6 || DIFF_LAG !== 4)
  throw new Error('fingerprinter: process() assumes 6 frames, 4 apart');

export interface FingerprinterOptions {
  /** Frames quieter than this carry no fingerprint (silence and comfort noise must never match). */
  minLevelDbfs?: number;
  /**
   * Normalised entropy (0..1) of the band energy distribution below which a frame is treated as a tone
   * (one or two bands hold nearly all energy) and carries no fingerprint.
   */
  minBandEntropy?: number;
  /**
   * Relative change of band energies between the two snapshots below which the spectrum is steady (a tone, a
   * hum) and the bits are decided by rounding noise, so the frame carries no fingerprint.
   */
  minRelativeChange?: number;
}

/** Which spectrum bins each band sums, with their overlap weights: fixed by the spectrum's length and bin width. */
interface BandLayout {
  bandFirst: Int32Array;
  bandLast: Int32Array;
  bandWeightOffset: Int32Array;
  weights: Float32Array;
}

/** Layouts by spectrum length and bin width: every leg of every call uses the same one, so it is built once. */
const LAYOUTS = new Map<string, BandLayout>();

function bandLayout(spectrumLength: number, binHz: number): BandLayout {
  const key = `${spectrumLength}:${binHz}`;
  const known = LAYOUTS.get(key);
  if (known !== undefined) return known;
  const bandFirst = new Int32Array(FINGERPRINT_BANDS);
  const bandLast = new Int32Array(FINGERPRINT_BANDS);
  const bandWeightOffset = new Int32Array(FINGERPRINT_BANDS);
  const ratio = (FINGERPRINT_HIGH_HZ / FINGERPRINT_LOW_HZ) ** (1 / FINGERPRINT_BANDS);
  const weightList: number[] = [];
  for (let b = 0; b < FINGERPRINT_BANDS; b++) {
    const lo = FINGERPRINT_LOW_HZ * ratio ** b;
    const hi = lo * ratio;
    // Bin k covers [(k - 0.5) binHz, (k + 0.5) binHz); a band takes each bin in proportion to the overlap, so
    // bands narrower than a bin (the lowest ones with a short FFT) still get distinct, nonzero weights.
    const first = Math.max(0, Math.floor(lo / binHz + 0.5));
    const last = Math.min(spectrumLength - 1, Math.floor(hi / binHz + 0.5));
    bandFirst[b] = first;
    bandLast[b] = last;
    bandWeightOffset[b] = weightList.length;
    for (let k = first; k <= last; k++) {
      const binLo = (k - 0.5) * binHz;
      const binHi = (k + 0.5) * binHz;
      const overlap = Math.max(0, Math.min(hi, binHi) - Math.max(lo, binLo));
      weightList.push(overlap / binHz);
    }
  }
  const layout = { bandFirst, bandLast, bandWeightOffset, weights: Float32Array.from(weightList) };
  LAYOUTS.set(key, layout);
  return layout;
}

/**
 * Per-frame working arrays, filled afresh by every process() call before they are read: one set serves every
 * fingerprinter (JS runs one frame at a time).
 */
const SMOOTH_NOW = new Float64Array(FINGERPRINT_BANDS);
const SMOOTH_THEN = new Float64Array(FINGERPRINT_BANDS);
const DIFFS = new Float64Array(FINGERPRINT_BANDS - 1);
/** e[o0 + b] + ... + e[o5 + b], added in that order (the smoothing sums of process()). */
function sumOfSix(
  e: Float64Array,
  b: number,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
  o4: number,
  o5: number,
): number {
  let sum = 0;
  sum += e[o0 + b];
  sum += e[o1 + b];
  sum += e[o2 + b];
  sum += e[o3 + b];
  sum += e[o4 + b];
  sum += e[o5 + b];
  return sum;
}

export class Fingerprinter {
  readonly minLevelDbfs: number;
  readonly minBandEntropy: number;
  readonly minRelativeChange: number;
  /** Fraction of the last frame's bits decided by a difference smaller than a tenth of the typical one. */
  weakBits = 0;
  /** Bit mask of the least reliable bit of the last hash (for approximate look-ups). */
  weakestBit = 0;

  /** Per band: first spectrum bin, last bin, and per-bin overlap weights (shared, read-only: see bandLayout). */
  private readonly bandFirst: Int32Array;
  private readonly bandLast: Int32Array;
  private readonly bandWeightOffset: Int32Array;
  private readonly weights: Float32Array;
  /** Ring of per-frame band energies, HISTORY x BANDS. */
  private readonly energies: Float64Array;
  private readonly smoothNow = SMOOTH_NOW;
  private readonly smoothThen = SMOOTH_THEN;
  private readonly diffs = DIFFS;
  private frames = 0;
  /**
   * A frame whose band energies e have sum(e^2) <= total^2 x this passes the entropy test without logarithms:
   * Shannon entropy is at least the collision (Renyi-2) entropy -log(sum p^2), and this bound sits about 1e-6 nats
   * inside minBandEntropy, far more than the rounding of either sum or the 1e-12 cut-off of the exact test (at most
   * 33 x 3e-11 nats) can move.
   * Frames near or below the bound take the exact test, so every decision is the exact test's.
   */
  private readonly collisionBound: number;

  constructor(spectrumLength: number, binHz: number, options: FingerprinterOptions = {}) {
    this.minLevelDbfs = options.minLevelDbfs ?? -50;
    this.minBandEntropy = options.minBandEntropy ?? 0.55;
    this.collisionBound = Math.exp(-this.minBandEntropy * Math.log(FINGERPRINT_BANDS)) * (1 - 1e-6);
    this.minRelativeChange = options.minRelativeChange ?? 0.08;
    const layout = bandLayout(spectrumLength, binHz);
    this.bandFirst = layout.bandFirst;
    this.bandLast = layout.bandLast;
    this.bandWeightOffset = layout.bandWeightOffset;
    this.weights = layout.weights;
    this.energies = new Float64Array(HISTORY * FINGERPRINT_BANDS);
  }

  reset(): void {
    this.energies.fill(0);
    this.frames = 0;
  }

  /**
   * Fingerprint of the frame whose magnitude spectrum is given, or 0 when the frame is silent, tonal, steady or
   * too early in the stream. A real fingerprint of 0 is returned as 1 so 0 always means "none".
   */
  process(spectrum: Float32Array, levelDbfs: number): number {
    const bands = FINGERPRINT_BANDS;
    const slot = (this.frames % HISTORY) * bands;
    const energies = this.energies;
    const weights = this.weights;
    let total = 0;
    let squares = 0;
    for (let b = 0; b < bands; b++) {
      let e = 0;
      let w = this.bandWeightOffset[b];
      const last = this.bandLast[b];
      for (let k = this.bandFirst[b]; k <= last; k++) {
        const m = spectrum[k];
        e += weights[w++] * m * m;
      }
      energies[slot + b] = e;
      total += e;
      squares += e * e;
    }
    this.frames++;
    if (this.frames < SMOOTH_FRAMES + DIFF_LAG) return 0;
    if (!(levelDbfs >= this.minLevelDbfs) || !(total > 0)) return 0;

    // Band entropy of this frame: tones and DTMF put nearly everything in one or two bands. Most speech and noise
    // frames are spread widely enough that the collision bound decides without 33 logarithms.
    if (!(squares <= total * total * this.collisionBound)) {
      let entropy = 0;
      for (let b = 0; b < bands; b++) {
        const p = energies[slot + b] / total;
        if (p > 1e-12) entropy -= p * Math.log(p);
      }
      if (entropy / Math.log(bands) < this.minBandEntropy) return 0;
    }

    // Smoothed energies now and DIFF_LAG frames earlier: frames newest - 0..5 and newest - 4..9 of the ring (HISTORY
    // = SMOOTH_FRAMES + DIFF_LAG slots, one per frame). Per band the six terms are added newest first in a local
    // (the order of the plain accumulate-into-the-array loop, so the same sums to the last bit) and stored once:
    // the array form loaded and stored every partial sum, and a loop over the offsets kept reloading them.
    const now = this.smoothNow;
    const then = this.smoothThen;
    const newest = this.frames - 1; // >= HISTORY - 1 here: no offset goes negative
    const o0 = (newest % HISTORY) * bands;
    const o1 = ((newest - 1) % HISTORY) * bands;
    const o2 = ((newest - 2) % HISTORY) * bands;
    const o3 = ((newest - 3) % HISTORY) * bands;
    const o4 = ((newest - 4) % HISTORY) * bands;
    const o5 = ((newest - 5) % HISTORY) * bands;
    const o6 = ((newest - 6) % HISTORY) * bands;
    const o7 = ((newest - 7) % HISTORY) * bands;
    const o8 = ((newest - 8) % HISTORY) * bands;
    const o9 = ((newest - 9) % HISTORY) * bands;
    for (let b = 0; b < bands; b++) {
      now[b] = sumOfSix(energies, b, o0, o1, o2, o3, o4, o5);
      then[b] = sumOfSix(energies, b, o4, o5, o6, o7, o8, o9);
    }
    let changed = 0;
    let sumNow = 0;
    let sumThen = 0;
    for (let b = 0; b < bands; b++) {
      sumNow += now[b];
      sumThen += then[b];
    }
    // Compare spectral shapes, not levels: a fade must not count as change.
    const scaleThen = sumThen > 0 ? sumNow / sumThen : 0;
    for (let b = 0; b < bands; b++) changed += Math.abs(now[b] - then[b] * scaleThen);
    if (!(changed >= this.minRelativeChange * sumNow)) return 0;

    let hash = 0;
    let magnitude = 0;
    const diffs = this.diffs;
    for (let b = 0; b < bands - 1; b++) {
      // Unscaled, as in the original: measured on G.711 speech shifted by 5-10 ms, it keeps more bits than
      // comparing level-normalised shapes.
      const d = now[b] - now[b + 1] - (then[b] - then[b + 1]);
      diffs[b] = d;
      magnitude += Math.abs(d);
      if (d > 0) hash |= 1 << b;
    }
    const typical = magnitude / (bands - 1);
    let weak = 0;
    let weakest = 0;
    let weakestAbs = Number.POSITIVE_INFINITY;
    for (let b = 0; b < bands - 1; b++) {
      const a = Math.abs(diffs[b]);
      if (a < 0.1 * typical) weak++;
      if (a < weakestAbs) {
        weakestAbs = a;
        weakest = b;
      }
    }
    this.weakBits = weak / (bands - 1);
    this.weakestBit = (1 << weakest) >>> 0;
    hash >>>= 0;
    return hash === 0 ? 1 : hash;
  }
}
