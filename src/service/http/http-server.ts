import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { ActionMap } from '../../alert/action-plan.ts';
import type { Alert } from '../../alert/alert.ts';
import type { TranscriptRiskOptions } from '../../alert/transcript-risk.ts';
import { type ForkController, ForkError, type ForkRecord } from '../forks/fork-controller.ts';
import type { ForkSessionHooks } from '../forks/session-hooks.ts';
import { logger as defaultLogger, type Logger } from '../logger.ts';
import { metricsRegistry } from '../metrics-registry.ts';
import { bearerMatches } from './bearer-auth.ts';
import { webhooksReceived, webhooksRejected } from './http-metrics.ts';
import { WebhookDedup } from './webhook-dedup.ts';
import {
  createWebhookEventProcessor,
  HANDLED_EVENT_TYPES,
  type TelnyxWebhookEvent,
} from './webhook-events.ts';
import { parseTelnyxPublicKey, verifyWebhookSignature } from './webhook-signature.ts';

export interface HttpServerDeps {
  /** TELNYX_PUBLIC_KEY (base64 Ed25519). Null: /webhooks/telnyx answers 503 rather than accept unsigned events. */
  telnyxPublicKey: string | null;
  /** FORKGUARD_API_TOKEN for /v1/forks. Null: fork control answers 503. */
  apiToken: string | null;
  /** Shared Redis for webhook deduplication (null: this process's memory only). */
  redis: Redis | null;
  /** Redis key prefix for forkguard's own keys (default `forkguard:`). */
  keyPrefix?: string;
  sessions: ForkSessionHooks;
  /** Where `transcript_risk` alerts go (the AlertProducer). */
  alerts: { publish(alert: Alert): void } | null;
  forks: ForkController | null;
  health?: {
    /** Liveness: false only when the process should be restarted. */
    live?: () => boolean;
    /** Readiness: false while the service cannot take traffic (starting, draining, dependencies down). */
    ready?: () => boolean | Promise<boolean>;
  };
  autoForkOnAnswer?: boolean;
  announceStrep?: boolean;
  transcriptRisk?: TranscriptRiskOptions;
  actionMap?: ActionMap;
  registry?: Registry;
  logger?: Logger;
  /** Webhook body limit in bytes (default 1 MiB). */
  bodyLimit?: number;
  nowMs?: () => number;
  /** Called after each accepted webhook event was processed (result) or failed (error). */
  onWebhookProcessed?: (event: TelnyxWebhookEvent, result: string | Error) => void;
}

const forkBody = z.object({
  call_control_id: z.string().min(1),
  call_leg_id: z.string().min(1).optional(),
  call_session_id: z.string().min(1).optional(),
});

const eventEnvelope = z.object({
  data: z.object({ id: z.string().min(1), event_type: z.string().min(1) }).passthrough(),
});

/**
 * forkguard's HTTP surface: `POST /webhooks/telnyx`, `POST /v1/forks`, `DELETE /v1/forks/:call_control_id`,
 * `GET /healthz`, `GET /metrics`. The caller listens (`app.listen`) and closes it.
 */
export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const log = deps.logger ?? defaultLogger;
  const registry = deps.registry ?? metricsRegistry;
  const nowMs = deps.nowMs ?? Date.now;
  const publicKey = deps.telnyxPublicKey ? parseTelnyxPublicKey(deps.telnyxPublicKey) : null;
  const dedup = new WebhookDedup(deps.redis, { keyPrefix: deps.keyPrefix });
  const handled = new Set<string>(HANDLED_EVENT_TYPES);
  const processEvent = createWebhookEventProcessor({
    sessions: deps.sessions,
    alerts: deps.alerts,
    forks: deps.forks,
    autoForkOnAnswer: deps.autoForkOnAnswer,
    announceStrep: deps.announceStrep,
    transcriptRisk: deps.transcriptRisk,
    actionMap: deps.actionMap,
    logger: log,
    nowMs,
  });

  const app = Fastify({ logger: false, bodyLimit: deps.bodyLimit ?? 1024 * 1024 });

  app.get('/healthz', async (_req, res) => {
    if (deps.health?.live && !deps.health.live()) return res.code(503).send({ status: 'dead' });
    if (deps.health?.ready && !(await deps.health.ready()))
      return res.code(503).send({ status: 'not_ready' });
    return { status: 'ok' };
  });

  app.get('/metrics', async (_req, res) => {
    res.header('content-type', registry.contentType);
    return registry.metrics();
  });

  // The webhook route sees the body as raw bytes: the signature covers them exactly as sent.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    scope.post('/webhooks/telnyx', async (req, res) => {
      const reject = (status: number, reason: string, error: string) => {
        webhooksRejected.inc({ reason });
        log.warn({ reason, ip: req.ip }, 'webhook rejected');
        return res.code(status).send({ error });
      };
      if (!publicKey)
        return reject(503, 'no_public_key', 'webhook verification is not configured (TELNYX_PUBLIC_KEY)');
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const rejection = verifyWebhookSignature(
        publicKey,
        raw,
        header(req.headers['telnyx-signature-ed25519']),
        header(req.headers['telnyx-timestamp']),
        nowMs(),
      );
      if (rejection === 'stale')
        return reject(403, rejection, 'webhook timestamp outside the 300 s tolerance');
      if (rejection)
        return reject(rejection === 'bad_signature' ? 403 : 400, rejection, `webhook refused: ${rejection}`);

      let event: TelnyxWebhookEvent;
      try {
        event = eventEnvelope.parse(JSON.parse(raw.toString('utf8'))) as TelnyxWebhookEvent;
      } catch {
        return reject(400, 'bad_payload', 'webhook body is not a Telnyx event envelope');
      }
      const type = handled.has(event.data.event_type) ? event.data.event_type : 'other';
      if (!(await dedup.claim(event.data.id))) {
        webhooksReceived.inc({ event_type: type, result: 'duplicate' });
        return res.code(200).send({ status: 'duplicate' });
      }
      // Reply first, work after: Telnyx waits on this answer and retries slow ones.
      setImmediate(() => {
        processEvent(event).then(
          (result) => {
            webhooksReceived.inc({ event_type: type, result });
            deps.onWebhookProcessed?.(event, result);
          },
          (err: Error) => {
            webhooksReceived.inc({ event_type: type, result: 'error' });
            log.error(
              { err: err.message, eventId: event.data.id, type: event.data.event_type },
              'webhook processing failed',
            );
            deps.onWebhookProcessed?.(event, err);
          },
        );
      });
      return res.code(200).send({ status: 'accepted' });
    });
  });

  const authorized = (authorization: string | undefined, res: FastifyReply): boolean => {
    if (!deps.apiToken || !deps.forks) {
      res
        .code(503)
        .send({ error: 'fork control is not configured (FORKGUARD_API_TOKEN, FORKGUARD_PUBLIC_IP)' });
      return false;
    }
    if (!bearerMatches(authorization, deps.apiToken)) {
      res.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token' });
      return false;
    }
    return true;
  };

  app.post('/v1/forks', async (req, res) => {
    if (!authorized(req.headers.authorization, res)) return res;
    const body = forkBody.safeParse(req.body);
    if (!body.success) return res.code(400).send({ error: 'body must be {"call_control_id": "<id>"}' });
    try {
      const { fork, created } = await deps.forks!.start({
        callControlId: body.data.call_control_id,
        callLegId: body.data.call_leg_id,
        callSessionId: body.data.call_session_id,
      });
      return res.code(created ? 201 : 200).send(forkView(fork));
    } catch (err) {
      return sendForkError(res, err);
    }
  });

  app.delete<{ Params: { call_control_id: string } }>('/v1/forks/:call_control_id', async (req, res) => {
    if (!authorized(req.headers.authorization, res)) return res;
    try {
      const fork = await deps.forks!.stop(req.params.call_control_id);
      if (!fork)
        return res.code(404).send({ error: `no fork on this node for call ${req.params.call_control_id}` });
      return res.code(200).send({ ...forkView(fork), stopped: true });
    } catch (err) {
      return sendForkError(res, err);
    }
  });

  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, res) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err: err.message }, 'http handler failed');
    res.code(status).send({ error: status === 500 ? 'internal error' : err.message });
  });

  return app;

  function sendForkError(res: FastifyReply, err: unknown) {
    if (err instanceof ForkError) return res.code(err.status).send({ error: err.message });
    log.error({ err: (err as Error).message }, 'fork control failed');
    return res.code(500).send({ error: 'internal error' });
  }
}

function forkView(fork: ForkRecord) {
  return {
    call_control_id: fork.callControlId,
    call_leg_id: fork.callLegId,
    call_session_id: fork.callSessionId,
    stream: fork.stream,
    port: fork.port,
    rx: fork.rx,
    tx: fork.tx,
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
