import { describe, expect, it } from 'vitest';
import { CallMedia, MEDIA_PAUSE_MS } from '../../../src/ingest/call-media.ts';
import { FADE_SAMPLES } from '../../../src/ingest/codecs/conceal.ts';
import { aLawToLinear, linearToALaw } from '../../../src/ingest/codecs/registry.ts';
import { DROP } from '../../../src/ingest/drop-reasons.ts';
import { IDLE_FILL_MS, NO_WAIT_AFTER_LOST_GAPS } from '../../../src/ingest/leg-stream.ts';
import { type Leg, RX, TX } from '../../../src/ingest/media-sink.ts';
import {
  decodedLevel,
  expectContiguous,
  levelOf,
  pcmuPayload,
  RecordingSink,
  rtpPacket,
  telephoneEvent,
} from './stream-helpers.ts';

const T0 = 1_000_000;

function push(
  media: CallMedia,
  leg: 0 | 1,
  n: number,
  arrivalMs: number,
  seqBase = 0,
  tsBase = 0,
  ssrc = 0x1234,
) {
  const bytes = rtpPacket({
    sequence: seqBase + n,
    timestamp: tsBase + n * 160,
    ssrc,
    payload: pcmuPayload(levelOf(n)),
  });
  const result = media.pushPacket(leg, bytes, 0, bytes.length, arrivalMs);
  media.flush(arrivalMs);
  return result;
}

describe('CallMedia: one leg in order', () => {
  it('emits one frame per 20 ms packet, in order, with the decoded samples', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 50; n++) push(media, RX, n, T0 + n * 20);
    media.end();
    expect(sink.indices[RX].length).toBe(50);
    expect(expectContiguous(sink.indices[RX])).toBe(true);
    expect(sink.firstSamples(RX)).toEqual(Array.from({ length: 50 }, (_, n) => decodedLevel(levelOf(n))));
    expect(media.stats[RX]).toMatchObject({ packets: 50, lost: 0, duplicates: 0, late: 0, codec: 'pcmu' });
    expect(sink.indices[TX].length).toBe(0);
    expect(sink.ended).toBe(1);
  });

  it('extends the sequence number across 65535 -> 0 without loss or resync', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 20; n++) push(media, RX, n, T0 + n * 20, 65530, 0xffffff00);
    media.end();
    expect(sink.indices[RX].length).toBe(20);
    expect(sink.firstSamples(RX)).toEqual(Array.from({ length: 20 }, (_, n) => decodedLevel(levelOf(n))));
    expect(media.stats[RX].lost).toBe(0);
    expect(media.legs[RX].resyncs).toBe(0);
  });

  it('puts packets reordered within the window back in order', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 40 });
    const order = [0, 1, 3, 2, 4, 6, 5, 7, 9, 8, 10, 11];
    order.forEach((n, i) => {
      push(media, RX, n, T0 + i * 20);
    });
    media.end();
    expect(sink.firstSamples(RX)).toEqual(order.map((_, n) => decodedLevel(levelOf(n))));
    expect(media.stats[RX]).toMatchObject({ reordered: 3, lost: 0, late: 0 });
  });

  it('puts a reordered first packet first', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    [1, 0, 2, 3].forEach((n, i) => {
      push(media, RX, n, T0 + i * 5);
    });
    media.end();
    expect(sink.firstSamples(RX)).toEqual([0, 1, 2, 3].map((n) => decodedLevel(levelOf(n))));
    expect(media.stats[RX].lost).toBe(0);
  });

  it('drops and counts duplicates, before and after playout', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 10; n++) {
      push(media, RX, n, T0 + n * 20);
      if (n === 4) expect(push(media, RX, 4, T0 + n * 20 + 1)).toBe(DROP.duplicate);
    }
    expect(push(media, RX, 2, T0 + 200)).toBe(DROP.duplicate);
    media.end();
    expect(sink.indices[RX].length).toBe(10);
    expect(media.stats[RX].duplicates).toBe(2);
    expect(media.drops[DROP.duplicate]).toBe(2);
  });

  it('conceals a loss burst, counts it and keeps frames contiguous; a straggler is late', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 40 });
    for (let n = 0; n < 30; n++) if (n < 5 || n > 9) push(media, RX, n, T0 + n * 20);
    expect(push(media, RX, 7, T0 + 30 * 20)).toBe(DROP.late);
    media.end();
    expect(sink.indices[RX].length).toBe(30);
    expect(expectContiguous(sink.indices[RX])).toBe(true);
    expect(media.stats[RX]).toMatchObject({ lost: 5, late: 1, packets: 25 });
    expect(media.drops[DROP.late]).toBe(1);
    // Concealment repeats the last packet at falling level, then fades to silence within 60 ms.
    const before = decodedLevel(levelOf(4));
    expect(sink.rms(RX, 5)).toBeGreaterThan(0);
    expect(sink.rms(RX, 5)).toBeLessThan(before);
    expect(sink.rms(RX, 9)).toBe(0);
    expect(sink.frames[RX][10][0]).toBe(decodedLevel(levelOf(10)));
    expect(media.legs[RX].concealedSamples).toBeGreaterThan(0);
  });

  it('plays a gap out only when the reorder deadline passes', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 60 });
    push(media, RX, 0, T0);
    media.flush(T0 + 60);
    push(media, RX, 2, T0 + 40);
    expect(sink.indices[RX].length).toBe(1);
    media.flush(T0 + 99);
    expect(sink.indices[RX].length).toBe(1);
    media.flush(T0 + 100);
    expect(sink.indices[RX].length).toBe(3);
    expect(media.stats[RX].lost).toBe(1);
  });

  it('times each gap from the oldest packet held behind it, gap after gap', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 40 });
    push(media, RX, 0, T0);
    // Gap at 1: 2 and 3 wait behind it from T0 + 20. Gap at 4: 5 waits from T0 + 70, and 7 (behind a second gap)
    // arrives stamped earlier, at T0 + 65, which moves the wait.
    const gaps = [
      { sequences: [2, 3], arrivals: [T0 + 20, T0 + 40], playsAt: T0 + 60, frames: [1, 4] },
      { sequences: [5, 7], arrivals: [T0 + 70, T0 + 65], playsAt: T0 + 105, frames: [4, 8] },
    ];
    for (const gap of gaps) {
      for (let i = 0; i < gap.sequences.length; i++) push(media, RX, gap.sequences[i], gap.arrivals[i]);
      media.flush(gap.playsAt - 1);
      expect(sink.indices[RX].length).toBe(gap.frames[0]);
      media.flush(gap.playsAt);
      expect(sink.indices[RX].length).toBe(gap.frames[1]);
    }
    expect(media.stats[RX].lost).toBe(3);
    expect(expectContiguous(sink.indices[RX])).toBe(true);
  });

  it('re-frames 10 ms and 30 ms packets into 20 ms frames', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    let ts = 0;
    let t = T0;
    const sizes = [80, 80, 240, 240, 80, 160, 480, 80];
    sizes.forEach((size, n) => {
      const bytes = rtpPacket({ sequence: n, timestamp: ts, payload: pcmuPayload(levelOf(n), size) });
      media.pushPacket(RX, bytes, 0, bytes.length, t);
      media.flush(t);
      ts += size;
      t += size / 8;
    });
    media.end();
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(sink.indices[RX].length).toBe(total / 160);
    const all = new Int16Array(total);
    sink.frames[RX].forEach((f, i) => {
      all.set(f, i * 160);
    });
    let at = 0;
    sizes.forEach((size, n) => {
      expect(all[at]).toBe(decodedLevel(levelOf(n)));
      expect(all[at + size - 1]).toBe(decodedLevel(levelOf(n)));
      at += size;
    });
  });
});

describe('CallMedia: a leg whose gaps keep coming out lost stops waiting for them', () => {
  /**
   * Packets every 20 ms with every fourth lost, pushed (and flushed) as they arrive. Returns, per gap, whether the
   * packet right after it played at once (its frame and the gap's came out in its own push) rather than waiting.
   */
  function lossEveryFourth(media: CallMedia, sink: RecordingSink, gaps: number, first = 0): boolean[] {
    const playedAtOnce: boolean[] = [];
    for (let n = first; n < first + 4 * gaps + 1; n++) {
      if (n % 4 === 3) continue;
      const before = sink.indices[RX].length;
      push(media, RX, n, T0 + n * 20);
      if (n % 4 === 0 && n > first) playedAtOnce.push(sink.indices[RX].length === before + 2);
    }
    return playedAtOnce;
  }

  it('waits for its first NO_WAIT_AFTER_LOST_GAPS gaps, then loses the next ones at once', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 40 });
    const gaps = NO_WAIT_AFTER_LOST_GAPS + 4;
    const playedAtOnce = lossEveryFourth(media, sink, gaps);
    expect(playedAtOnce).toEqual(Array.from({ length: gaps }, (_, i) => i >= NO_WAIT_AFTER_LOST_GAPS));
    expect(media.legs[RX].unwaitedGaps).toBe(4);
    expect(media.stats[RX]).toMatchObject({ lost: gaps, late: 0 });
    media.end();
    expect(expectContiguous(sink.indices[RX])).toBe(true);
  });

  it('gives the frames that waiting gives, concealment included, only sooner', () => {
    const run = (fixedReorderWait: boolean): RecordingSink => {
      const sink = new RecordingSink();
      const media = new CallMedia(sink, { reorderMs: 40, fixedReorderWait });
      lossEveryFourth(media, sink, NO_WAIT_AFTER_LOST_GAPS + 6);
      media.end();
      return sink;
    };
    const waiting = run(true);
    const adaptive = run(false);
    expect(adaptive.indices[RX]).toEqual(waiting.indices[RX]);
    expect(adaptive.frames[RX].map((f) => Array.from(f))).toEqual(
      waiting.frames[RX].map((f) => Array.from(f)),
    );
    // The lost frames were concealed (quieter copies of the packet before), not left silent.
    const lostFrame = 4 * NO_WAIT_AFTER_LOST_GAPS + 3;
    expect(adaptive.rms(RX, lostFrame)).toBeGreaterThan(0);
    expect(adaptive.rms(RX, lostFrame)).toBeLessThan(decodedLevel(levelOf(lostFrame - 1)));
  });

  it('waits again after a packet arrives too late for a gap it did not wait for', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 40 });
    lossEveryFourth(media, sink, NO_WAIT_AFTER_LOST_GAPS + 1);
    const lastLost = 4 * NO_WAIT_AFTER_LOST_GAPS + 3;
    // The packet of the last gap, 30 ms late: within the reorder wait, but the gap is already concealed.
    expect(push(media, RX, lastLost, T0 + lastLost * 20 + 30)).toBe(DROP.late);
    const next = lossEveryFourth(media, sink, 2, lastLost + 1);
    expect(next).toEqual([false, false]);
    expect(media.stats[RX].late).toBe(1);
  });

  it('counts only gaps it waited for: a gap drained when the stream changes is not one', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 40 });
    lossEveryFourth(media, sink, NO_WAIT_AFTER_LOST_GAPS - 1);
    // One more gap, still open (30 waits behind 29) when a new SSRC ends the stream and drains it.
    const last = 4 * (NO_WAIT_AFTER_LOST_GAPS - 1);
    push(media, RX, last + 2, T0 + (last + 2) * 20);
    const t1 = T0 + (last + 3) * 20;
    const playedAtOnce: boolean[] = [];
    for (let k = 0; k <= 12; k++) {
      if (k % 4 === 3) continue;
      const before = sink.indices[RX].length;
      push(media, RX, k, t1 + k * 20, 5000, 80_000, 0x9999);
      if (k % 4 === 0 && k > 0) playedAtOnce.push(sink.indices[RX].length === before + 2);
    }
    // The new stream's first gap completes the count; the ones after it are lost at once.
    expect(playedAtOnce).toEqual([false, true, true]);
    expect(media.stats[RX].ssrcChanges).toBe(1);
  });

  it('keeps waiting on a leg that reorders, and puts every reordered packet in its place', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 40 });
    // Cycles of 4: packets 1 and 2 of each swap places; every other cycle loses packet 3 as well.
    let n = 0;
    for (let cycle = 0; cycle < 6 * NO_WAIT_AFTER_LOST_GAPS; cycle++, n += 4) {
      const order = cycle % 2 === 0 ? [n, n + 2, n + 1, n + 3] : [n, n + 2, n + 1];
      order.forEach((k, i) => {
        push(media, RX, k, T0 + (n + i) * 20);
      });
    }
    push(media, RX, n, T0 + n * 20);
    media.end();
    expect(media.legs[RX].unwaitedGaps).toBe(0);
    expect(media.stats[RX]).toMatchObject({ late: 0, lost: 3 * NO_WAIT_AFTER_LOST_GAPS });
    expect(media.stats[RX].reordered).toBe(6 * NO_WAIT_AFTER_LOST_GAPS);
    for (let k = 0; k <= n; k++) {
      if (k % 8 !== 7) expect(sink.frames[RX][k][0]).toBe(decodedLevel(levelOf(k)));
    }
  });

  it('waits for every gap with fixedReorderWait', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { reorderMs: 40, fixedReorderWait: true });
    const playedAtOnce = lossEveryFourth(media, sink, 3 * NO_WAIT_AFTER_LOST_GAPS);
    expect(playedAtOnce.every((atOnce) => !atOnce)).toBe(true);
    // After all those losses a packet 30 ms late still finds its gap open.
    const n = 12 * NO_WAIT_AFTER_LOST_GAPS + 1;
    push(media, RX, n + 1, T0 + n * 20);
    push(media, RX, n, T0 + n * 20 + 30);
    media.end();
    expect(media.legs[RX].unwaitedGaps).toBe(0);
    expect(media.stats[RX].late).toBe(0);
    expect(sink.frames[RX][n][0]).toBe(decodedLevel(levelOf(n)));
  });
});

describe('CallMedia: stream changes', () => {
  // The second pair has the top bit set: the leg keeps an SSRC as a signed 32-bit word, and must still tell them apart.
  it.each([
    [0xaaaa, 0xbbbb],
    [0x8000_0001, 0xffff_fffe],
  ])('resyncs on an SSRC change mid-call without a gap (SSRCs %i and %i)', (first, second) => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 25; n++) push(media, RX, n, T0 + n * 20, 100, 5000, first);
    // New stream: unrelated sequence and timestamp bases.
    for (let n = 25; n < 50; n++) push(media, RX, n, T0 + n * 20, 40000, 3_000_000_000, second);
    // A straggler of the old stream is late, not a third stream.
    expect(push(media, RX, 24, T0 + 50 * 20, 100, 5000, first)).toBe(DROP.late);
    expect(media.stats[RX].late).toBe(1);
    // The old source resuming with newer numbers is a change back, not a straggler.
    for (let n = 50; n < 60; n++) push(media, RX, n, T0 + n * 20, 100, 5000, first);
    media.end();
    expect(media.stats[RX].ssrcChanges).toBe(2);
    expect(media.stats[RX].lost).toBe(0);
    expect(sink.indices[RX].length).toBe(60);
    expect(sink.firstSamples(RX)).toEqual(Array.from({ length: 60 }, (_, n) => decodedLevel(levelOf(n))));
  });

  it('decodes every packet with its own payload type when the codec changes mid-stream, held packets too', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    // PCMU, then PCMA (PT 8) from packet 10, PCMU again from 20. Packets 9 and 18 arrive two places late: each is
    // then played after packets of the other codec have come in, under a PT that is no longer the stream's latest.
    const law = (n: number): 0 | 8 => (n >= 10 && n < 20 ? 8 : 0);
    const order = Array.from({ length: 30 }, (_, n) => n).filter((n) => n !== 9 && n !== 18);
    order.splice(order.indexOf(11) + 1, 0, 9);
    order.splice(order.indexOf(20) + 1, 0, 18);
    order.forEach((n, i) => {
      const level = levelOf(n);
      const payloadType = law(n);
      const payload = payloadType === 8 ? new Uint8Array(160).fill(linearToALaw(level)) : pcmuPayload(level);
      const bytes = rtpPacket({ sequence: 500 + n, timestamp: 9000 + n * 160, payloadType, payload });
      media.pushPacket(RX, bytes, 0, bytes.length, T0 + i * 20 + 5);
      media.flush(T0 + i * 20 + 5);
    });
    media.end();
    expect(media.stats[RX]).toMatchObject({ lost: 0, reordered: 2, packets: 30 });
    const expected = Array.from({ length: 30 }, (_, n) =>
      law(n) === 8 ? aLawToLinear(linearToALaw(levelOf(n))) : decodedLevel(levelOf(n)),
    );
    const frames = sink.firstSamples(RX);
    expect(frames.slice(frames.length - 30)).toEqual(expected);
  });

  it('resyncs on a timestamp jump instead of emitting minutes of silence', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 25; n++) push(media, RX, n, T0 + n * 20);
    // Ten minutes forward, then back again, while packets keep arriving every 20 ms.
    for (let n = 25; n < 50; n++) push(media, RX, n, T0 + n * 20, 0, 8000 * 600);
    for (let n = 50; n < 75; n++) push(media, RX, n, T0 + n * 20, 0, -8000 * 30);
    media.end();
    expect(sink.indices[RX].length).toBe(75);
    expect(media.legs[RX].resyncs).toBe(2);
    expect(sink.firstSamples(RX)).toEqual(Array.from({ length: 75 }, (_, n) => decodedLevel(levelOf(n))));
  });

  it('fills a talkspurt gap (marker bit, silence suppression) with silence, not concealment or loss', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 10; n++) push(media, RX, n, T0 + n * 20);
    // Sender stops for 1 s; sequence numbers continue, timestamps advance by 1 s, marker set.
    for (let n = 10; n < 20; n++) {
      const bytes = rtpPacket({
        sequence: n,
        timestamp: n * 160 + 8000,
        marker: n === 10,
        payload: pcmuPayload(levelOf(n)),
      });
      media.pushPacket(RX, bytes, 0, bytes.length, T0 + n * 20 + 1000);
      media.flush(T0 + n * 20 + 1000);
    }
    media.end();
    expect(sink.indices[RX].length).toBe(70);
    expect(expectContiguous(sink.indices[RX])).toBe(true);
    for (let f = 10; f < 60; f++) expect(sink.rms(RX, f)).toBe(0);
    expect(sink.frames[RX][60][0]).toBe(decodedLevel(levelOf(10)));
    expect(media.stats[RX].lost).toBe(0);
    expect(media.legs[RX].resyncs).toBe(0);
  });

  it('emits low-level comfort noise for the duration of a CN period (PT 13)', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 10; n++) push(media, RX, n, T0 + n * 20);
    const cn = rtpPacket({ sequence: 10, timestamp: 1600, payloadType: 13, payload: new Uint8Array([60]) });
    media.pushPacket(RX, cn, 0, cn.length, T0 + 200);
    for (let n = 11; n < 16; n++) {
      const bytes = rtpPacket({
        sequence: n,
        timestamp: 1600 + 8000 + (n - 11) * 160,
        marker: n === 11,
        payload: pcmuPayload(levelOf(n)),
      });
      media.pushPacket(RX, bytes, 0, bytes.length, T0 + 1200 + (n - 11) * 20);
      media.flush(T0 + 1200 + (n - 11) * 20);
    }
    media.end();
    expect(sink.indices[RX].length).toBe(65);
    const expectedRms = 32767 * 10 ** (-60 / 20);
    for (let f = 10; f < 60; f++) {
      expect(sink.rms(RX, f)).toBeGreaterThan(expectedRms * 0.6);
      expect(sink.rms(RX, f)).toBeLessThan(expectedRms * 1.4);
    }
    expect(sink.frames[RX][60][0]).toBe(decodedLevel(levelOf(11)));
    expect(media.legs[RX].comfortNoiseSamples).toBe(8000);
  });

  it('reports G.729 and unknown payload types without counting them as loss', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink, { payloadTypes: { 111: 'opus' } });
    for (let n = 0; n < 5; n++) push(media, RX, n, T0 + n * 20);
    const g729 = rtpPacket({ sequence: 5, timestamp: 800, payloadType: 18, payload: new Uint8Array(20) });
    expect(media.pushPacket(RX, g729, 0, g729.length, T0 + 100)).toBe(DROP.unsupported_codec);
    const unknown = rtpPacket({ sequence: 6, timestamp: 960, payloadType: 50, payload: new Uint8Array(20) });
    expect(media.pushPacket(RX, unknown, 0, unknown.length, T0 + 120)).toBe(DROP.unknown_payload_type);
    for (let n = 7; n < 10; n++) push(media, RX, n, T0 + n * 20);
    media.end();
    expect(media.unsupportedCodecs.has('g729')).toBe(true);
    expect(media.drops[DROP.unsupported_codec]).toBe(1);
    expect(media.drops[DROP.unknown_payload_type]).toBe(1);
    expect(media.stats[RX].lost).toBe(0);
    expect(sink.indices[RX].length).toBe(10);
    expect(() => new CallMedia(sink, { payloadTypes: { 200: 'opus' } })).toThrow(/payloadTypes\.200/);
    expect(() => new CallMedia(sink, { reorderMs: 61 })).toThrow(/reorderMs/);
  });
});

describe('CallMedia: RFC 4733 telephone-events', () => {
  function event(
    media: CallMedia,
    seq: number,
    ts: number,
    code: number,
    end: boolean,
    dur: number,
    at: number,
  ) {
    const bytes = rtpPacket({
      sequence: seq,
      timestamp: ts,
      payloadType: 101,
      payload: telephoneEvent(code, end, dur),
    });
    const r = media.pushPacket(RX, bytes, 0, bytes.length, at);
    media.flush(at);
    return r;
  }

  it('turns start, updates and three end packets into one digit with start and duration', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 10; n++) push(media, RX, n, T0 + n * 20);
    // Event starts at timestamp 1600 (200 ms), updates every 20 ms, ends at 1280 units, end sent 3x.
    let seq = 10;
    for (let k = 1; k <= 8; k++) event(media, seq++, 1600, 5, false, k * 160, T0 + 200 + (k - 1) * 20);
    for (let k = 0; k < 3; k++) event(media, seq++, 1600, 5, true, 1360, T0 + 360 + k * 5);
    // Audio resumes after the event.
    for (let n = 0; n < 5; n++) {
      const bytes = rtpPacket({
        sequence: seq++,
        timestamp: 1600 + 1360 + n * 160,
        payload: pcmuPayload(100),
      });
      media.pushPacket(RX, bytes, 0, bytes.length, T0 + 380 + n * 20);
    }
    media.end();
    expect(sink.digits[RX]).toEqual([{ digit: '5', startS: 0.2, durS: 0.17, volume: 10, source: 'rfc4733' }]);
    expect(media.legs[RX].events.repeats).toBe(2);
    expect(media.stats[RX].lost).toBe(0);
    expect(expectContiguous(sink.indices[RX])).toBe(true);
  });

  it('closes an event whose end packets were lost: by the next event, and by timeout', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 5; n++) push(media, RX, n, T0 + n * 20);
    let seq = 5;
    for (let k = 1; k <= 4; k++) event(media, seq++, 800, 1, false, k * 160, T0 + 100 + k * 20);
    // End packets of '1' lost; '#' starts.
    for (let k = 1; k <= 3; k++) event(media, seq++, 2400, 11, false, k * 160, T0 + 300 + k * 20);
    expect(sink.digits[RX].map((d) => [d.digit, d.durS])).toEqual([['1', 0.08]]);
    // '#' never ends either: closed once nothing has come for the timeout.
    media.flush(T0 + 360 + 499);
    expect(sink.digits[RX].length).toBe(1);
    media.flush(T0 + 360 + 500);
    expect(sink.digits[RX].map((d) => [d.digit, d.startS, d.durS])).toEqual([
      ['1', 0.1, 0.08],
      ['#', 0.3, 0.06],
    ]);
    expect(media.legs[RX].events.endsLost).toBe(2);
    // A late end packet of the closed event does not make a second '#'.
    event(media, seq++, 2400, 11, true, 800, T0 + 900);
    media.end();
    expect(sink.digits[RX].length).toBe(2);
  });

  it('reports a reordered end before its updates once', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    push(media, RX, 0, T0);
    event(media, 1, 160, 9, false, 160, T0 + 20);
    event(media, 3, 160, 9, true, 480, T0 + 40);
    event(media, 2, 160, 9, false, 320, T0 + 45);
    event(media, 4, 160, 9, true, 480, T0 + 50);
    event(media, 5, 160, 9, true, 480, T0 + 55);
    media.end();
    expect(sink.digits[RX].map((d) => [d.digit, d.durS])).toEqual([['9', 0.06]]);
  });
});

describe('CallMedia: two legs', () => {
  it('aligns tx starting 500 ms after rx on the same frame clock, silence before its first packet', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 100; n++) {
      push(media, RX, n, T0 + n * 20, 0, 0, 0x1111);
      if (n >= 25) push(media, TX, n, T0 + n * 20 + 3, 7000, 90_000, 0x2222);
    }
    media.end();
    expect(sink.indices[RX].length).toBe(100);
    expect(sink.indices[TX].length).toBe(100);
    expect(expectContiguous(sink.indices[TX])).toBe(true);
    for (let f = 0; f < 25; f++) expect(sink.rms(TX, f)).toBe(0);
    // Frame k of both legs is the same 20 ms: both carry packet k.
    for (let f = 25; f < 100; f++) expect(sink.frames[TX][f][0]).toBe(sink.frames[RX][f][0]);
    expect(media.callZeroMs).toBe(T0);
  });

  it('keeps a leg that goes quiet moving with silence, and places its audio right when it resumes', () => {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    for (let n = 0; n < 150; n++) {
      push(media, RX, n, T0 + n * 20, 0, 0, 0x1111);
      // tx sends packets 0-19, pauses (DTX: sequence continues, timestamps keep time), resumes at 100.
      if (n < 20 || n >= 100)
        push(media, TX, n - (n >= 100 ? 80 : 0), T0 + n * 20 + 2, 0, n >= 100 ? 80 * 160 : 0, 0x2222);
      // While tx is quiet, its frames trail rx by no more than the idle delay.
      if (n >= 40 && n < 100) {
        expect(sink.indices[RX].length - sink.indices[TX].length).toBeLessThanOrEqual(200 / 20 + 3);
      }
    }
    media.end();
    expect(expectContiguous(sink.indices[TX])).toBe(true);
    expect(sink.indices[TX].length).toBe(150);
    for (let f = 20; f < 100; f++) expect(sink.rms(TX, f)).toBe(0);
    // Packet k of tx sits in frame k before the pause, and packet k of the resumed run in frame k + 80.
    for (const f of [0, 19]) expect(sink.frames[TX][f][0]).toBe(decodedLevel(levelOf(f)));
    for (const f of [100, 149]) expect(sink.frames[TX][f][0]).toBe(decodedLevel(levelOf(f - 80)));
    expect(media.stats[TX].lost).toBe(0);
    expect(media.legs[TX].idleFilledSamples).toBeGreaterThan(0);
  });
});

describe('CallMedia: idle delay of a quiet leg', () => {
  /**
   * rx steady; tx sends packets 0-59, packet n arriving `lateness(n)` ms after its time (events in arrival order),
   * then goes quiet for good, as the silent party of a pumping call does. Returns how many frames tx trails rx by
   * at the end, and how much silence was filled into tx while it was still sending.
   */
  function quietAfterTalk(lateness: (n: number) => number) {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    const events: { leg: 0 | 1; n: number; at: number }[] = [];
    for (let n = 0; n < 150; n++) {
      events.push({ leg: RX, n, at: T0 + n * 20 + 1 });
      if (n < 60) events.push({ leg: TX, n, at: T0 + n * 20 + lateness(n) });
    }
    events.sort((a, b) => a.at - b.at);
    let idleWhileTalking = -1;
    for (const e of events) {
      push(media, e.leg, e.n, e.at, 0, 0, e.leg === RX ? 0x1111 : 0x2222);
      if (e.leg === TX && e.n === 59) idleWhileTalking = media.legs[TX].idleFilledSamples;
    }
    const trail = sink.indices[RX].length - sink.indices[TX].length;
    return { media, trail, idleWhileTalking };
  }

  it('fills a steady quiet leg about the reorder wait and a frame behind the clock, not the 200 ms ceiling', () => {
    const { media, trail, idleWhileTalking } = quietAfterTalk(() => 2);
    expect(idleWhileTalking).toBe(0);
    expect(media.legs[TX].idleDelayMs).toBeLessThan(70);
    // 60 ms behind the clock: three frames, one more for the frame being filled and one for rounding.
    expect(trail).toBeLessThanOrEqual(5);
    expect(trail).toBeGreaterThanOrEqual(2);
  });

  it('waits longer behind a jittery leg: a stall of 100 ms is not taken for silence once jitter was seen', () => {
    // 0-20 ms of jitter, then packets 40-44 held up by a stall and delivered in one burst 100 ms after packet 40's
    // time: a steady leg's 60 ms delay would fill silence over them.
    let x = 7;
    const lateness = (n: number): number => {
      x = (x * 1103515245 + 12345) >>> 0;
      if (n >= 40 && n <= 44) return 100 - (n - 40) * 20;
      return (x >>> 16) % 21;
    };
    const { media, trail, idleWhileTalking } = quietAfterTalk(lateness);
    expect(idleWhileTalking).toBe(0);
    expect(media.stats[TX].lost).toBe(0);
    expect(media.legs[TX].resyncs).toBe(0);
    expect(media.legs[TX].idleDelayMs).toBeGreaterThan(80);
    expect(media.legs[TX].idleDelayMs).toBeLessThanOrEqual(IDLE_FILL_MS);
    expect(trail).toBeGreaterThan(4);
    expect(trail).toBeLessThanOrEqual(IDLE_FILL_MS / 20 + 2);
  });
});

describe('CallMedia: media pause', () => {
  /** Both legs send packets 0-49, go quiet for `quietMs` (DTX: timestamps keep time), then send 50 more. */
  function run(
    quietMs: number,
    flushEveryMs: number,
  ): { sink: RecordingSink; media: CallMedia; during: number[] } {
    const sink = new RecordingSink();
    const media = new CallMedia(sink);
    const during: number[] = [];
    const quietFrames = quietMs / 20;
    for (let n = 0; n < 50; n++) {
      push(media, RX, n, T0 + n * 20, 0, 0, 0x1111);
      push(media, TX, n, T0 + n * 20 + 2, 0, 0, 0x2222);
    }
    for (let t = T0 + 50 * 20; t < T0 + (50 + quietFrames) * 20; t += flushEveryMs) {
      media.flush(t);
      during.push(sink.indices[RX].length);
    }
    for (let n = 50; n < 100; n++) {
      const at = T0 + (n + quietFrames) * 20;
      push(media, RX, n, at, 0, quietFrames * 160, 0x1111);
      push(media, TX, n, at + 2, 0, quietFrames * 160, 0x2222);
    }
    media.end();
    return { sink, media, during };
  }

  it('stops filling silence once neither leg has had a packet for MEDIA_PAUSE_MS', () => {
    const { during } = run(5000, 20);
    const pauseFrames = MEDIA_PAUSE_MS / 20;
    // Frames emitted while both legs are quiet stop growing about MEDIA_PAUSE_MS after the last packet.
    expect(Math.max(...during)).toBeLessThanOrEqual(50 + pauseFrames + 1);
    expect(during.at(-1)).toBe(Math.max(...during));
  });

  it('gives the same frames, time-aligned on both legs, as if the quiet spell had been filled as it went', () => {
    const { sink, media } = run(5000, 20);
    // 50 frames of audio, 250 of silence, 50 of audio, on both legs, contiguous.
    for (const leg of [RX, TX]) {
      expect(expectContiguous(sink.indices[leg])).toBe(true);
      expect(sink.indices[leg].length).toBe(350);
      for (const f of [60, 150, 299]) expect(sink.rms(leg, f)).toBe(0);
      expect(sink.frames[leg][300][0]).toBe(decodedLevel(levelOf(50)));
      expect(media.stats[leg].lost).toBe(0);
    }
    for (let f = 0; f < 350; f++) expect(sink.frames[TX][f][0]).toBe(sink.frames[RX][f][0]);
    // The same call with a quiet spell shorter than the pause is filled as it goes and gives the same frames.
    const short = run(MEDIA_PAUSE_MS - 200, 20);
    expect(short.sink.indices[RX].length).toBe(50 + (MEDIA_PAUSE_MS - 200) / 20 + 50);
  });
});

/** `count` 20 ms packets (sequence n, timestamp 160 n), each with a payload of its own: byte k is n * a + k * b. */
function patternedPackets(count: number, a: number, b: number): Uint8Array[] {
  return Array.from({ length: count }, (_, n) => {
    const payload = new Uint8Array(160);
    for (let k = 0; k < 160; k++) payload[k] = (n * a + k * b) & 0xff;
    return rtpPacket({ sequence: n, timestamp: n * 160, payload });
  });
}

describe('CallMedia: a sink that ends its call', () => {
  // A 60 ms packet is three frames handed over one by one; the leg keeps its frame position in its pooled row,
  // and ending the call gives that row back (the leg goes on with a copy) between two of them.
  it('numbers the rest of a multi-frame packet on from where it was when the sink ended the call mid-packet', () => {
    const media: { current: CallMedia | null } = { current: null };
    class EndingSink extends RecordingSink {
      override pushFrame(leg: Leg, frameIndex: number, pcm: Int16Array): void {
        super.pushFrame(leg, frameIndex, pcm);
        if (this.indices[leg].length === 5) media.current?.end();
      }
    }
    const sink = new EndingSink();
    // Other legs hold rows first, so this one's row is not the pool's first (a stale row offset would show).
    const others = Array.from({ length: 5 }, () => new CallMedia(new RecordingSink()));
    media.current = new CallMedia(sink);
    for (let n = 0; n < 3; n++) {
      const bytes = rtpPacket({ sequence: n, timestamp: n * 480, payload: pcmuPayload(levelOf(n), 480) });
      media.current.pushPacket(RX, bytes, 0, bytes.length, T0 + n * 60);
    }
    for (const other of others) other.end();
    expect(media.current.failures).toBe(0);
    expect(sink.ended).toBe(1);
    // Frames 0-2 from the first packet, 3-5 from the second (the call ended after frame 4, frame 5 still goes out
    // numbered on); the third packet comes after the end and is dropped.
    expect(sink.indices[RX]).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('CallMedia input buffers', () => {
  // Datagrams reach CallMedia as their own small buffers (dgram) or at offsets inside one large buffer (a capture
  // read in place, aligned or not); all are staged or read differently and must give the same frames.
  it('gives the same frames for per-datagram buffers and a large buffer at aligned and unaligned offsets', () => {
    const packets = patternedPackets(200, 31, 7);
    // Every 9th packet is sent late, so some packets are held in the reorder ring.
    const order = packets.map((_, n) => n);
    for (let n = 8; n < order.length; n += 9) [order[n - 1], order[n]] = [order[n], order[n - 1]];
    const run = (feed: (media: CallMedia, n: number, arrival: number) => unknown): RecordingSink => {
      const sink = new RecordingSink();
      const media = new CallMedia(sink);
      for (let i = 0; i < order.length; i++) feed(media, order[i], i * 20);
      media.end();
      return sink;
    };
    const reference = run((media, n, at) => media.pushPacket(0, packets[n], 0, packets[n].length, at));
    for (const shift of [0, 1, 2, 4]) {
      const big = new Uint8Array(shift + packets.length * 172 + 8);
      for (let n = 0; n < packets.length; n++) big.set(packets[n], shift + n * 172);
      const fromBig = run((media, n, at) => media.pushPacket(0, big, shift + n * 172, 172, at));
      expect(fromBig.indices[0]).toEqual(reference.indices[0]);
      expect(fromBig.frames[0].map((f) => Array.from(f))).toEqual(
        reference.frames[0].map((f) => Array.from(f)),
      );
    }
    expect(reference.frames[0].length).toBeGreaterThan(190);
  });

  it('conceals a loss from the packet before it alike whether datagrams are retained or copied', () => {
    // Two calls interleaved, so the other call's datagram is staged between a packet and the loss after it: with
    // retained datagrams the concealment frame comes from the first packet's own buffer, which must give the same
    // frames as the copy. Losses follow in-order packets, reordered (held) ones and packets of a large buffer.
    const packets = patternedPackets(300, 57, 11);
    // Single losses, and a burst of five (concealment fades on across its frames, then silence).
    const lost = (n: number) =>
      n % 13 === 5 || n % 29 === 0 || (n > 200 && n % 7 === 3) || (n >= 100 && n < 105);
    const order = packets.map((_, n) => n).filter((n) => !lost(n));
    for (let i = 10; i < order.length; i += 11) [order[i - 1], order[i]] = [order[i], order[i - 1]];
    // 4-byte aligned, so these are staged from the large buffer at an offset (STAGED_ORIGIN.delta).
    const big = new Uint8Array(4 + packets.length * 172);
    for (let n = 0; n < packets.length; n++) big.set(packets[n], 4 + n * 172);
    const run = (retainedDatagrams: boolean): { sinks: RecordingSink[]; concealed: number } => {
      const sinks = [new RecordingSink(), new RecordingSink()];
      const calls = sinks.map((sink) => new CallMedia(sink, { retainedDatagrams }));
      for (let i = 0; i < order.length; i++) {
        const n = order[i];
        for (const media of calls) {
          if (n < 150) media.pushPacket(0, packets[n].slice(), 0, 172, T0 + i * 20);
          else media.pushPacket(0, big, 4 + n * 172, 172, T0 + i * 20);
          media.flush(T0 + i * 20);
        }
      }
      for (const media of calls) media.end();
      return { sinks, concealed: calls[0].legs[0].concealedSamples };
    };
    const copied = run(false);
    const retained = run(true);
    for (const call of [0, 1]) {
      expect(retained.sinks[call].indices[0]).toEqual(copied.sinks[call].indices[0]);
      expect(retained.sinks[call].frames[0].map((f) => Array.from(f))).toEqual(
        copied.sinks[call].frames[0].map((f) => Array.from(f)),
      );
    }
    // Every run of losses was concealed up to the 60 ms fade: the frames compared hold concealment, not only silence.
    let expected = 0;
    let burst = 0;
    for (let n = 1; n <= packets.length; n++) {
      if (n < packets.length && lost(n)) burst++;
      else if (burst > 0) {
        expected += Math.min(160 * burst, FADE_SAMPLES);
        burst = 0;
      }
    }
    expect(copied.concealed).toBe(expected);
    expect(copied.sinks[0].frames[0].length).toBe(299);
  });

  it('drops a datagram whose length runs past its buffer as truncated', () => {
    const media = new CallMedia(new RecordingSink());
    const packet = rtpPacket({ sequence: 1, timestamp: 0, payload: new Uint8Array(160) });
    expect(media.pushPacket(0, packet, 0, packet.length + 4, 0)).toBe(DROP.truncated);
    const big = new Uint8Array(4096);
    big.set(packet, 4096 - packet.length);
    expect(media.pushPacket(0, big, 4096 - packet.length, packet.length + 4, 0)).toBe(DROP.truncated);
  });
});
