import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { AlertDecision } from '../alert/alert.ts';
import { AlertProducer } from '../alert/alert-producer.ts';
import { buildAlert } from '../alert/build-alert.ts';
import { CallAnalyzer } from '../dsp/call-analyzer.ts';
import { RedisReplayIndex } from '../dsp/fingerprint/redis-replay-index.ts';
import {
  type CallIdentity,
  type DigitEvent,
  emptyLegStats,
  type Leg,
  type LegStats,
  type MediaSink,
} from '../ingest/media-sink.ts';
import type { SessionEndReason } from '../ingest/sessions/ingest-session.ts';
import type { AnnouncedIdentity, PortPairRange } from '../ingest/sessions/session-table.ts';
import { IngestServer } from '../ingest/udp/ingest-server.ts';
import { modelId } from '../score/model-manifest.ts';
import type { OnnxScorer } from '../score/onnx-scorer.ts';
import { type DecisionSink, LiveCall, ScoringLoop } from '../score/scoring-loop.ts';
import { STAGE, STAGES, WORK } from '../telemetry/stage-clock.ts';
import type { ServiceConfig } from './config/load-config.ts';
import {
  type MediaMetricsSource,
  modelBatchSize,
  modelRunSeconds,
  sessionsEnded,
  sessionsUnsupportedCodec,
  trackMediaMetrics,
} from './ingest-metrics.ts';
import { logger } from './logger.ts';

export interface MediaPipelineOptions {
  config: ServiceConfig;
  /** The port pairs this process receives (all of them, or a worker's slice); null for none. */
  rtpPorts: PortPairRange | null;
  /** STREP port of this process, or null. */
  strepPort: number | null;
  scorer: OnnxScorer;
  /** Names this process in replay-index call keys, so calls on the same port of two hosts stay apart. */
  nodeTag?: string;
}

export interface MediaPipelineResult {
  /** Alerts this pipeline raised (published to the producer). */
  alertsRaised: number;
  /** Alert and action jobs that could not reach Redis before the flush timeout. */
  lost: number;
}

interface FrameClock {
  count: number;
  seconds: number;
}

/**
 * The CallAnalyzer behind a session, timed per frame for the frame-time metric. One concrete class, so the
 * media path's call into it stays monomorphic.
 */
class TimedAnalyzerSink implements MediaSink {
  constructor(
    private readonly analyzer: CallAnalyzer,
    private readonly clock: FrameClock,
  ) {}

  pushFrame(leg: Leg, frameIndex: number, pcm: Int16Array): void {
    // The two clock reads the frame-time metric needs also delimit the frame stage.
    const started = performance.now();
    const outer = STAGES.enter(STAGE.frame, started);
    try {
      this.analyzer.pushFrame(leg, frameIndex, pcm);
    } finally {
      const ended = performance.now();
      STAGES.leave(outer, ended);
      this.clock.seconds += (ended - started) / 1000;
    }
    this.clock.count++;
    STAGES.count(STAGES.sweeping ? WORK.frames_from_sweep : WORK.frames_from_packets);
  }

  pushDigit(leg: Leg, event: DigitEvent): void {
    this.analyzer.pushDigit(leg, event);
  }

  end(): void {
    this.analyzer.end();
  }
}

/**
 * Everything between a UDP datagram and an alert job, for one process: ingest sockets, a CallAnalyzer per session,
 * the batched scoring loop, the policy (inside LiveCall) and the alert producer. The single-process service and
 * each cluster worker run one of these.
 */
export class MediaPipeline implements MediaMetricsSource, DecisionSink {
  readonly ingest: IngestServer;
  readonly loop: ScoringLoop;
  readonly producer: AlertProducer;
  readonly replayIndex: RedisReplayIndex;
  readonly frames: FrameClock = { count: 0, seconds: 0 };
  alertsRaised = 0;
  private readonly replayRedis: Redis;
  private readonly identities = new WeakMap<LiveCall, CallIdentity>();
  private readonly openedAt = new WeakMap<LiveCall, number>();
  private readonly model: string;
  private readonly windowHopS: number;
  private readonly nodeTag: string;
  private callSeq = 0;
  private untrackMetrics: (() => void) | null = null;

  constructor(private readonly options: MediaPipelineOptions) {
    const { config, scorer } = options;
    this.model = modelId(scorer.manifest);
    this.windowHopS = scorer.manifest.window_hop_s;
    this.nodeTag = options.nodeTag ?? `${hostname()}/${process.pid}`;
    this.producer = new AlertProducer({ redisUrl: config.redisUrl, prefix: config.queuePrefix });
    // Offline queue off: while Redis is away a second of fingerprints fails at once (counted by the index)
    // instead of piling up in memory behind the media path.
    this.replayRedis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.replayRedis.on('error', (err: Error) =>
      logger.debug({ err: err.message }, 'replay index redis error'),
    );
    this.replayIndex = new RedisReplayIndex(this.replayRedis, { keyPrefix: `${config.keyPrefix}replay:` });
    this.loop = new ScoringLoop(
      scorer,
      this,
      this.replayIndex,
      (windows, seconds) => {
        modelBatchSize.observe(windows);
        modelRunSeconds.observe(seconds);
      },
      (err) => logger.error({ err }, 'scoring run failed'),
    );
    this.ingest = new IngestServer(
      {
        host: config.host,
        rtpPorts: options.rtpPorts ?? undefined,
        strepPort: options.strepPort ?? undefined,
        idleMs: config.idleMs,
        maxSessions: config.maxSessions,
        allowCidrs: config.allowCidrs,
        maxPacketsPerSecondPerSource: config.maxPpsPerSource,
        reorderMs: config.reorderMs,
        fixedReorderWait: config.fixedReorderWait,
        payloadTypes: config.payloadTypes ?? undefined,
      },
      {
        open: (identity) => this.open(identity),
        closed: (_session, reason) => sessionsEnded.inc({ reason }),
        // Counted while the call runs, once per codec per session.
        unsupportedCodec: (_session, codec) => sessionsUnsupportedCodec.inc({ codec }),
      },
    );
  }

  get scoring() {
    return this.loop.stats;
  }

  received(): number {
    return this.ingest.counters.received;
  }

  drops(): Float64Array {
    return this.ingest.dropTotals();
  }

  errors(): number {
    return this.ingest.counters.errors;
  }

  activeSessions(): number {
    return this.ingest.activeSessions;
  }

  /** Binds the sockets (rejects naming a port that cannot be bound) and starts scoring windows as they come. */
  async start(): Promise<void> {
    await this.ingest.start();
    this.untrackMetrics = trackMediaMetrics(this);
    this.loop.start(this.options.config.tickMs);
  }

  /** A fork announced its call (ids for a port pair or STREP leg); see SessionTable.announce. */
  announce(identity: AnnouncedIdentity): void {
    this.ingest.announce(identity);
  }

  end(stream: string, reason: SessionEndReason): void {
    this.ingest.end(stream, reason);
  }

  onDecision(call: LiveCall, decision: AlertDecision): void {
    const identity = this.identities.get(call);
    if (identity === undefined) return;
    const outer = STAGES.enter(STAGE.alert);
    try {
      const alert = buildAlert(decision, {
        identity,
        // Unannounced streams: the port is reused by later calls, so the session's start makes the key unique.
        callKey: identity.callControlId ?? `${identity.stream}@${this.openedAt.get(call) ?? 0}`,
        model: this.model,
        nowMs: Date.now(),
        actionMap: this.options.config.actions ?? undefined,
      });
      this.producer.publish(alert);
      this.alertsRaised++;
      logger.info(
        {
          alertId: alert.id,
          kind: alert.kind,
          level: alert.level,
          score: alert.score,
          stream: alert.stream,
          callControlId: alert.call_control_id,
          mediaS: alert.media_s,
          actions: alert.actions,
        },
        'alert raised',
      );
    } catch (err) {
      logger.error({ err, stream: identity.stream, kind: decision.kind }, 'alert could not be built');
    } finally {
      STAGES.leave(outer);
    }
  }

  /**
   * Stops intake and drains: sockets close, every session ends (its analyzer emits its last window and held
   * digits), the last model run scores what is pending, and alerts are flushed to Redis within `flushTimeoutMs`.
   */
  async stop(flushTimeoutMs: number): Promise<MediaPipelineResult> {
    await this.ingest.stop();
    try {
      await this.loop.stop();
    } catch (err) {
      logger.error({ err }, 'scoring run failed');
    }
    await withTimeout(this.replayIndex.flush(), 1000);
    this.replayRedis.disconnect();
    const { lost } = await this.producer.close({ flushTimeoutMs });
    this.untrackMetrics?.();
    await this.options.scorer.close().catch(() => {});
    return { alertsRaised: this.alertsRaised, lost };
  }

  private open(identity: CallIdentity): MediaSink {
    // Unique per call and process: replay matches compare calls, and a port is reused by many calls over time.
    const key = `${this.nodeTag}/${identity.stream}/${++this.callSeq}`;
    const live = new LiveCall(key, this.loop);
    this.identities.set(live, identity);
    this.openedAt.set(live, Date.now());
    const legStats: [LegStats, LegStats] = [emptyLegStats(), emptyLegStats()];
    const analyzer = new CallAnalyzer(key, live, {
      replayIndex: this.replayIndex,
      legStats,
      windowHopS: this.windowHopS,
    });
    // The session (and its CallMedia, whose transport stats the windows report) is created right after this
    // sink is returned; bind its stats before any window can be computed.
    queueMicrotask(() => {
      const session = this.ingest.session(identity.stream);
      if (session?.identity === identity) {
        legStats[0] = session.media.stats[0];
        legStats[1] = session.media.stats[1];
      }
    });
    return new TimedAnalyzerSink(analyzer, this.frames);
  }
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(
      () => {},
      () => {},
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
