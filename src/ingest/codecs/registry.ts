/**
 * Codec factory: one decoder per leg (G.722 and Opus carry state between packets), one encoder per replayed
 * stream. Decoders write canonical 8 kHz Int16 PCM into the caller's buffer (>= 960 samples).
 */
import { DEFAULT_PAYLOAD_TYPES } from '../payload-types.ts';
import type { PayloadDecoder, PayloadEncoder } from './decoder.ts';
import { G711Decoder, G711Encoder } from './g711-codec.ts';
import { G722PayloadDecoder, G722PayloadEncoder } from './g722-codec.ts';
import { L16Decoder, L16Encoder, L16WidebandDecoder } from './l16.ts';
import { OpusPayloadDecoder, OpusPayloadEncoder } from './opus.ts';

export { aLawToLinear, linearToALaw, linearToMuLaw, muLawToLinear } from './g711.ts';

export type DecodableCodec = 'pcmu' | 'pcma' | 'g722' | 'opus' | 'l16' | 'l16-16k';
export type EncodableCodec = 'pcmu' | 'pcma' | 'g722' | 'opus' | 'l16';

/**
 * Payload types used when createEncoder is given none: the lowest type the ingest defaults map to the codec
 * (payload-types.ts), so replayed streams are understood by a receiver with default settings.
 */
export const DEFAULT_ENCODER_PAYLOAD_TYPES: Readonly<Record<EncodableCodec, number>> = Object.freeze({
  pcmu: defaultPayloadType('pcmu', 0),
  pcma: defaultPayloadType('pcma', 8),
  g722: defaultPayloadType('g722', 9),
  opus: defaultPayloadType('opus', 96),
  l16: defaultPayloadType('l16', 97),
});

function defaultPayloadType(codec: EncodableCodec, fallback: number): number {
  // Integer keys enumerate in ascending order.
  for (const [pt, name] of Object.entries(DEFAULT_PAYLOAD_TYPES)) if (name === codec) return Number(pt);
  return fallback;
}

export function createDecoder(codec: DecodableCodec): PayloadDecoder {
  switch (codec) {
    case 'pcmu':
    case 'pcma':
      return new G711Decoder(codec);
    case 'l16':
      return new L16Decoder();
    case 'l16-16k':
      return new L16WidebandDecoder();
    case 'g722':
      return new G722PayloadDecoder();
    case 'opus':
      return new OpusPayloadDecoder();
    default:
      throw new Error(`no decoder for codec '${codec}'`);
  }
}

export function createEncoder(codec: EncodableCodec, payloadType?: number): PayloadEncoder {
  const pt = payloadType ?? DEFAULT_ENCODER_PAYLOAD_TYPES[codec];
  switch (codec) {
    case 'pcmu':
    case 'pcma':
      return new G711Encoder(codec, pt);
    case 'l16':
      return new L16Encoder(pt);
    case 'g722':
      return new G722PayloadEncoder(pt);
    case 'opus':
      return new OpusPayloadEncoder(pt);
    default:
      throw new Error(`no encoder for codec '${codec}'`);
  }
}
