import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DROP } from '../../../src/ingest/drop-reasons.ts';
import type { CallIdentity, Leg, MediaSink } from '../../../src/ingest/media-sink.ts';
import { IngestServer, type IngestServerOptions } from '../../../src/ingest/udp/ingest-server.ts';
import { pcmuPacket, RecordingHandlers, type RecordingSink, strepWrap } from './udp-test-kit.ts';

// Driven without sockets: no port of this file is bound.
const FIRST = 23000;
const LAST = 23011;

const servers: IngestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

function newServer(options: Partial<IngestServerOptions>, handlers: RecordingHandlers): IngestServer {
  const server = new IngestServer(
    { host: '127.0.0.1', strepPort: 0, rtpPorts: { first: FIRST, last: LAST }, ...options },
    handlers,
  );
  servers.push(server);
  return server;
}

describe('reading call state ahead of a batch of datagrams', () => {
  it('reaches the state of every datagram of a live call, STREP and port pair, and of nothing else', () => {
    const handlers = new RecordingHandlers();
    const server = newServer({}, handlers);
    const ids = Array.from({ length: 12 }, () => randomUUID());
    const batch = (seq: number, extra: () => void): void => {
      ids.forEach((id, call) => {
        for (const direction of [0, 1] as const) {
          server.receiveStrep(
            strepWrap(id, direction, pcmuPacket(seq, 2 * call + direction + 1, 0x21)),
            '10.0.0.1',
            7000,
          );
        }
      });
      for (let port = FIRST; port <= FIRST + 3; port++) {
        server.receivePair(port, pcmuPacket(seq, 0x500 + port, 0x22), '10.0.0.2', port);
      }
      extra();
      server.drain();
    };
    // First batch: no call is live when it begins, so there is nothing to read, whatever the batch opens.
    batch(100, () => {});
    expect(server.counters.readAhead).toBe(0);
    expect(server.activeSessions).toBe(12 + 2);
    // Second batch: every datagram of the 12 STREP calls and the 2 pairs, plus datagrams of no live call: a
    // call not seen before, a pair nobody has sent on, a truncated and a non-STREP datagram.
    batch(101, () => {
      server.receiveStrep(strepWrap(randomUUID(), 0, pcmuPacket(1, 99, 0x23)), '10.0.0.1', 7000);
      server.receivePair(FIRST + 8, pcmuPacket(1, 98, 0x23), '10.0.0.2', 7001);
      server.receiveStrep(Buffer.from([0xc4, 24, 0, 0]), '10.0.0.1', 7000);
      server.receiveStrep(pcmuPacket(1, 97, 0x23), '10.0.0.1', 7000);
    });
    expect(server.counters.readAhead).toBe(24 + 4);
    expect(server.activeSessions).toBe(12 + 2 + 2);
    // A datagram alone in its batch has nothing to overlap with: it is handled as it is.
    server.receivePair(FIRST, pcmuPacket(102, 0x500 + FIRST, 0x22), '10.0.0.2', FIRST);
    server.drain();
    expect(server.counters.readAhead).toBe(28);
    expect(() => server.receivePair(LAST + 1, pcmuPacket(1, 1, 0), '10.0.0.2', 1)).toThrow(
      /not in the configured/,
    );
  });

  it('handles the whole batch when its read-ahead fails, counting the fault', () => {
    const server = newServer({}, new RecordingHandlers());
    const id = randomUUID();
    const send = (seq: number): void => {
      for (const direction of [0, 1] as const) {
        server.receiveStrep(
          strepWrap(id, direction, pcmuPacket(seq, direction + 1, 0x21)),
          '10.0.0.1',
          7000,
          seq,
        );
      }
      server.drain();
    };
    send(1);
    const session = server.session(`strep:${id}`);
    if (session === undefined) throw new Error('no session');
    session.media.legState = () => {
      throw new Error('read-ahead fault');
    };
    send(2);
    expect(server.counters.errors).toBe(1);
    expect(server.counters.readAhead).toBe(0);
    expect(session.media.stats.map((s) => s.packets)).toEqual([2, 2]);
  });

  it('leaves every call its media, drops and end, also when calls end and start inside a batch', async () => {
    const run = async (readAhead: boolean) => {
      const handlers = new EndingHandlers();
      const server = newServer({ readAhead, idleMs: 10_000, closedGraceMs: 10_000 }, handlers);
      handlers.server = server;
      const ids = Array.from({ length: 8 }, (_, k) => `00000000-0000-4000-8000-00000000000${k}`);
      for (let round = 0; round < 30; round++) {
        // Calls 6 and 7 start at round 10; pair FIRST + 2 carries a call from round 5.
        for (const [call, id] of ids.entries()) {
          if (call >= 6 && round < 10) continue;
          for (const direction of [0, 1] as const) {
            // Call 3's rx sends round 12 twice and rounds 14 and 15 swapped; call 4 loses its round 20.
            let seq = 1000 + round;
            if (call === 3 && direction === 0 && (round === 14 || round === 15))
              seq = round === 14 ? 1015 : 1014;
            if (call === 4 && round === 20) continue;
            const packet = pcmuPacket(seq, 10 * call + direction + 1, 0x10 + call);
            server.receiveStrep(strepWrap(id, direction, packet), '10.0.0.1', 7000 + call, 20 * round);
            if (call === 3 && direction === 0 && round === 12) {
              server.receiveStrep(strepWrap(id, direction, packet), '10.0.0.1', 7000 + call, 20 * round);
            }
          }
        }
        if (round >= 5) {
          server.receivePair(FIRST + 2, pcmuPacket(500 + round, 0x77, 0x30), '10.0.0.2', 9000, 20 * round);
          server.receivePair(FIRST + 3, pcmuPacket(500 + round, 0x78, 0x31), '10.0.0.2', 9001, 20 * round);
        }
        // A stranger on call 5's rx: dropped by the latch, read ahead or not.
        const stranger = strepWrap(ids[5] as string, 0, pcmuPacket(2000 + round, 51, 0x40));
        server.receiveStrep(stranger, '10.0.0.9', 7005, 20 * round);
        // Ends on request from inside the batch (the sink of call 0 ends call 1 at its frame 15): call 1's
        // datagrams later in the same batch meet an ended session.
        server.drain();
        server.sweep(20 * round + 10);
      }
      await server.stop();
      return {
        calls: handlers.calls.map((c) => ({
          stream: c.identity.stream,
          closed: c.closed,
          frames: c.sink.frames.map((f) => f.length),
          firstSamples: c.sink.firstSamples,
          values: c.sink.values.map((v) => [...v].sort((a, b) => a - b)),
          stats: JSON.parse(JSON.stringify(c.session?.media.stats)),
        })),
        drops: [...server.dropTotals()],
        received: server.counters.received,
        readAhead: server.counters.readAhead,
      };
    };
    const ahead = await run(true);
    const plain = await run(false);
    expect(plain.readAhead).toBe(0);
    expect(ahead.readAhead).toBeGreaterThan(0.8 * ahead.received);
    const { readAhead: _a, ...withReadAhead } = ahead;
    const { readAhead: _p, ...without } = plain;
    expect(withReadAhead).toEqual(without);
    // The scenario did what it says, in both runs.
    expect(ahead.calls.length).toBe(9);
    expect(ahead.calls[1]?.closed).toBe('request');
    expect(ahead.calls[0]?.closed).toBe('shutdown');
    expect(ahead.drops[DROP.closed]).toBeGreaterThan(0);
    expect(ahead.drops[DROP.unknown_source]).toBe(30);
    expect(ahead.drops[DROP.duplicate]).toBe(1);
  });
});

/** Records like RecordingHandlers; the sink of the first call ends the second call at its 15th rx frame. */
class EndingHandlers extends RecordingHandlers {
  server: IngestServer | null = null;

  override open(identity: CallIdentity): MediaSink {
    const sink = super.open(identity) as RecordingSink;
    if (this.calls.length !== 1) return sink;
    return {
      pushFrame: (leg: Leg, frameIndex: number, pcm: Int16Array) => {
        sink.pushFrame(leg, frameIndex, pcm);
        const second = this.calls[1];
        if (leg === 0 && frameIndex === 15 && second !== undefined) this.server?.end(second.identity.stream);
      },
      pushDigit: (leg, event) => sink.pushDigit(leg, event),
      end: () => sink.end(),
    };
  }
}
