/** Loopback senders, RTP builders and a recording MediaSink for the UDP ingest tests. */
import { createSocket, type Socket } from 'node:dgram';
import type { CallIdentity, DigitEvent, Leg, MediaSink } from '../../../src/ingest/media-sink.ts';
import type { IngestSession, SessionEndReason } from '../../../src/ingest/sessions/ingest-session.ts';
import type { SessionHandlers } from '../../../src/ingest/sessions/session-table.ts';
import { writeStrepHeader } from '../../../src/ingest/strep.ts';

/** A PCMU RTP packet (PT 0, 20 ms) whose 160 payload bytes are all `fill`. */
export function pcmuPacket(seq: number, ssrc: number, fill: number, marker = false): Buffer {
  const b = Buffer.alloc(12 + 160, fill);
  b[0] = 0x80;
  b[1] = marker ? 0x80 : 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/** An RTCP receiver report with one report block, written out by hand (RFC 3550 §6.4.2). */
export function receiverReport(fractionLost: number, cumulativeLost: number, jitter: number): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81; // V=2, P=0, RC=1
  b[1] = 201;
  b.writeUInt16BE(7, 2); // 8 words - 1
  b.writeUInt32BE(0x11111111, 4); // sender of the report
  b.writeUInt32BE(0x22222222, 8); // the stream it reports on
  b[12] = fractionLost;
  b.writeUIntBE(cumulativeLost, 13, 3);
  b.writeUInt32BE(70_000, 16); // extended highest sequence number
  b.writeUInt32BE(jitter, 20);
  return b;
}

/** `rtp` behind a STREP header (leg A) of `callLegId` and `direction`. */
export function strepWrap(callLegId: string, direction: 0 | 1, rtp: Buffer): Buffer {
  const out = Buffer.alloc(24 + rtp.length);
  writeStrepHeader(out, 0, { direction, leg: 'A', callLegId });
  rtp.copy(out, 24);
  return out;
}

export class RecordingSink implements MediaSink {
  readonly frames: [number[], number[]] = [[], []];
  /** Distinct sample values seen per leg (each test stream carries one constant value). */
  readonly values: [Set<number>, Set<number>] = [new Set(), new Set()];
  /** Each frame's first sample per leg: tells a test stream's frames from silence filled in. */
  readonly firstSamples: [number[], number[]] = [[], []];
  readonly digits: DigitEvent[] = [];
  ended = 0;

  pushFrame(leg: Leg, frameIndex: number, pcm: Int16Array): void {
    this.frames[leg].push(frameIndex);
    this.firstSamples[leg].push(pcm[0]!);
    for (const sample of pcm) this.values[leg].add(sample);
  }

  pushDigit(_leg: Leg, event: DigitEvent): void {
    this.digits.push(event);
  }

  end(): void {
    this.ended++;
  }
}

export interface OpenedCall {
  identity: CallIdentity;
  sink: RecordingSink;
  closed: SessionEndReason | null;
  session: IngestSession | null;
}

/** Session handlers that record every opened call and how it ended. */
export class RecordingHandlers implements SessionHandlers {
  readonly calls: OpenedCall[] = [];
  /** unsupportedCodec reports, with whether the session was still live when reported. */
  readonly unsupported: { stream: string; codec: string; live: boolean }[] = [];

  unsupportedCodec(session: IngestSession, codec: string): void {
    this.unsupported.push({ stream: session.stream, codec, live: session.endReason === null });
  }

  open(identity: CallIdentity): MediaSink {
    const sink = new RecordingSink();
    this.calls.push({ identity, sink, closed: null, session: null });
    return sink;
  }

  closed(session: IngestSession, reason: SessionEndReason): void {
    const call = this.calls.find((c) => c.identity === session.identity);
    if (call === undefined) throw new Error(`closed() for a session never opened: ${session.stream}`);
    call.closed = reason;
    call.session = session;
  }

  byStream(stream: string): OpenedCall {
    const call = this.calls.find((c) => c.identity.stream === stream);
    if (call === undefined)
      throw new Error(`no call ${stream}; have ${this.calls.map((c) => c.identity.stream).join(', ')}`);
    return call;
  }
}

export async function openSender(address = '127.0.0.1'): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  return socket;
}

/** Sends each datagram in order, yielding to the loop every few so the receiver's kernel buffer never fills. */
export async function sendAll(socket: Socket, port: number, datagrams: readonly Uint8Array[]): Promise<void> {
  for (let i = 0; i < datagrams.length; i++) {
    await new Promise<void>((resolve, reject) =>
      socket.send(datagrams[i], port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );
    if (i % 32 === 31) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export async function closeSocket(socket: Socket): Promise<void> {
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
