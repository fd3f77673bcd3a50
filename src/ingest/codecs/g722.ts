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

/** Adaptive predictor state of one sub-band (two poles, six zeros). */
export class G722Band {
  s = 0;
  sp = 0;
  sz = 0;
  nb = 0;
  det = 0;
  readonly r = new Int32Array(3);
  readonly a = new Int32Array(3);
  readonly ap = new Int32Array(3);
  readonly p = new Int32Array(3);
  readonly d = new Int32Array(7);
  readonly b = new Int32Array(7);
  readonly bp = new Int32Array(7);
  readonly sg = new Int32Array(7);

  constructor(initialDet: number) {
    this.det = initialDet;
  }

  reset(initialDet: number): void {
    this.s = 0;
    this.sp = 0;
    this.sz = 0;
    this.nb = 0;
    this.det = initialDet;
    this.r.fill(0);
    this.a.fill(0);
    this.ap.fill(0);
    this.p.fill(0);
    this.d.fill(0);
    this.b.fill(0);
    this.bp.fill(0);
    this.sg.fill(0);
  }
}

/** Block 4: reconstruction, pole/zero predictor adaptation and the next prediction, from quantised difference d. */
function block4(band: G722Band, d: number): void {
  const r = band.r;
  const a = band.a;
  const ap = band.ap;
  const p = band.p;
  const dd = band.d;
  const b = band.b;
  const bp = band.bp;
  const sg = band.sg;

  // RECONS, PARREC
  dd[0] = d;
  r[0] = sat16(band.s + d);
  p[0] = sat16(band.sz + d);

  // UPPOL2
  sg[0] = p[0] >> 15;
  sg[1] = p[1] >> 15;
  sg[2] = p[2] >> 15;
  let wd1 = sat16(a[1] << 2);
  let wd2 = sg[0] === sg[1] ? -wd1 : wd1;
  if (wd2 > 32767) wd2 = 32767;
  let wd3 = (wd2 >> 7) + (sg[0] === sg[2] ? 128 : -128);
  wd3 += (a[2] * 32512) >> 15;
  if (wd3 > 12288) wd3 = 12288;
  else if (wd3 < -12288) wd3 = -12288;
  ap[2] = wd3;

  // UPPOL1
  wd1 = sg[0] === sg[1] ? 192 : -192;
  wd2 = (a[1] * 32640) >> 15;
  ap[1] = sat16(wd1 + wd2);
  wd3 = sat16(15360 - ap[2]);
  if (ap[1] > wd3) ap[1] = wd3;
  else if (ap[1] < -wd3) ap[1] = -wd3;

  // UPZERO
  wd1 = d === 0 ? 0 : 128;
  sg[0] = d >> 15;
  for (let i = 1; i < 7; i++) {
    sg[i] = dd[i] >> 15;
    wd2 = sg[i] === sg[0] ? wd1 : -wd1;
    wd3 = (b[i] * 32640) >> 15;
    bp[i] = sat16(wd2 + wd3);
  }

  // DELAYA
  for (let i = 6; i > 0; i--) {
    dd[i] = dd[i - 1];
    b[i] = bp[i];
  }
  for (let i = 2; i > 0; i--) {
    r[i] = r[i - 1];
    p[i] = p[i - 1];
    a[i] = ap[i];
  }

  // FILTEP
  wd1 = sat16(r[1] + r[1]);
  wd1 = (a[1] * wd1) >> 15;
  wd2 = sat16(r[2] + r[2]);
  wd2 = (a[2] * wd2) >> 15;
  band.sp = sat16(wd1 + wd2);

  // FILTEZ
  let sz = 0;
  for (let i = 6; i > 0; i--) {
    wd1 = sat16(dd[i] + dd[i]);
    sz += (b[i] * wd1) >> 15;
  }
  band.sz = sat16(sz);

  // PREDIC
  band.s = sat16(band.sp + band.sz);
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
      let xout1 = 0;
      let xout2 = 0;
      for (let i = 0; i < 12; i++) {
        xout2 += xs[pos + 1 + i] * QMF[i];
        xout1 += xd[pos + 1 + i] * QMF[11 - i];
      }
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
