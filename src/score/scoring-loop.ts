import type { AlertDecision } from '../alert/alert.ts';
import { CallJudge } from '../alert/call-judge.ts';
import type { PolicyOptions } from '../alert/policy.ts';
import type { CallAnalyzer, CallAnalyzerListener } from '../dsp/call-analyzer.ts';
import type { DetectorEvent } from '../dsp/detector-event.ts';
import { NO_REPLAY, type ReplayIndex, type ReplayStatus } from '../dsp/fingerprint/replay-index.ts';
import { STAGE, STAGES, WORK } from '../telemetry/stage-clock.ts';
import type { OnnxScorer } from './onnx-scorer.ts';

/** Where a live call's alert decisions go (the alert producer, with the call's identity). */
export interface DecisionSink {
  onDecision(call: LiveCall, decision: AlertDecision): void;
}

/**
 * One live call's link between its CallAnalyzer and the scoring loop: windows wait for the next batched model
 * run, digits reach the policy at once (a card number must alert within a second of its last digit).
 */
export class LiveCall implements CallAnalyzerListener {
  readonly judge: CallJudge;
  ended = false;
  private readonly decisions: AlertDecision[] = [];

  constructor(
    readonly key: string,
    private readonly loop: ScoringLoop,
    policyOptions?: PolicyOptions,
  ) {
    this.judge = new CallJudge(loop.scorer.manifest, policyOptions);
  }

  onWindow(call: CallAnalyzer, mediaS: number, features: Float32Array): void {
    this.loop.enqueue(this, mediaS, features, call.key);
  }

  onEvent(_call: CallAnalyzer, event: DetectorEvent): void {
    const outer = STAGES.enter(STAGE.policy);
    try {
      this.judge.event(event, this.decisions);
      this.emit();
    } finally {
      STAGES.leave(outer);
    }
  }

  onEnd(): void {
    this.ended = true;
    this.loop.replayIndex?.endCall(this.key);
  }

  /** Called by the loop with this window's probabilities. */
  scored(mediaS: number, probs: Float32Array, offset: number, replay: ReplayStatus): void {
    const outer = STAGES.enter(STAGE.policy);
    try {
      this.judge.window(mediaS, probs, offset, replay, this.decisions);
      this.emit();
    } finally {
      STAGES.leave(outer);
    }
  }

  private emit(): void {
    if (this.decisions.length === 0) return;
    for (const d of this.decisions) this.loop.sink.onDecision(this, d);
    this.decisions.length = 0;
  }
}

/** Called after every model run with its batch size and seconds (metrics). */
export type RunObserver = (windows: number, seconds: number) => void;

/** Which call, media time and replay status each row of a batch belongs to (parallel arrays, reused). */
interface BatchRows {
  calls: (LiveCall | undefined)[];
  times: number[];
  replays: ReplayStatus[];
}

function emptyRows(): BatchRows {
  return { calls: [], times: [], replays: [] };
}

/**
 * Batches the feature windows of all live calls and scores them in one onnxruntime run. The pending
 * bookkeeping is parallel arrays reused across runs, so a run allocates nothing but what onnxruntime returns.
 * Two sets of them alternate (as the scorer's two input batches do): windows completed while a run is in flight
 * go into the other set, so they can never overwrite the rows, and the call each row's result goes to, of the
 * run being scored.
 *
 * Once started, a window is scored as soon as the process is free, not on the next beat of a timer: a window
 * that completes an alert's evidence would otherwise wait up to a whole tick. The run is deferred with
 * setImmediate, so the windows completed by one burst of datagrams share it; windows that arrive during a run go
 * into the next, which starts when it ends. Batches therefore grow with load by themselves, and `minGapMs`
 * bounds the runs per second (a one-window run costs ~13 µs: bench/scoring.bench.ts).
 */
export class ScoringLoop {
  /** Rows of the windows waiting for the next run. */
  private filling: BatchRows = emptyRows();
  /** Rows of the run in flight (or the last one). */
  private scoring: BatchRows = emptyRows();
  private pending = 0;
  private running: Promise<void> | null = null;
  private live = false;
  private minGapMs = 0;
  private lastRunStartMs = Number.NEGATIVE_INFINITY;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly fire = (): void => {
    this.immediate = null;
    this.timer = null;
    this.tick().catch((err: unknown) => this.onError?.(err));
  };
  /** Totals for metrics. */
  readonly stats = { runs: 0, windows: 0, lastBatch: 0, runSeconds: 0 };

  constructor(
    readonly scorer: OnnxScorer,
    readonly sink: DecisionSink,
    readonly replayIndex?: ReplayIndex,
    private readonly onRun?: RunObserver,
    private readonly onError?: (err: unknown) => void,
  ) {}

  enqueue(call: LiveCall, mediaS: number, features: Float32Array, callKey: string): void {
    this.scorer.add(features);
    const i = this.pending++;
    const rows = this.filling;
    rows.calls[i] = call;
    rows.times[i] = mediaS;
    rows.replays[i] = this.replayIndex ? this.replayIndex.status(callKey) : NO_REPLAY;
    STAGES.count(WORK.windows_enqueued);
    if (this.live) this.schedule();
  }

  /** Scores everything pending in one run. Ticks never overlap: a tick during a run waits for it. */
  async tick(): Promise<void> {
    if (this.running) await this.running;
    if (this.pending === 0) return;
    this.running = this.runOnce();
    try {
      await this.running;
    } finally {
      this.running = null;
      this.schedule();
    }
  }

  /** Scores windows as they arrive (see the class comment), model runs starting at least `minGapMs` apart. */
  start(minGapMs: number): void {
    this.live = true;
    this.minGapMs = minGapMs;
    this.schedule();
  }

  /** Stops scoring on arrival and scores what is still pending (shutdown finishes open windows). */
  async stop(): Promise<void> {
    this.live = false;
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
    await this.tick();
  }

  /** A run for the pending windows, unless one is already due or running (its end schedules the next). */
  private schedule(): void {
    if (!this.live || this.pending === 0 || this.running !== null) return;
    if (this.immediate !== null || this.timer !== null) return;
    const wait = this.lastRunStartMs + this.minGapMs - performance.now();
    STAGES.count(WORK.score_wakeups);
    if (wait <= 0) this.immediate = setImmediate(this.fire);
    else this.timer = setTimeout(this.fire, wait);
  }

  private async runOnce(): Promise<void> {
    const n = this.pending;
    this.pending = 0;
    // The scorer switches input batches in run() too, so rows and features stay paired.
    const rows = this.filling;
    this.filling = this.scoring;
    this.scoring = rows;
    this.lastRunStartMs = performance.now();
    const started = process.hrtime.bigint();
    // Main-thread time only: the model itself runs on onnxruntime's thread between the two stages.
    let outer = STAGES.enter(STAGE.score);
    let run: Promise<Float32Array>;
    try {
      run = this.scorer.run();
    } finally {
      STAGES.leave(outer);
    }
    const probs = await run;
    outer = STAGES.enter(STAGE.score);
    try {
      this.deliver(rows, n, probs, Number(process.hrtime.bigint() - started) / 1e9);
    } finally {
      STAGES.leave(outer);
    }
  }

  /** Counts a finished run and hands each of its n windows' probabilities to its call. */
  private deliver(rows: BatchRows, n: number, probs: Float32Array, seconds: number): void {
    this.stats.runSeconds += seconds;
    this.stats.runs++;
    this.stats.windows += n;
    this.stats.lastBatch = n;
    this.onRun?.(n, seconds);
    const classes = this.scorer.classCount;
    const { calls, times, replays } = rows;
    for (let i = 0; i < n; i++) {
      const call = calls[i] as LiveCall;
      calls[i] = undefined; // drop the reference so ended calls can be collected
      call.scored(times[i], probs, i * classes, replays[i]);
    }
  }
}
