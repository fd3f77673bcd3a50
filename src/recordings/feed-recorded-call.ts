/**
 * The offline entry into the live pipeline: a recorded call becomes the same MediaSink calls that live ingest
 * makes. WAV audio is framed directly (it never was packets); captured packets go through a real CallMedia with
 * their capture times as arrival times, so reordering, loss, duplicates and telephone-events are handled by the
 * exact code that handles them live.
 */
import { CallMedia, type CallMediaOptions } from '../ingest/call-media.ts';
import { Decimator } from '../ingest/codecs/decimator.ts';
import { FRAME_SAMPLES, type MediaSink, RX, TX } from '../ingest/media-sink.ts';
import type { RecordedCall } from './recorded-call.ts';

/**
 * Feeds `call` to `sink` and ends it. PCM: 16 kHz is decimated to 8 kHz with the codecs' anti-alias decimator,
 * then frame k of rx and frame k of tx are pushed together (the last frame padded with silence); a mono file
 * has only rx frames. Packets: CallMedia, flushed after every packet at its capture time.
 * Returns the CallMedia used for packets (its stats, drops and unsupported codecs), null for PCM.
 */
export interface FeedOptions extends CallMediaOptions {
  /** Called with the CallMedia before its first packet, for sinks that read its transport stats as they go. */
  onMedia?: (media: CallMedia) => void;
}

export function feedRecordedCall(
  call: RecordedCall,
  sink: MediaSink,
  options?: FeedOptions,
): CallMedia | null {
  if (call.kind === 'pcm') {
    const legs = call.legs.map((pcm) => (pcm === null ? null : to8k(pcm, call.sampleRate)));
    feedPcm(legs[0]!, legs[1], sink);
    return null;
  }
  const media = new CallMedia(sink, options);
  options?.onMedia?.(media);
  for (const packet of call.packets) {
    media.pushPacket(packet.leg, packet.data, 0, packet.data.length, packet.timeMs);
    media.flush(packet.timeMs);
  }
  media.end();
  return media;
}

function to8k(pcm: Int16Array, sampleRate: 8000 | 16000): Int16Array {
  if (sampleRate === 8000) return pcm;
  const out = new Int16Array(Math.ceil(pcm.length / 2));
  const written = new Decimator(16000).process(pcm, 0, pcm.length, out, 0);
  return out.subarray(0, written);
}

function feedPcm(rx: Int16Array, tx: Int16Array | null, sink: MediaSink): void {
  const frames = Math.ceil(Math.max(rx.length, tx?.length ?? 0) / FRAME_SAMPLES);
  const rxFrame = new Int16Array(FRAME_SAMPLES);
  const txFrame = new Int16Array(FRAME_SAMPLES);
  for (let k = 0; k < frames; k++) {
    sink.pushFrame(RX, k, fillFrame(rx, k, rxFrame));
    if (tx !== null) sink.pushFrame(TX, k, fillFrame(tx, k, txFrame));
  }
  sink.end();
}

function fillFrame(pcm: Int16Array, k: number, frame: Int16Array): Int16Array {
  const from = k * FRAME_SAMPLES;
  const to = Math.min(from + FRAME_SAMPLES, pcm.length);
  if (to > from) frame.set(pcm.subarray(from, to));
  frame.fill(0, Math.max(0, to - from));
  return frame;
}
