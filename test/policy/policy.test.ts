import { describe, expect, it } from 'vitest';
import { CallPolicy, ESCALATION_STEP } from '../../src/alert/policy.ts';

const manifest = {
  classes: ['legit', 'robocall', 'pumping', 'fax_modem'],
  thresholds: { robocall: 0.6, pumping: 0.7, fax_modem: 0.5 },
  persistence: { robocall: 2, pumping: 3, fax_modem: 1 },
};

function feed(policy: CallPolicy, rows: number[][]) {
  const out = [];
  for (let i = 0; i < rows.length; i++) out.push(...policy.scoreWindow(i + 1, Float32Array.from(rows[i]), 0));
  return out;
}

describe('call policy', () => {
  it('needs the manifest persistence of consecutive evidence windows', () => {
    const alerts = feed(new CallPolicy(manifest), [
      [0.2, 0.7, 0.05, 0.05],
      [0.6, 0.3, 0.05, 0.05], // breaks the run
      [0.2, 0.7, 0.05, 0.05],
      [0.1, 0.8, 0.05, 0.05],
    ]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'robocall', level: 0, mediaS: 4, score: 0.75 });
  });

  it('alerts on one window at or above the instant threshold, and needs the full run below it', () => {
    const tiered = { ...manifest, instant_thresholds: { robocall: 0.95 } };
    // A single likely window (0.9) is not enough with persistence 2; a near-certain one (0.97) is.
    const likely = feed(new CallPolicy(tiered), [
      [0.9, 0.05, 0.03, 0.02],
      [0.08, 0.9, 0.01, 0.01],
      [0.9, 0.05, 0.03, 0.02],
    ]);
    expect(likely).toEqual([]);
    const certain = feed(new CallPolicy(tiered), [
      [0.9, 0.05, 0.03, 0.02],
      [0.02, 0.97, 0.005, 0.005],
    ]);
    expect(certain).toHaveLength(1);
    expect(certain[0]).toMatchObject({
      kind: 'robocall',
      mediaS: 2,
      evidence: { windows: 1, threshold: 0.6, instant_threshold: 0.95 },
    });
    // Without the tier in the manifest the same window waits for the run.
    expect(feed(new CallPolicy(manifest), [[0.02, 0.97, 0.005, 0.005]])).toEqual([]);
  });

  it('raises one alert per kind unless the score rises by the escalation step', () => {
    const rows = Array.from({ length: 10 }, () => [0.05, 0.05, 0.05, 0.85]);
    const alerts = feed(new CallPolicy(manifest), rows);
    expect(alerts).toHaveLength(1);
    const escalated = feed(new CallPolicy(manifest), [
      [0.4, 0.05, 0.05, 0.5],
      [0.0, 0.0, 0.0, 0.5 + ESCALATION_STEP / 2],
      [0.0, 0.0, 0.0, 1.0],
    ]);
    expect(escalated.map((a) => a.level)).toEqual([0, 1]);
  });

  it('never alerts on legit and ignores classes without a threshold', () => {
    const policy = new CallPolicy({ ...manifest, thresholds: { robocall: 0.6 } });
    expect(
      feed(
        policy,
        Array.from({ length: 5 }, () => [0.99, 0.0, 0.99, 0.99]),
      ),
    ).toEqual([]);
  });

  it('turns a completed card number into a card_entry alert without the full number', () => {
    const policy = new CallPolicy(manifest);
    const number = '4111111111111111';
    let decision = null;
    for (let i = 0; i < number.length; i++) decision = policy.digit('tx', number[i], 5 + i * 0.3) ?? decision;
    expect(decision).toMatchObject({ kind: 'card_entry', score: 1, level: 0, mediaS: 9.5 });
    expect(JSON.stringify(decision)).not.toContain(number);
  });

  it('raises replay only with enough shared audio, score growing with the number of calls', () => {
    const policy = new CallPolicy(manifest);
    expect(policy.replay(3, 1, 2, 100, {})).toBeNull(); // too short
    expect(policy.replay(5, 1, 6, 10, {})).toBeNull(); // long but sparse: similar audio, not the same recording
    const first = policy.replay(6, 1, 5, 120, { best_match: 'call-a' });
    expect(first).toMatchObject({ kind: 'replay', level: 0, score: 0.75, evidence: { matched_frames: 120 } });
    expect(policy.replay(7, 1, 6, 150, {})).toBeNull();
    expect(policy.replay(9, 3, 6, 200, {})).toMatchObject({ kind: 'replay', level: 1 });
  });
});
