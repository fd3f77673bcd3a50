import { describe, expect, it } from 'vitest';
import {
  PACKET_SAMPLE_EVERY,
  STAGE,
  STAGE_NAMES,
  StageClock,
  WORK,
  WORK_NAMES,
} from '../../src/telemetry/stage-clock.ts';

describe('StageClock', () => {
  it('keeps time exclusive: a nested stage is taken out of the stage it interrupts', () => {
    const clock = new StageClock();
    const t0 = 1_000_000;
    clock.enter(STAGE.outside, t0); // align the clock's start with the test's time line
    clock.ms.fill(0);
    const outer = clock.enter(STAGE.receive, t0 + 10);
    const inner = clock.enter(STAGE.decode_g722, t0 + 12);
    const frame = clock.enter(STAGE.frame, t0 + 15);
    clock.leave(frame, t0 + 22);
    clock.leave(inner, t0 + 23);
    clock.leave(outer, t0 + 30);

    expect(clock.ms[STAGE.receive]).toBe(2 + 7);
    expect(clock.ms[STAGE.decode_g722]).toBe(3 + 1);
    expect(clock.ms[STAGE.frame]).toBe(7);
    expect(clock.ms[STAGE.outside]).toBe(10);
    expect(clock.current).toBe(STAGE.outside);
    expect(clock.calls[STAGE.receive]).toBe(1);
    expect(clock.calls[STAGE.frame]).toBe(1);
    // The whole span is accounted once.
    const total = clock.ms.reduce((a, b) => a + b, 0);
    expect(total).toBe(30);
  });

  it('times one datagram in PACKET_SAMPLE_EVERY, weighted, with the stages nested in it', () => {
    const clock = new StageClock();
    const t0 = 1_000_000;
    clock.enter(STAGE.outside, t0);
    clock.ms.fill(0);
    clock.calls.fill(0);
    const datagrams = 10 * PACKET_SAMPLE_EVERY;
    for (let i = 0; i < datagrams; i++) {
      // Each datagram: 1 ms of receive work, then a 2 ms frame, then 1 ms more receive work.
      const t = t0 + 10 * i;
      const outer = clock.enterDatagram(t);
      const frame = clock.enter(STAGE.frame, t + 1);
      clock.leave(frame, t + 3);
      clock.leaveDatagram(outer, t + 4);
      // A stage entered between datagrams (a timer's) is always timed, at weight 1.
      const sweep = clock.enter(STAGE.sweep, t + 5);
      clock.leave(sweep, t + 6);
    }
    expect(clock.ms[STAGE.receive]).toBe(2 * datagrams);
    expect(clock.ms[STAGE.frame]).toBe(2 * datagrams);
    expect(clock.calls[STAGE.receive]).toBe(datagrams);
    expect(clock.calls[STAGE.frame]).toBe(datagrams);
    expect(clock.ms[STAGE.sweep]).toBe(datagrams);
    expect(clock.calls[STAGE.sweep]).toBe(datagrams);
    expect(clock.current).toBe(STAGE.outside);
  });

  it('times decoding only inside sampled datagrams', () => {
    const clock = new StageClock();
    expect(clock.enterInDatagram(STAGE.decode_g711)).toBeLessThan(0); // a file replayed into CallMedia
    for (let i = 1; i < PACKET_SAMPLE_EVERY; i++) {
      const untimed = clock.enterDatagram(10 * i);
      expect(clock.enterInDatagram(STAGE.decode_g711)).toBeLessThan(0);
      clock.leaveDatagram(untimed, 10 * i + 5);
    }
    clock.ms.fill(0);
    const sampled = clock.enterDatagram(1000);
    const decode = clock.enterInDatagram(STAGE.decode_g711);
    expect(decode).toBe(STAGE.receive);
    clock.leave(decode);
    clock.leaveDatagram(sampled);
    expect(clock.calls[STAGE.decode_g711]).toBe(PACKET_SAMPLE_EVERY);
  });

  it('stays muted only until an untimed datagram ends, even when its handling throws', () => {
    const clock = new StageClock();
    const outer = clock.enterDatagram(1);
    try {
      expect(clock.enter(STAGE.frame, 2)).toBeLessThan(0);
      throw new Error('handler fault');
    } catch {
      // the ingest server's finally block
    } finally {
      clock.leaveDatagram(outer, 3);
    }
    expect(clock.enter(STAGE.score, 4)).toBe(STAGE.outside);
    expect(clock.current).toBe(STAGE.score);
  });

  it('counts work units', () => {
    const clock = new StageClock();
    clock.count(WORK.sessions_swept, 200);
    clock.count(WORK.sessions_swept, 3);
    clock.count(WORK.replay_hits);
    expect(clock.work[WORK.sessions_swept]).toBe(203);
    expect(clock.work[WORK.replay_hits]).toBe(1);
  });

  it('names every stage and unit once, in index order', () => {
    for (const [name, index] of Object.entries(STAGE)) expect(STAGE_NAMES[index]).toBe(name);
    for (const [name, index] of Object.entries(WORK)) expect(WORK_NAMES[index]).toBe(name);
  });
});
