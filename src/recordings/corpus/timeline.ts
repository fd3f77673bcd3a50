import type { Leg } from '../../ingest/media-sink.ts';
import type { Prng } from './prng.ts';
import { mixInto, RATE, seconds } from './signals.ts';

/**
 * Two legs of a call being assembled, with human conversational timing helpers. Audio is placed at absolute
 * times; the buffer grows as needed and is trimmed to the call length at the end.
 */
export class Timeline {
  private legs: [Float32Array, Float32Array];
  /** Where each leg's last placed sound ends, seconds. */
  readonly endS: [number, number] = [0, 0];

  constructor(initialS = 60) {
    this.legs = [new Float32Array(seconds(initialS)), new Float32Array(seconds(initialS))];
  }

  place(leg: Leg, atS: number, audio: Float32Array, gain = 1): number {
    const at = seconds(atS);
    this.ensure(at + audio.length);
    mixInto(this.legs[leg], audio, at, gain);
    const end = atS + audio.length / RATE;
    if (end > this.endS[leg]) this.endS[leg] = end;
    return end;
  }

  /** End of the latest sound on either leg. */
  get lastS(): number {
    return Math.max(this.endS[0], this.endS[1]);
  }

  /** The call's audio, `durationS` long (padded with silence or cut). */
  finish(durationS: number): [Float32Array, Float32Array] {
    const n = seconds(durationS);
    this.ensure(n);
    return [this.legs[0].slice(0, n), this.legs[1].slice(0, n)];
  }

  private ensure(samples: number): void {
    if (samples <= this.legs[0].length) return;
    const size = Math.max(samples, this.legs[0].length * 2);
    for (let l = 0; l < 2; l++) {
      const grown = new Float32Array(size);
      grown.set(this.legs[l]);
      this.legs[l] = grown;
    }
  }
}

/** A human gap between turns: mostly 150-700 ms, sometimes a long think, sometimes a slight overlap. */
export function turnGapS(rng: Prng): number {
  if (rng.chance(0.12)) return -rng.uniform(0.1, 0.5); // starts before the other finished
  if (rng.chance(0.1)) return rng.uniform(1, 2.5);
  return Math.exp(rng.uniform(Math.log(0.15), Math.log(0.7)));
}
