/**
 * Decoder contract: one RTP payload in, canonical 8 kHz 16-bit PCM out, with no allocation per call.
 * Each leg owns its decoder instance (G.722 and Opus keep state between packets).
 */
export interface PayloadDecoder {
  /** Codec name as reported in stats and logs: 'pcmu', 'pcma', 'g722', 'opus', 'l16'. */
  readonly name: string;
  /** RTP clock rate of the payload (G.722 is 8000 by RFC 3551 even though it carries 16 kHz audio). */
  readonly clockRate: number;
  /**
   * Decodes payload[offset, offset+length) into `out` starting at out[0], resampled to 8 kHz.
   * Returns the number of 8 kHz samples written (160 for a 20 ms packet). `out` holds at least 960 samples.
   */
  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number;
  /**
   * Writes up to `samples` 8 kHz samples of concealment for a lost packet (codec PLC where there is one) to
   * out[at...] (at most up to out's end); returns how many. Fewer, down to 0, once the concealment has faded
   * out: the rest of the gap is silence, which the caller writes.
   */
  conceal(samples: number, out: Int16Array, at?: number): number;
  reset(): void;
}

export interface PayloadEncoder {
  readonly name: string;
  readonly payloadType: number;
  readonly clockRate: number;
  /** Encodes 20 ms of 8 kHz or 16 kHz PCM (as given by `inputRate`) into one RTP payload. */
  encode(pcm: Int16Array, inputRate: number): Uint8Array;
}
