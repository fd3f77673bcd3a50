import { describe, expect, it } from 'vitest';
import { CallMedia } from '../../../src/ingest/call-media.ts';
import { createDecoder, createEncoder } from '../../../src/ingest/codecs/registry.ts';
import { DROP } from '../../../src/ingest/drop-reasons.ts';
import { FRAME_SAMPLES, RX } from '../../../src/ingest/media-sink.ts';
import {
  DEFAULT_PAYLOAD_TYPES,
  parsePayloadTypeList,
  withPayloadTypes,
} from '../../../src/ingest/payload-types.ts';
import { FrameAssembler } from '../../../src/ingest/rtp/frame-assembler.ts';
import { JITTER_DOUBLES, JITTER_MS, JITTER_WORDS, updateJitter } from '../../../src/ingest/rtp/jitter.ts';
import { telephoneEventName } from '../../../src/ingest/rtp/telephone-events.ts';
import { pcmuPayload, RecordingSink, rtpPacket } from './stream-helpers.ts';

/** The estimator on a state of its own, as a leg keeps it in its row. */
function jitterState(): {
  update: (arrivalMs: number, timestamp: number, clockRate: number) => void;
  ms: () => number;
} {
  const state = new Float64Array(JITTER_DOUBLES);
  const words = new Int32Array(JITTER_WORDS);
  return {
    update: (arrivalMs, timestamp, clockRate) => {
      updateJitter(state, 0, words, 0, arrivalMs, timestamp, clockRate);
    },
    ms: () => state[JITTER_MS] as number,
  };
}

describe('updateJitter (RFC 3550 A.8)', () => {
  it('is zero for packets arriving exactly at their media spacing', () => {
    const j = jitterState();
    for (let n = 0; n < 100; n++) j.update(1000 + n * 20, n * 160, 8000);
    expect(j.ms()).toBe(0);
  });

  it('converges to |D| when transit alternates by 5 ms, across timestamp wrap', () => {
    const j = jitterState();
    for (let n = 0; n < 400; n++) j.update(1000 + n * 20 + (n % 2) * 5, (0xfffff000 + n * 160) >>> 0, 8000);
    expect(j.ms()).toBeCloseTo(5, 3);
  });

  it('ignores a timestamp reset instead of reporting seconds of jitter', () => {
    const j = jitterState();
    for (let n = 0; n < 10; n++) j.update(n * 20, n * 160, 8000);
    j.update(200, 123_456_789, 8000);
    expect(j.ms()).toBe(0);
  });

  it('feeds LegStats.jitterMs', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 200; n++) {
      const bytes = rtpPacket({ sequence: n, timestamp: n * 160, payload: pcmuPayload(500) });
      media.pushPacket(RX, bytes, 0, bytes.length, 1000 + n * 20 + (n % 2) * 8);
    }
    expect(media.stats[RX].jitterMs).toBeCloseTo(8, 1);
  });
});

describe('payload types', () => {
  it('has the RFC 3551 statics and the usual dynamic defaults', () => {
    expect(DEFAULT_PAYLOAD_TYPES[0]).toBe('pcmu');
    expect(DEFAULT_PAYLOAD_TYPES[8]).toBe('pcma');
    expect(DEFAULT_PAYLOAD_TYPES[9]).toBe('g722');
    expect(DEFAULT_PAYLOAD_TYPES[13]).toBe('cn');
    expect(DEFAULT_PAYLOAD_TYPES[18]).toBe('g729');
    expect(DEFAULT_PAYLOAD_TYPES[101]).toBe('telephone-event');
  });

  it('overrides dynamic types and names a bad entry', () => {
    const map = withPayloadTypes({ 111: 'opus', 101: 'l16' });
    expect(map[111]).toBe('opus');
    expect(map[101]).toBe('l16');
    expect(map[0]).toBe('pcmu');
    expect(parsePayloadTypeList('96=opus, 126=telephone-event')).toEqual({
      96: 'opus',
      126: 'telephone-event',
    });
    expect(() => parsePayloadTypeList('96=speex')).toThrow(/payloadTypes\.96: unknown codec 'speex'/);
    expect(() => parsePayloadTypeList('opus')).toThrow(/expected PT=codec/);
  });

  it('maps a remapped dynamic type in the stream', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { payloadTypes: { 120: 'pcma' } });
    const bytes = rtpPacket({
      sequence: 1,
      timestamp: 0,
      payloadType: 120,
      payload: new Uint8Array(160).fill(0xd5),
    });
    expect(media.pushPacket(RX, bytes, 0, bytes.length, 0)).toBe(0);
    media.end();
    expect(media.stats[RX].codec).toBe('pcma');
    expect(sink.indices[RX]).toEqual([0]);
  });
});

describe('telephone-event names', () => {
  it('names keys, flash and fax/modem events', () => {
    expect([0, 9, 10, 11, 12, 15, 16, 32, 36, 200].map(telephoneEventName)).toEqual([
      '0',
      '9',
      '*',
      '#',
      'A',
      'D',
      'flash',
      'ans',
      'cng',
      'event-200',
    ]);
  });
});

describe('CallMedia lifecycle', () => {
  it('ends once, completes the last frame, and refuses packets after end', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    const bytes = rtpPacket({ sequence: 1, timestamp: 0, payload: pcmuPayload(800, 100) });
    media.pushPacket(RX, bytes, 0, bytes.length, 0);
    expect(sink.indices[RX]).toEqual([]); // still in the start-of-stream reorder wait
    media.end();
    media.end();
    expect(sink.ended).toBe(1);
    expect(sink.indices[RX]).toEqual([0]);
    expect(sink.frames[RX][0][99]).not.toBe(0);
    expect(sink.frames[RX][0][100]).toBe(0);
    expect(media.pushPacket(RX, bytes, 0, bytes.length, 10)).toBe(DROP.closed);
    expect(media.drops[DROP.closed]).toBe(1);
    expect(media.lastArrivalMs).toBe(0);
  });

  it('counts a packet the sink throws on instead of throwing', () => {
    const sink = new RecordingSink();
    sink.pushFrame = () => {
      throw new Error('sink failed');
    };
    const media = new CallMedia(sink, { reorderMs: 0 });
    for (let n = 0; n < 3; n++) {
      const bytes = rtpPacket({ sequence: n, timestamp: n * 160, payload: pcmuPayload(800) });
      expect(() => media.pushPacket(RX, bytes, 0, bytes.length, n * 20)).not.toThrow();
    }
    expect(media.failures).toBe(3);
    expect(media.stats[RX].packets).toBe(3);
    // Counted as forkguard's fault, not as a bad packet of the sender's.
    expect(media.drops[DROP.internal_error]).toBe(3);
    expect(media.drops[DROP.truncated]).toBe(0);
  });

  it('drops truncated and oversized payloads with their reasons', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    const event = rtpPacket({ sequence: 1, timestamp: 0, payloadType: 101, payload: new Uint8Array(3) });
    media.pushPacket(RX, event, 0, event.length, 0);
    expect(media.drops[DROP.truncated]).toBe(1);
    const huge = rtpPacket({ sequence: 2, timestamp: 0, payload: new Uint8Array(1600) });
    expect(media.pushPacket(RX, huge, 0, huge.length, 0)).toBe(DROP.oversized);
    const short = new Uint8Array(5).fill(0x80);
    media.pushPacket(RX, short, 0, short.length, 0);
    expect(media.drops[DROP.truncated]).toBe(2);
    expect(media.failures).toBe(0);
  });
});

describe('CallMedia with every decodable codec of the registry', () => {
  const cases = [
    { codec: 'pcma', pt: 8, clock: 8000 },
    { codec: 'g722', pt: 9, clock: 8000 },
    { codec: 'opus', pt: 96, clock: 48000 },
    { codec: 'l16', pt: 97, clock: 8000 },
  ] as const;
  for (const { codec, pt, clock } of cases) {
    it(`${codec}: one 20 ms frame per packet at the level sent`, () => {
      const encoder = createEncoder(codec, pt);
      const sink = new RecordingSink();
      const media = new CallMedia(sink);
      const pcm = new Int16Array(160);
      const amplitude = 8000;
      for (let n = 0; n < 50; n++) {
        for (let i = 0; i < 160; i++)
          pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * (n * 160 + i)) / 8000));
        const payload = encoder.encode(pcm, 8000);
        const bytes = rtpPacket({ sequence: n, timestamp: (n * clock) / 50, payloadType: pt, payload });
        expect(media.pushPacket(RX, bytes, 0, bytes.length, n * 20)).toBe(0);
        media.flush(n * 20);
      }
      media.end();
      expect(media.stats[RX].codec).toBe(codec);
      expect(media.failures).toBe(0);
      expect(sink.indices[RX].length).toBe(50);
      // Past codec start-up, the level is the sine's RMS (amplitude / sqrt 2) within codec error.
      for (let f = 10; f < 50; f++) {
        expect(sink.rms(RX, f)).toBeGreaterThan((amplitude / Math.SQRT2) * 0.7);
        expect(sink.rms(RX, f)).toBeLessThan((amplitude / Math.SQRT2) * 1.3);
      }
    });
  }
});

describe('FrameAssembler silence', () => {
  it('emits whole silent frames as zeros and never writes into them, around partly filled frames', () => {
    const frames: { index: number; pcm: Int16Array; same: Int16Array }[] = [];
    const sink = {
      pushFrame: (_leg: number, index: number, pcm: Int16Array) =>
        frames.push({ index, pcm: pcm.slice(), same: pcm }),
      pushDigit: () => {},
      end: () => {},
    };
    const assembler = new FrameAssembler(RX, sink);
    const tone = new Int16Array(100).map((_, i) => 1000 + i);
    assembler.write(tone, 0, 100); // 100 of frame 0
    assembler.writeSilence(60 + 2 * FRAME_SAMPLES + 40); // rest of frame 0, frames 1-2 whole, 40 of frame 3
    assembler.write(tone, 0, 100); // 40..140 of frame 3
    assembler.writeNoise(FRAME_SAMPLES + 40, 300); // 140..160 of 3, frame 4 whole, 20 of frame 5
    assembler.finish();
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(frames[0].pcm.subarray(0, 100))).toEqual(Array.from(tone));
    expect(frames[0].pcm.subarray(100).every((s) => s === 0)).toBe(true);
    expect(frames[1].pcm.every((s) => s === 0) && frames[2].pcm.every((s) => s === 0)).toBe(true);
    // Whole silent frames share one buffer, which still holds zeros after everything else was written.
    expect(frames[1].same).toBe(frames[2].same);
    expect(frames[1].same.every((s) => s === 0)).toBe(true);
    expect(frames[3].pcm.subarray(0, 40).every((s) => s === 0)).toBe(true);
    expect(Array.from(frames[3].pcm.subarray(40, 140))).toEqual(Array.from(tone));
    expect(frames[4].pcm.some((s) => s !== 0)).toBe(true);
    expect(frames[5].pcm.subarray(20).every((s) => s === 0)).toBe(true);
  });
});

describe('FrameAssembler concealment', () => {
  // Concealment lands in the leg's frame where it belongs; the reference is the decoder's own output written
  // sample for sample after whatever the frame already held.
  const cases = [
    { codec: 'pcmu', pt: 0 },
    { codec: 'pcma', pt: 8 },
    { codec: 'g722', pt: 9 },
    { codec: 'l16', pt: 97 },
    { codec: 'opus', pt: 96 },
  ] as const;
  for (const { codec, pt } of cases) {
    it(`${codec}: the same samples as the decoder's concealment, from any point of a frame`, () => {
      const encoder = createEncoder(codec, pt);
      const pcm = new Int16Array(FRAME_SAMPLES).map((_, i) =>
        Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 8000)),
      );
      const payload = encoder.encode(pcm, 8000);
      for (const lead of [0, 1, 37, 159]) {
        for (const gap of [1, 120, 480, 700, 1000]) {
          const direct = createDecoder(codec);
          const reference = createDecoder(codec);
          const out = new Int16Array(960);
          for (let n = 0; n < 3; n++) {
            direct.decode(payload, 0, payload.length, out);
            reference.decode(payload, 0, payload.length, out);
          }
          const want: number[] = new Array(lead).fill(7);
          let left = gap;
          while (left > 0) {
            const made = reference.conceal(Math.min(left, 960), out);
            if (made <= 0) break;
            want.push(...out.subarray(0, made));
            left -= made;
          }
          const sink = new RecordingSink();
          const assembler = new FrameAssembler(RX, sink);
          assembler.write(new Int16Array(lead).fill(7), 0, lead);
          expect(assembler.writeConcealed(direct, gap)).toBe(want.length - lead);
          assembler.finish();
          const got = sink.frames[RX].flatMap((f) => Array.from(f)).slice(0, want.length);
          expect(got).toEqual(want);
        }
      }
    });
  }
});
