import { linearToMuLaw, muLawToLinear } from '../../../src/ingest/codecs/registry.ts';
import type { DigitEvent, Leg, MediaSink } from '../../../src/ingest/media-sink.ts';

export interface PacketFields {
  sequence: number;
  timestamp: number;
  ssrc?: number;
  payloadType?: number;
  marker?: boolean;
  payload: Uint8Array;
}

export function rtpPacket(p: PacketFields): Uint8Array {
  const out = new Uint8Array(12 + p.payload.length);
  const view = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType ?? 0);
  view.setUint16(2, p.sequence & 0xffff);
  view.setUint32(4, p.timestamp >>> 0);
  view.setUint32(8, (p.ssrc ?? 0x1234) >>> 0);
  out.set(p.payload, 12);
  return out;
}

/** A PCMU payload whose samples all decode to the same value, so frames show which packet they came from. */
export function pcmuPayload(level: number, samples = 160): Uint8Array {
  return new Uint8Array(samples).fill(linearToMuLaw(level));
}

/** The linear value a PCMU payload of `level` decodes to. */
export function decodedLevel(level: number): number {
  return muLawToLinear(linearToMuLaw(level));
}

/** Distinct, clearly non-silent level per packet number. */
export function levelOf(n: number): number {
  return 1000 + (n % 50) * 400;
}

export function telephoneEvent(code: number, end: boolean, duration: number, volume = 10): Uint8Array {
  return new Uint8Array([code, (end ? 0x80 : 0) | volume, duration >> 8, duration & 0xff]);
}

export class RecordingSink implements MediaSink {
  readonly frames: [Int16Array[], Int16Array[]] = [[], []];
  readonly indices: [number[], number[]] = [[], []];
  readonly digits: [DigitEvent[], DigitEvent[]] = [[], []];
  ended = 0;

  pushFrame(leg: Leg, frameIndex: number, pcm: Int16Array): void {
    this.indices[leg].push(frameIndex);
    this.frames[leg].push(pcm.slice());
  }

  pushDigit(leg: Leg, event: DigitEvent): void {
    this.digits[leg].push(event);
  }

  end(): void {
    this.ended++;
  }

  /** First sample of every frame of a leg: enough to read which packet filled it. */
  firstSamples(leg: Leg): number[] {
    return this.frames[leg].map((f) => f[0]);
  }

  rms(leg: Leg, frame: number): number {
    const f = this.frames[leg][frame];
    let sum = 0;
    for (const s of f) sum += s * s;
    return Math.sqrt(sum / f.length);
  }
}

export function expectContiguous(indices: number[]): boolean {
  for (let i = 0; i < indices.length; i++) if (indices[i] !== i) return false;
  return true;
}
