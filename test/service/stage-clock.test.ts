import { describe, expect, it } from 'vitest';
import { STAGE, STAGE_NAMES, StageClock, WORK, WORK_NAMES } from '../../src/telemetry/stage-clock.ts';

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
