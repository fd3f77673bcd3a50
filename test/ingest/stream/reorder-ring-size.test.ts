import { describe, expect, it } from 'vitest';
import { CallMedia } from '../../../src/ingest/call-media.ts';
import { RX } from '../../../src/ingest/media-sink.ts';
import { decodedLevel, levelOf, pcmuPayload, RecordingSink, rtpPacket } from './stream-helpers.ts';

const T0 = 2_000_000;

/** Feeds PCMU packets of `samples` samples in `order` (20 ms apart in arrival) and returns each frame's level. */
function playOut(samples: number, order: number[]): number[] {
  const sink = new RecordingSink();
  const media = new CallMedia(sink, { reorderMs: 60 });
  order.forEach((n, i) => {
    const bytes = rtpPacket({
      sequence: n,
      timestamp: n * samples,
      payload: pcmuPayload(levelOf(n), samples),
    });
    media.pushPacket(RX, bytes, 0, bytes.length, T0 + i * 20);
    media.flush(T0 + i * 20);
  });
  media.end();
  return sink.firstSamples(RX);
}

describe('reorder ring slot size', () => {
  // The ring starts with slots for 20 ms of 8 kHz L16 and widens on the first bigger payload it has to hold.
  it('holds reordered payloads larger than its initial slots, before and after widening', () => {
    const order = [0, 2, 1, 3, 5, 4, 6, 8, 7, 9];
    const framesPerPacket = 3; // 60 ms PCMU = 480 bytes
    const expected = order
      .map((_, n) => decodedLevel(levelOf(n)))
      .flatMap((level) => Array<number>(framesPerPacket).fill(level));
    expect(playOut(480, order)).toEqual(expected);
  });

  it('keeps payloads already held when a bigger one widens the ring', () => {
    const sizes = [160, 160, 160, 480, 160, 160];
    const starts = sizes.map((_, n) => sizes.slice(0, n).reduce((a, b) => a + b, 0));
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 60 });
    [0, 2, 3, 1, 4, 5].forEach((n, i) => {
      const payload = pcmuPayload(levelOf(n), sizes[n]);
      const bytes = rtpPacket({ sequence: n, timestamp: starts[n], payload });
      media.pushPacket(RX, bytes, 0, bytes.length, T0 + i * 20);
      media.flush(T0 + i * 20);
    });
    media.end();
    const expected = [0, 1, 2, 3, 3, 3, 4, 5].map((n) => decodedLevel(levelOf(n)));
    expect(sink.firstSamples(RX)).toEqual(expected);
  });

  it('plays small reordered payloads unchanged', () => {
    const order = [0, 1, 3, 2, 4, 6, 5, 7];
    expect(playOut(160, order)).toEqual(order.map((_, n) => decodedLevel(levelOf(n))));
  });
});
