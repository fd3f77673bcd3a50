import { describe, expect, it } from 'vitest';
import { Fingerprinter } from '../../../src/dsp/fingerprint/fingerprinter.ts';
import { hammingDistance } from '../../../src/dsp/fingerprint/hamming.ts';
import { FrameAnalyzer } from '../../../src/dsp/frame/frame-analyzer.ts';
import { BIN_COUNT, BIN_HZ, FrameFeatures } from '../../../src/dsp/frame/frame-features.ts';
import { forEachFrame, noise, sine, speech } from './audio-fixtures.ts';

const TEXT =
  'Hello, this is an important message about your account. Please press one to speak with an agent, ' +
  'or call us back at your earliest convenience.';
const OTHER_TEXT =
  'Thanks for calling the support line. I can help you with your order today, could you tell me the name on it?';

function fingerprints(pcm: Int16Array): Uint32Array {
  const analyzer = new FrameAnalyzer();
  const features = new FrameFeatures();
  const fp = new Fingerprinter(BIN_COUNT, BIN_HZ);
  const out: number[] = [];
  forEachFrame(pcm, (frame) => {
    analyzer.process(frame, features);
    out.push(fp.process(analyzer.spectrum, features.levelDbfs));
  });
  return Uint32Array.from(out);
}

/** Bit error rate and exact-equality rate over frames where both sides have a fingerprint. */
function compare(a: Uint32Array, b: Uint32Array): { frames: number; ber: number; exact: number } {
  let frames = 0;
  let bits = 0;
  let exact = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === 0 || b[i] === 0) continue;
    frames++;
    const d = hammingDistance(a[i], b[i]);
    bits += d;
    if (d === 0) exact++;
  }
  return { frames, ber: bits / (32 * Math.max(1, frames)), exact: exact / Math.max(1, frames) };
}

describe('Fingerprinter', () => {
  const reference = fingerprints(speech(TEXT));

  it('fingerprints most frames of speech', () => {
    const valid = reference.filter((h) => h !== 0).length;
    expect(valid / reference.length).toBeGreaterThan(0.5);
  });

  it.each([
    ['mu-law round trip', { codec: 'mu-law' as const }],
    ['A-law round trip', { codec: 'a-law' as const }],
    ['-10 dB', { gainDb: -10 }],
    ['mu-law at -10 dB', { codec: 'mu-law' as const, gainDb: -10 }],
  ])('matches the same speech after %s', (_name, options) => {
    const r = compare(reference, fingerprints(speech(TEXT, options)));
    expect(r.frames).toBeGreaterThan(0.4 * reference.length);
    expect(r.ber).toBeLessThan(0.1);
    expect(r.exact).toBeGreaterThan(0.3);
  });

  it('survives small packet loss (every 25th frame zeroed)', () => {
    const lossy = speech(TEXT, { codec: 'mu-law' });
    for (let k = 12; k * 160 < lossy.length; k += 25) lossy.fill(0, k * 160, (k + 1) * 160);
    const r = compare(reference, fingerprints(lossy));
    expect(r.ber).toBeLessThan(0.2);
  });

  it('does not match unrelated speech (other text, other voice)', () => {
    const r = compare(reference, fingerprints(speech(OTHER_TEXT, { voice: 'en-us+f3' })));
    expect(r.ber).toBeGreaterThan(0.4);
    expect(r.exact).toBeLessThan(0.02);
  });

  it('gives no fingerprint for silence, steady tones or DTMF', () => {
    for (const pcm of [
      new Int16Array(8000),
      sine([1000], 2),
      sine([2100], 2),
      sine([697, 1209], 2),
      sine([350, 440], 2),
    ]) {
      expect(fingerprints(pcm).filter((h) => h !== 0).length).toBe(0);
    }
  });

  it('fingerprints white noise (a looped noise bed is still a loop)', () => {
    const h = fingerprints(noise(3));
    expect(h.filter((x) => x !== 0).length).toBeGreaterThan(100);
  });

  it('gives the same fingerprints as before (the replay index in Redis is shared across versions)', () => {
    // A deterministic mix of spectra: noise, moving formants, two steady tones, a tone over noise whose band
    // entropy sweeps across the tonal threshold, and shaped noise with quiet frames. The checksum over every
    // frame's hash, weak-bit fraction and weakest bit is what the plain implementation (33 logarithms per frame,
    // smoothing summed in place) gives; hosts in a rolling upgrade must keep matching each other's recordings.
    let x = 12345;
    const random = (): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32;
    };
    const fp = new Fingerprinter(BIN_COUNT, BIN_HZ);
    const spectrum = new Float32Array(BIN_COUNT);
    let sum = 0x811c9dc5;
    let fingerprinted = 0;
    for (let f = 0; f < 3000; f++) {
      const kind = Math.floor(f / 150) % 5;
      for (let k = 0; k < BIN_COUNT; k++) {
        if (kind === 0) spectrum[k] = random() * 10;
        else if (kind === 1)
          spectrum[k] =
            100 / (1 + (k - 15 - 5 * Math.sin(f / 7)) ** 2 / 4) +
            40 / (1 + (k - 50 - 10 * Math.sin(f / 11)) ** 2 / 9) +
            random();
        else if (kind === 2) spectrum[k] = (k === 22 || k === 39 ? 1000 : 0) + random() * 0.1;
        else if (kind === 3) spectrum[k] = (k === 22 ? 1000 * (1 + (f % 13)) : 0) + random() * (f % 40);
        else spectrum[k] = random() * (1 + k / 10) * (1 + Math.sin(f / 3 + k / 9));
      }
      const hash = fp.process(spectrum, kind === 4 && f % 50 < 5 ? -60 : -20);
      if (hash !== 0) fingerprinted++;
      for (const v of [hash, Math.round(fp.weakBits * 32), fp.weakestBit])
        sum = Math.imul(sum ^ v, 0x01000193) >>> 0;
    }
    expect(fingerprinted).toBe(1656);
    expect(sum.toString(16)).toBe('3a07407f');
  });
});
