import type { Registry } from 'prom-client';
import type { CallIdentity } from '../../ingest/media-sink.ts';
import type { SessionEndReason } from '../../ingest/sessions/ingest-session.ts';
import type { MediaPipelineResult } from '../media-pipeline.ts';

/** A registry's metrics as `getMetricsAsJSON` gives them: what AggregatorRegistry.aggregate merges. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Messages between the primary and its media workers over cluster IPC. */
export type PrimaryMessage =
  | { t: 'announce'; identity: CallIdentity & { port?: number } }
  | { t: 'end'; stream: string; reason: SessionEndReason }
  | { t: 'metrics-req'; id: number }
  | { t: 'shutdown' };

export type WorkerMessage =
  | { t: 'ready' }
  | { t: 'failed'; error: string }
  | { t: 'metrics-res'; id: number; metrics: MetricsJson }
  | { t: 'stopped'; result: MediaPipelineResult };

/** Environment variable carrying a worker's index (its port slice) into the re-entered CLI. */
export const WORKER_INDEX_ENV = 'FORKGUARD_WORKER_INDEX';

export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}
