import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { startStreamSender } from '../../src/bench-harness/stream-sender.ts';

/** Runs the sender for one second at `pps` to a loopback STREP socket; what it sent and what arrived, by stream. */
async function run(pps: number, loss: number): Promise<{ sent: number; sequences: Map<number, number[]> }> {
  const socket = createSocket('udp4');
  const sequences = new Map<number, number[]>();
  socket.on('message', (msg) => {
    // STREP: bit 0 of byte 0 is the direction, bytes 12-15 the call; the RTP sequence number follows the header.
    const stream = 2 * msg.readUInt32BE(12) + (msg[0] & 1);
    const list = sequences.get(stream) ?? [];
    list.push(msg.readUInt16BE(24 + 2));
    sequences.set(stream, list);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  const sent = await startStreamSender(
    ['strep', '127.0.0.1', String(port), '4', '1', String(pps), String(loss)],
    null,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.close();
  return { sent, sequences };
}

describe('the benchmarks stream sender', () => {
  it('paces its streams and, asked to, leaves a share of the datagrams unsent as a lossy network would', async () => {
    const whole = await run(2000, 0);
    expect(whole.sent).toBeGreaterThan(1800);
    expect(whole.sent).toBeLessThan(2200);
    for (const list of whole.sequences.values()) {
      for (let i = 1; i < list.length; i++) expect(list[i]).toBe(list[i - 1] + 1);
    }

    const lossy = await run(2000, 0.25);
    // A quarter of what the pacing sends is left out (none of the first three rounds).
    expect(lossy.sent).toBeGreaterThan(0.65 * whole.sent);
    expect(lossy.sent).toBeLessThan(0.85 * whole.sent);
    let received = 0;
    let gaps = 0;
    for (const list of lossy.sequences.values()) {
      received += list.length;
      expect(list.slice(0, 3)).toEqual([0, 1, 2]);
      for (let i = 1; i < list.length; i++) {
        // In order, with the numbers of the datagrams left out skipped.
        expect(list[i]).toBeGreaterThan(list[i - 1]);
        if (list[i] !== list[i - 1] + 1) gaps++;
      }
    }
    expect(received).toBe(lossy.sent);
    expect(gaps).toBeGreaterThan(20);
  });
});
