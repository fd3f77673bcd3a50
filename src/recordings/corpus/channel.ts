import { Upsampler2x } from '../../ingest/codecs/upsampler.ts';
import type { Delivery } from './call-plan.ts';
import type { Prng } from './prng.ts';
import { dbm0ToAmplitude, shapedNoise, whiteNoise } from './signals.ts';

/**
 * The telephone channel between the talkers and the fork: band limits, a noise bed and level, then how the
 * recording reaches forkguard (WAV encodings, or RTP packets with loss and jitter).
 */
export interface ChannelSettings {
  noiseDbm0: number;
  shapedNoise: boolean;
  gainDb: number;
}

export function randomChannel(rng: Prng): ChannelSettings {
  const noisy = rng.chance(0.15);
  return {
    noiseDbm0: noisy ? rng.uniform(-38, -28) : rng.uniform(-72, -45),
    shapedNoise: rng.chance(0.6),
    gainDb: rng.uniform(-10, 3),
  };
}

/** Applies a 300-3400 Hz band-pass (two biquads), the noise bed and the gain, in place; clips to full scale. */
export function applyChannel(rng: Prng, audio: Float32Array, settings: ChannelSettings): void {
  biquad(audio, highPass(300));
  biquad(audio, lowPass(3400));
  const durationS = audio.length / 8000;
  const rms = dbm0ToAmplitude(settings.noiseDbm0);
  const noise = settings.shapedNoise ? shapedNoise(rng, durationS, rms) : whiteNoise(rng, durationS, rms);
  const gain = 10 ** (settings.gainDb / 20);
  for (let i = 0; i < audio.length; i++) {
    const v = audio[i] * gain + noise[i];
    audio[i] = v > 1 ? 1 : Math.max(v, -1);
  }
}

export function randomDelivery(rng: Prng, requiresPackets: boolean): Delivery {
  if (requiresPackets || rng.chance(0.25)) {
    const r = rng.next();
    return {
      format: 'pcap',
      codec: r < 0.4 ? 'pcmu' : r < 0.65 ? 'pcma' : r < 0.85 ? 'g722' : 'opus',
      lossRate: rng.chance(0.5) ? rng.uniform(0, 0.03) : 0,
      jitterMs: rng.chance(0.5) ? rng.uniform(0, 25) : 0,
      strep: rng.chance(0.3),
    };
  }
  const r = rng.next();
  if (r < 0.4) return { format: 'wav', encoding: 'pcm16', sampleRate: 8000 };
  if (r < 0.7) return { format: 'wav', encoding: 'mulaw', sampleRate: 8000 };
  if (r < 0.85) return { format: 'wav', encoding: 'alaw', sampleRate: 8000 };
  return { format: 'wav', encoding: 'pcm16', sampleRate: 16000 };
}

interface BiquadCoefficients {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

// RBJ audio-EQ cookbook filters, Q = 1/sqrt(2) (Butterworth).
function highPass(f: number): BiquadCoefficients {
  const w = (2 * Math.PI * f) / 8000;
  const alpha = Math.sin(w) / Math.SQRT2;
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return {
    b0: (1 + cos) / 2 / a0,
    b1: -(1 + cos) / a0,
    b2: (1 + cos) / 2 / a0,
    a1: (-2 * cos) / a0,
    a2: (1 - alpha) / a0,
  };
}

function lowPass(f: number): BiquadCoefficients {
  const w = (2 * Math.PI * f) / 8000;
  const alpha = Math.sin(w) / Math.SQRT2;
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return {
    b0: (1 - cos) / 2 / a0,
    b1: (1 - cos) / a0,
    b2: (1 - cos) / 2 / a0,
    a1: (-2 * cos) / a0,
    a2: (1 - alpha) / a0,
  };
}

function biquad(x: Float32Array, c: BiquadCoefficients): void {
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const y = c.b0 * x[i] + c.b1 * x1 + c.b2 * x2 - c.a1 * y1 - c.a2 * y2;
    x2 = x1;
    x1 = x[i];
    y2 = y1;
    y1 = y;
    x[i] = y;
  }
}

/** 8 kHz -> 16 kHz for 16 kHz WAV and G.722 delivery, through the codecs' anti-imaging upsampler. */
export function upsampleTo16k(pcm: Int16Array): Int16Array {
  const out = new Int16Array(pcm.length * 2);
  new Upsampler2x().process(pcm, 0, pcm.length, out, 0);
  return out;
}

export function toInt16(x: Float32Array): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.round(x[i] * 32767);
    out[i] = v > 32767 ? 32767 : Math.max(v, -32768);
  }
  return out;
}
