import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { logger as defaultLogger, type Logger } from '../logger.ts';

export interface PortLeaseOptions {
  redis: Redis;
  /** Address the ports belong to (FORKGUARD_PUBLIC_IP): processes on one host share its registry. */
  host: string;
  /** This node's RTP range; rx on even P, tx on P+1. `first` is rounded up to even. */
  first: number;
  last: number;
  /** Redis key prefix (default `forkguard:`). */
  keyPrefix?: string;
  /** A lease lives this long without a heartbeat (default 30 s), so a dead node's ports come back. */
  leaseMs?: number;
  /** Heartbeat period (default a third of leaseMs: two missed beats still keep the lease). */
  heartbeatMs?: number;
  /** Stable name of this process in lease values (default a random UUID). */
  nodeId?: string;
  /** A held lease was found expired or taken at renewal: its ports may now be someone else's. */
  onLost?: (lease: PortLease) => void;
  logger?: Logger;
}

export interface PortLease {
  /** rx port (even); tx is `port + 1`. */
  port: number;
  txPort: number;
  owner: string;
  key: string;
  value: string;
}

export class PortsExhaustedError extends Error {
  constructor(first: number, last: number) {
    super(`no free RTP port pair in ${first}-${last}`);
    this.name = 'PortsExhaustedError';
  }
}

/** Compare-and-act: only the holder (same value) may renew or release a lease. */
const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * RTP port pairs leased through Redis (`SET key value NX PX`): any number of processes and hosts can share one
 * registry, a pair is held by exactly one of them, and a node that dies stops renewing so its pairs expire.
 */
export class PortLeaseManager {
  private readonly redis: Redis;
  private readonly first: number;
  private readonly pairs: number;
  private readonly keyBase: string;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  readonly nodeId: string;
  private readonly held = new Map<number, PortLease>();
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(private readonly options: PortLeaseOptions) {
    this.redis = options.redis;
    this.first = options.first + (options.first % 2);
    this.pairs = Math.floor((options.last - this.first + 1) / 2);
    if (this.pairs < 1)
      throw new Error(`RTP port range ${options.first}-${options.last} holds no even/odd pair`);
    this.keyBase = `${options.keyPrefix ?? 'forkguard:'}ports:${options.host}:`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.floor(this.leaseMs / 3);
    this.nodeId = options.nodeId ?? randomUUID();
    this.log = options.logger ?? defaultLogger;
  }

  /** Leases held by this manager. */
  leases(): PortLease[] {
    return [...this.held.values()];
  }

  /**
   * Leases a free pair for `owner` (a call control id). The scan starts at a random pair so concurrent
   * allocators rarely race for the same key; SET NX settles the races that remain.
   */
  async acquire(owner: string): Promise<PortLease> {
    const start = Math.floor(Math.random() * this.pairs);
    for (let i = 0; i < this.pairs; i++) {
      const port = this.first + 2 * ((start + i) % this.pairs);
      if (this.held.has(port)) continue;
      const key = this.keyBase + port;
      const value = `${this.nodeId} ${owner}`;
      if ((await this.redis.set(key, value, 'PX', this.leaseMs, 'NX')) !== 'OK') continue;
      const lease = { port, txPort: port + 1, owner, key, value };
      this.held.set(port, lease);
      return lease;
    }
    throw new PortsExhaustedError(this.first, this.first + 2 * this.pairs - 1);
  }

  async release(lease: PortLease): Promise<boolean> {
    if (this.held.get(lease.port) === lease) this.held.delete(lease.port);
    return (await this.redis.eval(RELEASE, 1, lease.key, lease.value)) === 1;
  }

  /** One heartbeat: extends every held lease; leases found lost are dropped and reported. */
  async renewAll(): Promise<void> {
    const leases = [...this.held.values()];
    if (leases.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const lease of leases) pipeline.eval(RENEW, 1, lease.key, lease.value, this.leaseMs);
    const results = (await pipeline.exec()) ?? [];
    results.forEach(([err, renewed], i) => {
      if (err || renewed === 1) return;
      const lease = leases[i];
      if (this.held.get(lease.port) !== lease) return;
      this.held.delete(lease.port);
      this.log.error({ port: lease.port, owner: lease.owner }, 'port lease lost');
      this.options.onLost?.(lease);
    });
  }

  start(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      this.renewAll().catch((err: Error) =>
        this.log.warn({ err: err.message }, 'port lease heartbeat failed'),
      );
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Stops the heartbeat and gives every held pair back. */
  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await Promise.allSettled([...this.held.values()].map((lease) => this.release(lease)));
  }
}
