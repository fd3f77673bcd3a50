/**
 * Triangular mel filterbank over the FFT bins, built once.
 *
 * A triangle's weight is linear in frequency on each side, so a band's weighted sum needs only two plain sums per
 * side: with S0 = sum p_k and S1 = sum k p_k over the bins between two consecutive edges (a segment),
 * sum (f_k - left) / (centre - left) p_k = (BIN_HZ S1 - left S0) / (centre - left), and likewise for the falling
 * side. Consecutive bands share a segment (one's falling side is the next one's rising side), so each bin is read
 * once per frame instead of once per band it belongs to, and no weight is loaded. `weights` keeps the explicit
 * per-bin form of the same filters (for reference and tests).
 */

import { BAND_COUNT, BAND_HIGH_HZ, BAND_LOW_HZ, BIN_COUNT, BIN_HZ } from './frame-features.ts';

function hzToMel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700);
}

function melToHz(mel: number): number {
  return 700 * (10 ** (mel / 2595) - 1);
}

export class MelBands {
  /** First bin of band b is firstBin[b]; its weights are weights[offset[b] .. offset[b+1]). */
  readonly firstBin = new Int32Array(BAND_COUNT);
  readonly offset = new Int32Array(BAND_COUNT + 1);
  readonly weights: Float64Array;
  /** Sum of weights per band, to turn a weighted power sum into a mean per bin. */
  readonly weightSum = new Float64Array(BAND_COUNT);
  /** Segment s holds the bins with edge s < frequency <= edge s + 1: bins segmentStart[s] .. segmentStart[s+1]-1. */
  readonly segmentStart = new Int32Array(BAND_COUNT + 2);
  /** Per band: left and right edge (Hz), 1 / (centre - left) and 1 / (right - centre). */
  readonly left = new Float64Array(BAND_COUNT);
  readonly right = new Float64Array(BAND_COUNT);
  readonly riseScale = new Float64Array(BAND_COUNT);
  readonly fallScale = new Float64Array(BAND_COUNT);

  constructor() {
    const edges = new Float64Array(BAND_COUNT + 2);
    const lo = hzToMel(BAND_LOW_HZ);
    const hi = hzToMel(BAND_HIGH_HZ);
    for (let i = 0; i < edges.length; i++) edges[i] = melToHz(lo + ((hi - lo) * i) / (BAND_COUNT + 1));
    const scratch: number[] = [];
    for (let b = 0; b < BAND_COUNT; b++) {
      const left = edges[b];
      const centre = edges[b + 1];
      const right = edges[b + 2];
      this.offset[b] = scratch.length;
      let first = -1;
      let sum = 0;
      for (let k = 0; k < BIN_COUNT; k++) {
        const f = k * BIN_HZ;
        if (f <= left || f >= right) {
          if (first >= 0) break;
          continue;
        }
        const w = f <= centre ? (f - left) / (centre - left) : (right - f) / (right - centre);
        if (first < 0) first = k;
        scratch.push(w);
        sum += w;
      }
      this.firstBin[b] = first;
      this.weightSum[b] = sum;
    }
    this.offset[BAND_COUNT] = scratch.length;
    this.weights = Float64Array.from(scratch);
    for (let e = 0; e < edges.length; e++) {
      let k = 0;
      while (k < BIN_COUNT && k * BIN_HZ <= edges[e]) k++;
      this.segmentStart[e] = k;
    }
    for (let b = 0; b < BAND_COUNT; b++) {
      this.left[b] = edges[b];
      this.right[b] = edges[b + 2];
      this.riseScale[b] = 1 / (edges[b + 1] - edges[b]);
      this.fallScale[b] = 1 / (edges[b + 2] - edges[b + 1]);
    }
  }
}
