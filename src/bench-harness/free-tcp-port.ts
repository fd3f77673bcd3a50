/**
 * A free TCP port for a child's HTTP server. The OS's choice comes from its ephemeral range, where the child's UDP
 * ports may also lie, and `forkguard start` refuses an HTTP port inside its --rtp-ports: when the OS picks inside
 * `avoid`, the ports just above the range, then just below it, are tried in turn (a bounded number of each).
 */
import { createServer } from 'node:net';

export interface PortRange {
  first: number;
  last: number;
}

/** Ports tried on each side of the range to avoid. */
const MAX_TRIES = 64;
/** Below this, ports are the system's (and binding them needs privileges). */
const FIRST_UNPRIVILEGED = 1024;

/** Listens on `port` (0: the OS's choice) and closes again: the port listened on, or null when it was taken. */
function probe(host: string, port: number): Promise<number | null> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (port !== 0 && (error.code === 'EADDRINUSE' || error.code === 'EACCES')) resolve(null);
      else reject(error);
    });
    server.listen(port, host, () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

export async function freeTcpPort(host = '127.0.0.1', avoid?: PortRange): Promise<number> {
  const picked = (await probe(host, 0)) as number;
  if (avoid === undefined || picked < avoid.first || picked > avoid.last) return picked;
  for (let port = avoid.last + 1; port <= Math.min(65535, avoid.last + MAX_TRIES); port++) {
    if ((await probe(host, port)) !== null) return port;
  }
  for (let port = avoid.first - 1; port >= Math.max(FIRST_UNPRIVILEGED, avoid.first - MAX_TRIES); port--) {
    if ((await probe(host, port)) !== null) return port;
  }
  throw new Error(
    `no free TCP port on ${host} within ${MAX_TRIES} of either end of ${avoid.first}-${avoid.last}`,
  );
}
