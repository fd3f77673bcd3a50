import type { Prng } from './prng.ts';
import { concat, dbm0ToAmplitude, RATE, seconds, tones } from './signals.ts';

/** Fax and modem signalling as ITU-T T.30 / V.25 / V.8 / V.21 and Bell 103 define it. */

/** T.30 CNG: 1100 Hz, 0.5 s on, 3 s off, from the calling fax. */
export function cng(levelDbm0: number, totalS: number): Float32Array {
  const on = tones([1100], 0.5, [dbm0ToAmplitude(levelDbm0)]);
  const out = new Float32Array(seconds(totalS));
  for (let at = 0; at < out.length; at += seconds(3.5))
    out.set(on.subarray(0, Math.min(on.length, out.length - at)), at);
  return out;
}

/** V.25 ANS / T.30 CED: 2100 Hz; with `reversals`, 180° phase reversals every 450 ms (echo-canceller disable). */
export function ced(levelDbm0: number, durationS: number, reversals: boolean): Float32Array {
  const n = seconds(durationS);
  const out = new Float32Array(n);
  const a = dbm0ToAmplitude(levelDbm0);
  const w = (2 * Math.PI * 2100) / RATE;
  const flip = seconds(0.45);
  for (let i = 0; i < n; i++) {
    const phase = reversals && Math.floor(i / flip) % 2 === 1 ? Math.PI : 0;
    out[i] = a * Math.sin(w * i + phase);
  }
  return out;
}

/** V.8 ANSam: 2100 Hz amplitude-modulated by 15 Hz at 20 % depth, phase reversals every 450 ms. */
export function ansam(levelDbm0: number, durationS: number): Float32Array {
  const out = ced(levelDbm0, durationS, true);
  for (let i = 0; i < out.length; i++) out[i] *= 1 + 0.2 * Math.sin((2 * Math.PI * 15 * i) / RATE);
  return out;
}

/** Bell 103 answer tone, 2225 Hz. */
export function bellAnswer(levelDbm0: number, durationS: number): Float32Array {
  return tones([2225], durationS, [dbm0ToAmplitude(levelDbm0)]);
}

/**
 * V.21 channel 2 FSK at 300 bit/s (mark 1650 Hz, space 1850 Hz), continuous phase: the HDLC flag preamble of
 * T.30 (0x7E repeated) followed by random frame bits.
 */
export function v21(rng: Prng, levelDbm0: number, durationS: number): Float32Array {
  const n = seconds(durationS);
  const out = new Float32Array(n);
  const a = dbm0ToAmplitude(levelDbm0);
  const samplesPerBit = RATE / 300;
  const preambleBits = 300; // 1 s of flags
  let phase = 0;
  let bit = 1;
  for (let i = 0; i < n; i++) {
    const bitIndex = Math.floor(i / samplesPerBit);
    if (i % Math.round(samplesPerBit) === 0) {
      bit = bitIndex < preambleBits ? (0x7e >> (7 - (bitIndex % 8))) & 1 : rng.chance(0.5) ? 1 : 0;
    }
    phase += (2 * Math.PI * (bit ? 1650 : 1850)) / RATE;
    out[i] = a * Math.sin(phase);
  }
  return out;
}

/** A high-speed data phase (V.17/V.29/V.34-like): a PSK carrier with random symbols, band-limited by construction. */
export function dataCarrier(
  rng: Prng,
  levelDbm0: number,
  durationS: number,
  carrierHz = 1800,
  baud = 2400,
): Float32Array {
  const n = seconds(durationS);
  const out = new Float32Array(n);
  const a = dbm0ToAmplitude(levelDbm0);
  const samplesPerSymbol = RATE / baud;
  let symbolPhase = 0;
  let nextSymbolAt = 0;
  for (let i = 0; i < n; i++) {
    if (i >= nextSymbolAt) {
      symbolPhase = (rng.int(0, 7) * Math.PI) / 4;
      nextSymbolAt += samplesPerSymbol;
    }
    out[i] = a * Math.sin((2 * Math.PI * carrierHz * i) / RATE + symbolPhase);
  }
  // One-pole smoothing softens symbol transitions the way a pulse-shaping filter would.
  let y = 0;
  for (let i = 0; i < n; i++) {
    y = 0.6 * out[i] + 0.4 * y;
    out[i] = y;
  }
  return out;
}

/** Special information tone (ITU-T E.180): three rising tones, then silence. Frequencies of segment pairs vary. */
export function sit(rng: Prng, levelDbm0: number): Float32Array {
  const a = dbm0ToAmplitude(levelDbm0);
  const first = rng.chance(0.5) ? 913.8 : 985.2;
  const second = rng.chance(0.5) ? 1370.6 : 1428.5;
  const short = 0.276;
  const long = 0.38;
  return concat([
    tones([first], rng.chance(0.5) ? short : long, [a]),
    tones([second], rng.chance(0.5) ? short : long, [a]),
    tones([1776.7], long, [a]),
  ]);
}
