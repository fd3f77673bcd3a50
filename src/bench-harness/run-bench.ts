/**
 * `forkguard bench`: replays labelled recorded calls over real UDP at rising concurrency, first into the
 * service (a `forkguard start` child with one worker, or a running one), then into the bare receiver on the same
 * ports with the same sender and plans, and measures each step. See step-outcome.ts for the latency definition.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReplayCodec } from '../recordings/rtp-packetizer.ts';
import { AlertCollector, type CollectedAlert } from './alert-collector.ts';
import { type BenchRecording, loadBenchRecordings } from './bench-corpus.ts';
import {
  attachService,
  type BenchTarget,
  type ServiceTarget,
  startBareReceiver,
  startServiceChild,
  type TargetSample,
} from './bench-targets.ts';
import { encodeCalls, encodeRecordings, runSender, type SenderResult } from './native-sender.ts';
import { readUdpRcvbufErrors } from './process-stats.ts';
import { accuracyOf, type AccuracyBlock, type StepAlerts, stepOutcome, summariseLatency } from './step-outcome.ts';
import { pairsNeeded, planStep, RAMP_MS, type StepPlan } from './step-plan.ts';
import type { JudgedCall } from '../score/training/evaluation.ts';

export interface BenchOptions {
  corpus: string;
  /** Concurrency of each step, rising. */
  steps: number[];
  durationS: number;
  /** Step length for the bare receiver (it has no alerts to wait for). */
  bareDurationS: number;
  /** Most distinct recordings loaded (chosen across labels). */
  recordings: number;
  /** How far past a label's onset a cut call must have played to be judged. */
  evidenceS: number;
  host: string;
  redisUrl: string;
  /** First port of the pair range (even); the run uses 4 x the largest step ports from here. */
  firstPort: number;
  idleMs: number;
  codec: ReplayCodec;
  model?: string;
  /** http://host:port of a running service to measure instead of starting one. */
  attach?: string;
  attachPid?: number | null;
  /** BullMQ prefix of the attached service's queues. */
  attachQueuePrefix?: string;
  /** Skip the bare receiver. */
  noBare?: boolean;
  /** Stop rising after this many consecutive steps with loss. */
  stopAfterLossySteps: number;
  startTimeoutMs: number;
}

export interface StepMeasurement {
  concurrency: number;
  duration_s: number;
  calls_started: number;
  packets_sent: number;
  packets_received: number;
  /** (sent - received) / sent over the whole step: datagrams that never reached the process. */
  loss: number;
  send_errors: number;
  /** Drops the service counted per reason during the step (corpus impairments show up here too). */
  drops: Record<string, number>;
  kernel_rcvbuf_errors: number | null;
  /** Over the steady part of the step (after the ramp, before the end). */
  window_s: number;
  offered_pps: number;
  received_pps: number;
  cpu_us_per_packet: number | null;
  cpu_utilisation: number | null;
  rss_mib: number | null;
  sessions_active: number | null;
  /** RSS / live sessions. */
  rss_kib_per_call: number | null;
  /** (RSS - RSS before the first step) / live sessions: what each call adds. */
  rss_kib_per_call_marginal: number | null;
  sender_max_late_ms: number;
  sender_p99_late_ms: number;
  alerts?: StepAlerts;
  accuracy?: AccuracyBlock;
}

export interface BenchProgress {
  phase: 'service' | 'bare';
  step: number;
  steps: number;
  concurrency: number;
  elapsedMs: number;
  durationMs: number;
  sent: number;
  activeCalls: number;
}

export interface BenchHooks {
  onNote?: (message: string) => void;
  onLoading?: (done: number, total: number) => void;
  onStepProgress?: (p: BenchProgress) => void;
  onStepDone?: (phase: 'service' | 'bare', step: StepMeasurement) => void;
}

export interface BenchRun {
  service: StepMeasurement[];
  bare: StepMeasurement[];
  recordings: { loaded: number; by_label: Record<string, number> };
  accuracy: AccuracyBlock | null;
  latency: ReturnType<typeof summariseLatency>;
  target: { kind: string; base: string; pid: number | null };
  idle_rss_mib: number | null;
  notes: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

/** Sent count at wall time `atMs`, interpolated from the sender's progress reports. */
function sentAt(series: { wallMs: number; sent: number }[], atMs: number): number {
  let prev = { wallMs: Number.NEGATIVE_INFINITY, sent: 0 };
  for (const p of series) {
    if (p.wallMs >= atMs) {
      if (!Number.isFinite(prev.wallMs)) return p.sent;
      return prev.sent + ((p.sent - prev.sent) * (atMs - prev.wallMs)) / Math.max(1, p.wallMs - prev.wallMs);
    }
    prev = p;
  }
  return prev.sent;
}

const MIB = 1024 * 1024;

class StepRunner {
  private cursor = 0;
  constructor(
    private readonly options: BenchOptions,
    private readonly recordings: BenchRecording[],
    private readonly workDir: string,
    private readonly recordingsFile: string,
    private readonly maxConcurrency: number,
    private readonly signal: AbortSignal,
    private readonly hooks: BenchHooks,
  ) {}

  plan(concurrency: number, durationS: number, reset: boolean): StepPlan {
    if (reset) this.cursor = 0;
    const { plan, cursor } = planStep({
      concurrency,
      maxConcurrency: this.maxConcurrency,
      durationMs: durationS * 1000,
      recordings: this.recordings,
      firstPort: this.options.firstPort,
      cursor: this.cursor,
    });
    this.cursor = cursor;
    return plan;
  }

  /**
   * Sends one planned step at `target`. Samples at the start and end of the steady window (after the ramp and
   * half a second, until half a second before the end) and around the whole step; `collector` (service only)
   * is polled throughout.
   */
  async run(
    phase: 'service' | 'bare',
    index: number,
    steps: number,
    target: BenchTarget,
    plan: StepPlan,
    idleRssBytes: number | null,
    collector: AlertCollector | null,
  ): Promise<{ measurement: StepMeasurement; sender: SenderResult; alerts: CollectedAlert[] }> {
    const callsFile = join(this.workDir, `calls-${phase}-${index}.bin`);
    writeFileSync(callsFile, encodeCalls(plan.calls));
    const durationMs = plan.durationMs;
    const windowFrom = Math.min(RAMP_MS + 500, durationMs * 0.4);
    const windowTo = Math.max(windowFrom + 200, durationMs - 500);
    const before = await target.sample();
    const rcvbuf0 = readUdpRcvbufErrors();
    const series: { wallMs: number; sent: number }[] = [];
    const windowSamples: Promise<TargetSample>[] = [];
    const timers: NodeJS.Timeout[] = [];
    const poller = collector === null ? null : setInterval(() => void collector.poll().catch(() => {}), 500);
    let startWall = Date.now();
    let sender: SenderResult;
    try {
      sender = await runSender({
        recordingsFile: this.recordingsFile,
        callsFile,
        host: this.options.host,
        seconds: durationMs / 1000 + 1,
        signal: this.signal,
        onStart: (wallMs) => {
          startWall = wallMs;
          for (const at of [windowFrom, windowTo]) {
            windowSamples.push(
              new Promise((resolve, reject) =>
                timers.push(setTimeout(() => target.sample().then(resolve, reject), Math.max(0, wallMs + at - Date.now()))),
              ),
            );
          }
        },
        onProgress: (p) => {
          series.push({ wallMs: startWall + p.elapsedMs, sent: p.sent });
          this.hooks.onStepProgress?.({
            phase,
            step: index + 1,
            steps,
            concurrency: plan.concurrency,
            elapsedMs: p.elapsedMs,
            durationMs,
            sent: p.sent,
            activeCalls: p.activeCalls,
          });
        },
      });
    } finally {
      for (const t of timers) t.unref();
    }
    const [w0, w1] = await Promise.all(windowSamples);
    await sleep(300); // the last datagrams are in socket buffers
    let after = await target.sample();
    const alerts: CollectedAlert[] = [];
    if (collector !== null) {
      // Sessions end on idle: wait for them, then for the last scoring tick and the write to Redis.
      const deadline = Date.now() + this.options.idleMs + 10_000;
      while (Date.now() < deadline && (after.sessions ?? 0) > 0 && !this.signal.aborted) {
        await sleep(250);
        after = await target.sample();
      }
      await sleep(1000);
      if (poller !== null) clearInterval(poller);
      alerts.push(...(await collector.take()));
    }
    const rcvbuf1 = readUdpRcvbufErrors();
    const windowS = (w1.atMs - w0.atMs) / 1000;
    const windowPackets = w1.received - w0.received;
    const cpu = w0.cpuSeconds !== null && w1.cpuSeconds !== null ? w1.cpuSeconds - w0.cpuSeconds : null;
    const sessions = w1.sessions;
    const received = after.received - before.received;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const measurement: StepMeasurement = {
      concurrency: plan.concurrency,
      duration_s: durationMs / 1000,
      calls_started: plan.calls.length,
      packets_sent: sender.sent,
      packets_received: received,
      loss: sender.sent > 0 ? Math.max(0, sender.sent - received) / sender.sent : 0,
      send_errors: sender.errors,
      drops: delta(after.drops, before.drops),
      kernel_rcvbuf_errors: rcvbuf0 === null || rcvbuf1 === null ? null : rcvbuf1 - rcvbuf0,
      window_s: r2(windowS),
      offered_pps: Math.round((sentAt(series, w1.atMs) - sentAt(series, w0.atMs)) / windowS),
      received_pps: Math.round(windowPackets / windowS),
      cpu_us_per_packet: cpu === null || windowPackets <= 0 ? null : r2((cpu * 1e6) / windowPackets),
      cpu_utilisation: cpu === null ? null : r2(cpu / windowS),
      rss_mib: w1.rssBytes === null ? null : r2(w1.rssBytes / MIB),
      sessions_active: sessions,
      rss_kib_per_call: w1.rssBytes === null || !sessions ? null : r2(w1.rssBytes / 1024 / sessions),
      rss_kib_per_call_marginal:
        w1.rssBytes === null || idleRssBytes === null || !sessions
          ? null
          : r2((w1.rssBytes - idleRssBytes) / 1024 / sessions),
      sender_max_late_ms: sender.maxLateMs,
      sender_p99_late_ms: sender.p99LateMs,
    };
    return { measurement, sender, alerts };
  }
}

function lossy(m: StepMeasurement): boolean {
  return m.packets_received < m.packets_sent;
}

export async function runBench(options: BenchOptions, hooks: BenchHooks, signal: AbortSignal): Promise<BenchRun> {
  const notes: string[] = [];
  const note = (m: string) => {
    notes.push(m);
    hooks.onNote?.(m);
  };
  const steps = [...options.steps].sort((a, b) => a - b);
  const maxConcurrency = steps[steps.length - 1];
  const recordings = await loadBenchRecordings({
    corpus: options.corpus,
    limit: options.recordings,
    maxMs: options.durationS * 1000,
    codec: options.codec,
    onSkip: (m) => note(`skipped ${m}`),
    onLoaded: hooks.onLoading,
  });
  if (recordings.length === 0) throw new Error(`${options.corpus}: no labelled recorded calls to replay`);
  const byLabel: Record<string, number> = {};
  for (const r of recordings) byLabel[r.label.label] = (byLabel[r.label.label] ?? 0) + 1;
  const workDir = mkdtempSync(join(tmpdir(), 'forkguard-bench-'));
  const recordingsFile = join(workDir, 'recordings.bin');
  writeFileSync(recordingsFile, encodeRecordings(recordings.map((r) => r.datagrams)));
  const rtpFirst = options.firstPort;
  const rtpLast = rtpFirst + 2 * pairsNeeded(maxConcurrency) - 1;
  const runner = new StepRunner(options, recordings, workDir, recordingsFile, maxConcurrency, signal, hooks);
  const queuePrefix = options.attachQueuePrefix ?? `fgbench-${process.pid}-${Date.now().toString(36)}`;
  const collector = new AlertCollector(options.redisUrl, queuePrefix);
  let target: ServiceTarget | null = null;
  const service: StepMeasurement[] = [];
  const bare: StepMeasurement[] = [];
  const judged: JudgedCall[] = [];
  const latencies: number[] = [];
  let atSessionEnd = 0;
  let notEvaluated = 0;
  let idleRss: number | null = null;
  try {
    await collector.start().catch((err: Error) => {
      throw new Error(`cannot reach Redis at ${options.redisUrl}: ${err.message}`);
    });
    target =
      options.attach === undefined
        ? await startServiceChild({
            host: options.host,
            rtpFirst,
            rtpLast,
            redisUrl: options.redisUrl,
            queuePrefix,
            keyPrefix: `${queuePrefix}:`,
            idleMs: options.idleMs,
            model: options.model,
            startTimeoutMs: options.startTimeoutMs,
          })
        : await attachService(options.attach, options.attachPid ?? null);
    idleRss = (await target.sample()).rssBytes;
    let lossyRun = 0;
    for (let i = 0; i < steps.length && !signal.aborted; i++) {
      const plan = runner.plan(steps[i], options.durationS, false);
      const { measurement, sender, alerts } = await runner.run(
        'service',
        i,
        steps.length,
        target,
        plan,
        idleRss,
        collector,
      );
      const outcome = stepOutcome({
        plan,
        startWallMs: sender.startWallMs,
        alerts,
        recordings,
        idleMs: options.idleMs,
        evidenceMs: options.evidenceS * 1000,
      });
      measurement.alerts = outcome.alerts;
      measurement.accuracy = accuracyOf(outcome.judged, outcome.notEvaluated, 10);
      judged.push(...outcome.judged);
      latencies.push(...outcome.latenciesMs);
      atSessionEnd += outcome.alerts.latency.at_session_end;
      notEvaluated += outcome.notEvaluated;
      service.push(measurement);
      hooks.onStepDone?.('service', measurement);
      lossyRun = lossy(measurement) ? lossyRun + 1 : 0;
      if (lossyRun >= options.stopAfterLossySteps && i < steps.length - 1) {
        note(`service: stopped rising after ${lossyRun} steps with loss (at ${steps[i]} calls)`);
        break;
      }
    }
    await target.stop();
    if (!options.noBare && !signal.aborted) {
      // Attached: the service holds its own ports; the bare receiver takes the next range of the same size.
      const shift = options.attach === undefined ? 0 : rtpLast - rtpFirst + 1;
      if (shift !== 0) note(`bare receiver on ports ${rtpFirst + shift}-${rtpLast + shift} (the attached service holds ${rtpFirst}-${rtpLast})`);
      const bareRunner = new StepRunner(
        { ...options, firstPort: rtpFirst + shift },
        recordings,
        workDir,
        recordingsFile,
        maxConcurrency,
        signal,
        hooks,
      );
      const receiver = await startBareReceiver(options.host, rtpFirst + shift, rtpLast + shift);
      try {
        let lossyRun = 0;
        for (let i = 0; i < steps.length && !signal.aborted; i++) {
          const plan = bareRunner.plan(steps[i], options.bareDurationS, false);
          const { measurement } = await bareRunner.run('bare', i, steps.length, receiver, plan, null, null);
          bare.push(measurement);
          hooks.onStepDone?.('bare', measurement);
          lossyRun = lossy(measurement) ? lossyRun + 1 : 0;
          if (lossyRun >= options.stopAfterLossySteps) break;
        }
      } finally {
        await receiver.stop();
      }
    }
  } finally {
    await target?.stop();
    if (options.attachQueuePrefix === undefined) await collector.deletePrefix(`${queuePrefix}:`).catch(() => {});
    collector.close();
    rmSync(workDir, { recursive: true, force: true });
  }
  return {
    service,
    bare,
    recordings: { loaded: recordings.length, by_label: byLabel },
    accuracy: judged.length > 0 ? accuracyOf(judged, notEvaluated, 50) : null,
    latency: summariseLatency(latencies, atSessionEnd),
    target: { kind: target?.kind ?? 'service', base: target?.base ?? '', pid: target?.pid ?? null },
    idle_rss_mib: idleRss === null ? null : Math.round((idleRss / MIB) * 100) / 100,
    notes,
  };
}
