import { afterEach, describe, expect, it } from 'vitest';
import type { CallIdentity, DigitEvent, Leg, MediaSink } from '../../../src/ingest/media-sink.ts';
import { FlushSchedule } from '../../../src/ingest/sessions/flush-schedule.ts';
import type { IngestSession, SessionEndReason } from '../../../src/ingest/sessions/ingest-session.ts';
import type { SessionHandlers } from '../../../src/ingest/sessions/session-table.ts';
import { IngestServer, type IngestServerOptions } from '../../../src/ingest/udp/ingest-server.ts';
import { STAGES, WORK } from '../../../src/telemetry/stage-clock.ts';
import { pcmuPacket, strepWrap } from '../udp/udp-test-kit.ts';

describe('FlushSchedule', () => {
  it('hands out slots due at the time given, frees them for reuse and keeps every time when it grows', () => {
    const schedule = new FlushSchedule(300);
    expect(schedule.horizonMs).toBe(300);
    const first = schedule.take(100);
    const second = schedule.take(200);
    expect([first, second]).toEqual([0, 1]);
    expect(schedule.isDue(first, 99)).toBe(false);
    expect(schedule.isDue(first, 100)).toBe(true);
    // Either leg's time makes the slot due.
    schedule.due[2 * second + 1] = 50;
    expect(schedule.isDue(second, 60)).toBe(true);
    schedule.release(first);
    expect(schedule.isDue(first, Number.MAX_VALUE)).toBe(false);
    expect(schedule.take(7)).toBe(first);
    // Past the first array: earlier slots keep their times, the new ones start at theirs.
    const more = Array.from({ length: 200 }, (_, k) => schedule.take(1000 + k));
    expect(schedule.slotCount).toBe(202);
    expect(schedule.isDue(first, 7)).toBe(true);
    expect(schedule.isDue(second, 60)).toBe(true);
    expect(
      more.map((slot, k) => schedule.isDue(slot, 1000 + k) && !schedule.isDue(slot, 999 + k)),
    ).not.toContain(false);
  });
});

/** A telephone-event packet (PT 101) of `digit`, not ended, `duration` samples into the event at `eventSeq`. */
function eventPacket(seq: number, ssrc: number, eventSeq: number, digit: number, duration: number): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x80;
  b[1] = (seq === eventSeq ? 0x80 : 0) | 101;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((eventSeq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  b[12] = digit;
  b[13] = 10;
  b.writeUInt16BE(duration, 14);
  return b;
}

/** Records, per call, every frame and digit with the time of the batch or sweep that produced it, and the end. */
class TimedHandlers implements SessionHandlers {
  nowMs = 0;
  readonly calls = new Map<string, { media: string[]; closed: SessionEndReason | null; closedAt: number }>();

  open(identity: CallIdentity): MediaSink {
    const call = { media: [] as string[], closed: null as SessionEndReason | null, closedAt: -1 };
    this.calls.set(identity.stream, call);
    return {
      pushFrame: (leg: Leg, index: number, pcm: Int16Array) => {
        let hash = 0;
        for (const sample of pcm) hash = (Math.imul(hash, 31) + sample) | 0;
        call.media.push(`${this.nowMs} ${leg} frame ${index} ${hash}`);
      },
      pushDigit: (leg: Leg, event: DigitEvent) => {
        call.media.push(`${this.nowMs} ${leg} digit ${JSON.stringify(event)}`);
      },
      end: () => {},
    };
  }

  closed(session: IngestSession, reason: SessionEndReason): void {
    const call = this.calls.get(session.stream);
    if (call === undefined) return;
    call.closed = reason;
    call.closedAt = this.nowMs;
  }
}

const servers: IngestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

/** A STREP server driven without sockets, stopped after the test. */
function newServer(handlers: TimedHandlers, options: Partial<IngestServerOptions>): IngestServer {
  const server = new IngestServer({ host: '127.0.0.1', strepPort: 0, ...options }, handlers);
  servers.push(server);
  return server;
}

const IDLE_MS = 300;
const ROUNDS = 60;
const ids = Array.from({ length: 7 }, (_, k) => `00000000-0000-4000-8000-00000000010${k}`);

/** What call `call`'s `leg` sends in `round`: sequence numbers of PCMU packets, or an event packet. */
function sendRound(server: IngestServer, round: number, phase: number): void {
  const t = 20 * round;
  // Each call's packets arrive at a phase of its own in the 20 ms cycle, rx with a jitter of a few ms, all
  // before the round's sweep; call 2's on the round, so that the deadlines of its held packets fall on sweeps.
  const send = (call: number, leg: 0 | 1, packet: Buffer) => {
    const arrival = call === 2 ? t : t + ((phase + 3 * call) % 7) + (leg === 0 ? (round * 5 + phase) % 4 : 0);
    server.receiveStrep(strepWrap(ids[call] as string, leg, packet), '10.0.0.1', 7000 + call, arrival);
  };
  const audio = (call: number, leg: 0 | 1, seq: number, ssrc = 10 * call + leg + 1) =>
    send(call, leg, pcmuPacket(seq, ssrc, 0x10 + 3 * call + leg));
  for (const leg of [0, 1] as const) {
    // 0: both legs all along.
    audio(0, leg, 100 + round);
    // 1: tx goes quiet after round 10; its frames then come from the sweep.
    if (leg === 0 || round <= 10) audio(1, leg, 100 + round);
    // 3: both legs stop after round 15 (media paused, then the session idle).
    if (round <= 15) audio(3, leg, 100 + round);
    // 4: rx carries a digit in rounds 20-22 with no end packet (closed by the sweep's expiry), audio otherwise.
    if (leg === 1 || round < 20 || round > 22) audio(4, leg, 100 + round);
    else send(4, leg, eventPacket(100 + round, 41, 120, 5, 160 * (round - 19)));
    // 5: rx only.
    if (leg === 0) audio(5, leg, 100 + round);
    // 6: rx changes SSRC at round 25.
    audio(6, leg, 100 + round, leg === 0 && round >= 25 ? 99 : 60 + leg);
  }
  // 2: tx all along; rx swaps rounds 14 and 15, loses round 20 and rounds 30-32, and round 40 comes 3 rounds late.
  audio(2, 1, 100 + round);
  if (round === 14) audio(2, 0, 115);
  else if (round === 15) audio(2, 0, 114);
  else if (round !== 20 && !(round >= 30 && round <= 32) && round !== 40) audio(2, 0, 100 + round);
  if (round === 43) audio(2, 0, 140);
}

/**
 * The scenario, swept every 20 ms; `flushAll`: before each sweep, every live session's media not idle by then is
 * flushed too, as every sweep did before the schedule, so any difference is something the schedule made it miss.
 */
async function run(flushAll: boolean, phase: number) {
  const handlers = new TimedHandlers();
  // A reorder wait that is not a multiple of the packet interval: held packets' deadlines fall on sweeps.
  const server = newServer(handlers, { idleMs: IDLE_MS, reorderMs: 30 });
  const swept0 = STAGES.work[WORK.sessions_swept] as number;
  for (let round = 0; round < ROUNDS; round++) {
    handlers.nowMs = 20 * round;
    sendRound(server, round, phase);
    server.drain();
    const sweepAt = 20 * round + 10;
    handlers.nowMs = sweepAt;
    if (flushAll) {
      // As the sweep did: a session idle by now is ended, not flushed.
      for (const session of server.sessions()) {
        if (sweepAt - session.lastSeenMs < IDLE_MS) session.media.flush(sweepAt);
      }
    }
    server.sweep(sweepAt);
  }
  const visited = (STAGES.work[WORK.sessions_swept] as number) - swept0;
  handlers.nowMs = -1;
  await server.stop();
  return { calls: Object.fromEntries(handlers.calls), visited };
}

describe('the sweep on its schedule', () => {
  it('gives every call the same media at the same times as flushing every call at every sweep', async () => {
    // The calls' phases in the 20 ms cycle decide which sweep a quiet leg's first silence comes from.
    for (let phase = 1; phase < 10; phase++) {
      const scheduled = await run(false, phase);
      const everyCall = await run(true, phase);
      expect(scheduled.calls, `phase ${phase}`).toEqual(everyCall.calls);
    }
    const scheduled = await run(false, 0);
    expect(scheduled.calls).toEqual((await run(true, 0)).calls);

    // The scenario did what it says.
    const call = (k: number) => scheduled.calls[`strep:${ids[k]}`];
    const framesAt = (k: number, leg: Leg, t: number) =>
      call(k)?.media.filter((m) => m.startsWith(`${t} ${leg} frame`)).length;
    // The quiet tx of call 1 moves on with silence from the sweep, as does the lost rx of call 2.
    expect(call(1)?.media.some((m) => / 1 frame /.test(m) && Number(m.split(' ')[0]) % 20 === 10)).toBe(true);
    expect(call(2)?.media.some((m) => / 0 frame /.test(m) && Number(m.split(' ')[0]) % 20 === 10)).toBe(true);
    expect(framesAt(0, 0, 200)).toBe(1);
    // Call 3 ends idle at the first sweep IDLE_MS after its last packet (round 15: its rx, at 300 ms + its phase
    // of 2 ms + a jitter of 3 ms).
    const lastPacket = 300 + 2 + 3;
    const firstSweepAfter = Math.ceil((lastPacket + IDLE_MS - 10) / 20) * 20 + 10;
    expect(call(3)).toMatchObject({ closed: 'idle', closedAt: firstSweepAfter });
    // The digit of call 4 is closed by expiry, from a sweep.
    const digit = call(4)?.media.find((m) => m.includes('digit'));
    expect(digit).toBeDefined();
    expect(Number(digit?.split(' ')[0]) % 20).toBe(10);
    for (const k of [0, 1, 2, 4, 5, 6]) expect(call(k)?.closed).toBe('shutdown');

    // Most sweeps left most calls alone: the steady calls were visited only while they started up.
    expect(scheduled.visited).toBeLessThan(0.5 * ids.length * ROUNDS);
  });

  it('leaves a call whose media has paused alone until it may be idle', async () => {
    const handlers = new TimedHandlers();
    const server = newServer(handlers, { idleMs: 3000 });
    const id = '00000000-0000-4000-8000-000000000500';
    const swept0 = STAGES.work[WORK.sessions_swept] as number;
    let visitsWhileQuiet = 0;
    let endedAt = -1;
    for (let round = 0; round < 250 && endedAt < 0; round++) {
      if (round < 10) {
        for (const leg of [0, 1] as const) {
          server.receiveStrep(
            strepWrap(id, leg, pcmuPacket(round, leg + 1, 0x11)),
            '10.0.0.1',
            7000,
            20 * round,
          );
        }
      }
      const before = STAGES.work[WORK.sessions_swept] as number;
      handlers.nowMs = 20 * round + 10;
      server.sweep(20 * round + 10);
      if (round >= 10) visitsWhileQuiet += (STAGES.work[WORK.sessions_swept] as number) - before;
      if (server.session(`strep:${id}`) === undefined) endedAt = 20 * round + 10;
    }
    // Silence fills the quiet legs every sweep until the media pauses (a second after the last packet, at 180 ms);
    // then the sweep comes back only once the call may be idle, and ends it (3,000 ms after 180 ms).
    expect(endedAt).toBe(3190);
    expect(handlers.calls.get(`strep:${id}`)?.closed).toBe('idle');
    expect(visitsWhileQuiet).toBeGreaterThan(40);
    expect(visitsWhileQuiet).toBeLessThan(60);
    expect((STAGES.work[WORK.sessions_swept] as number) - swept0).toBeLessThan(70);
  });

  it('visits a leg holding packets behind a gap only once the gap may be given up', async () => {
    // reorderMs 60: the packet after a loss waits three sweeps. The rx leg loses round 10's packet, gets rounds 11
    // and 12 (held behind the gap, from 220 ms), then stops; tx goes on. The gap's deadline is 280 ms, so the sweeps
    // at 230, 250 and 270 have nothing to do for the call, and the one at 290 declares round 10 lost and plays the
    // held packets (round 10's frame concealed), before rx falls quiet.
    const handlers = new TimedHandlers();
    const server = newServer(handlers, { idleMs: IDLE_MS, reorderMs: 60 });
    const id = '00000000-0000-4000-8000-000000000600';
    const visits: number[] = [];
    for (let round = 0; round < 20; round++) {
      handlers.nowMs = 20 * round;
      for (const leg of [0, 1] as const) {
        if (leg === 0 && (round === 10 || round > 12)) continue;
        const packet = pcmuPacket(100 + round, leg + 1, 0x20 + round);
        server.receiveStrep(strepWrap(id, leg, packet), '10.0.0.1', 7000, 20 * round);
      }
      server.drain();
      const before = STAGES.work[WORK.sessions_swept] as number;
      handlers.nowMs = 20 * round + 10;
      server.sweep(20 * round + 10);
      visits.push((STAGES.work[WORK.sessions_swept] as number) - before);
    }
    expect(visits.slice(11, 14)).toEqual([0, 0, 0]);
    expect(visits[14]).toBe(1);
    const rx = (handlers.calls.get(`strep:${id}`)?.media ?? []).filter((m) => / 0 frame /.test(m));
    // Frames 10-12 of rx come from the sweep at 290 ms: the concealed loss, then the two held packets.
    expect(rx.filter((m) => m.startsWith('290 ')).map((m) => Number(m.split(' ')[3]))).toEqual([10, 11, 12]);
    expect(server.session(`strep:${id}`)?.media.stats[0].lost).toBe(1);
  });

  it('ends a session that never carried a packet once it has been idle for idleMs', async () => {
    const handlers = new TimedHandlers();
    const server = newServer(handlers, { idleMs: IDLE_MS });
    const opened = performance.now();
    const session = server.announce({
      callControlId: 'v3:announced',
      callLegId: '00000000-0000-4000-8000-000000000200',
      callSessionId: null,
    });
    server.sweep(opened - 1 + IDLE_MS / 2);
    expect(session.ended).toBe(false);
    // A millisecond past: (t + IDLE_MS) - t may round below IDLE_MS on the clock's fractions.
    server.sweep(session.createdMs + IDLE_MS + 1);
    expect(session.endReason).toBe('idle');
  });

  it('ends a session on time when idleMs is shorter than a leg waits before its silence', async () => {
    const handlers = new TimedHandlers();
    const server = newServer(handlers, { idleMs: 25 });
    const id = '00000000-0000-4000-8000-000000000400';
    for (let round = 0; round < 5; round++) {
      server.receiveStrep(strepWrap(id, 0, pcmuPacket(round, 5, 0x11)), '10.0.0.1', 7000, 20 * round);
      server.drain();
      server.sweep(20 * round + 10);
    }
    const session = server.session(`strep:${id}`);
    // The last packet came at 80 ms: idle from 105 ms, ended by the sweep at 110.
    server.sweep(90);
    expect(session?.ended).toBe(false);
    server.sweep(110);
    expect(session?.endReason).toBe('idle');
  });

  it('ends a session whose packets are all of a codec it cannot decode once they stop', async () => {
    const handlers = new TimedHandlers();
    const server = newServer(handlers, { idleMs: IDLE_MS });
    const id = '00000000-0000-4000-8000-000000000300';
    for (let round = 0; round < 10; round++) {
      const g729 = pcmuPacket(round, 5, 0x11);
      g729[1] = 18; // G.729: counted as unsupported, never decoded
      server.receiveStrep(strepWrap(id, 0, g729), '10.0.0.1', 7000, 20 * round);
      server.drain();
      server.sweep(20 * round + 10);
    }
    const session = server.session(`strep:${id}`);
    expect(session?.ended).toBe(false);
    server.sweep(180 + IDLE_MS);
    expect(session?.endReason).toBe('idle');
  });
});
