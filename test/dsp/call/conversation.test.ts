import { describe, expect, it } from 'vitest';
import { ConversationTracker } from '../../../src/dsp/conversation/conversation-tracker.ts';

/** Feeds a script of [rxSpeech, txSpeech, frames] segments. */
function run(script: [0 | 1, 0 | 1, number][]): ConversationTracker {
  const t = new ConversationTracker();
  for (const [rx, tx, frames] of script) for (let i = 0; i < frames; i++) t.push(rx === 1, tx === 1);
  return t;
}

describe('ConversationTracker', () => {
  it('alternating turns with 300 ms gaps', () => {
    const script: [0 | 1, 0 | 1, number][] = [];
    for (let i = 0; i < 10; i++) {
      script.push(i % 2 === 0 ? [1, 0, 100] : [0, 1, 100]); // 2 s turn
      script.push([0, 0, 15]); // 300 ms gap
    }
    const t = run(script);
    expect(t.turns).toBe(9);
    expect(t.gapQuantileS(0.5)).toBeCloseTo(0.3, 5);
    expect(t.gapQuantileS(0.9)).toBeCloseTo(0.3, 5);
    expect(t.responseQuantileS(0, 0.5)).toBeCloseTo(0.3, 5);
    expect(t.responseCounts[0]).toBe(4);
    expect(t.talkFraction(0)).toBeCloseTo(500 / 1150, 5);
    expect(t.talkFraction(1)).toBeCloseTo(500 / 1150, 5);
    expect(t.doubleTalkFraction()).toBe(0);
    expect(t.mutualSilenceFraction()).toBeCloseTo(150 / 1150, 5);
    expect(t.longestMonologueS(0)).toBeCloseTo(2, 5);
    expect(t.talkOvers[0] + t.talkOvers[1]).toBe(0);
  });

  it('talk-over where rx does not yield (a recording plays on)', () => {
    // rx talks for 20 s; tx breaks in three times for 1 s each; rx keeps going.
    const t = run([
      [1, 0, 200],
      [1, 1, 50],
      [1, 0, 200],
      [1, 1, 50],
      [1, 0, 200],
      [1, 1, 50],
      [1, 0, 250],
    ]);
    expect(t.talkOvers[0]).toBe(3);
    expect(t.yields[0]).toBe(0);
    expect(t.yieldRate(0)).toBeLessThan(0.2);
    expect(t.doubleTalkFraction()).toBeCloseTo(150 / 1000, 5);
  });

  it('talk-over where rx yields within 500 ms (a person stops)', () => {
    const t = run([
      [1, 0, 200],
      [1, 1, 10], // rx stops 200 ms after tx started
      [0, 1, 100],
      [0, 0, 20],
      [1, 0, 200],
      [1, 1, 15],
      [0, 1, 100],
    ]);
    expect(t.talkOvers[0]).toBe(2);
    expect(t.yields[0]).toBe(2);
    expect(t.yieldRate(0)).toBeGreaterThan(0.8);
  });

  it('a short backchannel over someone is not a talk-over', () => {
    const t = run([
      [1, 0, 200],
      [1, 1, 8], // "mm-hmm" 160 ms
      [1, 0, 200],
    ]);
    expect(t.talkOvers[0]).toBe(0);
  });

  it('one-sided speech', () => {
    const t = run([
      [1, 0, 500],
      [0, 0, 5],
      [1, 0, 500],
    ]);
    expect(t.talkFraction(1)).toBe(0);
    expect(t.turns).toBe(0);
    expect(t.longestMonologueS(0)).toBeCloseTo(20.1, 5);
    expect(t.gapQuantileS(0.5)).toBe(0);
  });

  it('ignores voice-activity blips shorter than a spurt', () => {
    const t = run([
      [1, 0, 100],
      [0, 0, 20],
      [0, 1, 2],
      [0, 0, 20],
      [1, 0, 100],
    ]);
    expect(t.turns).toBe(0);
  });
});
