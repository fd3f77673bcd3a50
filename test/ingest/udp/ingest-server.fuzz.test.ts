import { describe, expect, it } from 'vitest';
import { DROP } from '../../../src/ingest/drop-reasons.ts';
import { FRAME_SAMPLES, type Leg, type MediaSink } from '../../../src/ingest/media-sink.ts';
import type { IngestSession } from '../../../src/ingest/sessions/ingest-session.ts';
import { writeStrepHeader } from '../../../src/ingest/strep.ts';
import { IngestServer } from '../../../src/ingest/udp/ingest-server.ts';
import { Prng } from '../../../src/recordings/corpus/prng.ts';

// Driven without sockets: no port of this file is bound.
const FIRST = 31000;
const LEG_IDS = [
  '5eed0000-0000-4001-8000-000000000001',
  '5eed0000-0000-4002-8000-000000000002',
  '5eed0000-0000-4003-8000-000000000003',
];
/** Audio of every decoder, telephone-event, comfort noise, unsupported and unknown payload types. */
const PAYLOAD_TYPES = [0, 8, 9, 96, 97, 111, 101, 13, 18, 3, 127];

/** A sink that checks the MediaSink contract as frames come: each leg's indices consecutive, 160 samples each. */
class CheckingSink implements MediaSink {
  readonly next = [-1, -1];
  frames = 0;
  faults = 0;
  ends = 0;
  pushFrame(leg: Leg, frameIndex: number, pcm: Int16Array): void {
    if ((this.next[leg] >= 0 && frameIndex !== this.next[leg]) || pcm.length !== FRAME_SAMPLES) this.faults++;
    this.next[leg] = frameIndex + 1;
    this.frames++;
  }
  pushDigit(): void {}
  end(): void {
    this.ends++;
  }
}

describe('IngestServer under hostile and broken traffic', () => {
  it('never fails, keeps every leg contiguous and accounts for every datagram', async () => {
    for (let run = 1; run <= 40; run++) {
      // Seeded: the same datagrams every run.
      const rng = new Prng(run * 7919);
      const pick = (n: number): number => rng.int(0, n - 1);
      const sinks: CheckingSink[] = [];
      /** Datagrams accepted by sessions that have ended (their media's packets), counted as they end. */
      let acceptedByEnded = 0;
      const server = new IngestServer(
        {
          host: '127.0.0.1',
          strepPort: 0,
          rtpPorts: { first: FIRST, last: FIRST + 5 },
          maxSessions: 4,
          idleMs: 500,
          payloadTypes: { 96: 'opus', 97: 'l16', 111: 'g722' },
        },
        {
          open: () => {
            const sink = new CheckingSink();
            sinks.push(sink);
            return sink;
          },
          closed: (session: IngestSession) => {
            acceptedByEnded += session.media.stats[0].packets + session.media.stats[1].packets;
          },
        },
      );
      const sequence = [pick(65536), pick(65536)];
      const timestamp = [pick(2 ** 32), pick(2 ** 32)];
      let now = 1000;
      for (let k = 0; k < 400; k++) {
        const leg = pick(2) as Leg;
        const rtp = Buffer.alloc(12 + pick(3) * 80 + pick(200));
        for (let i = 0; i < rtp.length; i++) rtp[i] = pick(256);
        if (rng.chance(0.85)) {
          // Mostly RTP-shaped: version 2 (now and then with padding, extensions or CSRCs), a stream that steps on
          // with reordering, duplicates, restarts, timestamp jumps and a stray SSRC.
          rtp[0] = 0x80 | (rng.chance(0.1) ? pick(64) : 0);
          rtp[1] = rng.pick(PAYLOAD_TYPES) | (rng.chance(0.1) ? 0x80 : 0);
          const step = rng.chance(0.8) ? 1 : pick(9) - 4 + (rng.chance(0.02) ? 40000 : 0);
          sequence[leg] = (sequence[leg] + step) & 0xffff;
          timestamp[leg] = (timestamp[leg] + (rng.chance(0.9) ? 160 : pick(100000))) >>> 0;
          rtp.writeUInt16BE(sequence[leg], 2);
          rtp.writeUInt32BE(timestamp[leg], 4);
          rtp.writeUInt32BE(rng.chance(0.97) ? leg + 1 : pick(5), 8);
        }
        now += rng.chance(0.9) ? pick(25) : pick(3000);
        const address = rng.chance(0.95) ? '192.0.2.1' : '192.0.2.2';
        if (rng.chance(0.5)) {
          const datagram = Buffer.alloc(24 + rtp.length);
          writeStrepHeader(datagram, 0, { direction: leg, callLegId: LEG_IDS[pick(3)] });
          rtp.copy(datagram, 24);
          if (rng.chance(0.05)) datagram[pick(24)] = pick(256);
          const cut = rng.chance(0.03) ? datagram.subarray(0, pick(datagram.length)) : datagram;
          server.receiveStrep(cut, address, 7000, now);
        } else {
          server.receivePair(FIRST + 2 * pick(3) + leg, rtp, address, 7000 + leg, now);
        }
        if (rng.chance(0.2)) server.drain();
        if (rng.chance(0.1)) server.sweep(now);
        if (rng.chance(0.01)) for (const session of [...server.sessions()]) server.end(session.stream);
      }
      server.sweep(now + 10_000);
      let acceptedByLive = 0;
      for (const session of server.sessions())
        acceptedByLive += session.media.stats[0].packets + session.media.stats[1].packets;
      const dropped = server.dropTotals().reduce((sum, n) => sum + n, 0);
      // Every datagram is accepted by a call or counted under one drop reason, none under internal_error.
      expect(acceptedByLive + acceptedByEnded + dropped).toBe(server.counters.received);
      expect(server.counters.received).toBe(400);
      expect(server.counters.errors).toBe(0);
      expect(server.dropTotals()[DROP.internal_error]).toBe(0);
      await server.stop();
      expect(sinks.length).toBeGreaterThan(0);
      for (const sink of sinks) {
        expect(sink.faults).toBe(0);
        expect(sink.ends).toBe(1);
      }
    }
  });
});
