import { describe, expect, it } from 'vitest';
import { DEFAULT_REPLAY_RULE } from '../../src/alert/policy.ts';
import { NO_REPLAY, type ReplayStatus } from '../../src/dsp/fingerprint/replay-index.ts';
import { chooseThresholds, type ScoredCall } from '../../src/score/training/choose-thresholds.ts';

const CLASSES = ['legit', 'robocall', 'pumping', 'fax_modem'] as const;

/** A call of `label` whose windows (1 s apart, from t = 1 s) carry these probabilities of class `cls`. */
function scored(label: string, cls: number, p: number[], onsetS = 0, replay?: ReplayStatus[]): ScoredCall {
  const probs = new Float32Array(p.length * CLASSES.length);
  p.forEach((x, w) => {
    probs[w * CLASSES.length] = 1 - x;
    probs[w * CLASSES.length + cls] = x;
  });
  return { label, onsetS, windowTimes: p.map((_, w) => w + 1), probs, replay };
}

const call = (label: string, robocall: number[], onsetS = 0, replay?: ReplayStatus[]) =>
  scored(label, CLASSES.indexOf('robocall'), robocall, onsetS, replay);
const pumpingCall = (label: string, pumping: number[]) => scored(label, CLASSES.indexOf('pumping'), pumping);

const quiet = (n: number) => Array.from({ length: n }, () => 0.02);

describe('threshold and persistence choice', () => {
  it('alerts every fraud call and no legit call when the classes separate, as early as the scores allow', () => {
    const calls = [
      ...Array.from({ length: 20 }, (_, i) =>
        call('robocall', [0.1, 0.999, 0.999, 0.999, 0.999, 0.999], i % 2),
      ),
      ...Array.from({ length: 40 }, () => call('legit', quiet(20))),
    ];
    const choice = chooseThresholds(CLASSES, calls).robocall;
    expect(choice).toMatchObject({ recall: 1, legit_false_alarm: 0, persistence: 1 });
    // The first confident window is at 2 s: onsets 0 and 1 give 2 and 1 s to detect.
    expect(choice.ttd_median_s).toBe(1.5);
  });

  it('trades a legit alarm within the budget for reaching the time-to-detect target', () => {
    // Fraud calls confident from their third window (3 s) on; one legit call has a single confident window, so
    // persistence 2 would spare it but detect at 4 s.
    const calls = [
      ...Array.from({ length: 20 }, () => call('robocall', [0.2, 0.2, 0.99, 0.99, 0.99, 0.99, 0.99])),
      call('legit', [...quiet(5), 0.99, ...quiet(5)]),
      ...Array.from({ length: 300 }, () => call('legit', quiet(12))),
    ];
    const choice = chooseThresholds(CLASSES, calls, {
      recall: 0.95,
      legitBudget: 0.01,
      ttdMedianS: 3,
    }).robocall;
    expect(choice.recall).toBe(1);
    expect(choice.persistence).toBe(1);
    expect(choice.ttd_median_s).toBe(3);
    expect(choice.legit_false_alarm).toBeGreaterThan(0);
  });

  it('keeps one grid step of margin to legit calls that nearly alerted', () => {
    // A legit call holds p = 0.92 for three windows: 0.95 x 1 clears it, but only just (0.9 x 1 would alert).
    const calls = [
      ...Array.from({ length: 20 }, () => call('robocall', [0.2, 0.999, 0.999, 0.999, 0.999, 0.999, 0.999])),
      call('legit', [...quiet(3), 0.92, 0.92, 0.92, ...quiet(3)]),
      ...Array.from({ length: 30 }, () => call('legit', quiet(10))),
    ];
    const choice = chooseThresholds(CLASSES, calls, { recall: 0.95, legitBudget: 0, ttdMedianS: 3 }).robocall;
    expect(choice.legit_false_alarm_margin).toBe(0);
    expect(choice.threshold > 0.95 || choice.persistence > 3).toBe(true);
    expect(choice.recall).toBe(1);
  });

  it('lets near-certain windows alert at once where legit calls only come close with merely likely runs', () => {
    // Most fraud calls have a near-certain window at 2 s, the rest are only ever likely (p = 0.96, which needs
    // persistence). Legit calls that come close hold 0.96 for two windows (persistence 3 spares them) and never
    // reach 0.99.
    const calls = [
      ...Array.from({ length: 12 }, () => call('robocall', [0.1, 0.999, 0.96, 0.96, 0.96, 0.96, 0.96])),
      ...Array.from({ length: 8 }, () => call('robocall', [0.1, 0.96, 0.96, 0.96, 0.96, 0.96, 0.96])),
      ...Array.from({ length: 3 }, () => call('legit', [...quiet(3), 0.96, 0.96, ...quiet(3)])),
      ...Array.from({ length: 300 }, () => call('legit', quiet(10))),
    ];
    const choice = chooseThresholds(CLASSES, calls).robocall;
    expect(choice.instant_threshold).not.toBeNull();
    expect(choice.instant_threshold as number).toBeGreaterThan(0.96);
    expect(choice).toMatchObject({ recall: 1, legit_false_alarm: 0, ttd_median_s: 2 });
    // Persistence still spares the legit runs, with a window of margin (the instant tier does the early work).
    expect(choice.persistence).toBeGreaterThanOrEqual(4);
  });

  it('sets no instant tier when a legit call has a near-certain window', () => {
    // The fraud calls are confident for three windows from 3 s; a few legit calls each have one window of 0.999.
    const calls = [
      ...Array.from({ length: 20 }, () => call('robocall', [0.1, 0.2, 0.999, 0.999, 0.999, 0.999])),
      ...Array.from({ length: 3 }, () => call('legit', [...quiet(3), 0.999, ...quiet(3)])),
      ...Array.from({ length: 300 }, () => call('legit', quiet(10))),
    ];
    const choice = chooseThresholds(CLASSES, calls).robocall;
    expect(choice).toMatchObject({ instant_threshold: null, legit_false_alarm: 0, recall: 1 });
    expect(choice.persistence).toBeGreaterThanOrEqual(2);
  });

  it('counts persistence 1 at the threshold as the looser neighbour of an instant threshold one step above it', () => {
    // A legit call has one window at 0.52. Alerting on the fraud calls' first window (0.56) takes a single window
    // at 0.55, which a step looser (0.5) would alert that call: with no budget the choice waits for window two.
    const calls = [
      ...Array.from({ length: 20 }, () => call('robocall', [0.56, 0.7, 0.7, 0.7, 0.7])),
      call('legit', [...quiet(3), 0.52, ...quiet(3)]),
      ...Array.from({ length: 30 }, () => call('legit', quiet(8))),
    ];
    const choice = chooseThresholds(CLASSES, calls, {
      recall: 0.95,
      legitBudget: 0,
      ttdMedianS: 0.5,
    }).robocall;
    expect(choice).toMatchObject({ recall: 1, legit_false_alarm_margin: 0, ttd_median_s: 2 });
  });

  it('takes the room to spare over speed for a class whose time-to-detect aim is long (pumping)', () => {
    // Pumping calls are likely (0.96) from their second window on. One legit call in 100 holds 0.96 for its first
    // three windows (nobody has spoken yet): persistence 4 spares it, but only just.
    const calls = [
      ...Array.from({ length: 20 }, () => pumpingCall('pumping', [0.1, ...Array(14).fill(0.96)])),
      pumpingCall('legit', [0.96, 0.96, 0.96, ...quiet(10)]),
      ...Array.from({ length: 99 }, () => pumpingCall('legit', quiet(12))),
    ];
    const targets = { recall: 0.95, legitBudget: 0.01, ttdMedianS: 3 };
    // Aiming at 3 s, the budget is spent on that legit call to detect at 2 s.
    const fast = chooseThresholds(CLASSES, calls, targets).pumping;
    expect(fast).toMatchObject({ recall: 1, persistence: 1, legit_false_alarm: 0.01, ttd_median_s: 2 });
    // Aiming at 15 s, the choice spares it with a window of margin: five in a row, detected at 6 s.
    const patient = chooseThresholds(CLASSES, calls, {
      ...targets,
      ttdMedianSByClass: { pumping: 15 },
    }).pumping;
    expect(patient).toMatchObject({
      recall: 1,
      persistence: 5,
      legit_false_alarm: 0,
      legit_false_alarm_margin: 0,
      ttd_median_s: 6,
    });
    // The aim is per class: robocall keeps the common one.
    expect(
      chooseThresholds(CLASSES, calls, { ...targets, ttdMedianSByClass: { robocall: 15 } }).pumping,
    ).toEqual(fast);
  });

  it('keeps a grid step of room on the fraud side too: a setting the fraud calls only just reach is not taken', () => {
    // Pumping calls hold 0.96. A threshold of 0.95 with four windows spares the legit call (0.92 for three
    // windows) with margin and detects at 5 s, but one step stricter (0.97) would miss every call; 0.9 with
    // five windows detects at 6 s with room on both sides.
    const calls = [
      ...Array.from({ length: 20 }, () => pumpingCall('pumping', [0.1, ...Array(14).fill(0.96)])),
      pumpingCall('legit', [0.92, 0.92, 0.92, ...quiet(10)]),
      ...Array.from({ length: 99 }, () => pumpingCall('legit', quiet(12))),
    ];
    const choice = chooseThresholds(CLASSES, calls, {
      recall: 0.95,
      legitBudget: 0.005,
      ttdMedianS: 3,
      ttdMedianSByClass: { pumping: 15 },
    }).pumping;
    expect(choice).toMatchObject({ recall: 1, legit_false_alarm_margin: 0, persistence: 5, ttd_median_s: 6 });
    expect(choice.threshold).toBeLessThanOrEqual(0.9);
  });

  it('counts the replay rule as a robocall detection, as the evaluation does', () => {
    const rule = DEFAULT_REPLAY_RULE;
    const matched: ReplayStatus = {
      matchedCalls: rule.minOtherCalls,
      bestCallKey: 'other',
      bestOverlapS: rule.minOverlapS,
      bestMatchedFrames: rule.minMatchedFrames,
    };
    // The model never scores these robocalls above 0.2; the audio is heard on another call from window 5 on.
    const replay = Array.from({ length: 8 }, (_, w) => (w >= 4 ? matched : NO_REPLAY));
    const calls = [
      ...Array.from({ length: 10 }, () => call('robocall', Array(8).fill(0.2), 0, replay)),
      ...Array.from({ length: 30 }, () => call('legit', quiet(8))),
    ];
    const choice = chooseThresholds(CLASSES, calls).robocall;
    expect(choice.recall).toBe(1);
    expect(choice.ttd_median_s).toBe(5);
    expect(choice.legit_false_alarm).toBe(0);
  });
});
