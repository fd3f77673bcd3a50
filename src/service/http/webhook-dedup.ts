import type { Redis } from 'ioredis';

export interface WebhookDedupOptions {
  /** Redis key prefix (default `forkguard:`). */
  keyPrefix?: string;
  /** How long an event id is remembered (default 24 h, longer than Telnyx keeps redelivering). */
  ttlS?: number;
  /** Longest wait for Redis before deciding on local memory alone (default 500 ms). */
  redisTimeoutMs?: number;
  /** Event ids remembered in process (default 10 000). */
  localSize?: number;
}

/**
 * At-most-once processing of webhook events across every process behind the URL: the first to `SET NX` the
 * event id processes it. When Redis does not answer in time the process falls back to its own memory, so an
 * outage cannot stop webhooks but can let a redelivery reach a second process.
 */
export class WebhookDedup {
  private readonly local = new Map<string, true>();
  private readonly keyPrefix: string;
  private readonly ttlS: number;
  private readonly timeoutMs: number;
  private readonly localSize: number;

  constructor(
    private readonly redis: Redis | null,
    options: WebhookDedupOptions = {},
  ) {
    this.keyPrefix = `${options.keyPrefix ?? 'forkguard:'}webhook:`;
    this.ttlS = options.ttlS ?? 86_400;
    this.timeoutMs = options.redisTimeoutMs ?? 500;
    this.localSize = options.localSize ?? 10_000;
  }

  /** True the first time an event id is seen (the caller processes it), false for a repeat. */
  async claim(eventId: string): Promise<boolean> {
    if (this.local.has(eventId)) return false;
    this.local.set(eventId, true);
    if (this.local.size > this.localSize) this.local.delete(this.local.keys().next().value as string);
    if (!this.redis) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        this.redis.set(this.keyPrefix + eventId, '1', 'EX', this.ttlS, 'NX'),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
        }),
      ]);
      return result !== null;
    } catch {
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}
