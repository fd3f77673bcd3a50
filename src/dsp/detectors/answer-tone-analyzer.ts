/**
 * What distinguishes the 2100 Hz answer tones, measured on the complex output of the 2100 Hz filter over
 * consecutive 10 ms (80-sample) blocks while the tone lasts:
 * - ANSam (ITU-T V.8) is amplitude-modulated at 15 Hz with 20 % depth; plain ANS/CED (V.25/T.30) is not. The
 *   envelope |X| sampled every 10 ms is correlated with 15 Hz (exactly 3 cycles per 20 blocks, so a 20-entry
 *   table holds the reference) and normalised by its mean: the result estimates the modulation depth.
 * - Both may carry 180° phase reversals every 450 ms (V.25 /ANS, V.8 /ANSam, to disable echo cancellers).
 *   The phase advance between blocks is tracked (it is 0 for exactly 2100 Hz, up to ±0.9 rad per block for
 *   the allowed ±15 Hz), and a jump of about π relative to it, looking two blocks apart so a reversal inside
 *   a block is seen whole, counts one reversal.
 */
const AM_TABLE_SIZE = 20;
const AM_COS = new Float64Array(AM_TABLE_SIZE);
const AM_SIN = new Float64Array(AM_TABLE_SIZE);
for (let k = 0; k < AM_TABLE_SIZE; k++) {
  const theta = 2 * Math.PI * 15 * 0.01 * k;
  AM_COS[k] = Math.cos(theta);
  AM_SIN[k] = Math.sin(theta);
}
/** Blocks ignored after a counted reversal (the reversal disturbs three comparisons). */
const REVERSAL_REFRACTORY_BLOCKS = 8;
/** |phase jump| beyond this (radians) is a reversal rather than drift or noise. */
const REVERSAL_MIN_JUMP = (2 * Math.PI) / 3;

export class AnswerToneAnalyzer {
  phaseReversals = 0;
  private blocks = 0;
  private envSum = 0;
  private envRe = 0;
  private envIm = 0;
  private re1 = 0;
  private im1 = 0;
  private re2 = 0;
  private im2 = 0;
  /** Running estimate of the per-block phase advance, as an unnormalised complex number. */
  private driftRe = 0;
  private driftIm = 0;
  private refractory = 0;

  reset(): void {
    this.phaseReversals = 0;
    this.blocks = 0;
    this.envSum = 0;
    this.envRe = 0;
    this.envIm = 0;
    this.re1 = 0;
    this.im1 = 0;
    this.re2 = 0;
    this.im2 = 0;
    this.driftRe = 0;
    this.driftIm = 0;
    this.refractory = 0;
  }

  /** Adds one 10 ms block's complex 2100 Hz filter output. */
  addBlock(re: number, im: number): void {
    const env = Math.sqrt(re * re + im * im);
    const t = this.blocks % AM_TABLE_SIZE;
    this.envSum += env;
    this.envRe += env * AM_COS[t];
    this.envIm -= env * AM_SIN[t];

    if (this.blocks >= 2) this.trackPhase(re, im);
    this.re2 = this.re1;
    this.im2 = this.im1;
    this.re1 = re;
    this.im1 = im;
    this.blocks++;
  }

  /** Estimated depth of 15 Hz amplitude modulation (0 for a steady tone, ~0.2 for ANSam). */
  modulationDepth(): number {
    if (this.envSum <= 0) return 0;
    return (2 * Math.sqrt(this.envRe * this.envRe + this.envIm * this.envIm)) / this.envSum;
  }

  private trackPhase(re: number, im: number): void {
    // Lag-1 product: the advance over one block.
    const p1r = re * this.re1 + im * this.im1;
    const p1i = im * this.re1 - re * this.im1;
    const driftMag = Math.sqrt(this.driftRe * this.driftRe + this.driftIm * this.driftIm);
    if (this.refractory > 0) {
      this.refractory--;
      return;
    }
    if (driftMag > 0) {
      // Lag-2 product against twice the expected advance.
      const p2r = re * this.re2 + im * this.im2;
      const p2i = im * this.re2 - re * this.im2;
      const ur = this.driftRe / driftMag;
      const ui = this.driftIm / driftMag;
      const er = ur * ur - ui * ui;
      const ei = 2 * ur * ui;
      const jump = Math.atan2(p2i * er - p2r * ei, p2r * er + p2i * ei);
      if (Math.abs(jump) > REVERSAL_MIN_JUMP) {
        this.phaseReversals++;
        this.refractory = REVERSAL_REFRACTORY_BLOCKS;
        return;
      }
    }
    // Normalised so loud and quiet blocks steer the estimate equally.
    const m = Math.sqrt(p1r * p1r + p1i * p1i);
    if (m > 0) {
      this.driftRe = 0.8 * this.driftRe + (0.2 * p1r) / m;
      this.driftIm = 0.8 * this.driftIm + (0.2 * p1i) / m;
    }
  }
}
