/**
 * A free TCP port for a child's HTTP server, chosen by the OS. The OS picks from its ephemeral range, where the
 * child's UDP ports may also lie, and `forkguard start` refuses an HTTP port inside its --rtp-ports: so a port
 * inside `avoid` is held while the OS is asked again (a bounded number of times), then all held ports are freed.
 */
import { createServer, type Server } from 'node:net';

export interface PortRange {
  first: number;
  last: number;
}

const MAX_TRIES = 64;

function listenOnAnyPort(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function freeTcpPort(host = '127.0.0.1', avoid?: PortRange): Promise<number> {
  const held: Server[] = [];
  try {
    for (let i = 0; i < MAX_TRIES; i++) {
      const { server, port } = await listenOnAnyPort(host);
      held.push(server);
      if (avoid === undefined || port < avoid.first || port > avoid.last) return port;
    }
    throw new Error(
      `no free TCP port outside ${avoid?.first}-${avoid?.last} on ${host} after ${MAX_TRIES} tries`,
    );
  } finally {
    await Promise.all(held.map(closeServer));
  }
}
