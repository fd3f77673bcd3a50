import FFT from 'fft.js';

/**
 * Forward FFT of a real block via fft.js (radix-4, precomputed twiddles, a real-input path). The output buffer is
 * allocated here and reused, so a transform allocates nothing.
 */
export class RealFft {
  readonly size: number;
  /** Valid output bins: DC to Nyquist inclusive. */
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
}
