import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type PortLease,
  PortLeaseManager,
  PortsExhaustedError,
} from '../../src/service/forks/port-leases.ts';
import { deleteKeys } from '../alert/redis-child.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const PREFIX = `fgtest-leases-${process.pid}:`;
const HOST = '192.0.2.10';
const run = promisify(execFile);

const connections: Redis[] = [];
function connect(): Redis {
  const redis = new Redis(REDIS_URL);
  connections.push(redis);
  return redis;
}

afterEach(async () => {
  const redis = connect();
  await deleteKeys(redis, `${PREFIX}*`);
});
afterAll(() => {
  for (const redis of connections) redis.disconnect();
});

describe('PortLeaseManager', () => {
  it('never hands the same pair to two managers allocating concurrently', async () => {
    const a = new PortLeaseManager({
      redis: connect(),
      host: HOST,
      first: 41000,
      last: 41039,
      keyPrefix: PREFIX,
    });
    const b = new PortLeaseManager({
      redis: connect(),
      host: HOST,
      first: 41000,
      last: 41039,
      keyPrefix: PREFIX,
    });
    const settled = await Promise.allSettled(
      Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).acquire(`call-${i}`)),
    );
    const won = settled
      .filter((s): s is PromiseFulfilledResult<PortLease> => s.status === 'fulfilled')
      .map((s) => s.value);
    const lost = settled.filter((s) => s.status === 'rejected');
    // 20 pairs for 24 requests: exactly 20 succeed, the rest are told the range is exhausted
    expect(won).toHaveLength(20);
    expect(lost.every((s) => (s as PromiseRejectedResult).reason instanceof PortsExhaustedError)).toBe(true);
    const ports = won.map((l) => l.port);
    expect(new Set(ports).size).toBe(20);
    expect(ports.every((p) => p % 2 === 0 && p >= 41000 && p <= 41038)).toBe(true);
    expect(won.every((l) => l.txPort === l.port + 1)).toBe(true);
  });

  it('never collides across two processes sharing the registry', async () => {
    const child = fileURLToPath(new URL('./lease-child.ts', import.meta.url));
    const args = [REDIS_URL, PREFIX, '41100', '41139', '10'];
    const results = await Promise.all(
      [0, 1].map(() => run(process.execPath, ['--import', 'tsx', child, ...args])),
    );
    const ports = results.flatMap((r) => JSON.parse(r.stdout) as number[]);
    expect(ports).toHaveLength(20);
    expect(new Set(ports).size).toBe(20);
  });

  it('frees the ports of a node that stops renewing, and keeps those it renews', async () => {
    const lostPorts: number[] = [];
    // one pair only, short leases: each manager has its own Redis connection, as separate nodes would
    const onePair = { host: HOST, first: 41200, last: 41201, keyPrefix: PREFIX, leaseMs: 300 };
    const dead = new PortLeaseManager({
      ...onePair,
      redis: connect(),
      onLost: (l) => lostPorts.push(l.port),
    });
    const alive = new PortLeaseManager({ ...onePair, redis: connect(), heartbeatMs: 50 });
    const held = await dead.acquire('call-dead');
    expect(held.port).toBe(41200);
    await expect(alive.acquire('call-new')).rejects.toBeInstanceOf(PortsExhaustedError);
    await new Promise((r) => setTimeout(r, 500));
    const lease = await alive.acquire('call-new');
    expect(lease.port).toBe(41200);
    alive.start();
    await new Promise((r) => setTimeout(r, 700));
    expect(await connect().get(lease.key)).toBe(lease.value);
    // a node that only stalled finds out on its next heartbeat, reports the lease lost and cannot free it
    await dead.renewAll();
    expect(lostPorts).toEqual([41200]);
    expect(dead.leases()).toEqual([]);
    expect(await dead.release(held)).toBe(false);
    await alive.stop();
    expect(await connect().get(lease.key)).toBeNull();
  });
});
