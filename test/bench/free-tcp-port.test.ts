import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../../src/bench-harness/free-tcp-port.ts';

const HOST = '127.0.0.1';
const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** Listens on `port` and keeps it, as another process would. */
function hold(port: number): Promise<void> {
  const server = createServer();
  held.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
}

describe('freeTcpPort', () => {
  it("takes the OS's choice when it lies outside the range to avoid", async () => {
    const port = await freeTcpPort(HOST, { first: 1024, last: 1030 });
    expect(port).toBeGreaterThan(1030);
    await hold(port); // it was free
  });

  it('takes the first free port above the range when the OS picks inside it, skipping taken ones', async () => {
    // Every port the OS hands out (32768 and up on Linux, 49152 and up elsewhere) lies inside this range.
    const avoid = { first: 1024, last: 65520 };
    await hold(65521);
    const port = await freeTcpPort(HOST, avoid);
    expect(port).toBeGreaterThanOrEqual(65522);
    expect(port).toBeLessThanOrEqual(65535);
    await hold(port);
  });

  it('says which range it could not leave', async () => {
    await expect(freeTcpPort(HOST, { first: 1, last: 65535 })).rejects.toThrow(
      'no free TCP port on 127.0.0.1 within 64 of either end of 1-65535',
    );
  });
});
