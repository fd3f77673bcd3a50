/**
 * Opus (RFC 7587, RTP clock 48000) through libopus compiled to WebAssembly, as shipped by `opusscript`.
 *
 * We drive opusscript's wasm module directly instead of its `OpusScript` wrapper: the wrapper returns a new
 * Buffer per packet, and it indexes its 16-bit heap views with byte pointers, so past a few hundred instances the
 * heap grows under its cached views and decoding throws (detached ArrayBuffer). Here all decoders share one pair
 * of scratch buffers in the wasm heap (decoding is synchronous, so sharing is safe), heap views are re-read after
 * every call, and our side allocates nothing per packet. libopus itself works on its own wasm heap and stack
 * inside opus_decode; that is outside our control and not on the JS heap.
 *
 * The binding's PCM exchange format is one byte per 16-bit heap slot (slot 2i = low byte, 2i + 1 = high byte of
 * sample i), for both decode output and encode input; unpackPcm/packPcm translate.
 *
 * Decoding is at 48 kHz, then the shared anti-alias decimator brings it to 8 kHz.
 *
 * (libopus could decode at 8 kHz itself, at about a third of the cost; its band edge differs from the decimator's,
 * and the model's features were learnt through this path, so the path stays until a model is trained on the other.)
 *
 * Loss: libopus PLC. The binding's decode call has no frame-size or FEC argument, and an empty payload makes it
 * conceal its whole maximum frame (120 ms at 48 kHz, about 0.7 ms of CPU) for a loss that is usually one packet.
 * A packet of only a TOC byte is concealed for the duration that byte names (RFC 6716 allows a zero-length frame;
 * libopus conceals it "no more than what the ToC says"), so we send the last packet's TOC with frame-count code 0:
 * one frame of the same configuration, 20 ms for usual packets. What one such call yields beyond the request waits
 * in a stash; the next real packet discards it. libopus fades its PLC to silence within about 100 ms, so past
 * PLC_LIMIT_SAMPLES of one gap we write zeros without asking it: a long outage costs nothing per frame.
 * In-band FEC is not reachable through this binding.
 */
import { createRequire } from 'node:module';
import { Decimator } from './decimator.ts';
import type { PayloadDecoder, PayloadEncoder } from './decoder.ts';

interface OpusHandler {
  _decode(inPtr: number, length: number, outPtr: number): number;
  _encode(inPtr: number, lengthBytes: number, outPtr: number, frameSize: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  _decoder_ctl(ctl: number, arg: number): number;
}

interface OpusNative {
  OpusScriptHandler: {
    new (sampleRate: number, channels: number, application: number): OpusHandler;
    destroy_handler(handler: OpusHandler): void;
  };
  _malloc(bytes: number): number;
  HEAPU8: Uint8Array;
  HEAP16: Int16Array;
}

const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_BITRATE = 4002;
/** RFC 6716 limit for one packet is 1275 bytes per frame, up to 3 frames in opusscript's framing. */
export const OPUS_MAX_PACKET_BYTES = 3828;
/** Longest Opus packet (120 ms) at 48 kHz. */
const MAX_DECODED_SAMPLES = 5760;
/** Longest frame one concealment call yields (a TOC names at most 60 ms per frame), at 48 kHz. */
const MAX_CONCEAL_SAMPLES = 2880;
/** Concealment libopus synthesises for one gap (its PLC is silent by then), at 48 kHz; the rest is zeros. */
const PLC_LIMIT_SAMPLES = 200 * 48;
/** TOC byte bits kept for a concealment packet: configuration and stereo flag, frame-count code 0. */
const TOC_CONFIG_MASK = 0xfc;

interface Scratch {
  native: OpusNative;
  /** Packet bytes: decode input, encode output. */
  inPtr: number;
  /** PCM in the binding's byte-per-slot format: decode output, encode input (which the binding reads 2x over). */
  outPtr: number;
}

/** Binding format -> Int16 samples. */
function unpackPcm(
  heap16: Int16Array,
  base: number,
  count: number,
  out: Int16Array,
  outOffset: number,
): void {
  for (let i = 0; i < count; i++) {
    out[outOffset + i] = (heap16[base + 2 * i] & 0xff) | (heap16[base + 2 * i + 1] << 8); // wraps to signed
  }
}

/** Int16 samples -> binding format. */
function packPcm(pcm: Int16Array, count: number, heap16: Int16Array, base: number): void {
  for (let i = 0; i < count; i++) {
    const s = pcm[i];
    heap16[base + 2 * i] = s & 0xff;
    heap16[base + 2 * i + 1] = (s >> 8) & 0xff;
  }
}

let scratch: Scratch | null = null;

function opus(): Scratch {
  if (scratch === null) {
    const require = createRequire(import.meta.url);
    const factory = require('opusscript/build/opusscript_native_wasm.js') as () => OpusNative;
    const native = factory();
    scratch = {
      native,
      inPtr: native._malloc(OPUS_MAX_PACKET_BYTES),
      // Two slots per sample for decode output; the encoder's packing loop reads up to four slots per sample.
      outPtr: native._malloc(MAX_DECODED_SAMPLES * 4 * 2 + 64),
    };
  }
  return scratch;
}

/** Frees libopus state when a decoder/encoder object is garbage-collected without dispose(). */
const finalizer = new FinalizationRegistry<OpusHandler>((handler) => {
  if (scratch !== null) scratch.native.OpusScriptHandler.destroy_handler(handler);
});

export class OpusPayloadDecoder implements PayloadDecoder {
  readonly name = 'opus';
  readonly clockRate = 48000;
  private handler: OpusHandler | null;
  private readonly s: Scratch;
  private readonly decimator = new Decimator(48000, MAX_DECODED_SAMPLES);
  private readonly wide = new Int16Array(MAX_DECODED_SAMPLES);
  private readonly stash = new Int16Array(MAX_CONCEAL_SAMPLES);
  private stashLength = 0;
  private stashPos = 0;
  /** TOC of the last decoded packet with code 0 (one frame), or -1 before the first. */
  private concealToc = -1;
  /** 48 kHz samples concealed by libopus since the last decoded packet. */
  private concealedSamples = 0;

  constructor() {
    this.s = opus();
    this.handler = new this.s.native.OpusScriptHandler(48000, 1, OPUS_APPLICATION_VOIP);
    finalizer.register(this, this.handler, this);
  }

  /** Returns the 8 kHz sample count, or 0 for a packet libopus rejects (the caller treats it as lost). */
  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const handler = this.handler;
    if (handler === null || length <= 0 || length > OPUS_MAX_PACKET_BYTES) return 0;
    const s = this.s;
    const heap = s.native.HEAPU8;
    const inPtr = s.inPtr;
    for (let i = 0; i < length; i++) heap[inPtr + i] = payload[offset + i];
    const n = handler._decode(inPtr, length, s.outPtr);
    this.stashLength = 0;
    this.stashPos = 0;
    if (n <= 0) return 0;
    this.concealToc = payload[offset] & TOC_CONFIG_MASK;
    this.concealedSamples = 0;
    let wideCount = Math.min(n, MAX_DECODED_SAMPLES);
    if (wideCount > out.length * 6) wideCount = out.length * 6;
    unpackPcm(s.native.HEAP16, s.outPtr >> 1, wideCount, this.wide, 0);
    return this.decimator.process(this.wide, 0, wideCount, out, 0);
  }

  conceal(samples: number, out: Int16Array, at = 0): number {
    const want = samples < out.length - at ? Math.max(samples, 0) : out.length - at;
    const handler = this.handler;
    let written = 0;
    while (written < want) {
      if (this.stashPos >= this.stashLength) {
        if (handler === null || this.concealToc < 0 || this.concealedSamples >= PLC_LIMIT_SAMPLES) break;
        const s = this.s;
        s.native.HEAPU8[s.inPtr] = this.concealToc;
        const n = handler._decode(s.inPtr, 1, s.outPtr);
        if (n <= 0) break;
        const count = Math.min(n, MAX_CONCEAL_SAMPLES);
        unpackPcm(s.native.HEAP16, s.outPtr >> 1, count, this.stash, 0);
        this.stashLength = count;
        this.stashPos = 0;
        this.concealedSamples += count;
      }
      let take = (want - written) * 6;
      const left = this.stashLength - this.stashPos;
      if (take > left) take = left;
      written += this.decimator.process(this.stash, this.stashPos, take, out, at + written);
      this.stashPos += take;
    }
    out.fill(0, at + written, at + want);
    return want;
  }

  reset(): void {
    // OPUS_RESET_STATE
    if (this.handler !== null) this.handler._decoder_ctl(4028, 0);
    this.decimator.reset();
    this.concealToc = -1;
    this.concealedSamples = 0;
    this.stashLength = 0;
    this.stashPos = 0;
  }

  /** Frees the libopus decoder now instead of at garbage collection. */
  dispose(): void {
    if (this.handler !== null) {
      finalizer.unregister(this);
      this.s.native.OpusScriptHandler.destroy_handler(this.handler);
      this.handler = null;
    }
  }
}

/** Opus encoder for replay: libopus at the input rate (8 or 16 kHz), VoIP mode. Returns a fresh payload. */
export class OpusPayloadEncoder implements PayloadEncoder {
  readonly name = 'opus';
  readonly payloadType: number;
  readonly clockRate = 48000;
  private readonly handlers = new Map<number, OpusHandler>();
  private readonly bitrate: number;

  constructor(payloadType: number, bitrate = 32000) {
    this.payloadType = payloadType;
    this.bitrate = bitrate;
  }

  encode(pcm: Int16Array, inputRate: number): Uint8Array {
    if (inputRate !== 8000 && inputRate !== 16000 && inputRate !== 48000) {
      throw new Error(`opus encoder: unsupported input rate ${inputRate}`);
    }
    const s = opus();
    let handler = this.handlers.get(inputRate);
    if (handler === undefined) {
      handler = new s.native.OpusScriptHandler(inputRate, 1, OPUS_APPLICATION_VOIP);
      handler._encoder_ctl(OPUS_SET_BITRATE, this.bitrate);
      finalizer.register(this, handler);
      this.handlers.set(inputRate, handler);
    }
    const frame = Math.min(pcm.length, MAX_DECODED_SAMPLES);
    packPcm(pcm, frame, s.native.HEAP16, s.outPtr >> 1);
    const n = handler._encode(s.outPtr, frame * 2, s.inPtr, frame);
    if (n < 0) throw new Error(`opus encoder: libopus error ${n}`);
    return s.native.HEAPU8.slice(s.inPtr, s.inPtr + n);
  }
}
