import { Counter, Gauge, Histogram } from 'prom-client';
import { DROP_REASONS } from '../ingest/drop-reasons.ts';
import { STAGE_NAMES, STAGES, WORK_NAMES } from '../telemetry/stage-clock.ts';
import { metricsRegistry } from './metrics-registry.ts';

/**
 * Media pipeline metrics (CONTRACTS §4 names). The per-packet and per-frame paths only bump plain numbers in
 * their own objects; these metrics read them at scrape time through `collect`, so prom-client never sits in a hot
 * loop. Registered once per process at import (prom-client refuses a second metric of one name); a pipeline adds
 * itself as a source and removes itself when it closes.
 */
export interface MediaMetricsSource {
  /** Datagrams read from the sockets. */
  received(): number;
  /** Per DROP index, every drop so far. */
  drops(): Float64Array;
  activeSessions(): number;
  /** Datagrams whose handling threw inside forkguard. */
  errors(): number;
  /** 20 ms frames analysed (both legs) and the seconds spent analysing them. */
  readonly frames: { count: number; seconds: number };
  /** Scoring loop totals (ScoringLoop.stats). */
  readonly scoring: { runs: number; windows: number; runSeconds: number };
}

const sources = new Set<MediaMetricsSource>();

export function trackMediaMetrics(source: MediaMetricsSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

function sum(read: (s: MediaMetricsSource) => number): number {
  let total = 0;
  for (const s of sources) total += read(s);
  return total;
}

/** A counter whose value lives elsewhere: reset and re-added at each scrape (prom-client has no set() on counters). */
function mirroredCounter(name: string, help: string, read: (s: MediaMetricsSource) => number): Counter {
  return new Counter({
    name,
    help,
    registers: [metricsRegistry],
    collect() {
      this.reset();
      this.inc(sum(read));
    },
  });
}

export const rtpPacketsReceived = mirroredCounter(
  'forkguard_rtp_packets_received_total',
  'UDP datagrams read from the media sockets (RTP port pairs and STREP), accepted or not',
  (s) => s.received(),
);

export const rtpPacketsDropped = new Counter({
  name: 'forkguard_rtp_packets_dropped_total',
  help: 'Media datagrams dropped, by reason (see DROP_REASONS: truncated, unknown_source, duplicate, late, ...)',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    const totals = new Float64Array(DROP_REASONS.length);
    for (const s of sources) {
      const drops = s.drops();
      for (let i = 0; i < totals.length; i++) totals[i] += drops[i];
    }
    for (let i = 1; i < totals.length; i++) this.inc({ reason: DROP_REASONS[i] }, totals[i]);
  },
});

export const rtpDatagramErrors = mirroredCounter(
  'forkguard_rtp_datagram_errors_total',
  'Datagrams whose handling failed inside forkguard (a fault to report, never the sender): logged and dropped',
  (s) => s.errors(),
);

export const sessionsActive = new Gauge({
  name: 'forkguard_sessions_active',
  help: 'Calls (port pairs and STREP streams) with a live ingest session',
  registers: [metricsRegistry],
  collect() {
    this.set(sum((s) => s.activeSessions()));
  },
});

export const sessionsEnded = new Counter({
  name: 'forkguard_sessions_ended_total',
  help: 'Ingest sessions ended, by reason (idle, request, shutdown)',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const sessionsUnsupportedCodec = new Counter({
  name: 'forkguard_sessions_unsupported_codec_total',
  help: 'Sessions that carried a codec forkguard does not decode (G.729, AMR-WB), by codec; counted when a session first carries it',
  labelNames: ['codec'] as const,
  registers: [metricsRegistry],
});

export const dspFrames = mirroredCounter(
  'forkguard_dsp_frames_total',
  '20 ms frames analysed (both legs of every call)',
  (s) => s.frames.count,
);

export const dspFrameSeconds = mirroredCounter(
  'forkguard_dsp_frame_seconds_total',
  'Seconds spent analysing frames (features, detectors, fingerprints); divide by frames for time per frame',
  (s) => s.frames.seconds,
);

export const modelRuns = mirroredCounter(
  'forkguard_model_runs_total',
  'Batched onnxruntime runs',
  (s) => s.scoring.runs,
);

export const modelWindows = mirroredCounter(
  'forkguard_model_windows_total',
  'Feature windows scored',
  (s) => s.scoring.windows,
);

export const modelSeconds = mirroredCounter(
  'forkguard_model_seconds_total',
  'Seconds spent in onnxruntime runs',
  (s) => s.scoring.runSeconds,
);

/** Observed once per model run (a few dozen times a second at most), never per packet. */
export const modelBatchSize = new Histogram({
  name: 'forkguard_model_batch_windows',
  help: 'Windows per batched model run',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048],
  registers: [metricsRegistry],
});

export const modelRunSeconds = new Histogram({
  name: 'forkguard_model_run_seconds',
  help: 'Duration of one batched model run',
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  registers: [metricsRegistry],
});

/**
 * The process's stage clock (src/telemetry/stage-clock.ts), read at scrape time. Stage 0 (`outside`: the event
 * loop, native socket reads, idle) is left out; process CPU minus the stages' sum is the runtime's and kernel's.
 */
export const stageSeconds = new Counter({
  name: 'forkguard_stage_seconds_total',
  help: 'Main-thread seconds per media-path stage, exclusive of nested stages (receive, decode_<codec>, frame, window, replay, score, policy, alert, sweep); divide by packets for time per packet',
  labelNames: ['stage'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (let i = 1; i < STAGE_NAMES.length; i++) this.inc({ stage: STAGE_NAMES[i] }, STAGES.ms[i] / 1000);
  },
});

export const stageCalls = new Counter({
  name: 'forkguard_stage_calls_total',
  help: 'Times each media-path stage was entered (packets, decodes, frames, windows, replay batches and replies, model runs, sweeps)',
  labelNames: ['stage'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (let i = 1; i < STAGE_NAMES.length; i++) this.inc({ stage: STAGE_NAMES[i] }, STAGES.calls[i]);
  },
});

export const workUnits = new Counter({
  name: 'forkguard_work_units_total',
  help: 'Work the media path did, by unit: frames_from_packets, frames_from_sweep, sessions_swept, score_wakeups, windows_enqueued, replay_batches, replay_hits, replay_tallies_visited',
  labelNames: ['unit'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (let i = 0; i < WORK_NAMES.length; i++) this.inc({ unit: WORK_NAMES[i] }, STAGES.work[i]);
  },
});
