/** Child process for the port lease test: leases `count` pairs from a shared registry and prints their ports. */
import { Redis } from 'ioredis';
import { PortLeaseManager } from '../../src/service/forks/port-leases.ts';

const [url, prefix, first, last, count] = process.argv.slice(2);
const redis = new Redis(url);
const leases = new PortLeaseManager({
  redis,
  host: '192.0.2.10',
  first: Number(first),
  last: Number(last),
  keyPrefix: prefix,
});
const ports: number[] = [];
for (let i = 0; i < Number(count); i++) ports.push((await leases.acquire(`child-${process.pid}-${i}`)).port);
process.stdout.write(`${JSON.stringify(ports)}\n`);
redis.disconnect();
