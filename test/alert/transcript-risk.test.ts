import { describe, expect, it } from 'vitest';
import { TranscriptRiskTracker } from '../../src/alert/transcript-risk.ts';

const scam = [
  'Hello, this is officer Daniels calling from the Social Security Administration.',
  'Your social security number has been suspended due to suspicious activity and there is a warrant for your arrest.',
  'To resolve this right now you need to buy Google Play gift cards and read me the numbers on the back.',
  "Don't tell anyone at the store what the cards are for, and stay on the line.",
];

const benign = [
  'Hi, I am calling about my order from last week.',
  'It arrived but one of the plates was broken, could you send a replacement?',
  'Sure, can you confirm the delivery address for me?',
  'Yes it is 12 Elm Street. Thanks so much, have a good day.',
];

describe('TranscriptRiskTracker', () => {
  it('raises once the accumulated scam script crosses the threshold, and escalates only on new levels', () => {
    const tracker = new TranscriptRiskTracker();
    const results = scam.map((segment) => tracker.addSegment('call-1', segment, true));
    const raises = results.filter((r) => r?.raise).map((r) => r?.raise?.level);
    expect(raises[0]).toBe(0);
    expect(new Set(raises).size).toBe(raises.length);
    const last = results.at(-1);
    expect(last?.score).toBeGreaterThan(0.9);
    expect(last?.categories).toEqual(
      expect.arrayContaining(['impersonation', 'threat', 'gift_card', 'urgency', 'secrecy']),
    );
    // the first segment alone is a single tactic: no alert
    expect(results[0]?.raise).toBeNull();
    // repeating the same final text cannot push a category past its strongest rule
    expect(tracker.addSegment('call-1', scam[2], true)?.raise).toBeNull();
  });

  it('stays quiet on an ordinary customer call', () => {
    const tracker = new TranscriptRiskTracker();
    const results = benign.map((segment) => tracker.addSegment('call-2', segment, true));
    expect(results.every((r) => r?.raise === null)).toBe(true);
    expect(results.at(-1)?.score).toBe(0);
  });

  it('ignores interim segments and forgets a call when it ends', () => {
    const tracker = new TranscriptRiskTracker();
    for (const segment of scam) expect(tracker.addSegment('call-3', segment, false)).toBeNull();
    tracker.addSegment('call-3', scam[1], true);
    tracker.end('call-3');
    expect(tracker.addSegment('call-3', benign[0], true)?.score).toBe(0);
  });
});
