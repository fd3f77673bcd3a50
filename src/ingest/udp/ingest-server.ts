/**
 * The UDP front door: port-pair sockets (rx on even P, tx on P+1) and/or one STREP socket carrying many calls.
 * Each datagram goes through size, source (allow-list, rate), shape, session and latch checks, then into the
 * session's CallMedia. Every rejection is counted by DROP reason; nothing a sender does can throw out of the
 * socket handler.
 */
import { createSocket, type Socket } from 'node:dgram';
import { type AddressInfo, isIPv6 } from 'node:net';
// The module's binding, not the global: `performance` on globalThis is a lazy getter that costs a global lookup
// and a property check on every read, once per datagram here.
import { performance } from 'node:perf_hooks';
import { logger } from '../../service/logger.ts';
import { STAGE, STAGES, WORK } from '../../telemetry/stage-clock.ts';
import { CallMedia } from '../call-media.ts';
import { DROP, newDropCounts } from '../drop-reasons.ts';
import type { Leg } from '../media-sink.ts';
import type { PayloadTypeMap } from '../payload-types.ts';
import type { IngestSession, SessionEndReason } from '../sessions/ingest-session.ts';
import {
  type AnnouncedIdentity,
  type PortPairRange,
  type SessionHandlers,
  SessionTable,
} from '../sessions/session-table.ts';
import { parseStrepHeader, StrepHeaderView } from '../strep.ts';
import { AddressInterner } from '../trust/address-interner.ts';
import { SourceGuard } from '../trust/source-guard.ts';
import { CallStateReadAhead } from './call-state-read-ahead.ts';
import { checkRtpShape, DEFAULT_MAX_DATAGRAM_BYTES, PASS } from './datagram-checks.ts';

/**
 * Kernel receive buffer asked for the STREP socket: ~8 MiB holds ~40,000 G.711 datagrams, i.e. 0.4 s of 1,000
 * calls, enough to ride out a GC pause. Linux caps it at net.core.rmem_max (often 208 KiB): raise that sysctl
 * on a busy host. Port-pair sockets carry one leg each, so they ask for much less.
 */
export const STREP_RECV_BUFFER_BYTES = 8 * 1024 * 1024;
export const PAIR_RECV_BUFFER_BYTES = 256 * 1024;

/**
 * Datagrams are queued as they are read and handled together once the event loop's I/O phase has read what was
 * waiting (or when this many are queued). Handled one by one in their socket callbacks, each datagram's trust,
 * session, parse, reorder and decode code ran with caches the kernel's receive path and Node's event dispatch had
 * just evicted: about three times its cost in a loop. A queued datagram costs a few stores until then; the wait is
 * at most one pass of the I/O phase, and its arrival time is taken when it is read (see enqueue).
 */
export const DATAGRAM_QUEUE_LENGTH = 256;
/** Queue entry's pair index for a datagram of the STREP socket. */
const FROM_STREP = -1;

export interface IngestServerOptions {
  host: string;
  rtpPorts?: PortPairRange;
  strepPort?: number;
  idleMs?: number;
  maxSessions?: number;
  allowCidrs?: string[];
  maxPacketsPerSecondPerSource?: number;
  reorderMs?: number;
  /** See CallMediaOptions.fixedReorderWait. */
  fixedReorderWait?: boolean;
  payloadTypes?: PayloadTypeMap;
  /** Datagrams above this many bytes are dropped as oversized (default 1500). */
  maxDatagramBytes?: number;
  /** How often reorder buffers are played out and idle sessions looked for (default 20 ms). */
  sweepIntervalMs?: number;
  /** See SessionTableOptions.closedGraceMs. */
  closedGraceMs?: number;
  strepRecvBufferBytes?: number;
  pairRecvBufferBytes?: number;
  /**
   * Read the call state of each batch of queued datagrams before handling them (default true; see
   * call-state-read-ahead.ts). Off only to measure what it saves.
   */
  readAhead?: boolean;
}

export interface IngestCounters {
  /** Datagrams read from the sockets, accepted or not. */
  received: number;
  /** Per DROP index: drops decided here, plus the media drops of sessions that have ended. */
  drops: Float64Array;
  /** Datagrams whose handling threw, and batches whose read-ahead did (a fault in forkguard, never in the sender). */
  errors: number;
  /** Datagrams whose call state was read ahead of their handling: those of calls live when their batch began. */
  readAhead: number;
}

export class IngestServer {
  readonly counters: IngestCounters = { received: 0, drops: newDropCounts(), errors: 0, readAhead: 0 };
  private readonly options: IngestServerOptions;
  private readonly table: SessionTable;
  private readonly guard: SourceGuard;
  private readonly addresses = new AddressInterner();
  private readonly strepView = new StrepHeaderView();
  private readonly maxDatagramBytes: number;
  private readonly pairSockets: Socket[] = [];
  private strepSocket: Socket | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Media drops already folded into counters.drops (those of ended sessions). */
  private readonly foldedMediaDrops = newDropCounts();
  /** The datagram queue (see DATAGRAM_QUEUE_LENGTH): the Buffers dgram delivered, their sources and arrival. */
  private readonly queuedData: (Buffer | null)[] = new Array(DATAGRAM_QUEUE_LENGTH).fill(null);
  private readonly queuedAddress: (string | null)[] = new Array(DATAGRAM_QUEUE_LENGTH).fill(null);
  private readonly queuedPort = new Int32Array(DATAGRAM_QUEUE_LENGTH);
  /** Pair index of a port-pair datagram, or FROM_STREP. */
  private readonly queuedPair = new Int32Array(DATAGRAM_QUEUE_LENGTH);
  private readonly queuedLeg = new Uint8Array(DATAGRAM_QUEUE_LENGTH);
  private readonly queuedArrivalMs = new Float64Array(DATAGRAM_QUEUE_LENGTH);
  private queued = 0;
  private drainScheduled = false;
  /** The last clock reading for the queue, and the queue entry it was taken at (-1: none since the last drain). */
  private clockMs = 0;
  private clockReadAt = -1;
  /** Null when options.readAhead is false. */
  private readonly readAhead: CallStateReadAhead | null;
  /** The read-ahead's own parse of a queued STREP datagram (strepView is the handling's). */
  private readonly readAheadView = new StrepHeaderView();
  /**
   * Per queue entry, the live session of the datagram as the read-ahead found it (null: none, or no read-ahead),
   * which a STREP datagram's handling then takes instead of looking it up again, and the leg the datagram is of.
   */
  private readonly queuedSession: (IngestSession | null)[] = new Array(DATAGRAM_QUEUE_LENGTH).fill(null);
  private readonly queuedSessionLeg = new Uint8Array(DATAGRAM_QUEUE_LENGTH);

  constructor(options: IngestServerOptions, handlers: SessionHandlers) {
    this.options = options;
    if (options.rtpPorts === undefined && options.strepPort === undefined) {
      throw new Error('ingest needs rtpPorts, strepPort or both');
    }
    if (
      options.strepPort !== undefined &&
      !(Number.isInteger(options.strepPort) && options.strepPort >= 0 && options.strepPort <= 65535)
    ) {
      throw new RangeError(`strepPort must be a UDP port (0-65535), got ${options.strepPort}`);
    }
    this.maxDatagramBytes = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    this.readAhead = options.readAhead === false ? null : new CallStateReadAhead(DATAGRAM_QUEUE_LENGTH);
    this.guard = new SourceGuard({
      allowCidrs: options.allowCidrs,
      maxPacketsPerSecond: options.maxPacketsPerSecondPerSource,
    });
    // dgram delivers every datagram in a Buffer of its own, which nothing here writes to.
    const mediaOptions = {
      reorderMs: options.reorderMs,
      fixedReorderWait: options.fixedReorderWait,
      payloadTypes: options.payloadTypes,
      retainedDatagrams: true,
    };
    this.table = new SessionTable({
      handlers,
      createMedia: (sink, onUnsupportedCodec, flushSlot) =>
        new CallMedia(sink, { ...mediaOptions, onUnsupportedCodec, flushSlot }),
      pairs: options.rtpPorts,
      idleMs: options.idleMs,
      maxSessions: options.maxSessions,
      closedGraceMs: options.closedGraceMs,
    });
  }

  /** Binds every socket; rejects (with every socket closed again) naming the port that could not be bound. */
  async start(): Promise<void> {
    const type = isIPv6(this.options.host) ? 'udp6' : 'udp4';
    const binds: Promise<void>[] = [];
    const range = this.options.rtpPorts;
    if (range !== undefined) {
      const pairBuffer = this.options.pairRecvBufferBytes ?? PAIR_RECV_BUFFER_BYTES;
      for (let port = range.first; port <= range.last; port++) {
        const socket = createSocket({ type, recvBufferSize: pairBuffer });
        const pairIndex = (port - range.first) >> 1;
        const leg = (port & 1) as Leg;
        socket.on('message', (msg, rinfo) =>
          this.enqueue(pairIndex, leg, msg, rinfo.address, rinfo.port, Number.NaN),
        );
        this.pairSockets.push(socket);
        binds.push(this.bind(socket, port));
      }
    }
    if (this.options.strepPort !== undefined) {
      const socket = createSocket({
        type,
        recvBufferSize: this.options.strepRecvBufferBytes ?? STREP_RECV_BUFFER_BYTES,
      });
      socket.on('message', (msg, rinfo) =>
        this.enqueue(FROM_STREP, 0, msg, rinfo.address, rinfo.port, Number.NaN),
      );
      this.strepSocket = socket;
      binds.push(this.bind(socket, this.options.strepPort));
    }
    try {
      await Promise.all(binds);
    } catch (error) {
      await this.closeSockets();
      throw error;
    }
    const interval = this.options.sweepIntervalMs ?? 20;
    // The sweep runs from setImmediate, after the event loop's I/O phase: when the loop was blocked (a long GC, a
    // busy neighbour), timers fire before the datagrams that queued meanwhile are read, and a sweep at that moment
    // would take legs with packets waiting in the socket buffer as quiet and fill them with silence, shifting
    // those calls' media clocks by the stall for the rest of the call.
    this.sweepTimer = setInterval(() => setImmediate(this.sweepAfterIo), interval);
    this.sweepTimer.unref();
    logger.info(
      {
        host: this.options.host,
        rtpPorts: range ? `${range.first}-${range.last}` : null,
        strepPort: this.strepSocket ? this.strepSocket.address().port : null,
        strepRecvBufferBytes: this.strepSocket?.getRecvBufferSize() ?? null,
      },
      'ingest listening',
    );
  }

  /** Stops intake, then ends every session ('shutdown') so sinks see their end. */
  async stop(): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await this.closeSockets();
    this.drain();
    this.table.endAll('shutdown');
    this.foldEndedMediaDrops();
  }

  /** Address of the STREP socket (its real port when strepPort was 0). */
  strepAddress(): AddressInfo | null {
    return this.strepSocket === null ? null : this.strepSocket.address();
  }

  sessions(): Iterable<IngestSession> {
    return this.table.sessions();
  }

  session(stream: string): IngestSession | undefined {
    return this.table.get(stream);
  }

  get activeSessions(): number {
    return this.table.size;
  }

  /** See SessionTable.announce. */
  announce(identity: AnnouncedIdentity): IngestSession {
    this.drain();
    const session = this.table.announce(identity);
    this.foldEndedMediaDrops();
    return session;
  }

  /** Ends a session now (hangup, fork stopped); false when no session has that stream name. */
  end(stream: string, reason: SessionEndReason = 'request'): boolean {
    // Datagrams read before the end was asked for belong to the call.
    this.drain();
    const ended = this.table.end(stream, reason);
    this.foldEndedMediaDrops();
    return ended;
  }

  /** Every drop so far per DROP index: this layer's, and the media drops of live and ended sessions. */
  dropTotals(): Float64Array {
    this.foldEndedMediaDrops();
    const totals = Float64Array.from(this.counters.drops);
    for (const session of this.table.sessions()) {
      const drops = session.media.drops;
      for (let i = 0; i < totals.length; i++) totals[i] += drops[i];
    }
    return totals;
  }

  /**
   * Takes one datagram as the STREP socket's handler does, for driving the server without sockets (a benchmark, a
   * capture fed in process): it waits in the queue until drain(), which runs by itself once the queue is full.
   * `arrivalMs` (on the performance.now() clock) is the time it arrived, now when absent.
   */
  receiveStrep(datagram: Buffer, address: string, port: number, arrivalMs = Number.NaN): void {
    this.enqueue(FROM_STREP, 0, datagram, address, port, arrivalMs);
  }

  /**
   * Takes one datagram as the socket of local port `port` of the pair range does (rx on the even port, tx on the
   * odd one), for driving the server without sockets like receiveStrep. Throws when `port` is outside the range.
   */
  receivePair(
    port: number,
    datagram: Buffer,
    address: string,
    sourcePort: number,
    arrivalMs = Number.NaN,
  ): void {
    const range = this.options.rtpPorts;
    if (range === undefined || !Number.isInteger(port) || port < range.first || port > range.last) {
      throw new RangeError(`port ${port} is not in the configured RTP port range`);
    }
    this.enqueue((port - range.first) >> 1, (port & 1) as Leg, datagram, address, sourcePort, arrivalMs);
  }

  /**
   * The socket callback: queues the datagram with its source and arrival time (see DATAGRAM_QUEUE_LENGTH), the
   * clock's unless `arrivalMs` is a number.
   */
  private enqueue(
    pair: number,
    leg: Leg,
    msg: Buffer,
    address: string,
    port: number,
    arrivalMs: number,
  ): void {
    this.counters.received++;
    const i = this.queued;
    this.queuedData[i] = msg;
    this.queuedAddress[i] = this.addresses.intern(address);
    this.queuedPort[i] = port;
    this.queuedPair[i] = pair;
    this.queuedLeg[i] = leg;
    // The clock is read for the queue's first entry and every 16th after it, and the entries between take its
    // reading: they were read by the same I/O pass within a few hundred microseconds (a recv each), far inside the
    // 20 ms frame the arrival time is used at, and the read costs as much as the rest of queuing. An arrival time
    // a caller gives (a capture fed in process) is taken as it is.
    if (!Number.isNaN(arrivalMs)) {
      this.queuedArrivalMs[i] = arrivalMs;
    } else {
      if (this.clockReadAt < 0 || i - this.clockReadAt >= 16) {
        this.clockMs = performance.now();
        this.clockReadAt = i;
      }
      this.queuedArrivalMs[i] = this.clockMs;
    }
    this.queued = i + 1;
    if (i + 1 === DATAGRAM_QUEUE_LENGTH) {
      this.drain();
    } else if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drainScheduledQueue);
    }
  }

  private readonly drainScheduledQueue = (): void => {
    this.drainScheduled = false;
    this.drain();
  };

  /**
   * Handles every queued datagram in arrival order; a fault in one is counted and the rest go on. The event loop
   * runs it after each I/O pass; a caller driving the server without sockets (see receiveStrep) runs it itself.
   */
  drain(): void {
    const count = this.queued;
    // Emptied first: a handler that reaches drain again (a session ending) finds nothing to repeat.
    this.queued = 0;
    this.clockReadAt = -1;
    // One datagram alone has nothing to overlap its state's memory reads with.
    if (count > 1 && this.readAhead !== null) {
      try {
        this.readCallStateAhead(this.readAhead, count);
      } catch (error) {
        // Only an optimisation: the batch is handled all the same (a session it did not reach is looked up).
        this.fault(error);
      }
    }
    const data = this.queuedData;
    const addresses = this.queuedAddress;
    const sessions = this.queuedSession;
    for (let i = 0; i < count; i++) {
      const msg = data[i] as Buffer;
      const address = addresses[i] as string;
      const found = sessions[i];
      data[i] = null;
      addresses[i] = null;
      sessions[i] = null;
      const outer = STAGES.enterDatagram();
      try {
        const pair = this.queuedPair[i];
        if (pair === FROM_STREP) {
          this.onStrepDatagram(msg, address, this.queuedPort[i], this.queuedArrivalMs[i], found);
        } else {
          const leg = this.queuedLeg[i] as Leg;
          this.onPairDatagram(pair, leg, msg, address, this.queuedPort[i], this.queuedArrivalMs[i]);
        }
      } catch (error) {
        this.fault(error);
      } finally {
        STAGES.leaveDatagram(outer);
      }
    }
  }

  /** Finds the live session of each queued datagram (opening none) and reads their state (see CallStateReadAhead). */
  private readCallStateAhead(ahead: CallStateReadAhead, count: number): void {
    const view = this.readAheadView;
    const sessions = this.queuedSession;
    const legs = this.queuedSessionLeg;
    for (let i = 0; i < count; i++) {
      const pair = this.queuedPair[i];
      if (pair !== FROM_STREP) {
        sessions[i] = this.table.findPair(pair);
        legs[i] = this.queuedLeg[i];
        continue;
      }
      const msg = this.queuedData[i] as Buffer;
      // The same parse as the handling's, so the same call_leg_id and the same session.
      parseStrepHeader(msg, 0, msg.length, view);
      sessions[i] = view.ok ? this.table.findStrep(view) : null;
      legs[i] = view.direction;
    }
    this.counters.readAhead += ahead.run(sessions, legs, count);
  }

  private onPairDatagram(
    pairIndex: number,
    leg: Leg,
    msg: Buffer,
    address: string,
    port: number,
    now: number,
  ): void {
    const length = msg.length;
    const verdict = this.admit(msg, 0, length, address, now);
    // RTCP opens no session: it is read only for a call whose media already flows (see deliver).
    const session =
      verdict === PASS
        ? this.table.forPair(pairIndex, now)
        : verdict === DROP.rtcp
          ? this.table.findPair(pairIndex)
          : null;
    this.deliver(verdict, session, leg, msg, 0, length, address, port, now);
  }

  /** `found`: the datagram's session as the read-ahead found it, or null (see queuedSession). */
  private onStrepDatagram(
    msg: Buffer,
    address: string,
    port: number,
    now: number,
    found: IngestSession | null,
  ): void {
    const length = msg.length;
    const view = this.strepView;
    let verdict: number = DROP.oversized;
    if (length <= this.maxDatagramBytes) {
      const parsed = parseStrepHeader(msg, 0, length, view);
      verdict = view.ok
        ? this.admit(msg, view.headerLength, length - view.headerLength, address, now)
        : parsed;
    }
    let session: IngestSession | null = null;
    if (verdict === PASS) {
      // What the read-ahead found is still this call_leg_id's session unless it has ended since: a session leaves
      // the table only by ending, and an announcement that replaces it ends it first.
      session = found !== null && found.endReason === null ? found : this.table.forStrep(view, now);
    } else if (verdict === DROP.rtcp) {
      session = this.table.findStrep(view);
    }
    const offset = view.headerLength;
    this.deliver(verdict, session, view.direction, msg, offset, length - offset, address, port, now);
  }

  /** Checks that need no session: size, source allow-list and rate, RTP shape. PASS or a DROP index. */
  private admit(msg: Buffer, offset: number, length: number, address: string, now: number): number {
    if (offset + length > this.maxDatagramBytes) return DROP.oversized;
    const source = this.guard.admit(address, now);
    if (source !== PASS) return source;
    return checkRtpShape(msg, offset, length);
  }

  /** Counts why a datagram stops here, or latches/checks its source and hands it to the session's media. */
  private deliver(
    verdict: number,
    session: IngestSession | null,
    leg: Leg,
    msg: Buffer,
    offset: number,
    length: number,
    address: string,
    port: number,
    now: number,
  ): void {
    if (verdict !== PASS) {
      this.counters.drops[verdict]++;
      // Not media, so counted as a drop; still read, when it comes from the source the leg's media comes from.
      if (verdict === DROP.rtcp && session !== null && session.latch.isLatchedTo(leg, address, port))
        session.media.pushRtcp(leg, msg, offset, length);
    } else if (session === null) {
      this.counters.drops[this.table.refusal]++;
    } else if (!session.latch.accept(leg, address, port)) {
      this.counters.drops[DROP.unknown_source]++;
    } else {
      // The media counts its own drops (duplicate, late, codec...) in media.drops; they are summed from there.
      session.media.pushPacket(leg, msg, offset, length, now);
    }
  }

  private readonly sweepAfterIo = (): void => {
    if (this.sweepTimer !== null) this.sweep();
  };

  /**
   * Plays out what is due on every session and ends the idle ones: what the sweep timer runs every sweepIntervalMs
   * once the server has started, and what a caller driving it without sockets runs itself (at `now`, on the clock
   * its arrival times are on).
   */
  sweep(now: number = performance.now()): void {
    // Datagrams still queued are media the legs have: a leg must not be taken as quiet while they wait.
    this.drain();
    const outer = STAGES.enter(STAGE.sweep, now);
    STAGES.sweeping = true;
    try {
      STAGES.count(WORK.sessions_swept, this.table.sweep(now));
      this.foldEndedMediaDrops();
    } catch (error) {
      logger.error({ err: error }, 'ingest sweep failed');
    } finally {
      STAGES.sweeping = false;
      STAGES.leave(outer);
    }
  }

  /** Adds media drops of sessions ended since the last fold into counters.drops. */
  private foldEndedMediaDrops(): void {
    const ended = this.table.endedMediaDrops;
    const folded = this.foldedMediaDrops;
    const drops = this.counters.drops;
    for (let i = 0; i < drops.length; i++) {
      if (ended[i] !== folded[i]) {
        drops[i] += ended[i] - folded[i];
        folded[i] = ended[i];
      }
    }
  }

  private fault(error: unknown): void {
    this.counters.errors++;
    // Logged at most once per 1024 faults so a pathological input cannot flood the log.
    if ((this.counters.errors & 1023) === 1) logger.error({ err: error }, 'datagram handling failed');
  }

  private bind(socket: Socket, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        reject(new Error(`cannot bind UDP ${this.options.host}:${port}: ${error.message}`));
      };
      socket.once('error', onError);
      socket.bind(port, this.options.host, () => {
        socket.off('error', onError);
        socket.on('error', (error) => logger.warn({ err: error, port }, 'UDP socket error'));
        resolve();
      });
    });
  }

  private async closeSockets(): Promise<void> {
    const sockets = [...this.pairSockets];
    if (this.strepSocket !== null) sockets.push(this.strepSocket);
    this.pairSockets.length = 0;
    this.strepSocket = null;
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            try {
              socket.close(() => resolve());
            } catch {
              resolve(); // never bound, or already closed
            }
          }),
      ),
    );
  }
}
