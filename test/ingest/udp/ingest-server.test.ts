import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { muLawToLinear } from '../../../src/ingest/codecs/registry.ts';
import { DROP } from '../../../src/ingest/drop-reasons.ts';
import { NO_WAIT_AFTER_LOST_GAPS } from '../../../src/ingest/leg-stream.ts';
import {
  DATAGRAM_QUEUE_LENGTH,
  IngestServer,
  type IngestServerOptions,
} from '../../../src/ingest/udp/ingest-server.ts';
import {
  closeSocket,
  openSender,
  pcmuPacket,
  RecordingHandlers,
  type RecordingSink,
  receiverReport,
  sendAll,
  strepWrap,
  waitFor,
} from './udp-test-kit.ts';

// Ports unique to this file: pairs 21000-21019.
const FIRST = 21000;
const LAST = 21019;

let server: IngestServer | null = null;
const senders: Socket[] = [];

afterEach(async () => {
  await server?.stop();
  server = null;
  for (const s of senders.splice(0)) await closeSocket(s);
});

async function startServer(
  options: Partial<IngestServerOptions>,
  handlers: RecordingHandlers,
): Promise<IngestServer> {
  server = new IngestServer(
    { host: '127.0.0.1', rtpPorts: { first: FIRST, last: LAST }, ...options },
    handlers,
  );
  await server.start();
  return server;
}

async function sender(address = '127.0.0.1'): Promise<Socket> {
  const s = await openSender(address);
  senders.push(s);
  return s;
}

function stream(count: number, ssrc: number, fill: number, firstSeq = 1000): Buffer[] {
  return Array.from({ length: count }, (_, i) => pcmuPacket(firstSeq + i, ssrc, fill));
}

describe('IngestServer on loopback UDP', () => {
  it('forms a udp:P session from an unannounced pair and delivers both legs to the sink', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({}, handlers);
    const rx = await sender();
    const tx = await sender();
    await sendAll(rx, FIRST + 4, stream(25, 0x1111, 0x21));
    await sendAll(tx, FIRST + 5, stream(25, 0x2222, 0x42));
    await waitFor(() => srv.counters.received === 50, 'all datagrams');

    expect(handlers.calls).toHaveLength(1);
    const call = handlers.byStream(`udp:${FIRST + 4}`);
    expect(call.identity).toEqual({
      stream: `udp:${FIRST + 4}`,
      callControlId: null,
      callLegId: null,
      callSessionId: null,
    });
    expect(srv.activeSessions).toBe(1);
    const session = [...srv.sessions()][0];
    expect(session.latch.describe(0)).toBe(`127.0.0.1:${rx.address().port}`);
    expect(session.latch.describe(1)).toBe(`127.0.0.1:${tx.address().port}`);

    expect(srv.end(`udp:${FIRST + 4}`)).toBe(true);
    expect(call.closed).toBe('request');
    expect(call.sink.ended).toBe(1);
    expect(srv.activeSessions).toBe(0);
    for (const leg of [0, 1] as const) {
      const frames = call.sink.frames[leg];
      expect(frames.length).toBeGreaterThanOrEqual(25);
      expect(frames).toEqual(frames.map((_, i) => frames[0] + i)); // in order, no gaps
    }
    expect(call.sink.values[0].has(muLawToLinear(0x21))).toBe(true);
    expect(call.sink.values[0].has(muLawToLinear(0x42))).toBe(false);
    expect(call.sink.values[1].has(muLawToLinear(0x42))).toBe(true);
    expect(srv.counters.drops.reduce((a, b) => a + b, 0)).toBe(0);
    expect(srv.counters.errors).toBe(0);
  });

  it('gives announced pairs their Telnyx ids, also when the announcement comes after the first packets', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({}, handlers);
    const ids = { callControlId: 'v3:cc-1', callLegId: randomUUID(), callSessionId: randomUUID() };
    const announced = srv.announce({ ...ids, port: FIRST + 8 });
    expect(announced.identity).toEqual({ stream: `udp:${FIRST + 8}`, ...ids });
    const s = await sender();
    await sendAll(s, FIRST + 8, stream(5, 1, 0x30));
    await sendAll(s, FIRST + 10, stream(5, 2, 0x31));
    await waitFor(() => srv.counters.received === 10, 'all datagrams');
    expect(handlers.calls.map((c) => c.identity.stream)).toEqual([`udp:${FIRST + 8}`, `udp:${FIRST + 10}`]);
    expect(handlers.calls[0].identity.callControlId).toBe('v3:cc-1');

    // The unannounced pair learns its ids in place: the sink's identity object is the one updated.
    const late = { callControlId: 'v3:cc-2', callLegId: randomUUID(), callSessionId: null };
    srv.announce({ ...late, port: FIRST + 10 });
    expect(handlers.calls).toHaveLength(2);
    expect(handlers.calls[1].identity).toEqual({ stream: `udp:${FIRST + 10}`, ...late });

    // A new fork on a port still held by another announced call replaces it.
    srv.announce({ callControlId: 'v3:cc-3', callLegId: null, callSessionId: null, port: FIRST + 8 });
    expect(handlers.calls[0].closed).toBe('request');
    expect(handlers.calls[2].identity.callControlId).toBe('v3:cc-3');

    expect(() =>
      srv.announce({ callControlId: 'x', callLegId: null, callSessionId: null, port: FIRST + 9 }),
    ).toThrow(/not the even port/);
    expect(() => srv.announce({ callControlId: 'x', callLegId: null, callSessionId: null })).toThrow(
      /call_leg_id/,
    );
  });

  it('demultiplexes 20 STREP calls x both directions arriving interleaved on one port', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ rtpPorts: undefined, strepPort: 0 }, handlers);
    const port = srv.strepAddress()!.port;
    // Reproducible randomness: sequence starts and the interleaving come from fixed-seed samples.
    const seqStarts = fc.sample(fc.integer({ min: 0, max: 65535 }), { seed: 7, numRuns: 40 });
    const picks = fc.sample(fc.nat(), { seed: 8, numRuns: 40 * 12 });
    const calls = Array.from({ length: 20 }, () => randomUUID());
    // Each call leg direction carries its own constant so a mixed-up packet would show up in the wrong sink.
    const queues: Buffer[][] = [];
    calls.forEach((id, c) => {
      for (const direction of [0, 1] as const) {
        const fill = 0x10 + 2 * c + direction;
        queues.push(
          stream(12, c * 2 + direction + 1, fill, seqStarts[2 * c + direction]).map((p) =>
            strepWrap(id, direction, p),
          ),
        );
      }
    });
    // Random interleaving that keeps each stream in its own order.
    const datagrams: Buffer[] = [];
    while (queues.some((q) => q.length > 0)) {
      const open = queues.filter((q) => q.length > 0);
      datagrams.push(open[picks[datagrams.length] % open.length].shift()!);
    }
    // The call_leg_id survives upper-case hex on the wire? It is binary: only its text form is canonical.
    const s = await sender();
    await sendAll(s, port, datagrams);
    await waitFor(() => srv.counters.received === datagrams.length, 'all datagrams');
    expect(srv.activeSessions).toBe(20);
    await srv.stop();
    server = null;

    expect(handlers.calls).toHaveLength(20);
    calls.forEach((id, c) => {
      const call = handlers.byStream(`strep:${id}`);
      expect(call.identity).toEqual({
        stream: `strep:${id}`,
        callControlId: null,
        callLegId: id,
        callSessionId: null,
      });
      expect(call.closed).toBe('shutdown');
      expect(call.session?.strepLeg).toBe('A');
      for (const direction of [0, 1] as const) {
        const values = call.sink.values[direction];
        expect(call.sink.frames[direction].length).toBeGreaterThanOrEqual(12);
        expect(values.has(muLawToLinear(0x10 + 2 * c + direction))).toBe(true);
        // Only this stream's value, plus the silence that pads a leg starting after the other one.
        values.delete(0);
        expect(values.size).toBe(1);
      }
    });
    expect(srv.counters.drops.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('gives announced STREP calls their ids and keeps one session per call_leg_id', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ rtpPorts: undefined, strepPort: 0 }, handlers);
    const id = randomUUID();
    const ids = { callControlId: 'v3:strep-cc', callLegId: id.toUpperCase(), callSessionId: 'sess-1' };
    const session = srv.announce(ids);
    expect(session.identity).toEqual({ ...ids, stream: `strep:${id}`, callLegId: id });
    const s = await sender();
    const port = srv.strepAddress()!.port;
    await sendAll(s, port, [
      ...stream(4, 1, 0x20).map((p) => strepWrap(id, 0, p)),
      ...stream(4, 2, 0x21).map((p) => strepWrap(id, 1, p)),
    ]);
    await waitFor(() => srv.counters.received === 8, 'all datagrams');
    expect(handlers.calls).toHaveLength(1);
    expect(srv.session(`strep:${id}`)).toBe(session);
    expect(srv.end(`strep:${id}`)).toBe(true);
    expect(handlers.calls[0].sink.frames[0].length).toBeGreaterThanOrEqual(4);
    expect(handlers.calls[0].sink.frames[1].length).toBeGreaterThanOrEqual(4);
  });

  it('receives over IPv6 loopback and reports bracketed sources', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ host: '::1', rtpPorts: undefined, strepPort: 0 }, handlers);
    const s = createSocket('udp6');
    await new Promise<void>((resolve) => s.bind(0, '::1', () => resolve()));
    senders.push(s);
    const id = randomUUID();
    await new Promise<void>((resolve, reject) =>
      s.send(strepWrap(id, 1, pcmuPacket(1, 1, 0x20)), srv.strepAddress()!.port, '::1', (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    await waitFor(() => srv.activeSessions === 1, 'the session');
    expect(srv.session(`strep:${id}`)?.latch.describe(1)).toBe(`[::1]:${s.address().port}`);
  });

  it('latches each leg to its first source and drops strangers as unknown_source', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({}, handlers);
    const owner = await sender();
    const stranger = await sender();
    await sendAll(owner, FIRST, stream(10, 5, 0x25));
    await sendAll(stranger, FIRST, stream(7, 6, 0x55, 2000));
    await sendAll(owner, FIRST, stream(10, 5, 0x25, 1010));
    await waitFor(() => srv.counters.received === 27, 'all datagrams');
    expect(srv.counters.drops[DROP.unknown_source]).toBe(7);
    srv.end(`udp:${FIRST}`);
    const call = handlers.byStream(`udp:${FIRST}`);
    expect(call.sink.values[0].has(muLawToLinear(0x55))).toBe(false);
    expect(call.sink.frames[0].length).toBe(20);
  });

  it('admits only sources inside the CIDR allow-list', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ allowCidrs: ['127.0.0.2/32', '2001:db8::/32'] }, handlers);
    const allowed = await sender('127.0.0.2');
    const denied = await sender('127.0.0.1');
    await sendAll(denied, FIRST + 2, stream(5, 1, 0x20));
    await sendAll(allowed, FIRST + 6, stream(5, 2, 0x20));
    await waitFor(() => srv.counters.received === 10, 'all datagrams');
    expect(srv.counters.drops[DROP.not_allowed]).toBe(5);
    expect(handlers.calls.map((c) => c.identity.stream)).toEqual([`udp:${FIRST + 6}`]);
  });

  it('caps the packet rate of one source', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ maxPacketsPerSecondPerSource: 20 }, handlers);
    const s = await sender();
    await sendAll(s, FIRST, stream(100, 1, 0x20));
    await waitFor(() => srv.counters.received === 100, 'all datagrams');
    const limited = srv.counters.drops[DROP.rate_limited];
    // A one-second burst of 20, plus whatever refilled while the 100 were being sent.
    expect(limited).toBeGreaterThan(0);
    expect(100 - limited).toBeGreaterThanOrEqual(20);
    expect(100 - limited).toBeLessThan(100);
  });

  it('reads RTCP muxed on a leg from its own source into the leg stats, never from a stranger or before media', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ strepPort: 0 }, handlers);
    const strepPort = srv.strepAddress()!.port;
    const owner = await sender();
    const stranger = await sender();
    const report = receiverReport(64, 258, 123);
    const id = randomUUID();
    // Before any media: pair FIRST + 4 and this call_leg_id get no session from RTCP alone.
    await sendAll(owner, FIRST + 4, [report]);
    await sendAll(owner, strepPort, [strepWrap(id, 1, report)]);
    await sendAll(owner, FIRST, stream(5, 5, 0x25));
    await sendAll(
      owner,
      strepPort,
      stream(5, 6, 0x25).map((rtp) => strepWrap(id, 1, rtp)),
    );
    await waitFor(() => srv.activeSessions === 2, 'the two calls');
    await sendAll(owner, FIRST, [report, receiverReport(32, 300, 50)]); // rx leg, from its source: read
    await sendAll(stranger, FIRST, [receiverReport(255, 9999, 9999)]); // a stranger: not read
    await sendAll(owner, FIRST + 1, [report]); // tx leg, which no media latched yet: not read
    await sendAll(owner, strepPort, [strepWrap(id, 1, receiverReport(16, 7, 8))]); // STREP tx, from its source
    await waitFor(() => srv.counters.received === 17, 'all datagrams');
    expect(srv.counters.drops[DROP.rtcp]).toBe(7);
    expect(handlers.calls).toHaveLength(2);
    // Ended, their sessions reach the handlers, stats and all.
    srv.end(`udp:${FIRST}`);
    srv.end(`strep:${id}`);
    const pair = handlers.byStream(`udp:${FIRST}`).session!.media.stats;
    expect(pair[0]).toMatchObject({
      packets: 5,
      rtcpPackets: 2,
      rtcpMalformed: 0,
      rtcpReportBlocks: 2,
      reportedFractionLost: 0.125,
      reportedCumulativeLost: 300,
      reportedJitter: 50,
    });
    expect(pair[1].rtcpPackets).toBe(0);
    const strep = handlers.byStream(`strep:${id}`).session!.media.stats;
    expect(strep[1]).toMatchObject({
      packets: 5,
      rtcpPackets: 1,
      reportedCumulativeLost: 7,
      reportedJitter: 8,
    });
    expect(strep[0].rtcpPackets).toBe(0);
    expect(srv.counters.errors).toBe(0);
  });

  it('counts garbage, truncated, oversized, RTCP and bad STREP by reason and keeps working', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ strepPort: 0, maxSessions: 64 }, handlers);
    const strepPort = srv.strepAddress()!.port;
    const s = await sender();
    const id = randomUUID();
    const good = strepWrap(id, 0, pcmuPacket(1, 1, 0x20));
    const rtcp = Buffer.from([
      0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    const garbage = fc.sample(fc.uint8Array({ maxLength: 200 }), { seed: 3, numRuns: 200 }).map((bytes) =>
      // First byte never 0b10xxxxxx / 0b11xxxxxx so every garbage datagram is refused before any session.
      Buffer.from(bytes.map((b, i) => (i === 0 ? b & 0x3f : b))),
    );
    const pairs: [Buffer, number][] = [
      [Buffer.alloc(5, 0x80), DROP.truncated],
      [Buffer.alloc(1600, 0x80), DROP.oversized],
      [Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), DROP.bad_version],
      [rtcp, DROP.rtcp],
    ];
    for (const [d] of pairs) await sendAll(s, FIRST + 2, [d]);
    const badLength = Buffer.from(good);
    badLength[1] = 20;
    const beyond = Buffer.from(good);
    beyond[1] = 250;
    const rtpOnStrep = pcmuPacket(1, 1, 0x20);
    const strepTooShortRtp = strepWrap(id, 0, pcmuPacket(1, 1, 0x20)).subarray(0, 30);
    await sendAll(s, strepPort, [
      badLength,
      beyond,
      rtpOnStrep,
      Buffer.alloc(10, 0xc4),
      strepTooShortRtp,
      Buffer.alloc(0),
    ]);
    await sendAll(s, FIRST + 4, garbage);
    await sendAll(s, strepPort, garbage);
    const expected = pairs.length + 6 + 2 * garbage.length;
    await waitFor(() => srv.counters.received === expected, 'all datagrams');
    const d = srv.counters.drops;
    expect(d[DROP.oversized]).toBe(1);
    expect(d[DROP.rtcp]).toBe(1);
    expect(d[DROP.bad_strep]).toBe(1);
    // 5 bytes of RTP, STREP header beyond the datagram, 10 bytes of STREP, short RTP after STREP, empty; and
    // empty garbage on both ports.
    expect(d[DROP.truncated]).toBe(5 + 2 * garbage.filter((g) => g.length === 0).length);
    expect(d.reduce((a, b) => a + b, 0)).toBe(expected);
    expect(handlers.calls).toHaveLength(0);
    expect(srv.counters.errors).toBe(0);

    // Still alive: a good packet opens a session.
    await sendAll(s, strepPort, [good]);
    await waitFor(() => srv.activeSessions === 1, 'a session after the garbage');
    expect(handlers.calls[0].identity.stream).toBe(`strep:${id}`);
  });

  it('reports each codec it cannot decode once per session, while the call runs', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({}, handlers);
    const s = await sender();
    // G.729 (PT 18) then AMR-WB (PT 99, its default dynamic type), each several times, between PCMU packets.
    const packets = stream(12, 7, 0x30);
    for (const [at, pt] of [
      [3, 18],
      [4, 18],
      [6, 99],
      [7, 99],
      [8, 18],
    ] as const)
      packets[at][1] = pt;
    await sendAll(s, FIRST + 2, packets);
    await waitFor(() => srv.counters.received === 12, 'all datagrams');
    expect(handlers.unsupported).toEqual([
      { stream: `udp:${FIRST + 2}`, codec: 'g729', live: true },
      { stream: `udp:${FIRST + 2}`, codec: 'amr-wb', live: true },
    ]);
    expect(srv.dropTotals()[DROP.unsupported_codec]).toBe(5);
    srv.end(`udp:${FIRST + 2}`);
    expect(handlers.unsupported).toHaveLength(2);
  });

  it('ends idle sessions once, ending the sink and reporting the reason', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ idleMs: 150 }, handlers);
    const s = await sender();
    await sendAll(s, FIRST, stream(5, 1, 0x20));
    await waitFor(() => handlers.calls.length === 1, 'the session');
    await waitFor(() => handlers.calls[0].closed !== null, 'the idle end');
    expect(handlers.calls[0].closed).toBe('idle');
    expect(handlers.calls[0].sink.ended).toBe(1);
    expect(srv.activeSessions).toBe(0);
    // Media after an idle end is a new call.
    await sendAll(s, FIRST, stream(5, 1, 0x20, 5000));
    await waitFor(() => handlers.calls.length === 2, 'a second session');
  });

  it('drops stragglers of a call ended on request as closed, and media drops reach the totals', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ closedGraceMs: 60_000 }, handlers);
    const s = await sender();
    const packets = stream(5, 1, 0x20);
    await sendAll(s, FIRST, [...packets, packets[2], packets[3]]); // two duplicates, counted by the media
    await waitFor(() => srv.counters.received === 7, 'all datagrams');
    expect(srv.dropTotals()[DROP.duplicate]).toBe(2);
    expect(srv.counters.drops[DROP.duplicate]).toBe(0);
    srv.end(`udp:${FIRST}`);
    expect(srv.counters.drops[DROP.duplicate]).toBe(2);
    await sendAll(s, FIRST, stream(3, 1, 0x20, 1005));
    await waitFor(() => srv.counters.received === 10, 'the stragglers');
    expect(srv.counters.drops[DROP.closed]).toBe(3);
    expect(handlers.calls).toHaveLength(1);
    expect(srv.dropTotals()[DROP.duplicate]).toBe(2);
  });

  it('refuses sessions beyond maxSessions as session_limit', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ maxSessions: 2, strepPort: 0 }, handlers);
    const s = await sender();
    for (const pair of [0, 2, 4]) await sendAll(s, FIRST + pair, stream(3, pair + 1, 0x20));
    await sendAll(s, srv.strepAddress()!.port, [strepWrap(randomUUID(), 1, pcmuPacket(1, 9, 0x20))]);
    await waitFor(() => srv.counters.received === 10, 'all datagrams');
    expect(srv.activeSessions).toBe(2);
    expect(srv.counters.drops[DROP.session_limit]).toBe(4);
    expect(() =>
      srv.announce({ callControlId: 'c', callLegId: null, callSessionId: null, port: FIRST + 6 }),
    ).toThrow(/maxSessions/);
  });

  it('survives a session owner that throws, counting the datagrams as errors', async () => {
    const handlers = new RecordingHandlers();
    let refuse = true;
    const open = handlers.open.bind(handlers);
    handlers.open = (identity) => {
      if (refuse) throw new Error('owner not ready');
      return open(identity);
    };
    const srv = await startServer({}, handlers);
    const s = await sender();
    await sendAll(s, FIRST, stream(3, 1, 0x20));
    await waitFor(() => srv.counters.received === 3, 'all datagrams');
    expect(srv.counters.errors).toBe(3);
    expect(srv.activeSessions).toBe(0);
    refuse = false;
    await sendAll(s, FIRST, stream(3, 1, 0x20, 1003));
    await waitFor(() => srv.activeSessions === 1, 'the session once the owner accepts');
  });

  it('fails to start with the port named when a port is taken, leaving nothing bound', async () => {
    const blocker = await openSender('127.0.0.1');
    senders.push(blocker);
    const taken = blocker.address().port;
    const handlers = new RecordingHandlers();
    const srv = new IngestServer(
      { host: '127.0.0.1', strepPort: taken, rtpPorts: { first: FIRST, last: LAST } },
      handlers,
    );
    await expect(srv.start()).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${taken}`));
    // The pair ports were released again.
    await startServer({}, handlers);
  });

  it('validates its configuration with the field named', () => {
    const h = new RecordingHandlers();
    expect(() => new IngestServer({ host: '127.0.0.1' }, h)).toThrow(/rtpPorts, strepPort/);
    expect(() => new IngestServer({ host: '127.0.0.1', rtpPorts: { first: 41001, last: 41010 } }, h)).toThrow(
      /even/,
    );
    expect(() => new IngestServer({ host: '127.0.0.1', strepPort: 70000 }, h)).toThrow(/strepPort/);
    expect(() => new IngestServer({ host: '127.0.0.1', strepPort: 0, allowCidrs: ['x'] }, h)).toThrow(/"x"/);
  });
  it('reads datagrams that queued during an event-loop stall before it fills any leg with silence', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ idleMs: 5000 }, handlers);
    const port = FIRST + 12;
    const packets = 60;
    const worker = pacedSender([port], packets);
    await waitFor(() => srv.counters.received >= 15, 'the first packets');
    blockLoop(300); // beyond the 200 ms after which a quiet leg is filled
    await waitFor(() => srv.counters.received === packets, 'every packet', 5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await worker.terminate();
    const call = handlers.byStream(`udp:${port}`);
    await srv.stop();
    server = null;
    // The first 60 frames are the 60 packets: none was filled with silence and none re-anchored behind a fill.
    expectPacketsThenSilence(call.sink, 0, packets, muLawToLinear(0x21));
  });

  it('hands every datagram on in order when more queue up in one I/O pass than the datagram queue holds', async () => {
    const handlers = new RecordingHandlers();
    const srv = await startServer({ idleMs: 5000 }, handlers);
    // 20 sockets (10 pairs, both legs) with ~15 datagrams each waiting after the stall: one pass of the I/O phase
    // reads more than DATAGRAM_QUEUE_LENGTH, so the queue is handled while the pass goes on, as well as after it.
    const ports = Array.from({ length: 20 }, (_, i) => FIRST + i);
    const packets = 40;
    expect(ports.length * 15).toBeGreaterThan(DATAGRAM_QUEUE_LENGTH);
    const worker = pacedSender(ports, packets);
    await waitFor(() => srv.counters.received >= ports.length, 'the first packets');
    blockLoop(300);
    await waitFor(() => srv.counters.received === ports.length * packets, 'every packet', 5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await worker.terminate();
    await srv.stop();
    server = null;
    expect([...srv.dropTotals()].reduce((a, b) => a + b, 0)).toBe(0);
    for (let pair = 0; pair < 10; pair++) {
      const call = handlers.byStream(`udp:${FIRST + 2 * pair}`);
      for (const leg of [0, 1] as const) {
        expectPacketsThenSilence(call.sink, leg, packets, muLawToLinear(0x21));
      }
    }
  });
});

/**
 * The leg's frames are contiguous from 0; the first `packets` carry the stream's constant `value`, and any after
 * them are silence: once the sender stops, a quiet leg is filled within its idle delay (60 ms for a steady leg).
 */
describe('IngestServer driven without sockets', () => {
  it('stops waiting for the gaps of a leg that keeps losing packets, unless fixedReorderWait says otherwise', async () => {
    const gaps = NO_WAIT_AFTER_LOST_GAPS + 4;
    for (const fixedReorderWait of [false, true]) {
      const handlers = new RecordingHandlers();
      const srv = new IngestServer(
        { host: '127.0.0.1', rtpPorts: { first: FIRST, last: LAST }, fixedReorderWait },
        handlers,
      );
      const t0 = performance.now();
      // Every fourth packet lost; a packet after a gap that plays in its own drain brings two frames (the gap's too).
      let playedAtOnce = 0;
      for (let n = 0; n <= 4 * gaps; n++) {
        if (n % 4 === 3) continue;
        const before = handlers.calls[0]?.sink.frames[0].length ?? 0;
        srv.receivePair(FIRST, pcmuPacket(1000 + n, 7, 0x20), '127.0.0.1', 5000, t0 + n * 20);
        srv.drain();
        if (n % 4 === 0 && n > 0 && handlers.calls[0].sink.frames[0].length === before + 2) playedAtOnce++;
      }
      expect(playedAtOnce).toBe(fixedReorderWait ? 0 : gaps - NO_WAIT_AFTER_LOST_GAPS);
      // Waiting, the last gap is still open: the packet after it waits for its deadline.
      expect(srv.session(`udp:${FIRST}`)?.media.stats[0].lost).toBe(fixedReorderWait ? gaps - 1 : gaps);
      await srv.stop();
    }
  });

  // receiveStrep, drain and sweep are what the STREP socket, the event loop and the sweep timer do: a benchmark or
  // an in-process feed drives the same path with no socket bound and no timer running.
  it('demultiplexes STREP datagrams handed to it, plays them out on drain and ends idle calls on sweep', async () => {
    const handlers = new RecordingHandlers();
    const srv = new IngestServer({ host: '127.0.0.1', strepPort: 0, idleMs: 50 }, handlers);
    const ids = [randomUUID(), randomUUID()];
    for (let i = 0; i < 10; i++) {
      for (const [call, id] of ids.entries()) {
        for (const direction of [0, 1] as const) {
          const rtp = pcmuPacket(100 + i, 10 * call + direction + 1, 0x10 + 4 * call + direction);
          srv.receiveStrep(strepWrap(id, direction, rtp), '127.0.0.1', 5000);
        }
      }
    }
    expect(handlers.calls.length).toBe(0); // queued, not handled yet
    srv.drain();
    expect(srv.counters.received).toBe(40);
    expect(handlers.calls.map((c) => c.identity.callLegId)).toEqual(ids);
    // The start-of-stream reorder wait has passed by the time the sweep runs: every packet plays out.
    await new Promise((resolve) => setTimeout(resolve, 60));
    srv.sweep();
    for (const [call] of ids.entries()) {
      for (const leg of [0, 1] as const) {
        expect(handlers.calls[call].sink.frames[leg].length).toBeGreaterThanOrEqual(10);
        expect(handlers.calls[call].sink.values[leg]).toContain(muLawToLinear(0x10 + 4 * call + leg));
      }
    }
    // Idle for longer than idleMs: the next sweep ends both calls.
    await new Promise((resolve) => setTimeout(resolve, 60));
    srv.sweep();
    expect(handlers.calls.map((c) => c.closed)).toEqual(['idle', 'idle']);
    expect(srv.activeSessions).toBe(0);
    await srv.stop();
  });
});

function expectPacketsThenSilence(sink: RecordingSink, leg: 0 | 1, packets: number, value: number): void {
  const n = sink.frames[leg].length;
  expect(n).toBeGreaterThanOrEqual(packets);
  expect(sink.frames[leg]).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(sink.firstSamples[leg].slice(0, packets)).toEqual(new Array(packets).fill(value));
  expect(sink.firstSamples[leg].slice(packets)).toEqual(new Array(n - packets).fill(0));
  expect(sink.values[leg]).toEqual(new Set(n > packets ? [value, 0] : [value]));
}

/** Blocks this thread's event loop for `ms` (datagrams queue in the kernel meanwhile). */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

/**
 * A sender on its own thread, so it keeps its 20 ms pace while this thread's loop is blocked: `packets` PCMU
 * packets (payload 0x21, SSRC per port) to each port.
 */
function pacedSender(ports: readonly number[], packets: number): Worker {
  return new Worker(
    `const { createSocket } = require('node:dgram');
     const { workerData } = require('node:worker_threads');
     const s = createSocket('udp4');
     let i = 0;
     const t = setInterval(() => {
       workerData.ports.forEach((port, k) => {
         const b = Buffer.alloc(172, 0x21);
         b[0] = 0x80;
         b[1] = 0;
         b.writeUInt16BE(1000 + i, 2);
         b.writeUInt32BE((1000 + i) * 160, 4);
         b.writeUInt32BE(0x7777 + k, 8);
         s.send(b, port, '127.0.0.1');
       });
       if (++i === workerData.packets) { clearInterval(t); setTimeout(() => s.close(), 50); }
     }, 20);`,
    { eval: true, workerData: { ports, packets } },
  );
}
