import { type JobsOptions, Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { logger as defaultLogger, type Logger } from '../service/logger.ts';
import { ACTION_QUEUE, type ActionJobData } from './actions/action-job.ts';
import { ALERT_QUEUE, type Alert, alertSchema } from './alert.ts';
import { jobIdProblem } from './alert-id.ts';
import { alertsDropped, alertsTotal, trackBuffered } from './alert-metrics.ts';
import { actionCommandId } from './command-id.ts';

/**
 * Job retention. Alert jobs stay a day after completion (consumers may inspect them, and while a job exists a
 * repeat of its id is a no-op) and a week after failure; counts cap memory on busy systems.
 */
export const ALERT_JOB_RETENTION = {
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
} as const satisfies Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'>;

/** Action job options; `attempts`/`backoff` are the only retry layer for Telnyx commands (see action-worker.ts). */
export const ACTION_JOB_OPTIONS = {
  ...ALERT_JOB_RETENTION,
  attempts: 6,
  backoff: { type: 'telnyx' },
} as const satisfies JobsOptions;

/** Adds sent to Redis at once by one drain pass. */
const MAX_IN_FLIGHT = 64;

export interface AlertProducerOptions {
  /** Redis URL (default `redis://127.0.0.1:6379`). */
  redisUrl?: string;
  /** BullMQ key prefix (CONTRACTS §3: configurable, default `bull`). */
  prefix?: string;
  /** Most jobs held in memory while Redis is away; beyond it new jobs are dropped and counted. */
  bufferLimit?: number;
  /** A single add that takes longer is treated as failed and retried (the job id makes that safe). */
  addTimeoutMs?: number;
  /** Longest pause between delivery attempts while Redis is away. */
  maxRetryDelayMs?: number;
  redisOptions?: RedisOptions;
  logger?: Logger;
}

interface PendingJob {
  queue: Queue;
  name: string;
  jobId: string;
  data: Alert | ActionJobData;
  opts: JobsOptions;
  kind: string | null;
}

export interface CloseResult {
  /** Jobs still unsent when the flush timeout ran out; each is logged in full at error level. */
  lost: number;
}

/**
 * Writes alerts to `forkguard-alerts` and the actions they plan to `forkguard-actions`.
 *
 * Every job first enters an in-process outbox and leaves it only once Redis has acknowledged it. The Redis
 * connection has ioredis's offline queue switched off: with it on, a command issued during an outage waits in
 * an unbounded ioredis queue that nothing can observe or flush, and it is lost on exit. Here the outbox is the
 * one place jobs wait: bounded, measured (`forkguard_alerts_buffered`), retried after reconnect, and flushed by
 * `close()`. A job whose add timed out but did reach Redis is simply re-added later: its id makes that a no-op.
 */
export class AlertProducer {
  private readonly connection: Redis;
  readonly alertQueue: Queue;
  readonly actionQueue: Queue;
  private readonly pending = new Map<string, PendingJob>();
  /** Ids already acknowledged by Redis, so local repeats cost nothing and are not counted twice. */
  private readonly delivered = new Map<string, true>();
  private readonly bufferLimit: number;
  private readonly addTimeoutMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly log: Logger;
  private draining: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;
  private readonly untrack: () => void;

  constructor(options: AlertProducerOptions = {}) {
    this.bufferLimit = options.bufferLimit ?? 10_000;
    this.addTimeoutMs = options.addTimeoutMs ?? 5_000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
    this.log = options.logger ?? defaultLogger;
    this.connection = new Redis(options.redisUrl ?? 'redis://127.0.0.1:6379', {
      ...options.redisOptions,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    });
    // ioredis reports every failed reconnect as an error event; the outbox already accounts for the outage.
    this.connection.on('error', (err: Error) => this.log.debug({ err: err.message }, 'alert redis error'));
    this.connection.on('ready', () => this.kick());
    const prefix = options.prefix ?? 'bull';
    this.alertQueue = new Queue(ALERT_QUEUE, { connection: this.connection, prefix });
    this.actionQueue = new Queue(ACTION_QUEUE, { connection: this.connection, prefix });
    this.alertQueue.on('error', () => {});
    this.actionQueue.on('error', () => {});
    this.untrack = trackBuffered(this);
  }

  /** Jobs waiting in memory for Redis. */
  get buffered(): number {
    return this.pending.size;
  }

  /**
   * Queues an alert and its planned actions. Never waits for Redis and never throws for an outage; throws only
   * for an alert that breaks the schema or has an id BullMQ cannot use (a programming error upstream).
   */
  publish(alert: Alert): void {
    if (this.closed) throw new Error('alert producer is closed');
    const valid = alertSchema.parse(alert);
    const problem = jobIdProblem(valid.id);
    if (problem) throw new Error(`alert id "${valid.id}": ${problem}`);
    this.enqueue({
      queue: this.alertQueue,
      name: valid.kind,
      jobId: valid.id,
      data: valid,
      opts: ALERT_JOB_RETENTION,
      kind: valid.kind,
    });
    if (valid.call_control_id === null) return;
    for (const action of valid.actions) {
      const commandId = actionCommandId(valid.id, action);
      const data: ActionJobData = {
        v: 1,
        action,
        alert_id: valid.id,
        kind: valid.kind,
        call_control_id: valid.call_control_id,
        command_id: commandId,
        stream: valid.stream,
      };
      this.enqueue({
        queue: this.actionQueue,
        name: action,
        jobId: commandId,
        data,
        opts: ACTION_JOB_OPTIONS,
        kind: null,
      });
    }
  }

  /** Resolves once everything published so far has reached Redis, or when `timeoutMs` runs out (false). */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) {
      this.kick();
      const wait = Math.min(50, Math.max(1, deadline - Date.now()));
      await Promise.race([this.draining ?? Promise.resolve(), sleep(wait)]);
      if (this.pending.size > 0) await sleep(Math.min(20, Math.max(0, deadline - Date.now())));
    }
    return this.pending.size === 0;
  }

  /**
   * For SIGTERM: stop taking alerts, deliver what is held within `flushTimeoutMs`, then disconnect. Jobs that
   * still could not be delivered are logged in full (so an operator can re-inject them) and counted.
   */
  async close(options: { flushTimeoutMs?: number } = {}): Promise<CloseResult> {
    if (this.closed) return { lost: 0 };
    this.closed = true;
    await this.flush(options.flushTimeoutMs ?? 5_000);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const lost = this.pending.size;
    for (const job of this.pending.values()) {
      this.log.error(
        { queue: job.queue.name, jobId: job.jobId, data: job.data },
        'alert job not delivered before shutdown',
      );
    }
    if (lost > 0) alertsDropped.inc({ reason: 'shutdown' }, lost);
    this.pending.clear();
    this.untrack();
    await Promise.allSettled([this.alertQueue.close(), this.actionQueue.close()]);
    this.connection.disconnect();
    return { lost };
  }

  private enqueue(job: PendingJob): void {
    const key = `${job.queue.name}/${job.jobId}`;
    if (this.delivered.has(key) || this.pending.has(key)) return;
    if (this.pending.size >= this.bufferLimit) {
      alertsDropped.inc({ reason: 'buffer_full' });
      this.log.error(
        { queue: job.queue.name, jobId: job.jobId, data: job.data },
        'alert buffer full: job dropped',
      );
      return;
    }
    this.pending.set(key, job);
    this.kick();
  }

  private kick(): void {
    if (this.draining || this.pending.size === 0) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
    });
  }

  /**
   * Sends what is pending, up to MAX_IN_FLIGHT adds at once: they share the connection's round trips, so an
   * alert raised together with others (one model run can decide many) does not queue behind their replies.
   */
  private async drain(): Promise<void> {
    const batch: [string, PendingJob][] = [];
    while (this.pending.size > 0) {
      if (this.connection.status !== 'ready') return this.scheduleRetry();
      batch.length = 0;
      for (const entry of this.pending) {
        batch.push(entry);
        if (batch.length === MAX_IN_FLIGHT) break;
      }
      const results = await Promise.allSettled(
        batch.map(([, job]) =>
          withTimeout(
            job.queue.add(job.name, job.data, { ...job.opts, jobId: job.jobId }),
            this.addTimeoutMs,
          ),
        ),
      );
      let failure: unknown = null;
      for (let i = 0; i < batch.length; i++) {
        const result = results[i];
        if (result.status === 'rejected') {
          failure ??= result.reason;
          continue;
        }
        const [key, job] = batch[i];
        this.pending.delete(key);
        this.remember(key);
        if (job.kind) alertsTotal.inc({ kind: job.kind });
      }
      if (failure !== null) {
        this.log.warn(
          { err: (failure as Error).message, buffered: this.pending.size },
          'alert delivery deferred',
        );
        return this.scheduleRetry();
      }
      this.failures = 0;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.pending.size === 0) return;
    this.failures++;
    const delay = Math.min(25 * 2 ** Math.min(this.failures, 10), this.maxRetryDelayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, delay);
    this.retryTimer.unref();
  }

  private remember(key: string): void {
    this.delivered.set(key, true);
    if (this.delivered.size > 20_000) {
      const oldest = this.delivered.keys().next().value as string;
      this.delivered.delete(oldest);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
