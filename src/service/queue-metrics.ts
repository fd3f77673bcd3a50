import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import { ACTION_QUEUE } from '../alert/actions/action-job.ts';
import { ALERT_QUEUE } from '../alert/alert.ts';
import { logger } from './logger.ts';
import { metricsRegistry } from './metrics-registry.ts';

const STATES = ['waiting', 'delayed', 'active', 'failed'] as const;
/** A scrape must answer even while Redis does not. */
const PROBE_TIMEOUT_MS = 1000;

let probe: QueueProbe | null = null;

export const queueJobs = new Gauge({
  name: 'forkguard_queue_jobs',
  help: 'Jobs in the forkguard-alerts and forkguard-actions queues, by state (read from Redis at scrape time)',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    const snapshot = await probe?.snapshot();
    if (!snapshot) return;
    for (const q of snapshot)
      for (const state of STATES) this.set({ queue: q.queue, state }, q.counts[state] ?? 0);
  },
});

export const queueLag = new Gauge({
  name: 'forkguard_queue_lag_seconds',
  help: 'Age of the oldest job waiting in each queue: how far its consumers are behind (0 when none waits)',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    const snapshot = await probe?.snapshot();
    if (!snapshot) return;
    for (const q of snapshot) this.set({ queue: q.queue }, q.lagS);
  },
});

interface QueueSnapshot {
  queue: string;
  counts: Record<string, number>;
  lagS: number;
}

/**
 * Reads queue depth and consumer lag for the metrics above. One snapshot serves both gauges of a scrape (they
 * collect back to back), so Redis sees one round of queries per scrape.
 */
export class QueueProbe {
  private readonly connection: Redis;
  private readonly queues: Queue[];
  private last: { atMs: number; value: Promise<QueueSnapshot[] | null> } | null = null;

  constructor(redisUrl: string, prefix: string) {
    this.connection = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.connection.on('error', (err: Error) =>
      logger.debug({ err: err.message }, 'queue probe redis error'),
    );
    this.queues = [ALERT_QUEUE, ACTION_QUEUE].map((name) => {
      const queue = new Queue(name, { connection: this.connection, prefix });
      queue.on('error', () => {});
      return queue;
    });
    probe = this;
  }

  snapshot(): Promise<QueueSnapshot[] | null> {
    const now = Date.now();
    if (this.last === null || now - this.last.atMs > 500) {
      this.last = { atMs: now, value: this.read() };
    }
    return this.last.value;
  }

  async close(): Promise<void> {
    if (probe === this) probe = null;
    await Promise.allSettled(this.queues.map((q) => q.close()));
    this.connection.disconnect();
  }

  private async read(): Promise<QueueSnapshot[] | null> {
    if (this.connection.status !== 'ready') return null;
    const work = Promise.all(
      this.queues.map(async (queue): Promise<QueueSnapshot> => {
        const [counts, oldest] = await Promise.all([
          queue.getJobCounts(...STATES),
          queue.getJobs(['waiting'], 0, 0, true),
        ]);
        const ts = oldest[0]?.timestamp;
        return { queue: queue.name, counts, lagS: ts ? Math.max(0, (Date.now() - ts) / 1000) : 0 };
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), PROBE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([work, timeout]);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
