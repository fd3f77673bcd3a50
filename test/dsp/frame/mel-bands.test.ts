import { describe, expect, it } from 'vitest';
import { FrameAnalyzer } from '../../../src/dsp/frame/frame-analyzer.ts';
import { BAND_COUNT, FrameFeatures } from '../../../src/dsp/frame/frame-features.ts';
import { MelBands } from '../../../src/dsp/frame/mel-bands.ts';
import { concat, pinkNoise, seconds, sine, speechLike, toPcm, whiteNoise } from './signals.ts';

/** 10 log10 of band b's mean power, from the explicit per-bin triangle weights (up to the analyzer's scale). */
function explicitBandDb(mel: MelBands, spectrum: Float32Array, b: number): number {
  let acc = 0;
  for (let j = mel.offset[b], k = mel.firstBin[b]; j < mel.offset[b + 1]; j++, k++) {
    acc += mel.weights[j] * spectrum[k] * spectrum[k];
  }
  return 10 * Math.log10(acc / mel.weightSum[b]);
}

describe('MelBands', () => {
  it('the per-segment sums the analyzer uses equal the explicit triangle weights, band by band', () => {
    // The analyzer works from the power spectrum in doubles; `spectrum` keeps magnitudes as Float32, so the
    // reference differs by that rounding only (~1e-7 relative, ~1e-6 dB). The constant window-power scale is
    // common to both and cancels in differences between bands.
    const mel = new MelBands();
    const analyzer = new FrameAnalyzer();
    const out = new FrameFeatures();
    const signal = toPcm(
      concat(
        whiteNoise(3000, seconds(0.3), 11),
        pinkNoise(3000, seconds(0.3), 12),
        speechLike(0.6, 13).samples,
        sine(700, 8000, seconds(0.2)),
      ),
    );
    let frames = 0;
    let worst = 0;
    for (let at = 0; at + 160 <= signal.length; at += 160) {
      analyzer.process(signal.subarray(at, at + 160), out);
      if (at < 320) continue; // the history holds leading zeros for the first two frames
      const ref0 = explicitBandDb(mel, analyzer.spectrum, 0);
      for (let b = 1; b < BAND_COUNT; b++) {
        const ref = explicitBandDb(mel, analyzer.spectrum, b);
        if (!Number.isFinite(ref) || !Number.isFinite(ref0)) continue;
        worst = Math.max(worst, Math.abs(out.bands[b] - out.bands[0] - (ref - ref0)));
      }
      frames++;
    }
    expect(frames).toBeGreaterThan(60);
    expect(worst).toBeLessThan(1e-4);
  });
});
