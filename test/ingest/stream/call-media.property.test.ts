import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CallMedia } from '../../../src/ingest/call-media.ts';
import { FRAME_SAMPLES, RX } from '../../../src/ingest/media-sink.ts';
import {
  decodedLevel,
  expectContiguous,
  levelOf,
  pcmuPayload,
  RecordingSink,
  rtpPacket,
} from './stream-helpers.ts';

const T0 = 5_000;
/** A G.711 stream's packet length in samples (10, 20 or 30 ms), its payload type (PCMU or PCMA) and the reorder wait. */
const G711_STREAM = fc.tuple(
  fc.constantFrom(80, 160, 240),
  fc.constantFrom(0, 8),
  fc.integer({ min: 0, max: 60 }),
);

describe('CallMedia properties', () => {
  it('never throws on garbage and keeps every leg contiguous', () => {
    const datagram = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // Version-2 headers with random everything else reach deeper into the stream.
      fc.uint8Array({ minLength: 12, maxLength: 200 }).map((b) => {
        b[0] = 0x80 | (b[0] & 0x3f);
        return b;
      }),
      fc
        .record({
          sequence: fc.integer({ min: 0, max: 0xffff }),
          timestamp: fc.integer({ min: 0, max: 0xffffffff }),
          ssrc: fc.constantFrom(1, 2),
          payloadType: fc.constantFrom(0, 8, 9, 13, 18, 50, 96, 97, 100, 101),
          marker: fc.boolean(),
          payload: fc.uint8Array({ maxLength: 500 }),
        })
        .map(rtpPacket),
    );
    const step = fc.record({
      leg: fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>,
      bytes: datagram,
      dt: fc.integer({ min: -50, max: 3000 }),
      flush: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 0, max: 60 }), (steps, reorderMs) => {
        const sink = new RecordingSink();
        const media = new CallMedia(sink, { reorderMs });
        let now = T0;
        for (const s of steps) {
          now += s.dt;
          media.pushPacket(s.leg, s.bytes, 0, s.bytes.length, now);
          if (s.flush) media.flush(now);
        }
        media.end();
        expect(media.failures).toBe(0);
        for (const leg of [0, 1] as const) {
          expect(expectContiguous(sink.indices[leg])).toBe(true);
          for (const f of sink.frames[leg]) expect(f.length).toBe(FRAME_SAMPLES);
        }
        expect(sink.ended).toBe(1);
      }),
      { numRuns: 400 },
    );
  });

  // IngestServer runs CallMedia with retainedDatagrams: its G.711 decoders keep codes rather than samples for
  // concealment. Whatever arrives, that must give what copying gives. Two calls take turns, so every shared stage
  // (the staged datagram, the held payload, the fade's source) is used by the other call between one call's packets.
  it('gives the same frames whether datagrams are retained or copied, under loss, reordering and duplicates', () => {
    const packetFate = fc.record({
      dropped: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x < 0.15),
      duplicated: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x < 0.1),
      jitter: fc.integer({ min: 0, max: 70 }),
      seed: fc.integer({ min: 0, max: 0xffff }),
    });
    fc.assert(
      fc.property(
        fc.array(packetFate, { minLength: 2, maxLength: 120 }),
        G711_STREAM,
        (fates, [samples, payloadType, reorderMs]) => {
          const arrivals: { call: number; n: number; at: number; bytes: Uint8Array }[] = [];
          for (const call of [0, 1]) {
            fates.forEach((f, n) => {
              if ((f.dropped && call === 0) || (f.duplicated && call === 1)) return;
              const payload = new Uint8Array(samples);
              for (let i = 0; i < samples; i++) payload[i] = (f.seed * 31 + i * (7 + call) + n) & 0xff;
              const bytes = rtpPacket({ sequence: 1000 + n, timestamp: n * samples, payloadType, payload });
              const at = T0 + (n * samples) / 8 + ((f.jitter + 17 * call) % 71);
              arrivals.push({ call, n, at, bytes });
              if (f.duplicated && call === 0) arrivals.push({ call, n, at: at + f.jitter / 2 + 1, bytes });
            });
          }
          arrivals.sort((a, b) => a.at - b.at || a.call - b.call);
          const run = (retainedDatagrams: boolean): RecordingSink[] => {
            const sinks = [new RecordingSink(), new RecordingSink()];
            const calls = sinks.map((sink) => new CallMedia(sink, { reorderMs, retainedDatagrams }));
            for (const a of arrivals) {
              // A retained datagram is never written again: each push gets a Buffer of its own, as from dgram.
              const bytes = retainedDatagrams ? a.bytes.slice() : a.bytes;
              calls[a.call].pushPacket(RX, bytes, 0, bytes.length, a.at);
              calls[a.call].flush(a.at);
            }
            for (const media of calls) {
              media.end();
              expect(media.failures).toBe(0);
            }
            return sinks;
          };
          const copied = run(false);
          const retained = run(true);
          for (const call of [0, 1]) {
            expect(retained[call].indices[RX]).toEqual(copied[call].indices[RX]);
            expect(retained[call].frames[RX].map((f) => Array.from(f))).toEqual(
              copied[call].frames[RX].map((f) => Array.from(f)),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  // A leg whose gaps keep coming out lost stops waiting for them (NO_WAIT_AFTER_LOST_GAPS). For packets that arrive
  // in sequence order, whatever is lost, duplicated or delayed on the way and whenever the sweep comes, that must
  // change only when frames come out, never which frames: waiting for a packet that never comes changes nothing.
  it('gives the same frames whether a leg waits for every gap or stops waiting, for packets in order', () => {
    const packetFate = fc.record({
      // Mostly single losses, now and then a burst up to 20 packets long (a stall, a full socket buffer).
      lostBefore: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 3, arbitrary: fc.constant(1) },
        { weight: 1, arbitrary: fc.integer({ min: 2, max: 20 }) },
      ),
      duplicated: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x < 0.05),
      delay: fc.integer({ min: 0, max: 300 }),
      sweeps: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(packetFate, { minLength: 2, maxLength: 150 }),
        G711_STREAM,
        (fates, [samples, payloadType, reorderMs]) => {
          // Sequence numbers and arrival times both rise: nothing arrives out of order.
          const arrivals: { n: number; at: number }[] = [];
          let n = 0;
          let at = T0;
          for (const f of fates) {
            n += f.lostBefore;
            at = Math.max(at, T0 + (n * samples) / 8) + f.delay / 10;
            arrivals.push({ n, at });
            if (f.duplicated) arrivals.push({ n, at: at + 1 });
            n++;
          }
          const run = (fixedReorderWait: boolean): { sink: RecordingSink; media: CallMedia } => {
            const sink = new RecordingSink();
            const media = new CallMedia(sink, { reorderMs, fixedReorderWait, retainedDatagrams: true });
            arrivals.forEach((a, i) => {
              const payload = new Uint8Array(samples);
              for (let k = 0; k < samples; k++) payload[k] = (a.n * 13 + k * 7) & 0xff;
              const bytes = rtpPacket({
                sequence: 40000 + a.n,
                timestamp: a.n * samples,
                payloadType,
                payload,
              });
              media.pushPacket(RX, bytes, 0, bytes.length, a.at);
              const f = fates[Math.min(i, fates.length - 1)];
              for (let k = 1; k <= f.sweeps; k++) media.flush(a.at + k * 20);
            });
            media.end();
            expect(media.failures).toBe(0);
            return { sink, media };
          };
          const waiting = run(true);
          const adaptive = run(false);
          expect(adaptive.sink.indices[RX]).toEqual(waiting.sink.indices[RX]);
          expect(adaptive.sink.frames[RX].map((f) => Array.from(f))).toEqual(
            waiting.sink.frames[RX].map((f) => Array.from(f)),
          );
          expect(adaptive.media.stats[RX].lost).toBe(waiting.media.stats[RX].lost);
          expect(adaptive.media.stats[RX].late).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('under loss, duplication and jitter within the window: exact counts and every packet in its frame', () => {
    const packetFate = fc.record({
      dropped: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x < 0.1),
      duplicated: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x < 0.1),
      jitter: fc.integer({ min: 0, max: 30 }),
      duplicateJitter: fc.integer({ min: 0, max: 30 }),
    });
    fc.assert(
      fc.property(
        fc.array(packetFate, { minLength: 2, maxLength: 150 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (fates, seqBase, tsBase) => {
          const sink = new RecordingSink();
          const media = new CallMedia(sink, { reorderMs: 40 });
          const arrivals: { n: number; at: number }[] = [];
          fates.forEach((f, n) => {
            if (f.dropped) return;
            arrivals.push({ n, at: T0 + n * 20 + f.jitter });
            if (f.duplicated) arrivals.push({ n, at: T0 + n * 20 + f.jitter + f.duplicateJitter });
          });
          fc.pre(arrivals.length > 0);
          arrivals.sort((a, b) => a.at - b.at);
          for (const a of arrivals) {
            const bytes = rtpPacket({
              sequence: seqBase + a.n,
              timestamp: tsBase + a.n * 160,
              payload: pcmuPayload(levelOf(a.n)),
            });
            media.pushPacket(RX, bytes, 0, bytes.length, a.at);
            media.flush(a.at);
          }
          media.end();
          const delivered = fates.map((f, n) => (f.dropped ? -1 : n)).filter((n) => n >= 0);
          const first = delivered[0];
          const last = delivered[delivered.length - 1];
          const lostBetween = fates.slice(first, last + 1).filter((f) => f.dropped).length;
          const duplicates = fates.filter((f) => !f.dropped && f.duplicated).length;
          expect(media.stats[RX]).toMatchObject({ lost: lostBetween, duplicates, late: 0 });
          expect(media.stats[RX].packets).toBe(delivered.length);
          expect(expectContiguous(sink.indices[RX])).toBe(true);
          // The first packet's frame is where its arrival puts it; every later packet keeps its offset.
          const firstFrame = sink.indices[RX].length - (last - first + 1);
          expect(firstFrame).toBeGreaterThanOrEqual(0);
          expect(firstFrame).toBeLessThanOrEqual(3);
          for (const n of delivered) {
            const frame = sink.frames[RX][firstFrame + n - first];
            expect(frame[0]).toBe(decodedLevel(levelOf(n)));
            expect(frame[FRAME_SAMPLES - 1]).toBe(decodedLevel(levelOf(n)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
