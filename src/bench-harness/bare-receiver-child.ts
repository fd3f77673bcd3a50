/**
 * The baseline receiver: plain `dgram` sockets on the same port pairs, with the receive buffer size the service
 * uses, that only count datagrams. Run as a child process (argv: host first last); answers each IPC message
 * with its count so far.
 */
import { createSocket, type Socket } from 'node:dgram';
import { PAIR_RECV_BUFFER_BYTES } from '../ingest/udp/ingest-server.ts';

const [host, firstText, lastText] = process.argv.slice(2);
const first = Number(firstText);
const last = Number(lastText);
let received = 0;
const count = (): void => {
  received++;
};
const sockets: Socket[] = [];

async function bind(port: number): Promise<void> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: PAIR_RECV_BUFFER_BYTES });
  socket.on('message', count);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve());
  });
  sockets.push(socket);
}

try {
  for (let port = first; port <= last; port++) await bind(port);
  process.send?.({ ready: true });
} catch (err) {
  process.send?.({ error: `bare receiver: ${(err as Error).message}` });
  process.exit(1);
}
process.on('message', () => process.send?.({ received }));
process.on('disconnect', () => process.exit(0));
