import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alert/alert.ts';
import type { CollectedAlert } from '../../src/bench-harness/alert-collector.ts';
import { benchChartSvg } from '../../src/bench-harness/bench-chart.ts';
import type { BenchRecording } from '../../src/bench-harness/bench-corpus.ts';
import { chooseStratified } from '../../src/bench-harness/bench-corpus.ts';
import { accuracyOf, stepOutcome } from '../../src/bench-harness/step-outcome.ts';
import { planStep, RAMP_MS } from '../../src/bench-harness/step-plan.ts';
import { concurrencySteps } from '../../src/cli/commands/bench.ts';
import type { LabelledCall } from '../../src/score/training/labelled-calls.ts';

function recording(call: string, label: string, onsetS: number, durationMs: number): BenchRecording {
  return {
    call,
    path: `/corpus/${call}.wav`,
    label: { label: label as BenchRecording['label']['label'], onset_s: onsetS },
    durationMs,
    datagrams: [],
  };
}

function alert(stream: string, kind: Alert['kind'], mediaS: number): Alert {
  return {
    v: 1,
    id: `${stream}-${kind}-${mediaS}`,
    kind,
    score: 0.99,
    level: 1,
    call_control_id: null,
    call_leg_id: null,
    call_session_id: null,
    stream,
    media_s: mediaS,
    at: new Date(0).toISOString(),
    model: 'm@1',
    evidence: {},
    actions: [],
  } as Alert;
}

describe('planStep', () => {
  const recordings = [recording('a', 'legit', 0, 3000), recording('b', 'robocall', 0.5, 5000)];

  it('keeps every slot busy for the step, alternating two pairs per slot, without overlaps on a pair', () => {
    const { plan, cursor } = planStep({
      concurrency: 3,
      maxConcurrency: 4,
      durationMs: 8000,
      recordings,
      firstPort: 30000,
      cursor: 0,
    });
    expect(cursor).toBe(plan.calls.length);
    for (let slot = 0; slot < 3; slot++) {
      const calls = plan.calls.filter((c) => c.slot === slot).sort((a, b) => a.startMs - b.startMs);
      expect(calls[0].startMs).toBeCloseTo((slot * RAMP_MS) / 3);
      calls.forEach((c, k) => {
        expect(c.rxPort).toBe(30000 + 2 * (slot + (k % 2) * 4));
        expect(c.playedMs).toBeLessThanOrEqual(8000 - c.startMs);
        expect(c.complete).toBe(c.playedMs >= recordings[c.recording].durationMs);
        if (k > 0)
          expect(c.startMs).toBeCloseTo(calls[k - 1].startMs + recordings[calls[k - 1].recording].durationMs);
      });
      // The last call of a slot is cut by the step end.
      expect(calls[calls.length - 1].startMs + calls[calls.length - 1].playedMs).toBeCloseTo(8000);
    }
  });

  it('refuses a step above the planned maximum', () => {
    expect(() =>
      planStep({
        concurrency: 5,
        maxConcurrency: 4,
        durationMs: 1000,
        recordings,
        firstPort: 30000,
        cursor: 0,
      }),
    ).toThrow(/maximum/);
  });
});

describe('stepOutcome', () => {
  const recordings = [
    recording('card', 'card_entry', 1, 6000),
    recording('talk', 'legit', 0, 6000),
    recording('long', 'pumping', 4, 60000),
  ];
  const { plan } = planStep({
    concurrency: 3,
    maxConcurrency: 3,
    durationMs: 10000,
    recordings,
    firstPort: 30000,
    cursor: 0,
  });
  const start = 1_700_000_000_000;
  const first = (i: number) => plan.calls.find((c) => c.recording === i && c.startMs < 1000)!;
  const card = first(0);
  const talk = first(1);
  const stream = (c: { rxPort: number }) => `udp:${c.rxPort}`;
  const alerts: CollectedAlert[] = [
    // Evidence complete at media 3.0 s: the packet for [2.98, 3.0) was due at call start + 2980 ms.
    { alert: alert(stream(card), 'card_entry', 3), storedMs: start + card.startMs + 2980 + 40 },
    { alert: alert(stream(talk), 'robocall', 2), storedMs: start + talk.startMs + 1980 + 60 },
    { alert: alert(stream(talk), 'replay', 2.5), storedMs: start + talk.startMs + 2480 + 20 },
    // Raised when the session ended on idle, well after the call stopped sending.
    { alert: alert(stream(card), 'card_entry', 6), storedMs: start + card.startMs + 6000 + 2500 },
    // A live alert from a receiver far behind: stored long after the call ended, but on early media.
    { alert: alert(stream(talk), 'robocall', 1), storedMs: start + talk.startMs + 980 + 9000 },
    { alert: alert('udp:1', 'robocall', 1), storedMs: start + 100 },
  ];
  const outcome = stepOutcome({
    plan,
    startWallMs: start,
    alerts,
    recordings,
    idleMs: 2000,
    evidenceMs: 3000,
  });

  it('attributes alerts to calls by port pair and measures latency from the evidence packet to Redis', () => {
    expect(outcome.alerts.total).toBe(6);
    expect(outcome.alerts.unmatched).toBe(1);
    expect(outcome.alerts.by_kind).toEqual({ card_entry: 2, robocall: 3, replay: 1 });
    expect(outcome.alerts.latency.at_session_end).toBe(1);
    expect(outcome.latenciesMs.sort((a, b) => a - b)).toEqual([20, 40, 60, 9000]);
    expect(outcome.alerts.latency.p50_ms).toBe(50);
    expect(outcome.alerts.latency.max_ms).toBe(9000);
  });

  it('counts alerts on media past the last packet of the call apart (no packet completed that evidence)', () => {
    // talk played 6 s; a window ending at 6.5 s was completed by the idle fill, stored 250 ms after its end.
    const past = stepOutcome({
      plan,
      startWallMs: start,
      alerts: [
        { alert: alert(stream(talk), 'robocall', 6.5), storedMs: start + talk.startMs + 6500 + 250 },
        { alert: alert(stream(talk), 'robocall', 6), storedMs: start + talk.startMs + 5980 + 30 },
      ],
      recordings,
      idleMs: 2000,
      evidenceMs: 3000,
    });
    expect(talk.playedMs).toBe(6000);
    expect(past.latenciesMs).toEqual([30]);
    expect(past.alerts.latency).toMatchObject({ count: 1, past_media_end: 1, at_session_end: 0 });
  });

  it('reports the latency of each alert kind apart (a digit completes evidence differently from a window)', () => {
    const byKind = outcome.alerts.latency_by_kind;
    expect(Object.keys(byKind).sort()).toEqual(['card_entry', 'replay', 'robocall']);
    expect(byKind.card_entry).toMatchObject({ count: 1, max_ms: 40, at_session_end: 1 });
    expect(byKind.robocall).toMatchObject({ count: 2, max_ms: 9000, at_session_end: 0 });
    expect(byKind.replay).toMatchObject({ count: 1, p50_ms: 20 });
  });

  it('judges calls against their labels, leaving replay alerts and calls cut before their evidence out', () => {
    // The pumping call (onset 4 s) is cut at ~10 s: judged, since 10 - 4 >= 3 s of evidence.
    const acc = accuracyOf(outcome.judged, outcome.notEvaluated, 10);
    expect(acc.calls_judged + acc.calls_not_judged).toBe(plan.calls.length);
    expect(acc.classes.card_entry.calls).toBeGreaterThanOrEqual(1);
    expect(acc.classes.legit.calls).toBeGreaterThanOrEqual(1);
    const cardJudged = outcome.judged.filter((j) => j.call === 'card');
    const cardDetected = cardJudged.filter((j) => j.decisions.some((d) => d.kind === 'card_entry')).length;
    expect(acc.classes.card_entry.recall).toBeCloseTo(cardDetected / cardJudged.length, 3);
    expect(acc.legit_false_alarms).toBe(1);
    expect(acc.legit_false_alarm_calls).toEqual(['talk']);
    expect(outcome.judged.flatMap((j) => j.decisions).some((d) => d.kind === 'replay')).toBe(false);
  });

  it('does not judge a call cut before onset + evidence', () => {
    const short = stepOutcome({
      plan,
      startWallMs: start,
      alerts: [],
      recordings,
      idleMs: 2000,
      evidenceMs: 9000,
    });
    expect(short.judged.some((j) => j.call === 'long')).toBe(false);
    expect(short.notEvaluated).toBeGreaterThan(0);
  });
});

describe('corpus selection, steps and chart', () => {
  it('chooses recordings round-robin across labels', () => {
    const calls = ['legit', 'legit', 'legit', 'robocall', 'pumping'].map(
      (label, i) => ({ path: `${i}`, call: `${label}-${i}`, label: { label, onset_s: 0 } }) as LabelledCall,
    );
    expect(chooseStratified(calls, 4).map((c) => c.label.label)).toEqual([
      'legit',
      'pumping',
      'robocall',
      'legit',
    ]);
  });

  it('expands --step', () => {
    expect(concurrencySteps(undefined, 400)).toEqual([50, 100, 200, 400]);
    expect(concurrencySteps(undefined, 300)).toEqual([50, 100, 200, 300]);
    expect(concurrencySteps('100', 350)).toEqual([100, 200, 300]);
    expect(concurrencySteps('4,2,9', 5)).toEqual([2, 4]);
  });

  it('draws a line per series with a point per step', () => {
    const step = (concurrency: number, pps: number, loss: number) =>
      ({ concurrency, offered_pps: pps, received_pps: pps * (1 - loss), loss }) as Parameters<
        typeof benchChartSvg
      >[0][number];
    const svg = benchChartSvg([step(10, 1000, 0), step(20, 2000, 0.01)], [step(10, 1000, 0)], 'title <x>');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('title &lt;x&gt;');
    expect(svg.match(/<polyline/g)).toHaveLength(5);
    expect(svg.match(/<circle/g)).toHaveLength(2 + 2 + 1 + 2 + 1);
  });
});
