import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { logger as defaultLogger, type Logger } from '../../service/logger.ts';
import type { TelnyxClient } from '../../telnyx/telnyx-client.ts';
import { actionsTotal } from '../alert-metrics.ts';
import { ACTION_QUEUE, type ActionJobData } from './action-job.ts';
import { DEFAULT_TRANSCRIPTION, performAction, type TranscriptionSettings } from './perform-action.ts';
import { type ActionOutcome, classifyTelnyxError } from './telnyx-outcome.ts';

export interface ActionWorkerOptions {
  telnyx: TelnyxClient;
  redisUrl?: string;
  /** BullMQ key prefix, the producer's (default `bull`). */
  prefix?: string;
  /** Commands in flight at once in this process (default 4). */
  concurrency?: number;
  /**
   * Global rate limit over all workers sharing the queue (BullMQ limiter; default 10 commands per second), kept
   * under Telnyx's Call Control limits so a burst of alerts does not earn a burst of 429s.
   */
  limiter?: { max: number; duration: number };
  transcription?: TranscriptionSettings;
  /** Longest Retry-After honoured before the job is retried anyway (default 60 s). */
  maxRetryAfterMs?: number;
  /** Exponential backoff when the API gave no Retry-After: base doubling per attempt, capped (1 s .. 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  logger?: Logger;
}

export interface ActionResult {
  outcome: Extract<ActionOutcome, 'ok' | 'call_ended'>;
  reason?: string;
}

/** Carries the API's Retry-After to the backoff strategy, which BullMQ hands the thrown error. */
export class RetryableActionError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
    this.name = 'RetryableActionError';
  }
}

/**
 * Carries out planned actions from `forkguard-actions` through the Telnyx SDK.
 *
 * Retries live in exactly one layer: BullMQ `attempts` with a custom `telnyx` backoff that waits what
 * Retry-After asks (else exponential with jitter). The SDK client runs with `maxRetries: 0`. BullMQ was chosen
 * over the SDK's own loop because its retry state is in Redis (a restart or SIGTERM mid-backoff loses nothing),
 * the waiting job does not hold a worker slot, and every attempt is counted. Outcomes:
 * - 2xx: `ok`.
 * - 422/404 saying the call has ended: `call_ended`, the job completes (nothing left to act on).
 * - other 4xx: `rejected`, the job fails at once (UnrecoverableError) with the API's reason as failedReason.
 * - 429, 408, 409, 5xx, network: `retry` while attempts remain, then `failed`.
 */
export class ActionWorker {
  readonly worker: Worker<ActionJobData, ActionResult>;
  private readonly connection: Redis;
  private readonly log: Logger;

  constructor(private readonly options: ActionWorkerOptions) {
    this.log = options.logger ?? defaultLogger;
    this.connection = new Redis(options.redisUrl ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    this.connection.on('error', (err: Error) => this.log.debug({ err: err.message }, 'action redis error'));
    const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    const baseMs = options.backoffBaseMs ?? 1_000;
    const maxMs = options.backoffMaxMs ?? 30_000;
    this.worker = new Worker<ActionJobData, ActionResult>(ACTION_QUEUE, (job) => this.process(job), {
      connection: this.connection,
      prefix: options.prefix ?? 'bull',
      concurrency: options.concurrency ?? 4,
      limiter: options.limiter ?? { max: 10, duration: 1_000 },
      settings: {
        backoffStrategy: (attemptsMade, _type, err) => {
          if (err instanceof RetryableActionError && err.retryAfterMs !== null) {
            return Math.min(err.retryAfterMs, maxRetryAfterMs);
          }
          const exp = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), maxMs);
          return Math.round(exp * (0.75 + Math.random() * 0.25));
        },
      },
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'action worker error'));
  }

  async close(): Promise<void> {
    await this.worker.close();
    this.connection.disconnect();
  }

  private async process(job: Job<ActionJobData, ActionResult>): Promise<ActionResult> {
    const data = job.data;
    const fields = {
      action: data.action,
      callControlId: data.call_control_id,
      commandId: data.command_id,
      alertId: data.alert_id,
    };
    try {
      await performAction(this.options.telnyx, data, this.options.transcription ?? DEFAULT_TRANSCRIPTION);
    } catch (err) {
      const failure = classifyTelnyxError(err);
      if (failure.callEnded) {
        actionsTotal.inc({ action: data.action, outcome: 'call_ended' });
        this.log.info({ ...fields, reason: failure.reason }, 'call already ended; action dropped');
        return { outcome: 'call_ended', reason: failure.reason };
      }
      if (!failure.retryable) {
        actionsTotal.inc({ action: data.action, outcome: 'rejected' });
        this.log.warn({ ...fields, reason: failure.reason }, 'telnyx rejected action');
        throw new UnrecoverableError(failure.reason);
      }
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      actionsTotal.inc({ action: data.action, outcome: lastAttempt ? 'failed' : 'retry' });
      this.log.warn(
        { ...fields, reason: failure.reason, attempt: job.attemptsMade + 1 },
        'telnyx action failed',
      );
      throw new RetryableActionError(failure.reason, failure.retryAfterMs);
    }
    actionsTotal.inc({ action: data.action, outcome: 'ok' });
    this.log.info(fields, 'telnyx action done');
    return { outcome: 'ok' };
  }
}
