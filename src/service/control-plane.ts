import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { ActionWorker } from '../alert/actions/action-worker.ts';
import type { Alert } from '../alert/alert.ts';
import { createTelnyxClient } from '../telnyx/telnyx-client.ts';
import type { ServiceConfig } from './config/load-config.ts';
import { ForkController } from './forks/fork-controller.ts';
import { PortLeaseManager } from './forks/port-leases.ts';
import type { ForkSessionHooks } from './forks/session-hooks.ts';
import { createHttpServer } from './http/http-server.ts';
import { logger } from './logger.ts';
import { QueueProbe } from './queue-metrics.ts';

export interface ControlPlaneOptions {
  config: ServiceConfig;
  /** Where fork announcements and ends go: the local media pipeline, or the cluster's port owners. */
  sessions: ForkSessionHooks;
  /** Where transcript_risk alerts from webhooks go. */
  alerts: { publish(alert: Alert): void };
  /** Readiness of the media side (ingest bound, model loaded); Redis is checked here. */
  mediaReady: () => boolean;
  registry?: Registry;
}

/**
 * The per-host half of the service: the HTTP server (webhooks, fork control, health, metrics), the Telnyx action
 * worker and the port-lease registry. One per host in cluster mode (the primary), so webhooks and leases are not
 * split across processes.
 */
export class ControlPlane {
  private draining = false;
  private redisOk = false;
  private lastPingMs = 0;

  private constructor(
    readonly app: FastifyInstance,
    private readonly redis: Redis,
    private readonly actionWorker: ActionWorker | null,
    readonly forks: ForkController | null,
    private readonly leases: PortLeaseManager | null,
    private readonly probe: QueueProbe,
  ) {}

  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const { config } = options;
    const { secrets } = config;
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
    redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'control redis error'));
    const telnyx = secrets.telnyxApiKey
      ? createTelnyxClient({ apiKey: secrets.telnyxApiKey, baseURL: config.telnyxBaseUrl ?? undefined })
      : null;
    if (telnyx === null) {
      logger.warn(
        'TELNYX_API_KEY is not set: no Telnyx actions are taken here (they wait in forkguard-actions) and fork control is off',
      );
    }
    const actionWorker = telnyx
      ? new ActionWorker({
          telnyx,
          redisUrl: config.redisUrl,
          prefix: config.queuePrefix,
          transcription: { engine: config.transcriptionEngine, tracks: 'both' },
        })
      : null;
    let leases: PortLeaseManager | null = null;
    let forks: ForkController | null = null;
    if (telnyx && config.publicIp) {
      let controller: ForkController | null = null;
      leases = new PortLeaseManager({
        redis,
        host: config.publicIp,
        first: config.rtpPorts.first,
        last: config.rtpPorts.last,
        keyPrefix: config.keyPrefix,
        onLost: (lease) => controller?.leaseLost(lease),
      });
      controller = new ForkController({
        telnyx,
        leases,
        publicIp: config.publicIp,
        sessions: options.sessions,
      });
      forks = controller;
      leases.start();
    } else if (telnyx) {
      logger.warn('FORKGUARD_PUBLIC_IP is not set: fork control (/v1/forks, auto-fork) is off');
    }
    const probe = new QueueProbe(config.redisUrl, config.queuePrefix);
    let plane: ControlPlane | null = null;
    const app = createHttpServer({
      telnyxPublicKey: secrets.telnyxPublicKey,
      apiToken: secrets.apiToken,
      redis,
      keyPrefix: config.keyPrefix,
      sessions: options.sessions,
      alerts: options.alerts,
      forks,
      health: { ready: async () => (await plane?.ready(options.mediaReady)) ?? false },
      autoForkOnAnswer: config.autoFork,
      announceStrep: config.strepPort !== null,
      actionMap: config.actions ?? undefined,
      registry: options.registry,
    });
    plane = new ControlPlane(app, redis, actionWorker, forks, leases, probe);
    try {
      await app.listen({ host: config.host, port: config.httpPort });
    } catch (err) {
      await plane.close();
      throw new Error(
        `cannot listen for HTTP on ${config.host}:${config.httpPort}: ${(err as Error).message} (use --http-port)`,
      );
    }
    return plane;
  }

  /** Not ready while draining, while the media side is not, or while Redis does not answer a PING. */
  async ready(mediaReady: () => boolean): Promise<boolean> {
    if (this.draining || !mediaReady()) return false;
    const now = Date.now();
    if (now - this.lastPingMs > 1000) {
      this.lastPingMs = now;
      this.redisOk = await Promise.race([
        this.redis.ping().then(
          (r) => r === 'PONG',
          () => false,
        ),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500)),
      ]);
    }
    return this.redisOk;
  }

  /** Readiness goes false (load balancers stop sending) while the media side drains. */
  beginDrain(): void {
    this.draining = true;
  }

  /** The shutdown order the alert and fork modules ask for, after the alert producers have flushed. */
  async close(): Promise<void> {
    this.draining = true;
    await this.actionWorker
      ?.close()
      .catch((err: Error) => logger.warn({ err: err.message }, 'action worker close'));
    await this.forks?.closeAll();
    await this.leases?.stop();
    await this.app.close();
    await this.probe.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
