/**
 * Sends recorded calls as RTP (or STREP) over UDP, paced like the original media.
 *
 * Pacing: every datagram has an absolute due time (replay start from process.hrtime.bigint() + its offset in
 * the call / speed), so timer lateness never accumulates: a late wake-up just sends what is due. The loop sleeps
 * with setTimeout until about a millisecond before the next due time, then yields with setImmediate; packets
 * are sent when they are within SEND_SLACK_NS of due. One loop serves all concurrent calls, so a thousand
 * calls cost one timer, not a thousand.
 * Speed `Infinity` sends as fast as the socket takes it: sends are awaited in batches so the kernel buffer and
 * libuv's queue never grow without bound.
 * STREP headers are sent as a second buffer of the same datagram (scatter/gather), so packets are never copied.
 * With --repeat, each file is read and encoded once (bounded cache) and only given fresh RTP identities per call.
 */
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { RX } from '../ingest/media-sink.ts';
import { readRecordedCall } from './recorded-call.ts';
import {
  type PreparedCall,
  prepareCall,
  type ScheduledDatagram,
  scheduleCall,
  strepHeaders,
} from './replay-schedule.ts';
import type { ReplayCodec } from './rtp-packetizer.ts';
import type { UdpTarget } from './udp-target.ts';

export type ReplayDestination =
  | { mode: 'pair'; rx: UdpTarget; tx: UdpTarget }
  | { mode: 'strep'; target: UdpTarget };

export interface ReplayProgress {
  callsStarted: number;
  callsDone: number;
  callsTotal: number;
  callsFailed: number;
  packets: number;
  seconds: number;
}

export interface ReplaySummary {
  calls: number;
  failed: number;
  packets: number;
  sendErrors: number;
  seconds: number;
}

export interface ReplayOptions {
  /** Recorded call files, replayed in this order, `repeat` times over. */
  files: string[];
  destination: ReplayDestination;
  /** Encoding of WAV input; packets from captures are sent as recorded. */
  codec: ReplayCodec;
  /** Time scale; Infinity = as fast as possible. */
  speed: number;
  repeat: number;
  /** Calls in flight at once; call slot i uses rx/tx ports + 2i (or its own call_leg_id with STREP). */
  concurrency: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** A file that could not be read (one-line error); the replay goes on with the others. */
  onCallError?: (error: Error) => void;
  onWarning?: (message: string) => void;
  /** Calls to onProgress at most this often. */
  progressIntervalMs?: number;
  /** Bytes of encoded files kept for --repeat (default 256 MiB). */
  cacheBytes?: number;
  signal?: AbortSignal;
}

const SEND_SLACK_NS = 500_000;
const SPIN_THRESHOLD_NS = 1_500_000;
const MAX_SLEEP_MS = 50;
/** Sends in flight before the loop waits for callbacks (bounds memory at max speed). */
const MAX_PENDING_SENDS = 512;
/** At max speed, give the event loop a turn every this many datagrams. */
const MAX_SPEED_BATCH = 256;

interface ActiveCall {
  slot: number;
  schedule: ScheduledDatagram[];
  next: number;
  startNs: number;
  rxPort: number;
  txPort: number;
  /** STREP headers for rx and tx, or null for plain RTP. */
  prefixes: [Uint8Array, Uint8Array] | null;
}

/** Prepared files by path, oldest first, within a byte budget. */
class PreparedCache {
  private readonly entries = new Map<string, PreparedCall>();
  private bytes = 0;
  constructor(private readonly budget: number) {}

  get(path: string): PreparedCall | undefined {
    return this.entries.get(path);
  }

  set(path: string, prepared: PreparedCall): void {
    if (prepared.bytes > this.budget) return;
    while (this.bytes + prepared.bytes > this.budget && this.entries.size > 0) {
      const [oldest, entry] = this.entries.entries().next().value as [string, PreparedCall];
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
    this.entries.set(path, prepared);
    this.bytes += prepared.bytes;
  }
}

class DatagramSender {
  private readonly sockets = new Map<4 | 6, Socket>();
  pending = 0;
  errors = 0;
  private drained: (() => void) | null = null;
  private wakeAt = 0;

  send(prefix: Uint8Array | null, data: Uint8Array, port: number, target: UdpTarget): void {
    this.pending++;
    const socket = this.socket(target.family);
    if (prefix === null) socket.send(data, port, target.host, this.onSent);
    else socket.send([prefix, data], port, target.host, this.onSent);
  }

  private readonly onSent = (err: Error | null): void => {
    this.pending--;
    if (err) this.errors++;
    if (this.drained !== null && this.pending <= this.wakeAt) {
      const wake = this.drained;
      this.drained = null;
      wake();
    }
  };

  /** When `limit` or more sends are in flight, resolves once they are down to `wakeAt`. */
  async backpressure(limit = MAX_PENDING_SENDS, wakeAt = MAX_PENDING_SENDS / 2): Promise<void> {
    if (this.pending < limit) return;
    this.wakeAt = wakeAt;
    await new Promise<void>((resolve) => {
      this.drained = resolve;
    });
  }

  private socket(family: 4 | 6): Socket {
    let socket = this.sockets.get(family);
    if (socket === undefined) {
      socket = createSocket(family === 4 ? 'udp4' : 'udp6');
      // ICMP unreachable and buffer errors surface here on some systems: count them, never crash a replay.
      socket.on('error', () => {
        this.errors++;
      });
      this.sockets.set(family, socket);
    }
    return socket;
  }

  async close(): Promise<void> {
    await this.backpressure(1, 0);
    await Promise.all(
      [...this.sockets.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
  }
}

export async function replayCalls(options: ReplayOptions): Promise<ReplaySummary> {
  const { destination, speed } = options;
  const total = options.files.length * options.repeat;
  const sender = new DatagramSender();
  const originNs = process.hrtime.bigint();
  const nowNs = () => Number(process.hrtime.bigint() - originNs);
  const progressEvery = (options.progressIntervalMs ?? 1000) * 1e6;
  const nsPerMs = 1e6 / speed; // 0 at max speed: everything is due at once
  const active: (ActiveCall | null)[] = new Array(options.concurrency).fill(null);
  const progress: ReplayProgress = {
    callsStarted: 0,
    callsDone: 0,
    callsTotal: total,
    callsFailed: 0,
    packets: 0,
    seconds: 0,
  };
  let nextProgressNs = progressEvery;
  const cache = options.repeat > 1 ? new PreparedCache(options.cacheBytes ?? 256 * 1024 * 1024) : null;

  /** Loads the next readable call into `slot`; false when none is left. */
  async function startNext(slot: number): Promise<boolean> {
    while (progress.callsStarted < total) {
      const path = options.files[progress.callsStarted % options.files.length];
      progress.callsStarted++;
      try {
        let prepared = cache?.get(path);
        if (prepared === undefined) {
          prepared = prepareCall(await readRecordedCall(path), options.codec);
          cache?.set(path, prepared);
          for (const w of prepared.warnings) options.onWarning?.(`${path}: ${w}`);
        }
        const base =
          destination.mode === 'pair' ? destination : { rx: destination.target, tx: destination.target };
        const offset = destination.mode === 'pair' ? 2 * slot : 0;
        active[slot] = {
          slot,
          schedule: scheduleCall(prepared),
          next: 0,
          startNs: nowNs(),
          rxPort: base.rx.port + offset,
          txPort: base.tx.port + offset,
          prefixes: destination.mode === 'strep' ? strepHeaders(randomUUID()) : null,
        };
        return true;
      } catch (err) {
        progress.callsFailed++;
        progress.callsDone++;
        options.onCallError?.(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return false;
  }

  for (let slot = 0; slot < options.concurrency; slot++) if (!(await startNext(slot))) break;
  const rxTarget = destination.mode === 'pair' ? destination.rx : destination.target;
  const txTarget = destination.mode === 'pair' ? destination.tx : destination.target;
  let sinceYield = 0;

  for (;;) {
    if (options.signal?.aborted) break;
    let now = nowNs();
    let earliest = Number.POSITIVE_INFINITY;
    let running = 0;
    for (let slot = 0; slot < active.length; slot++) {
      let call = active[slot];
      while (call !== null) {
        const { schedule } = call;
        while (call.next < schedule.length) {
          const d = schedule[call.next];
          const due = call.startNs + d.timeMs * nsPerMs;
          if (due > now + SEND_SLACK_NS) {
            if (due < earliest) earliest = due;
            break;
          }
          const prefix = call.prefixes === null ? null : call.prefixes[d.leg];
          if (d.leg === RX) sender.send(prefix, d.data, call.rxPort, rxTarget);
          else sender.send(prefix, d.data, call.txPort, txTarget);
          call.next++;
          progress.packets++;
          if (++sinceYield >= MAX_SPEED_BATCH || sender.pending >= MAX_PENDING_SENDS) {
            sinceYield = 0;
            await sender.backpressure();
            await yieldToLoop();
            now = nowNs();
          }
        }
        if (call.next < schedule.length) {
          running++;
          break;
        }
        progress.callsDone++;
        active[slot] = null;
        call = (await startNext(slot)) ? active[slot] : null;
        now = nowNs();
      }
    }
    now = nowNs();
    if (now >= nextProgressNs && options.onProgress) {
      progress.seconds = now / 1e9;
      options.onProgress({ ...progress });
      nextProgressNs = now + progressEvery;
    }
    if (running === 0) break;
    const wait = earliest - now;
    if (wait > SPIN_THRESHOLD_NS) await sleep(Math.min(MAX_SLEEP_MS, (wait - 1e6) / 1e6));
    else await yieldToLoop();
  }
  await sender.close();
  return {
    calls: progress.callsDone - progress.callsFailed,
    failed: progress.callsFailed,
    packets: progress.packets,
    sendErrors: sender.errors,
    seconds: nowNs() / 1e9,
  };
}
