/**
 * Alerts as they land in Redis. BullMQ appends an `added` entry to the queue's event stream inside the same
 * script that stores the job, and a stream entry id starts with the Redis server's clock in ms: that time is
 * when the alert reached Redis, measured by Redis, not by the producer. Polled during a step so the stream's
 * trimming never hides an entry.
 */
import { Redis } from 'ioredis';
import { ALERT_QUEUE, type Alert, alertSchema } from '../alert/alert.ts';

export interface CollectedAlert {
  alert: Alert;
  /** Redis server time (ms since the epoch) at which the job was stored. */
  storedMs: number;
}

export class AlertCollector {
  private readonly redis: Redis;
  private readonly eventsKey: string;
  private readonly jobKeyPrefix: string;
  private lastId = '0-0';
  private added: { jobId: string; storedMs: number }[] = [];

  constructor(redisUrl: string, queuePrefix: string) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
    this.redis.on('error', () => {});
    this.eventsKey = `${queuePrefix}:${ALERT_QUEUE}:events`;
    this.jobKeyPrefix = `${queuePrefix}:${ALERT_QUEUE}:`;
  }

  /** Connects and skips what the stream already holds: only alerts stored from now on are collected. */
  async start(): Promise<void> {
    await this.redis.connect();
    const last = (await this.redis.xrevrange(this.eventsKey, '+', '-', 'COUNT', 1)) as [string, string[]][];
    if (last.length > 0) this.lastId = last[0][0];
  }

  /** Reads new stream entries; call often enough that the stream's trimming (about 10,000 events) never bites. */
  async poll(): Promise<void> {
    for (;;) {
      const entries = (await this.redis.xrange(this.eventsKey, `(${this.lastId}`, '+', 'COUNT', 2000)) as [
        string,
        string[],
      ][];
      for (const [id, fields] of entries) {
        this.lastId = id;
        const field = (name: string) => fields[fields.indexOf(name) + 1];
        if (field('event') === 'added')
          this.added.push({ jobId: field('jobId'), storedMs: Number(id.split('-')[0]) });
      }
      if (entries.length < 2000) return;
    }
  }

  /** The alerts stored since the last take, with their job data (alerts whose job is already gone are skipped). */
  async take(): Promise<CollectedAlert[]> {
    await this.poll();
    const added = this.added;
    this.added = [];
    if (added.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const a of added) pipeline.hget(`${this.jobKeyPrefix}${a.jobId}`, 'data');
    const results = (await pipeline.exec()) ?? [];
    const out: CollectedAlert[] = [];
    added.forEach((a, i) => {
      const data = results[i]?.[1];
      if (typeof data !== 'string') return;
      const parsed = alertSchema.safeParse(JSON.parse(data));
      if (parsed.success) out.push({ alert: parsed.data, storedMs: a.storedMs });
    });
    return out;
  }

  /** Removes every key of the bench's queue prefix (its own, unique to the run). */
  async deletePrefix(prefix: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await this.redis.del(...keys);
    } while (cursor !== '0');
  }

  close(): void {
    this.redis.disconnect();
  }
}
