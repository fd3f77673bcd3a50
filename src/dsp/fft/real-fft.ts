import FFT from 'fft.js';

/**
 * Magnitude spectrum of a real block via fft.js (radix-4, precomputed twiddles; the fastest well-kept pure-JS FFT
 * we measured). All buffers are allocated here, so `magnitudes` does no allocation per call.
 */
export class RealFft {
  readonly size: number;
  /** Number of magnitude bins written: DC to Nyquist inclusive. */
  readonly binCount: number;
  private readonly fft: FFT;
  /** Interleaved re/im output of fft.js; only bins 0..size/2 are filled by realTransform. */
  private readonly complex: Float64Array;

  constructor(size: number) {
    this.size = size;
    this.binCount = size / 2 + 1;
    this.fft = new FFT(size);
    this.complex = new Float64Array(2 * size);
  }

  /**
   * Forward transform of `input` (length `size`, already windowed). Returns the reused interleaved re/im buffer;
   * bins 0..size/2 are valid.
   */
  transform(input: Float64Array): Float64Array {
    this.fft.realTransform(this.complex, input);
    return this.complex;
  }

  /** Writes |X_k| for k = 0..size/2 of `input` (length `size`, already windowed) into `out`. */
  magnitudes(input: Float64Array, out: Float32Array): void {
    const c = this.complex;
    this.fft.realTransform(c, input);
    const n = this.binCount;
    for (let k = 0; k < n; k++) {
      const re = c[2 * k];
      const im = c[2 * k + 1];
      out[k] = Math.sqrt(re * re + im * im);
    }
  }
}
