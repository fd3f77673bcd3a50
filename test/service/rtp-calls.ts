import { createSocket } from 'node:dgram';
import { Prng } from '../../src/recordings/corpus/prng.ts';
import { concat, keyDigits } from '../../src/recordings/corpus/signals.ts';
import { packetize, type RtpDatagram } from '../../src/recordings/rtp-packetizer.ts';

/** A 16-digit Luhn-valid test card number (Visa test range). */
export const TEST_CARD = '4111111111111111';

function toPcm(audio: Float32Array): Int16Array {
  const pcm = new Int16Array(audio.length);
  for (let i = 0; i < audio.length; i++)
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round(audio[i] * 32767)));
  return pcm;
}

/** rx: the card number keyed as in-band DTMF between silences; tx: silence of the same length. PCMU packets. */
export function cardEntryCall(seed: number): { rx: RtpDatagram[]; tx: RtpDatagram[] } {
  const { audio } = keyDigits(new Prng(seed), TEST_CARD, [4, 4, 4, 4]);
  const rxAudio = concat([new Float32Array(4000), audio, new Float32Array(12000)]);
  const rx = packetize(toPcm(rxAudio), 8000, 'pcmu', 0x1000 + seed);
  const tx = packetize(new Int16Array(rxAudio.length), 8000, 'pcmu', 0x2000 + seed);
  return { rx, tx };
}

/**
 * Sends calls in real time over loopback, call i to port pair `ports[i]` (rx P, tx P+1), each packet at its own
 * due time. Returns the number of datagrams sent.
 */
export async function sendCalls(
  ports: number[],
  calls: { rx: RtpDatagram[]; tx: RtpDatagram[] }[],
): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const schedule: { timeMs: number; data: Uint8Array; port: number }[] = [];
  calls.forEach((call, i) => {
    for (const p of call.rx) schedule.push({ ...p, port: ports[i] });
    for (const p of call.tx) schedule.push({ ...p, port: ports[i] + 1 });
  });
  schedule.sort((a, b) => a.timeMs - b.timeMs);
  const start = performance.now();
  for (const item of schedule) {
    const wait = start + item.timeMs - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    await new Promise<void>((resolve, reject) =>
      socket.send(item.data, item.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }
  socket.close();
  return schedule.length;
}
