/**
 * Forward FFT of a real, windowed block, for one fixed power-of-two size chosen at construction.
 *
 * The per-frame analysis runs one 256-point transform per leg every 20 ms, so this is hand-written for that single
 * job rather than taken from fft.js (which it is tested against, test/dsp/frame/real-fft.test.ts, and measured
 * against, bench/dsp.bench.ts): the N real samples are packed as N/2 complex values z[n] = x[2n] + i x[2n+1] and
 * transformed by an N/2-point complex FFT (decimation in time: one 8-point pass, then radix-4 stages, which touch the
 * data half as often as radix-2 ones), whose output is split into the N/2 + 1 bins of the real transform. The
 * window multiply and the bit-reversal permutation happen while the block is loaded, in the same pass as the first
 * eight-point butterflies, and every twiddle and index is tabulated once per size (shared by all instances), so a transform allocates
 * nothing and computes no trigonometry.
 *
 * Output: re[k], im[k] for k = 0..N/2, X[k] = sum_n w[n] x[n] e^(-2 pi i k n / N) (unnormalised, fft.js's
 * convention).
 *
 * The frame analysis runs it on big-endian hosts only (RealFftSpectrum, below). Elsewhere it runs WasmRealFft
 * (wasm-real-fft.ts), generated to follow this code step for step at 256 points and tested to equal it bit for bit:
 * this is the readable form of that algorithm.
 */
const SQRT_HALF = Math.SQRT1_2;

/** Read-only index and twiddle tables of one transform size. */
interface FftTables {
  bitReversed: Int32Array;
  twiddleRe: Float64Array;
  twiddleIm: Float64Array;
  twiddle2Re: Float64Array;
  twiddle2Im: Float64Array;
  twiddle3Re: Float64Array;
  twiddle3Im: Float64Array;
  splitCos: Float64Array;
  splitSin: Float64Array;
}

/**
 * Tables are shared by every transform of a size: the service runs two per call for a thousand calls, and one copy
 * each (8 KiB at 256 points) would be 16 MiB that the cache keeps losing between frames of different calls.
 */
const TABLES = new Map<number, FftTables>();

function tablesFor(size: number): FftTables {
  const cached = TABLES.get(size);
  if (cached !== undefined) return cached;
  const m = size / 2;
  const bits = Math.log2(m);
  const bitReversed = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    bitReversed[i] = r;
  }
  const twiddleRe = new Float64Array(m);
  const twiddleIm = new Float64Array(m);
  const twiddle2Re = new Float64Array(m);
  const twiddle2Im = new Float64Array(m);
  const twiddle3Re = new Float64Array(m);
  const twiddle3Im = new Float64Array(m);
  for (let q = 8; q < m; q <<= 2) {
    for (let j = 0; j < q; j++) {
      const angle = (-2 * Math.PI * j) / (4 * q);
      twiddleRe[q + j] = Math.cos(angle);
      twiddleIm[q + j] = Math.sin(angle);
      twiddle2Re[q + j] = Math.cos(2 * angle);
      twiddle2Im[q + j] = Math.sin(2 * angle);
      twiddle3Re[q + j] = Math.cos(3 * angle);
      twiddle3Im[q + j] = Math.sin(3 * angle);
    }
  }
  const splitCos = new Float64Array(m / 2 + 1);
  const splitSin = new Float64Array(m / 2 + 1);
  for (let k = 0; k <= m / 2; k++) {
    splitCos[k] = Math.cos((2 * Math.PI * k) / size);
    splitSin[k] = Math.sin((2 * Math.PI * k) / size);
  }
  const tables: FftTables = {
    bitReversed,
    twiddleRe,
    twiddleIm,
    twiddle2Re,
    twiddle2Im,
    twiddle3Re,
    twiddle3Im,
    splitCos,
    splitSin,
  };
  TABLES.set(size, tables);
  return tables;
}

export class RealFft {
  readonly size: number;
  /** Valid output bins: DC to Nyquist inclusive. */
  readonly binCount: number;
  /** Real and imaginary parts of bins 0..size/2. */
  readonly re: Float64Array;
  readonly im: Float64Array;

  /** Complex size M = N/2. */
  private readonly half: number;
  /** Packed input index (of M) loaded into each position, in bit-reversed order. */
  private readonly bitReversed: Int32Array;
  /** W^j, W^2j, W^3j with W = exp(-2 pi i / 4q) for the radix-4 stage of sub-size q, stored at [q + j], j < q. */
  private readonly twiddleRe: Float64Array;
  private readonly twiddleIm: Float64Array;
  private readonly twiddle2Re: Float64Array;
  private readonly twiddle2Im: Float64Array;
  private readonly twiddle3Re: Float64Array;
  private readonly twiddle3Im: Float64Array;
  /** cos and sin of 2 pi k / N, k = 0..M/2, for splitting the packed transform into the real one. */
  private readonly splitCos: Float64Array;
  private readonly splitSin: Float64Array;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;

  constructor(size: number) {
    // N/2 = 8 * 4^k: one 8-point pass, then radix-4 stages only.
    const stages = (Math.log2(size) - 4) / 2;
    if (!Number.isInteger(stages) || stages < 0) {
      throw new RangeError(`RealFft size must be 16 * 4^k (16, 64, 256, 1024, ...), got ${size}`);
    }
    this.size = size;
    const m = size / 2;
    this.half = m;
    this.binCount = m + 1;
    this.re = new Float64Array(m + 1);
    this.im = new Float64Array(m + 1);
    this.zr = new Float64Array(m);
    this.zi = new Float64Array(m);
    const tables = tablesFor(size);
    this.bitReversed = tables.bitReversed;
    this.twiddleRe = tables.twiddleRe;
    this.twiddleIm = tables.twiddleIm;
    this.twiddle2Re = tables.twiddle2Re;
    this.twiddle2Im = tables.twiddle2Im;
    this.twiddle3Re = tables.twiddle3Re;
    this.twiddle3Im = tables.twiddle3Im;
    this.splitCos = tables.splitCos;
    this.splitSin = tables.splitSin;
  }

  /**
   * Transforms input[offset .. offset+size) multiplied by window[0 .. size) into `re` and `im` (bins 0..size/2).
   */
  transform(input: Float64Array, offset: number, window: Float64Array): void {
    const m = this.half;
    const zr = this.zr;
    const zi = this.zi;
    const rev = this.bitReversed;

    // Load, window and permute, and the first three radix-2 stages as one 8-point DFT per group of eight outputs
    // (twiddles 1, -i and (1 - i) / sqrt 2 need no table).
    for (let g = 0; g < m; g += 8) {
      // Pairs (p, p + 4): the stage-1 butterflies; their sums and differences feed stage 2.
      let p = 2 * rev[g];
      let q = 2 * rev[g + 1];
      let xr = input[offset + p] * window[p];
      let xi = input[offset + p + 1] * window[p + 1];
      let yr = input[offset + q] * window[q];
      let yi = input[offset + q + 1] * window[q + 1];
      const a0r = xr + yr;
      const a0i = xi + yi;
      const a1r = xr - yr;
      const a1i = xi - yi;
      p = 2 * rev[g + 2];
      q = 2 * rev[g + 3];
      xr = input[offset + p] * window[p];
      xi = input[offset + p + 1] * window[p + 1];
      yr = input[offset + q] * window[q];
      yi = input[offset + q + 1] * window[q + 1];
      const b0r = xr + yr;
      const b0i = xi + yi;
      const b1r = xr - yr;
      const b1i = xi - yi;
      p = 2 * rev[g + 4];
      q = 2 * rev[g + 5];
      xr = input[offset + p] * window[p];
      xi = input[offset + p + 1] * window[p + 1];
      yr = input[offset + q] * window[q];
      yi = input[offset + q + 1] * window[q + 1];
      const c0r = xr + yr;
      const c0i = xi + yi;
      const c1r = xr - yr;
      const c1i = xi - yi;
      p = 2 * rev[g + 6];
      q = 2 * rev[g + 7];
      xr = input[offset + p] * window[p];
      xi = input[offset + p + 1] * window[p + 1];
      yr = input[offset + q] * window[q];
      yi = input[offset + q + 1] * window[q + 1];
      const d0r = xr + yr;
      const d0i = xi + yi;
      const d1r = xr - yr;
      const d1i = xi - yi;
      // Stage 2: 4-point DFTs (a, b) and (c, d); the odd term is multiplied by -i: (r, i) -> (i, -r).
      const e0r = a0r + b0r;
      const e0i = a0i + b0i;
      const e2r = a0r - b0r;
      const e2i = a0i - b0i;
      const e1r = a1r + b1i;
      const e1i = a1i - b1r;
      const e3r = a1r - b1i;
      const e3i = a1i + b1r;
      const f0r = c0r + d0r;
      const f0i = c0i + d0i;
      const f2r = c0r - d0r;
      const f2i = c0i - d0i;
      const f1r = c1r + d1i;
      const f1i = c1i - d1r;
      const f3r = c1r - d1i;
      const f3i = c1i + d1r;
      // Stage 3: twiddles W8^j = 1, (1 - i)/sqrt2, -i, -(1 + i)/sqrt2 on the second 4-point DFT.
      const t1r = SQRT_HALF * (f1r + f1i);
      const t1i = SQRT_HALF * (f1i - f1r);
      const t3r = SQRT_HALF * (f3i - f3r);
      const t3i = -SQRT_HALF * (f3r + f3i);
      zr[g] = e0r + f0r;
      zi[g] = e0i + f0i;
      zr[g + 4] = e0r - f0r;
      zi[g + 4] = e0i - f0i;
      zr[g + 1] = e1r + t1r;
      zi[g + 1] = e1i + t1i;
      zr[g + 5] = e1r - t1r;
      zi[g + 5] = e1i - t1i;
      zr[g + 2] = e2r + f2i;
      zi[g + 2] = e2i - f2r;
      zr[g + 6] = e2r - f2i;
      zi[g + 6] = e2i + f2r;
      zr[g + 3] = e3r + t3r;
      zi[g + 3] = e3i + t3i;
      zr[g + 7] = e3r - t3r;
      zi[g + 7] = e3i - t3i;
    }

    // Radix-4 decimation-in-time stages: four consecutive sub-transforms of size q (of the samples = 0, 2, 1, 3
    // mod 4, the bit-reversed order) combine into one of size 4q. With A_r the sub-transform of residue r times
    // W^(r j), W = e^(-2 pi i / 4q): X[j + t q] = sum_r A_r (-i)^(r t).
    const w1r = this.twiddleRe;
    const w1i = this.twiddleIm;
    const w2r = this.twiddle2Re;
    const w2i = this.twiddle2Im;
    const w3r = this.twiddle3Re;
    const w3i = this.twiddle3Im;
    for (let q = 8; q < m; q <<= 2) {
      const span = 4 * q;
      // Butterfly j of every group uses the same three twiddles: loaded once per j, not once per group.
      for (let j = 0; j < q; j++) {
        const t = q + j;
        const c1r = w1r[t];
        const c1i = w1i[t];
        const c2r = w2r[t];
        const c2i = w2i[t];
        const c3r = w3r[t];
        const c3i = w3i[t];
        for (let start = 0; start < m; start += span) {
          const i0 = start + j;
          const i1 = i0 + q;
          const i2 = i1 + q;
          const i3 = i2 + q;
          // Residue 0 at i0, residue 2 at i1, residue 1 at i2, residue 3 at i3.
          const a0r = zr[i0];
          const a0i = zi[i0];
          let xr = zr[i2];
          let xi = zi[i2];
          const a1r = xr * c1r - xi * c1i;
          const a1i = xr * c1i + xi * c1r;
          xr = zr[i1];
          xi = zi[i1];
          const a2r = xr * c2r - xi * c2i;
          const a2i = xr * c2i + xi * c2r;
          xr = zr[i3];
          xi = zi[i3];
          const a3r = xr * c3r - xi * c3i;
          const a3i = xr * c3i + xi * c3r;
          const s02r = a0r + a2r;
          const s02i = a0i + a2i;
          const d02r = a0r - a2r;
          const d02i = a0i - a2i;
          const s13r = a1r + a3r;
          const s13i = a1i + a3i;
          // -i (A1 - A3)
          const n13r = a1i - a3i;
          const n13i = a3r - a1r;
          zr[i0] = s02r + s13r;
          zi[i0] = s02i + s13i;
          zr[i1] = d02r + n13r;
          zi[i1] = d02i + n13i;
          zr[i2] = s02r - s13r;
          zi[i2] = s02i - s13i;
          zr[i3] = d02r - n13r;
          zi[i3] = d02i - n13i;
        }
      }
    }

    // Split: with Z = FFT(z), E[k] = (Z[k] + conj Z[M-k]) / 2 is the transform of the even samples and
    // O[k] = (Z[k] - conj Z[M-k]) / 2i that of the odd ones; X[k] = E[k] + e^(-2 pi i k / N) O[k], and
    // X[M-k] comes from the same four numbers.
    const re = this.re;
    const im = this.im;
    const cos = this.splitCos;
    const sin = this.splitSin;
    re[0] = zr[0] + zi[0];
    im[0] = 0;
    re[m] = zr[0] - zi[0];
    im[m] = 0;
    for (let k = 1; k <= m / 2; k++) {
      const ar = zr[k];
      const ai = zi[k];
      const br = zr[m - k];
      const bi = zi[m - k];
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai - bi);
      const or = 0.5 * (ai + bi);
      const oi = -0.5 * (ar - br);
      const c = cos[k];
      const s = sin[k];
      // e^(-i theta) O = (c or + s oi) + i (c oi - s or); for M-k the twiddle is -e^(+i theta) and E, O conjugate.
      const tr = c * or + s * oi;
      const ti = c * oi - s * or;
      re[k] = er + tr;
      im[k] = ei + ti;
      re[m - k] = er - tr;
      im[m - k] = ti - ei;
    }
  }
}

/**
 * What the frame analysis needs of a windowed FFT: a block to fill, then power and magnitude per bin. WasmRealFft
 * provides it on little-endian hosts; RealFftSpectrum, below, elsewhere.
 */
export interface PowerSpectrumTransform {
  /** The block to transform (size samples). */
  readonly input: Float64Array;
  /** |X[k]|^2 and |X[k]| for k = 0..size/2 after transform(). */
  readonly power: Float64Array;
  readonly magnitude: Float64Array;
  transform(): void;
}

/** RealFft with a fixed window, as a PowerSpectrumTransform: the same spectrum as WasmRealFft, bit for bit. */
export class RealFftSpectrum implements PowerSpectrumTransform {
  readonly input: Float64Array;
  readonly power: Float64Array;
  readonly magnitude: Float64Array;
  private readonly fft: RealFft;
  private readonly window: Float64Array;

  constructor(window: Float64Array) {
    this.fft = new RealFft(window.length);
    this.window = window;
    this.input = new Float64Array(window.length);
    this.power = new Float64Array(this.fft.binCount);
    this.magnitude = new Float64Array(this.fft.binCount);
  }

  transform(): void {
    const fft = this.fft;
    fft.transform(this.input, 0, this.window);
    const re = fft.re;
    const im = fft.im;
    const p = this.power;
    const m = this.magnitude;
    for (let k = 0; k < fft.binCount; k++) {
      const pk = re[k] * re[k] + im[k] * im[k];
      p[k] = pk;
      m[k] = Math.sqrt(pk);
    }
  }
}
