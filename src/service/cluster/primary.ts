import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Registry } from 'prom-client';
import { AlertProducer } from '../../alert/alert-producer.ts';
import type { PortPairRange } from '../../ingest/sessions/session-table.ts';
import { describeConfig, type ServiceConfig } from '../config/load-config.ts';
import { ControlPlane } from '../control-plane.ts';
import type { RedisHandle } from '../embedded-redis.ts';
import type { ForkSessionHooks } from '../forks/session-hooks.ts';
import { logger } from '../logger.ts';
import type { MediaPipelineResult } from '../media-pipeline.ts';
import { metricsRegistry } from '../metrics-registry.ts';
import { finish, onShutdownSignal } from '../service-startup.ts';
import { type MetricsJson, type PrimaryMessage, WORKER_INDEX_ENV, type WorkerMessage } from './ipc.ts';
import { ownerOfPort, ownerOfStream, splitPortRange } from './port-split.ts';

const STARTUP_TIMEOUT_MS = 60_000;
const METRICS_TIMEOUT_MS = 2_000;
/** A worker that keeps dying is a fault to surface, not to hide behind restarts. */
const MAX_RESTARTS_PER_MINUTE = 5;

interface Slot {
  index: number;
  slice: PortPairRange;
  worker: Worker | null;
  ready: boolean;
  result: MediaPipelineResult | null;
}

/**
 * The media workers of this host, one per port slice: forks them, routes fork announcements to the owner of the
 * port, gathers their metrics, restarts one that dies, and drains them all at shutdown.
 */
class WorkerPool {
  readonly slots: Slot[];
  private draining = false;
  private metricsSeq = 0;
  private readonly metricsWaiters = new Map<number, (metrics: MetricsJson) => void>();
  private restarts: number[] = [];
  onFatal: (reason: string) => void = () => {};

  constructor(
    private readonly config: ServiceConfig,
    slices: PortPairRange[],
  ) {
    this.slots = slices.map((slice, index) => ({ index, slice, worker: null, ready: false, result: null }));
  }

  get allReady(): boolean {
    return this.slots.every((s) => s.ready);
  }

  /** Forks every worker; resolves when all are ready, rejects with the first worker's one-line failure. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`media workers not ready within ${STARTUP_TIMEOUT_MS / 1000} s`)),
        STARTUP_TIMEOUT_MS,
      );
      let settled = false;
      const settle = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      for (const slot of this.slots) {
        this.fork(slot, (err) => (err ? settle(err) : this.allReady && settle(null)));
      }
    });
  }

  send(index: number, message: PrimaryMessage): void {
    const worker = this.slots[index]?.worker;
    if (worker?.isConnected()) worker.send(message);
    else logger.warn({ worker: index, message: message.t }, 'media worker not connected; request dropped');
  }

  /** Every worker's metrics as JSON (a worker that does not answer in time is left out of this scrape). */
  async workerMetrics(): Promise<MetricsJson[]> {
    const requests = this.slots
      .filter((s) => s.worker?.isConnected())
      .map(
        (slot) =>
          new Promise<MetricsJson | null>((resolve) => {
            const id = ++this.metricsSeq;
            const timer = setTimeout(() => {
              this.metricsWaiters.delete(id);
              resolve(null);
            }, METRICS_TIMEOUT_MS);
            this.metricsWaiters.set(id, (metrics) => {
              clearTimeout(timer);
              this.metricsWaiters.delete(id);
              resolve(metrics);
            });
            slot.worker?.send({ t: 'metrics-req', id } satisfies PrimaryMessage);
          }),
      );
    return (await Promise.all(requests)).filter((m): m is MetricsJson => m !== null);
  }

  /** Asks every worker to drain and waits for all to exit; sums what they report. */
  async drain(graceMs: number): Promise<{ alertsRaised: number; lost: number }> {
    this.draining = true;
    const exits = this.slots.map(
      (slot) =>
        new Promise<void>((resolve) => {
          const worker = slot.worker;
          if (!worker || worker.isDead()) return resolve();
          const timer = setTimeout(() => {
            logger.error({ worker: slot.index }, 'media worker did not drain in time; killing it');
            worker.process.kill('SIGKILL');
          }, graceMs);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (worker.isConnected()) worker.send({ t: 'shutdown' } satisfies PrimaryMessage);
          else worker.process.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    let alertsRaised = 0;
    let lost = 0;
    for (const slot of this.slots) {
      if (slot.result === null) {
        logger.error({ worker: slot.index }, 'media worker exited without reporting its drain');
        lost++;
        continue;
      }
      alertsRaised += slot.result.alertsRaised;
      lost += slot.result.lost;
    }
    return { alertsRaised, lost };
  }

  private fork(slot: Slot, onStartup?: (err: Error | null) => void): void {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index), REDIS_URL: this.config.redisUrl });
    slot.worker = worker;
    slot.ready = false;
    worker.on('message', (message: WorkerMessage) => {
      switch (message.t) {
        case 'ready':
          slot.ready = true;
          onStartup?.(null);
          break;
        case 'failed':
          onStartup?.(new Error(message.error));
          break;
        case 'metrics-res':
          this.metricsWaiters.get(message.id)?.(message.metrics);
          break;
        case 'stopped':
          slot.result = message.result;
          break;
      }
    });
    worker.on('exit', (code, signal) => {
      const wasReady = slot.ready;
      slot.ready = false;
      if (this.draining || slot.worker !== worker) return;
      if (!wasReady) {
        // Died while starting: its 'failed' message (if any) already told why; a restart would fail the same way.
        onStartup?.(new Error(`media worker ${slot.index} exited while starting (${signal ?? code})`));
        if (!onStartup) this.onFatal(`media worker ${slot.index} could not restart`);
        return;
      }
      logger.error({ worker: slot.index, code, signal }, 'media worker died; starting a new one');
      const now = Date.now();
      this.restarts = this.restarts.filter((t) => now - t < 60_000);
      this.restarts.push(now);
      if (this.restarts.length > MAX_RESTARTS_PER_MINUTE) {
        this.onFatal(`media workers died ${this.restarts.length} times within a minute`);
        return;
      }
      // The replacement's startup is not awaited by anyone: its readiness shows in /healthz.
      this.fork(slot);
    });
  }
}

/** /metrics of the primary: its own metrics (HTTP, webhooks, actions) merged with every worker's. */
class ClusterRegistry extends Registry {
  constructor(private readonly pool: WorkerPool) {
    super();
  }

  override async metrics(): Promise<string> {
    const all = [await metricsRegistry.getMetricsAsJSON(), ...(await this.pool.workerMetrics())];
    return AggregatorRegistry.aggregate(all).metrics();
  }
}

/**
 * Cluster mode: this process owns HTTP (webhooks, fork control), the action worker and the port leases; each
 * media worker owns a contiguous slice of port pairs (worker 0 also the STREP port). Resolves with the exit code.
 */
export async function runPrimary(config: ServiceConfig, redis: RedisHandle, model: string): Promise<number> {
  const slices = splitPortRange(config.rtpPorts, config.workers);
  const pool = new WorkerPool(config, slices);
  try {
    await pool.start();
  } catch (err) {
    await pool.drain(config.shutdownFlushMs + 10_000);
    throw err;
  }
  const sessions: ForkSessionHooks = {
    announce: (identity) => {
      const owner = identity.port === undefined ? 0 : ownerOfPort(slices, identity.port);
      if (owner < 0) logger.warn({ port: identity.port }, 'announced port outside every worker slice');
      else pool.send(owner, { t: 'announce', identity });
    },
    end: (stream, reason) => {
      const owner = ownerOfStream(slices, stream);
      if (owner >= 0) pool.send(owner, { t: 'end', stream, reason });
    },
  };
  // transcript_risk alerts are raised here, from webhooks.
  const producer = new AlertProducer({ redisUrl: config.redisUrl, prefix: config.queuePrefix });
  let plane: ControlPlane;
  try {
    plane = await ControlPlane.start({
      config,
      sessions,
      alerts: producer,
      mediaReady: () => pool.allReady,
      registry: new ClusterRegistry(pool),
    });
  } catch (err) {
    await pool.drain(config.shutdownFlushMs + 10_000);
    await producer.close({ flushTimeoutMs: config.shutdownFlushMs });
    throw err;
  }
  logger.info(
    {
      ...describeConfig(config),
      model,
      redisEmbedded: redis.embedded,
      forkControl: plane.forks !== null,
      slices: slices.map((s, i) => `${i}:${s.first}-${s.last}`),
    },
    'forkguard started',
  );

  const exitCode = await new Promise<number>((resolve) => {
    onShutdownSignal(() => resolve(0));
    pool.onFatal = (reason) => {
      logger.error({ reason }, 'shutting down');
      resolve(1);
    };
  });
  plane.beginDrain();
  const drained = await pool.drain(config.shutdownFlushMs + 10_000);
  const own = await producer.close({ flushTimeoutMs: config.shutdownFlushMs });
  await plane.close();
  await redis.stop();
  return Math.max(exitCode, finish(drained.alertsRaised, drained.lost + own.lost));
}
