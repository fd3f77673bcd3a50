/**
 * `forkguard bench`: replays labelled recorded calls over real UDP at rising concurrency, first into the
 * service (a `forkguard start` child with one worker, or a running one), then into the bare receiver on the same
 * ports with the same sender and plans, and measures each step. See step-outcome.ts for the latency definition.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReplayCodec } from '../recordings/rtp-packetizer.ts';
import type { JudgedCall } from '../score/training/evaluation.ts';
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
import { pinProcess, readUdpRcvbufErrors } from './process-stats.ts';
import {
  type AccuracyBlock,
  accuracyOf,
  type StepAlerts,
  stepOutcome,
  summariseLatency,
} from './step-outcome.ts';
import { pairsNeeded, planStep, RAMP_MS, type StepPlan } from './step-plan.ts';

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
  /** CPUs (taskset lists) for the receiving process and the sender; null = no pinning. */
  pin?: { target: string; sender: string } | null;
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
  /**
   * Seconds from the sender's last datagram until the process had read as many as were sent (null: it never
   * did — loss). Near 0 when the receiver keeps up; seconds when it only drained its socket buffers afterwards.
   */
  backlog_s: number | null;
  /** No loss, and the backlog read within MAX_BACKLOG_S: the receiver kept up with the step. */
  sustained: boolean;
  /** Drops the service counted per reason during the step (corpus impairments show up here too). */
  drops: Record<string, number>;
  kernel_rcvbuf_errors: number | null;
  /** Over the steady part of the step (after the ramp, before the end). */
  /** Null when the target did not answer a window sample in time (the figures of the window are then null). */
  window_s: number | null;
  offered_pps: number | null;
  received_pps: number | null;
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
  target: { kind: string; base: string; pid: number | null; queue_prefix: string };
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
/** A receiver that needs longer than this after the last datagram to have read them all was behind. */
export const MAX_BACKLOG_S = 0.5;

/**
 * A sample, or null when the target does not answer in time: a saturated service answers /metrics late, and
 * one missed sample must cost a figure, not the run.
 */
async function trySample(target: BenchTarget, attempts = 3): Promise<TargetSample | null> {
  for (let i = 0; i < attempts; i++) {
    try {
      return await target.sample();
    } catch {
      await sleep(500);
    }
  }
  return null;
}

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
    const before = await trySample(target);
    if (before === null) throw new Error(`${target.kind} does not answer before the step`);
    const rcvbuf0 = readUdpRcvbufErrors();
    const series: { wallMs: number; sent: number }[] = [];
    const windowSamples: Promise<TargetSample | null>[] = [];
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
        cpu: this.options.pin?.sender,
        signal: this.signal,
        onStart: (wallMs) => {
          startWall = wallMs;
          for (const at of [windowFrom, windowTo]) {
            windowSamples.push(
              new Promise((resolve) =>
                timers.push(
                  setTimeout(
                    () => void trySample(target, 1).then(resolve),
                    Math.max(0, wallMs + at - Date.now()),
                  ),
                ),
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
    const sentEndMs = Date.now();
    // A receiver that falls behind loses nothing while its socket buffers hold the excess (256 KiB per port):
    // it reads the backlog seconds later. How long it takes to read the last datagram says whether it kept up.
    let after: TargetSample | null = null;
    let backlogS: number | null = null;
    const backlogDeadline = sentEndMs + this.options.idleMs + 20_000;
    while (Date.now() < backlogDeadline && !this.signal.aborted) {
      after = (await trySample(target, 1)) ?? after;
      if (after !== null && after.received - before.received >= sender.sent) {
        backlogS = Math.max(0, (after.atMs - sentEndMs) / 1000);
        break;
      }
      await sleep(100);
    }
    const [w0, w1] = await Promise.all(windowSamples);
    await sleep(300); // stragglers of a lossy step
    after = (await trySample(target)) ?? after;
    const alerts: CollectedAlert[] = [];
    if (collector !== null) {
      // Sessions end on idle: wait for them, then for the last scoring tick and the write to Redis.
      const deadline = Date.now() + this.options.idleMs + 20_000;
      while (Date.now() < deadline && (after?.sessions ?? 1) > 0 && !this.signal.aborted) {
        await sleep(250);
        after = (await trySample(target, 1)) ?? after;
      }
      await sleep(1000);
      if (poller !== null) clearInterval(poller);
      alerts.push(...(await collector.take()));
    }
    if (after === null) after = await trySample(target, 10);
    if (after === null)
      throw new Error(`${target.kind} stopped answering after the ${plan.concurrency}-call step`);
    const rcvbuf1 = readUdpRcvbufErrors();
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const windowed = w0 !== null && w1 !== null && w1.atMs > w0.atMs;
    const windowS = windowed ? (w1.atMs - w0.atMs) / 1000 : null;
    const windowPackets = windowed ? w1.received - w0.received : null;
    const cpu =
      windowed && w0.cpuSeconds !== null && w1.cpuSeconds !== null ? w1.cpuSeconds - w0.cpuSeconds : null;
    const rss = w1?.rssBytes ?? null;
    const sessions = w1?.sessions ?? null;
    const received = after.received - before.received;
    const measurement: StepMeasurement = {
      concurrency: plan.concurrency,
      duration_s: durationMs / 1000,
      calls_started: plan.calls.length,
      packets_sent: sender.sent,
      packets_received: received,
      loss: sender.sent > 0 ? Math.max(0, sender.sent - received) / sender.sent : 0,
      send_errors: sender.errors,
      backlog_s: backlogS === null ? null : r2(backlogS),
      sustained: received >= sender.sent && backlogS !== null && backlogS <= MAX_BACKLOG_S,
      drops: delta(after.drops, before.drops),
      kernel_rcvbuf_errors: rcvbuf0 === null || rcvbuf1 === null ? null : rcvbuf1 - rcvbuf0,
      window_s: windowS === null ? null : r2(windowS),
      offered_pps:
        windowS === null || !windowed
          ? null
          : Math.round((sentAt(series, w1.atMs) - sentAt(series, w0.atMs)) / windowS),
      received_pps: windowS === null || windowPackets === null ? null : Math.round(windowPackets / windowS),
      cpu_us_per_packet:
        cpu === null || windowPackets === null || windowPackets <= 0 ? null : r2((cpu * 1e6) / windowPackets),
      cpu_utilisation: cpu === null || windowS === null ? null : r2(cpu / windowS),
      rss_mib: rss === null ? null : r2(rss / MIB),
      sessions_active: sessions,
      rss_kib_per_call: rss === null || !sessions ? null : r2(rss / 1024 / sessions),
      rss_kib_per_call_marginal:
        rss === null || idleRssBytes === null || !sessions
          ? null
          : r2((rss - idleRssBytes) / 1024 / sessions),
      sender_max_late_ms: sender.maxLateMs,
      sender_p99_late_ms: sender.p99LateMs,
    };
    return { measurement, sender, alerts };
  }
}

/** Lost datagrams, or fell behind: either way the next step only adds to it. */
function lossy(m: StepMeasurement): boolean {
  return !m.sustained;
}

export async function runBench(
  options: BenchOptions,
  hooks: BenchHooks,
  signal: AbortSignal,
): Promise<BenchRun> {
  const notes: string[] = [];
  const note = (m: string) => {
    notes.push(m);
    hooks.onNote?.(m);
  };
  const steps = [...options.steps].sort((a, b) => a - b);
  const maxConcurrency = steps[steps.length - 1];
  const rtpFirst = options.firstPort;
  const rtpLast = rtpFirst + 2 * pairsNeeded(maxConcurrency) - 1;
  const queuePrefix = options.attachQueuePrefix ?? `fgbench-${process.pid}-${Date.now().toString(36)}`;
  const collector = new AlertCollector(options.redisUrl, queuePrefix);
  const workDir = mkdtempSync(join(tmpdir(), 'forkguard-bench-'));
  /** Set once the service answers, so `finally` can stop it whatever failed after. */
  const live: { target: ServiceTarget | null } = { target: null };
  const service: StepMeasurement[] = [];
  const bare: StepMeasurement[] = [];
  const judged: JudgedCall[] = [];
  const latencies: number[] = [];
  const byLabel: Record<string, number> = {};
  let recordings: BenchRecording[] = [];
  const skipped: string[] = [];
  let atSessionEnd = 0;
  let pastMediaEnd = 0;
  let notEvaluated = 0;
  let idleRss: number | null = null;
  const pin = (pid: number | null, what: string) => {
    if (options.pin == null || pid === null || options.attach !== undefined) return;
    if (pinProcess(pid, options.pin.target))
      note(`${what} pinned to CPU ${options.pin.target}, sender to CPU ${options.pin.sender}`);
    else note(`${what} not pinned (taskset failed)`);
  };
  // The service starts while the recordings load; whichever fails first ends the run at once (a missing model
  // is the likeliest mistake, and loading takes a while). A service that started is stopped in `finally`.
  const starting = (async () => {
    await collector.start().catch((err: Error) => {
      throw new Error(`cannot reach Redis at ${options.redisUrl}: ${err.message}`);
    });
    live.target =
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
    return live.target;
  })();
  try {
    const [loaded, started] = await Promise.all([
      loadBenchRecordings({
        corpus: options.corpus,
        limit: options.recordings,
        maxMs: options.durationS * 1000,
        codec: options.codec,
        onSkip: (m) => skipped.push(m),
        onLoaded: hooks.onLoading,
      }),
      starting,
    ]);
    recordings = loaded;
    if (skipped.length > 0) note(`skipped ${skipped.length} files (first: ${skipped[0]})`);
    if (recordings.length === 0) throw new Error(`${options.corpus}: no labelled recorded calls to replay`);
    for (const r of recordings) byLabel[r.label.label] = (byLabel[r.label.label] ?? 0) + 1;
    const recordingsFile = join(workDir, 'recordings.bin');
    writeFileSync(recordingsFile, encodeRecordings(recordings.map((r) => r.datagrams)));
    const runner = new StepRunner(
      options,
      recordings,
      workDir,
      recordingsFile,
      maxConcurrency,
      signal,
      hooks,
    );
    const target = started;
    pin(target.pid, 'service');
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
      pastMediaEnd += outcome.alerts.latency.past_media_end;
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
      if (shift !== 0)
        note(
          `bare receiver on ports ${rtpFirst + shift}-${rtpLast + shift} (the attached service holds ${rtpFirst}-${rtpLast})`,
        );
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
      pin(receiver.pid, 'bare receiver');
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
    await starting.catch(() => {});
    await live.target?.stop();
    if (options.attachQueuePrefix === undefined)
      await collector.deletePrefix(`${queuePrefix}:`).catch(() => {});
    collector.close();
    rmSync(workDir, { recursive: true, force: true });
  }
  return {
    service,
    bare,
    recordings: { loaded: recordings.length, by_label: byLabel },
    accuracy: judged.length > 0 ? accuracyOf(judged, notEvaluated, 50) : null,
    latency: summariseLatency(latencies, atSessionEnd, pastMediaEnd),
    target: {
      kind: live.target?.kind ?? 'service',
      base: live.target?.base ?? '',
      pid: live.target?.pid ?? null,
      queue_prefix: queuePrefix,
    },
    idle_rss_mib: idleRss === null ? null : Math.round((idleRss / MIB) * 100) / 100,
    notes,
  };
}
