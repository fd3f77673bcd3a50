import { describe, expect, it } from 'vitest';
import type { AlertDecision } from '../../src/alert/alert.ts';
import { judgeCall, verdictOf } from '../../src/alert/call-judge.ts';
import { NO_REPLAY } from '../../src/dsp/fingerprint/replay-index.ts';

const d = (kind: AlertDecision['kind'], mediaS: number): AlertDecision => ({
  kind,
  score: 0.9,
  level: 0,
  mediaS,
  evidence: {},
});

describe('call verdict', () => {
  it('is legit without alerts, the first labelled kind otherwise, and card_entry whenever a card was keyed', () => {
    expect(verdictOf([])).toBe('legit');
    expect(verdictOf([d('pumping', 4), d('robocall', 9)])).toBe('pumping');
    expect(verdictOf([d('robocall', 4), d('card_entry', 30)])).toBe('card_entry');
    expect(verdictOf([d('replay', 6)])).toBe('robocall');
    expect(verdictOf([d('transcript_risk', 6)])).toBe('legit');
  });

  it('judges windows and digits in media-time order', () => {
    const manifest = {
      classes: ['legit', 'robocall'],
      thresholds: { robocall: 0.5 },
      persistence: { robocall: 1 },
    };
    const number = '4111111111111111';
    const events = [...number].map((digit, i) => ({
      leg: 'rx' as const,
      type: 'dtmf' as const,
      value: digit,
      at_s: 1 + i * 0.25,
      dur_s: 0.08,
    }));
    const probs = Float32Array.from([0.9, 0.1, 0.9, 0.1, 0.2, 0.8]);
    const decisions = judgeCall(
      { windowTimes: [1, 2, 6], replay: [NO_REPLAY, NO_REPLAY, NO_REPLAY], events },
      probs,
      2,
      manifest,
    );
    expect(decisions.map((x) => [x.kind, x.mediaS])).toEqual([
      ['card_entry', 4.83],
      ['robocall', 6],
    ]);
  });
});
