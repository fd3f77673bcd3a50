/**
 * What one step's alerts mean: which planned call each alert belongs to, how long it took from the packet that
 * completed its evidence to Redis, and how the calls' alerts compare with their labels.
 *
 * Latency, precisely: an alert says the evidence was complete at call media time `media_s`; the datagram that
 * carried the media ending at `media_s` (the 20 ms frame [media_s - 0.02, media_s)) was due from the sender at
 * step origin + call start + media_s - 20 ms. Latency = the alert's time in Redis (the stream entry id BullMQ
 * writes with the job, Redis's clock) - that due time. It includes sender lateness (reported beside it), the
 * receive path, reordering wait, the scoring tick and the write to Redis. Alerts on the call's last second of
 * media stored after the call had been quiet for more than half the idle timeout were raised when the session
 * ended (idle), so their latency measures the idle setting, not the pipeline: they are counted apart. So are
 * alerts on media past the end of what the call sent (a window whose end lies beyond the call's last packet,
 * because the recording ended or the step cut it): no packet completed that evidence; the service completed it
 * by taking the quiet legs as silent (ingest's idle fill, 60-200 ms after their last packet) or at session end.
 */
import type { AlertDecision } from '../alert/alert.ts';
import {
  type EvaluationReport,
  evaluateCalls,
  type JudgedCall,
  quantile,
} from '../score/training/evaluation.ts';
import type { CollectedAlert } from './alert-collector.ts';
import type { BenchRecording } from './bench-corpus.ts';
import type { PlannedCall, StepPlan } from './step-plan.ts';

/** Alert kinds that are labels of CONTRACTS §2; others (replay, transcript_risk) are reported, not judged. */
const JUDGED_KINDS = new Set(['robocall', 'pumping', 'fax_modem', 'card_entry']);

export interface LatencySummary {
  /** Alerts raised while their call was still sending. */
  count: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  /** Alerts raised after the call stopped sending (session end on idle). */
  at_session_end: number;
  /** Alerts on media past the call's last packet (evidence completed by silence fill, not by a packet). */
  past_media_end: number;
}

export interface StepAlerts {
  total: number;
  by_kind: Record<string, number>;
  /** Alerts whose stream matched no planned call of the step. */
  unmatched: number;
  latency: LatencySummary;
  /** The same latency per alert kind (a kind's evidence completes differently: a window, a digit's end). */
  latency_by_kind: Record<string, LatencySummary>;
}

export interface StepOutcome {
  alerts: StepAlerts;
  judged: JudgedCall[];
  /** Calls not judged because the step cut them before their behaviour could be heard (see evaluableCall). */
  notEvaluated: number;
}

/**
 * A call is judged when it was played whole, or at least `evidenceMs` past its label's onset: a call cut
 * earlier has not yet shown what its label says.
 */
export function evaluableCall(call: PlannedCall, recording: BenchRecording, evidenceMs: number): boolean {
  return call.complete || call.playedMs >= recording.label.onset_s * 1000 + evidenceMs;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export function summariseLatency(values: number[], atSessionEnd: number, pastMediaEnd = 0): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => (sorted.length > 0 ? round1(quantile(sorted, p)) : null);
  return {
    count: sorted.length,
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    max_ms: sorted.length > 0 ? round1(sorted[sorted.length - 1]) : null,
    at_session_end: atSessionEnd,
    past_media_end: pastMediaEnd,
  };
}

export function stepOutcome(options: {
  plan: StepPlan;
  startWallMs: number;
  alerts: readonly CollectedAlert[];
  recordings: readonly BenchRecording[];
  idleMs: number;
  evidenceMs: number;
}): StepOutcome & { latenciesMs: number[] } {
  const { plan, startWallMs, recordings } = options;
  const byPort = new Map<number, PlannedCall[]>();
  for (const c of plan.calls) {
    const list = byPort.get(c.rxPort) ?? [];
    list.push(c);
    byPort.set(c.rxPort, list);
  }
  const decisions = new Map<PlannedCall, AlertDecision[]>();
  const byKind: Record<string, number> = {};
  const latencies: number[] = [];
  const kindLatencies: Record<string, number[]> = {};
  const kindAtEnd: Record<string, number> = {};
  let unmatched = 0;
  let atSessionEnd = 0;
  let pastMediaEnd = 0;
  const kindPastEnd: Record<string, number> = {};
  for (const { alert, storedMs } of options.alerts) {
    byKind[alert.kind] = (byKind[alert.kind] ?? 0) + 1;
    const port = /^udp:(\d+)$/.exec(alert.stream ?? '')?.[1];
    // The call on that pair that had started last when the alert was stored.
    let call: PlannedCall | null = null;
    for (const c of byPort.get(Number(port)) ?? []) {
      if (startWallMs + c.startMs <= storedMs && (call === null || c.startMs > call.startMs)) call = c;
    }
    if (call === null) {
      unmatched++;
      continue;
    }
    const list = decisions.get(call) ?? [];
    list.push({
      kind: alert.kind,
      score: alert.score,
      level: alert.level,
      mediaS: alert.media_s,
      evidence: {},
    });
    decisions.set(call, list);
    const callWallMs = startWallMs + call.startMs;
    // Raised by the session's end (idle): evidence from the call's last second, stored once the call had gone
    // quiet for half the idle time. A live alert stored that late (a receiver far behind) keeps its latency.
    const fromLastWindow = alert.media_s * 1000 >= call.playedMs - 1000;
    kindLatencies[alert.kind] ??= [];
    if (fromLastWindow && storedMs > callWallMs + call.playedMs + options.idleMs / 2) {
      atSessionEnd++;
      kindAtEnd[alert.kind] = (kindAtEnd[alert.kind] ?? 0) + 1;
    } else if (alert.media_s * 1000 > call.playedMs) {
      pastMediaEnd++;
      kindPastEnd[alert.kind] = (kindPastEnd[alert.kind] ?? 0) + 1;
    } else {
      const ms = storedMs - (callWallMs + Math.max(0, alert.media_s * 1000 - 20));
      latencies.push(ms);
      kindLatencies[alert.kind].push(ms);
    }
  }
  const latencyByKind: Record<string, LatencySummary> = {};
  for (const [kind, values] of Object.entries(kindLatencies))
    latencyByKind[kind] = summariseLatency(values, kindAtEnd[kind] ?? 0, kindPastEnd[kind] ?? 0);
  const judged: JudgedCall[] = [];
  let notEvaluated = 0;
  for (const call of plan.calls) {
    const recording = recordings[call.recording];
    if (!evaluableCall(call, recording, options.evidenceMs)) {
      notEvaluated++;
      continue;
    }
    judged.push({
      call: recording.call,
      label: recording.label.label,
      onsetS: recording.label.onset_s,
      scenario: recording.label.scenario,
      decisions: (decisions.get(call) ?? [])
        .filter((d) => JUDGED_KINDS.has(d.kind))
        .sort((a, b) => a.mediaS - b.mediaS),
    });
  }
  return {
    alerts: {
      total: options.alerts.length,
      by_kind: byKind,
      unmatched,
      latency: summariseLatency(latencies, atSessionEnd, pastMediaEnd),
      latency_by_kind: latencyByKind,
    },
    judged,
    notEvaluated,
    latenciesMs: latencies,
  };
}

/** The accuracy block of a step or run: call-level metrics as `forkguard train` reports them, lists capped. */
export function accuracyOf(judged: readonly JudgedCall[], notEvaluated: number, listCap: number) {
  const report: EvaluationReport = evaluateCalls(judged);
  return {
    calls_judged: report.calls,
    calls_not_judged: notEvaluated,
    classes: report.classes,
    legit_false_alarms: report.legit_false_alarms.length,
    legit_false_alarm_rate: report.legit_false_alarm_rate,
    confusion: report.confusion,
    legit_false_alarm_calls: report.legit_false_alarms.slice(0, listCap),
    misses: report.misses.slice(0, listCap),
  };
}
export type AccuracyBlock = ReturnType<typeof accuracyOf>;
