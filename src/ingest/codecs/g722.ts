/**
 * ITU-T G.722 at 64 kbit/s: 16 kHz audio split by a 24-tap QMF into two 8 kHz sub-bands, 6-bit ADPCM in the low
 * band and 2-bit ADPCM in the high band, one byte (ihigh << 6 | ilow) per pair of input samples.
 *
 * Structure and block names (SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL, RECONS, PARREC, UPPOL1/2, UPZERO, FILTEP,
 * FILTEZ, PREDIC) follow the ITU-T reference algorithm as laid out in the public-domain CMU/spandsp lineage
 * (also FFmpeg's g722). Arithmetic is integer, with the reference's 16-bit saturation points, so encoder and
 * decoder stay in lock step. The QMF delay lines are rings stored twice over (sample written at p and p + 12) so
 * the 12 taps of each phase read one contiguous run without shifting memory per sample. The sub-band signals carry 15 bits: the transmit QMF halves the 16-bit input
 * (>> 14) and the receive QMF doubles it back (>> 11), the convention of current spandsp and FFmpeg.
 */

const QMF = new Int32Array([3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11]);
/** Low-band quantiser decision levels (QUANTL), in units of det >> 12. */
const Q6 = new Int32Array([
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219,
  1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
]);
const ILN = new Int32Array([
  0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7,
  6, 5, 4, 0,
]);
const ILP = new Int32Array([
  0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36,
  35, 34, 33, 32, 0,
]);
const WL = new Int32Array([-60, -30, 58, 172, 334, 538, 1198, 3042]);
const RL42 = new Int32Array([0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0]);
const ILB = new Int32Array([
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960,
  3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
]);
const QM4 = new Int32Array([
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
]);
const QM6 = new Int32Array([
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360,
  -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688,
  -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192,
  6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432,
  -136,
]);
const QM2 = new Int32Array([-7408, -1616, 7408, 1616]);
const WH = new Int32Array([0, -214, 798]);
const RH2 = new Int32Array([2, 1, 2, 1]);
const IHN = new Int32Array([0, 1, 0]);
const IHP = new Int32Array([0, 3, 2]);

function sat16(x: number): number {
  return x > 32767 ? 32767 : Math.max(x, -32768);
}

/**
 * Adaptive predictor state of one sub-band (two poles, six zeros), one plain field per delay-line tap: block 4
 * runs twice per code byte, and fields of one object shape cost a load each where typed-array elements also
 * carry an index bounds check. Only state that outlives a byte is kept; the reference's per-call temporaries
 * (the new reconstructed signal, the signs, the updated coefficients before DELAYA) are locals of block4.
 */
export class G722Band {
  /** Predicted signal (PREDIC) and its pole and zero parts. */
  s = 0;
  sp = 0;
  sz = 0;
  /** Log step size (LOGSCL) and step size (SCALEL). */
  nb = 0;
  det = 0;
  /** Reconstructed signal r(n-1), r(n-2). */
  r1 = 0;
  r2 = 0;
  /** Partial reconstructed signal p(n-1), p(n-2). */
  p1 = 0;
  p2 = 0;
  /** Pole coefficients. */
  a1 = 0;
  a2 = 0;
  /** Quantised differences d(n-1) ... d(n-6). */
  d1 = 0;
  d2 = 0;
  d3 = 0;
  d4 = 0;
  d5 = 0;
  d6 = 0;
  /** Zero coefficients. */
  b1 = 0;
  b2 = 0;
  b3 = 0;
  b4 = 0;
  b5 = 0;
  b6 = 0;

  constructor(initialDet: number) {
    this.det = initialDet;
  }

  reset(initialDet: number): void {
    this.s = 0;
    this.sp = 0;
    this.sz = 0;
    this.nb = 0;
    this.det = initialDet;
    this.r1 = 0;
    this.r2 = 0;
    this.p1 = 0;
    this.p2 = 0;
    this.a1 = 0;
    this.a2 = 0;
    this.d1 = 0;
    this.d2 = 0;
    this.d3 = 0;
    this.d4 = 0;
    this.d5 = 0;
    this.d6 = 0;
    this.b1 = 0;
    this.b2 = 0;
    this.b3 = 0;
    this.b4 = 0;
    this.b5 = 0;
    this.b6 = 0;
  }
}

/**
 * UPZERO for one zero coefficient: leak it and step it towards sign(d) * sign(d(n-i)). The reference saturates the
 * result to 16 bits, which never bites: from any 16-bit b the leak gives -32640..32639 and the step is 0 or +-128,
 * so the result stays within -32768..32767 (and b starts at 0). Leaving the no-op out keeps block4 small enough
 * for V8 to inline every call in it: with it, some sat16 calls stayed real calls and G.722 decoding took about
 * 1.4x as long.
 */
export function upzero(b: number, di: number, sgd: number, step: number): number {
  return (di >> 15 === sgd ? step : -step) + ((b * 32640) >> 15);
}

/** Block 4: reconstruction, pole/zero predictor adaptation and the next prediction, from quantised difference d. */
function block4(band: G722Band, d: number): void {
  // RECONS, PARREC
  const r0 = sat16(band.s + d);
  const p0 = sat16(band.sz + d);
  const a1 = band.a1;
  const a2 = band.a2;

  // UPPOL2
  const sg0 = p0 >> 15;
  const sg1 = band.p1 >> 15;
  const sg2 = band.p2 >> 15;
  let wd1 = sat16(a1 << 2);
  let wd2 = sg0 === sg1 ? -wd1 : wd1;
  if (wd2 > 32767) wd2 = 32767;
  let wd3 = (wd2 >> 7) + (sg0 === sg2 ? 128 : -128);
  wd3 += (a2 * 32512) >> 15;
  if (wd3 > 12288) wd3 = 12288;
  else if (wd3 < -12288) wd3 = -12288;
  const ap2 = wd3;

  // UPPOL1
  wd1 = sg0 === sg1 ? 192 : -192;
  wd2 = (a1 * 32640) >> 15;
  let ap1 = sat16(wd1 + wd2);
  wd3 = sat16(15360 - ap2);
  if (ap1 > wd3) ap1 = wd3;
  else if (ap1 < -wd3) ap1 = -wd3;

  // UPZERO (on the differences before DELAYA), then DELAYA
  const step = d === 0 ? 0 : 128;
  const sgd = d >> 15;
  const d1 = band.d1;
  const d2 = band.d2;
  const d3 = band.d3;
  const d4 = band.d4;
  const d5 = band.d5;
  const b1 = upzero(band.b1, d1, sgd, step);
  const b2 = upzero(band.b2, d2, sgd, step);
  const b3 = upzero(band.b3, d3, sgd, step);
  const b4 = upzero(band.b4, d4, sgd, step);
  const b5 = upzero(band.b5, d5, sgd, step);
  const b6 = upzero(band.b6, band.d6, sgd, step);
  band.b1 = b1;
  band.b2 = b2;
  band.b3 = b3;
  band.b4 = b4;
  band.b5 = b5;
  band.b6 = b6;
  band.d6 = d5;
  band.d5 = d4;
  band.d4 = d3;
  band.d3 = d2;
  band.d2 = d1;
  band.d1 = d;
  const r1 = r0;
  const r2 = band.r1;
  band.r2 = r2;
  band.r1 = r1;
  band.p2 = band.p1;
  band.p1 = p0;
  band.a2 = ap2;
  band.a1 = ap1;

  // FILTEP
  wd1 = (ap1 * sat16(r1 + r1)) >> 15;
  wd2 = (ap2 * sat16(r2 + r2)) >> 15;
  const sp = sat16(wd1 + wd2);
  band.sp = sp;

  // FILTEZ, in the reference's order (i = 6 down to 1)
  let sz = (b6 * sat16(d5 + d5)) >> 15;
  sz += (b5 * sat16(d4 + d4)) >> 15;
  sz += (b4 * sat16(d3 + d3)) >> 15;
  sz += (b3 * sat16(d2 + d2)) >> 15;
  sz += (b2 * sat16(d1 + d1)) >> 15;
  sz += (b1 * sat16(d + d)) >> 15;
  band.sz = sat16(sz);

  // PREDIC
  band.s = sat16(sp + band.sz);
}

/** LOGSCL + SCALEL (low band) / LOGSCH + SCALEH (high band): log-domain step size adaptation. */
function adaptScale(band: G722Band, weight: number, nbMax: number, shiftBase: number): void {
  let nb = ((band.nb * 127) >> 7) + weight;
  if (nb < 0) nb = 0;
  else if (nb > nbMax) nb = nbMax;
  band.nb = nb;
  const wd1 = (nb >> 6) & 31;
  const wd2 = shiftBase - (nb >> 11);
  const wd3 = wd2 < 0 ? ILB[wd1] << -wd2 : ILB[wd1] >> wd2;
  band.det = wd3 << 2;
}

const LOW_DET = 32;
const HIGH_DET = 8;

/** G.722 64 kbit/s decoder: n code bytes -> 2n samples at 16 kHz. State persists across calls. */
export class G722Decoder {
  private readonly low = new G722Band(LOW_DET);
  private readonly high = new G722Band(HIGH_DET);
  /** Receive QMF delay lines (sum and difference phases), each a 12-sample ring stored twice (see QmfRing). */
  private readonly xs = new Int32Array(24);
  private readonly xd = new Int32Array(24);
  private pos = 0;

  decode(codes: Uint8Array, offset: number, length: number, out: Int16Array, outOffset: number): number {
    const low = this.low;
    const high = this.high;
    const xs = this.xs;
    const xd = this.xd;
    let pos = this.pos;
    let o = outOffset;
    for (let j = 0; j < length; j++) {
      const code = codes[offset + j];
      const ilow = code & 0x3f;
      const ihigh = (code >> 6) & 0x03;

      // Low band: 6-bit inverse quantiser for the output, 4-bit (embedded core) for adaptation.
      let rlow = low.s + ((low.det * QM6[ilow]) >> 15);
      if (rlow > 16383) rlow = 16383;
      else if (rlow < -16384) rlow = -16384;
      const ril = ilow >> 2;
      const dlow = (low.det * QM4[ril]) >> 15;
      adaptScale(low, WL[RL42[ril]], 18432, 8);
      block4(low, dlow);

      // High band
      const dhigh = (high.det * QM2[ihigh]) >> 15;
      let rhigh = dhigh + high.s;
      if (rhigh > 16383) rhigh = 16383;
      else if (rhigh < -16384) rhigh = -16384;
      adaptScale(high, WH[RH2[ihigh]], 22528, 10);
      block4(high, dhigh);

      // Receive QMF
      xs[pos] = xs[pos + 12] = rlow + rhigh;
      xd[pos] = xd[pos + 12] = rlow - rhigh;
      // The 12 taps of each phase unrolled with QMF's values as constants (integer sums: the order is free).
      const q = pos + 1;
      const xout2 =
        xs[q] * 3 +
        xs[q + 1] * -11 +
        xs[q + 2] * 12 +
        xs[q + 3] * 32 +
        xs[q + 4] * -210 +
        xs[q + 5] * 951 +
        xs[q + 6] * 3876 +
        xs[q + 7] * -805 +
        xs[q + 8] * 362 +
        xs[q + 9] * -156 +
        xs[q + 10] * 53 +
        xs[q + 11] * -11;
      const xout1 =
        xd[q] * -11 +
        xd[q + 1] * 53 +
        xd[q + 2] * -156 +
        xd[q + 3] * 362 +
        xd[q + 4] * -805 +
        xd[q + 5] * 3876 +
        xd[q + 6] * 951 +
        xd[q + 7] * -210 +
        xd[q + 8] * 32 +
        xd[q + 9] * 12 +
        xd[q + 10] * -11 +
        xd[q + 11] * 3;
      pos = pos === 11 ? 0 : pos + 1;
      out[o++] = sat16(xout1 >> 11);
      out[o++] = sat16(xout2 >> 11);
    }
    this.pos = pos;
    return o - outOffset;
  }

  reset(): void {
    this.low.reset(LOW_DET);
    this.high.reset(HIGH_DET);
    this.xs.fill(0);
    this.xd.fill(0);
    this.pos = 0;
  }
}

/** G.722 64 kbit/s encoder: 2n samples at 16 kHz -> n code bytes. State persists across calls. */
export class G722Encoder {
  private readonly low = new G722Band(LOW_DET);
  private readonly high = new G722Band(HIGH_DET);
  /** Transmit QMF delay lines (even and odd input samples), each a 12-sample ring stored twice. */
  private readonly xe = new Int32Array(24);
  private readonly xo = new Int32Array(24);
  private pos = 0;

  /** Encodes pcm[offset, offset+length) (length even) into out[outOffset...]; returns bytes written. */
  encode(pcm: Int16Array, offset: number, length: number, out: Uint8Array, outOffset: number): number {
    const low = this.low;
    const high = this.high;
    const xe = this.xe;
    const xo = this.xo;
    let pos = this.pos;
    let o = outOffset;
    for (let j = 0; j + 1 < length; j += 2) {
      // Transmit QMF
      xe[pos] = xe[pos + 12] = pcm[offset + j];
      xo[pos] = xo[pos + 12] = pcm[offset + j + 1];
      let sumOdd = 0;
      let sumEven = 0;
      for (let i = 0; i < 12; i++) {
        sumOdd += xe[pos + 1 + i] * QMF[i];
        sumEven += xo[pos + 1 + i] * QMF[11 - i];
      }
      pos = pos === 11 ? 0 : pos + 1;
      const xlow = (sumEven + sumOdd) >> 14;
      const xhigh = (sumEven - sumOdd) >> 14;

      // Low band: SUBTRA, QUANTL
      const el = sat16(xlow - low.s);
      let wd = el >= 0 ? el : -(el + 1);
      let i = 1;
      for (; i < 30; i++) {
        if (wd < (Q6[i] * low.det) >> 12) break;
      }
      const ilow = el < 0 ? ILN[i] : ILP[i];
      // INVQAL, LOGSCL, SCALEL, block 4
      const ril = ilow >> 2;
      const dlow = (low.det * QM4[ril]) >> 15;
      adaptScale(low, WL[RL42[ril]], 18432, 8);
      block4(low, dlow);

      // High band: SUBTRA, QUANTH
      const eh = sat16(xhigh - high.s);
      wd = eh >= 0 ? eh : -(eh + 1);
      const mih = wd >= (564 * high.det) >> 12 ? 2 : 1;
      const ihigh = eh < 0 ? IHN[mih] : IHP[mih];
      const dhigh = (high.det * QM2[ihigh]) >> 15;
      adaptScale(high, WH[RH2[ihigh]], 22528, 10);
      block4(high, dhigh);

      out[o++] = (ihigh << 6) | ilow;
    }
    this.pos = pos;
    return o - outOffset;
  }

  reset(): void {
    this.low.reset(LOW_DET);
    this.high.reset(HIGH_DET);
    this.xe.fill(0);
    this.xo.fill(0);
    this.pos = 0;
  }
}
