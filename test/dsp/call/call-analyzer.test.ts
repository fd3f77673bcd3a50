import { describe, expect, it } from 'vitest';
import { CallAnalyzer, type CallAnalyzerListener } from '../../../src/dsp/call-analyzer.ts';
import type { DetectorEvent } from '../../../src/dsp/detector-event.ts';
import { FEATURE_NAMES, featureIndex } from '../../../src/dsp/feature-names.ts';
import { RX, TX } from '../../../src/ingest/media-sink.ts';
import { concat, forEachFrame, noise, sine, speech } from './audio-fixtures.ts';

class Recorder implements CallAnalyzerListener {
  windows: { mediaS: number; features: Float32Array }[] = [];
  events: DetectorEvent[] = [];
  ended = 0;
  onWindow(_call: CallAnalyzer, mediaS: number, features: Float32Array): void {
    this.windows.push({ mediaS, features: features.slice() });
  }
  onEvent(_call: CallAnalyzer, event: DetectorEvent): void {
    this.events.push(event);
  }
  onEnd(): void {
    this.ended++;
  }
}

/** Interleaves both legs frame by frame, as CallMedia delivers them. */
function runCall(rx: Int16Array, tx: Int16Array | null): { call: CallAnalyzer; rec: Recorder } {
  const rec = new Recorder();
  const call = new CallAnalyzer('test', rec);
  const txFrames: Int16Array[] = [];
  if (tx !== null) forEachFrame(tx, (f) => txFrames.push(f.slice()));
  forEachFrame(rx, (f, k) => {
    call.pushFrame(RX, k, f);
    if (k < txFrames.length) call.pushFrame(TX, k, txFrames[k]);
  });
  call.end();
  return { call, rec };
}

describe('feature windows', () => {
  it('has a unique name per position', () => {
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_NAMES.length);
    expect(() => featureIndex('no_such_feature')).toThrow();
  });

  const signals: [string, Int16Array, Int16Array | null][] = [
    ['silence', new Int16Array(5 * 8000), new Int16Array(5 * 8000)],
    ['white noise', noise(5, 12000, 3), noise(5, 300, 9)],
    ['tones', sine([2100], 5), sine([350, 440], 5)],
    ['full-scale square-ish clipping', sine([440], 5, 40000), null],
    [
      'speech',
      speech('Hello there, I am calling about the car you have for sale.'),
      speech('Oh yes, it is still available.'),
    ],
  ];
  it.each(signals)('%s: one window per second, FEATURE_NAMES.length long, all finite', (_n, rx, tx) => {
    const { rec } = runCall(rx, tx);
    const seconds = rx.length / 8000;
    expect(rec.windows.length).toBeGreaterThanOrEqual(Math.floor(seconds));
    expect(rec.windows.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    expect(rec.windows[0].mediaS).toBeCloseTo(1, 5);
    for (const w of rec.windows) {
      expect(w.features.length).toBe(FEATURE_NAMES.length);
      for (let i = 0; i < w.features.length; i++) {
        if (!Number.isFinite(w.features[i])) throw new Error(`${FEATURE_NAMES[i]} = ${w.features[i]}`);
        expect(Math.abs(w.features[i])).toBeLessThan(1000);
      }
    }
    expect(rec.ended).toBe(1);
  });

  it('reflects who talks: speech on rx only', () => {
    const { rec, call } = runCall(
      concat(speech('This is a recorded message. Please stay on the line for an agent.'), 0.5),
      null,
    );
    const last = rec.windows[rec.windows.length - 1].features;
    expect(last[featureIndex('rx_talk_frac')]).toBeGreaterThan(0.3);
    expect(last[featureIndex('tx_talk_frac')]).toBe(0);
    expect(last[featureIndex('talk_balance')]).toBe(1);
    expect(last[featureIndex('tx_present_frac')]).toBe(0);
    expect(last[featureIndex('rx_present_frac')]).toBe(1);
    expect(last[featureIndex('rx_call_level_db_mean')]).toBeGreaterThan(-60);
    expect(last[featureIndex('tx_call_level_db_mean')]).toBe(-100);
    expect(call.conversation.turns).toBe(0);
  });
});

describe('CallAnalyzer', () => {
  it('handles a mono source (no tx at all): tx is silence, windows keep coming', () => {
    const rec = new Recorder();
    const call = new CallAnalyzer('mono', rec);
    forEachFrame(noise(3.5, 2000), (f, k) => call.pushFrame(RX, k, f));
    // Before end, the conversation runs 200 ms behind the only leg.
    expect(call.mediaS).toBeCloseTo(3.5 - 0.2, 1);
    call.end();
    expect(call.mediaS).toBeCloseTo(3.5, 5);
    expect(rec.windows.map((w) => w.mediaS)).toEqual([1, 2, 3, 3.5]);
  });

  it('waits for a lagging leg up to 200 ms, then takes its missing frames as silence', () => {
    const call = new CallAnalyzer('lag', new Recorder());
    const frame = new Int16Array(160);
    for (let k = 0; k < 10; k++) call.pushFrame(RX, k, frame);
    expect(call.mediaS).toBe(0);
    call.pushFrame(RX, 10, frame);
    call.pushFrame(RX, 11, frame);
    expect(call.mediaS).toBeCloseTo(0.02, 5);
    for (let k = 0; k < 12; k++) call.pushFrame(TX, k, frame);
    expect(call.mediaS).toBeCloseTo(0.24, 5);
  });

  it('merges RFC 4733 and in-band reports of one key press, preferring RFC 4733 timing', () => {
    const rec = new Recorder();
    const call = new CallAnalyzer('digits', rec);
    const frame = new Int16Array(160);
    for (let k = 0; k < 50; k++) call.pushFrame(RX, k, frame);
    // In-band first (detector latency), RFC 4733 shortly after: one digit, RFC timing.
    call.onDigit(RX, '5', 0.52, 0.08);
    call.pushDigit(RX, { digit: '5', startS: 0.5, durS: 0.1, source: 'rfc4733' });
    // RFC 4733 first, in-band later: still one.
    call.pushDigit(RX, { digit: '7', startS: 0.8, durS: 0.1, source: 'rfc4733' });
    call.onDigit(RX, '7', 0.83, 0.07);
    // A repeated end event of the same RFC 4733 digit: one.
    call.pushDigit(RX, { digit: '7', startS: 0.8, durS: 0.1, source: 'rfc4733' });
    // In-band only: released after its hold.
    call.onDigit(RX, '9', 0.95, 0.08);
    // Same digit keyed again later is a new key press.
    call.pushDigit(RX, { digit: '5', startS: 1.3, durS: 0.1, source: 'rfc4733' });
    // Other leg is its own stream.
    call.pushDigit(TX, { digit: '5', startS: 0.5, durS: 0.1, source: 'rfc4733' });
    for (let k = 50; k < 80; k++) call.pushFrame(RX, k, frame);
    call.end();
    expect(call.digits(RX).map((d) => `${d.digit}@${d.startS}:${d.source}`)).toEqual([
      '5@0.5:rfc4733',
      '7@0.8:rfc4733',
      '5@1.3:rfc4733',
      '9@0.95:inband',
    ]);
    expect(call.digits(TX).length).toBe(1);
    const dtmf = rec.events.filter((e) => e.type === 'dtmf');
    expect(dtmf.length).toBe(5);
    expect(dtmf.every((e) => e.source !== undefined)).toBe(true);
    expect(rec.windows[rec.windows.length - 1].features[featureIndex('rx_digits_log1p')]).toBeCloseTo(
      Math.log1p(4),
      5,
    );
  });

  it('holds in-band digits for a twin only on a leg that has carried RFC 4733 events', () => {
    const rec = new Recorder();
    const call = new CallAnalyzer('hold', rec);
    const frame = new Int16Array(160);
    for (let k = 0; k < 50; k++) {
      call.pushFrame(RX, k, frame);
      call.pushFrame(TX, k, frame);
    }
    const dtmfOn = (leg: string) => rec.events.filter((e) => e.type === 'dtmf' && e.leg === leg).length;
    // rx never carried an event: its in-band digit is out with the next frame.
    call.onDigit(RX, '4', 0.9, 0.08);
    // tx has carried one: its in-band digit waits INBAND_HOLD_FRAMES (8) frames for a twin.
    call.pushDigit(TX, { digit: '1', startS: 0.2, durS: 0.1, source: 'rfc4733' });
    call.onDigit(TX, '2', 0.9, 0.08);
    call.pushFrame(RX, 50, frame);
    call.pushFrame(TX, 50, frame);
    expect(dtmfOn('rx')).toBe(1);
    expect(dtmfOn('tx')).toBe(1);
    for (let k = 51; k < 59; k++) {
      call.pushFrame(RX, k, frame);
      call.pushFrame(TX, k, frame);
    }
    expect(dtmfOn('tx')).toBe(2);
    // A late RFC 4733 twin of the released rx digit is the same key press.
    call.pushDigit(RX, { digit: '4', startS: 0.88, durS: 0.1, source: 'rfc4733' });
    call.end();
    expect(call.digits(RX).map((d) => `${d.digit}:${d.source}`)).toEqual(['4:inband']);
  });

  it('exposes loop and replay evidence without a replay index', () => {
    const call = new CallAnalyzer('evidence', new Recorder());
    expect(call.replayEvidence().matchedCalls).toBe(0);
    expect(call.loopEvidence(RX)).toMatchObject({ leg: 'rx', score: 0, periodS: 0 });
  });
});
