/**
 * All live sessions of one ingest server: found per packet by port pair or by STREP call_leg_id, created on the
 * first packet or by announcement, ended on idle, on request or at shutdown. One periodic sweep (driven by the
 * server) flushes the sessions whose reorder buffers or quiet legs have work and ends the idle ones, so no timer
 * exists per session or packet (see flush-schedule.ts for how it skips the others).
 */

import { logger } from '../../service/logger.ts';
import { DROP, newDropCounts } from '../drop-reasons.ts';
import type { CallIdentity, MediaSink } from '../media-sink.ts';
import { callLegIdWords, formatCallLegId, type StrepHeaderView } from '../strep.ts';
import { FlushSchedule } from './flush-schedule.ts';
import {
  IngestSession,
  type SessionEndReason,
  type SessionMedia,
  type SessionMediaFactory,
} from './ingest-session.ts';
import { LegIdMap } from './leg-id-map.ts';

export interface SessionHandlers {
  /** A session starts: return the sink its decoded media goes to. */
  open(identity: CallIdentity): MediaSink;
  /** A session ended; its media was flushed and its sink ended just before. */
  closed(session: IngestSession, reason: SessionEndReason): void;
  /** A live session carried a codec forkguard does not decode, for the first time (logged here already). */
  unsupportedCodec?(session: IngestSession, codec: string): void;
}

export interface PortPairRange {
  /** Even first port (rx of the first pair). */
  first: number;
  /** Odd last port (tx of the last pair). */
  last: number;
}

export interface SessionTableOptions {
  handlers: SessionHandlers;
  createMedia: SessionMediaFactory;
  pairs?: PortPairRange;
  /** A session with no packet for this long ends (default 10000). */
  idleMs?: number;
  /** Sessions alive at once (default 4096); packets that would open another are dropped as session_limit. */
  maxSessions?: number;
  /**
   * After an end on request (hangup, fork stopped), straggling packets of that stream are dropped as `closed`
   * for this long instead of opening an unannounced session (default 2000).
   */
  closedGraceMs?: number;
}

export type AnnouncedIdentity = Omit<CallIdentity, 'stream'> & { stream?: string; port?: number };

export function validatePortPairRange(range: PortPairRange): void {
  const { first, last } = range;
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 1 || last > 65535 || last <= first) {
    throw new RangeError(`rtpPorts must be a range of UDP ports first < last, got ${first}-${last}`);
  }
  if (first % 2 !== 0 || last % 2 !== 1) {
    throw new RangeError(
      `rtpPorts must start on an even port and end on an odd one (rx P, tx P+1), got ${first}-${last}`,
    );
  }
}

export class SessionTable {
  private readonly handlers: SessionHandlers;
  private readonly createMedia: SessionMediaFactory;
  readonly idleMs: number;
  readonly maxSessions: number;
  private readonly closedGraceMs: number;
  private readonly firstPort: number;
  private readonly byStream = new Map<string, IngestSession>();
  private readonly byPair: (IngestSession | null)[];
  private readonly pairClosedUntil: Float64Array;
  private readonly byLegId = new LegIdMap<IngestSession>();
  private readonly strepClosedUntil = new LegIdMap<number>();
  /** When each session next needs the sweep; the session of each of its slots (null: free). */
  private readonly schedule: FlushSchedule;
  private readonly bySlot: (IngestSession | null)[] = [];
  /** Drops counted by the media of sessions that have ended, per DROP index. */
  readonly endedMediaDrops = newDropCounts();
  /** Why the last forPair/forStrep returned null (a DROP index). */
  refusal = 0;

  constructor(options: SessionTableOptions) {
    this.handlers = options.handlers;
    this.createMedia = options.createMedia;
    this.idleMs = options.idleMs ?? 10_000;
    this.maxSessions = options.maxSessions ?? 4096;
    this.closedGraceMs = options.closedGraceMs ?? 2000;
    if (!(this.idleMs > 0)) throw new RangeError(`idleMs must be positive, got ${this.idleMs}`);
    this.schedule = new FlushSchedule(this.idleMs);
    if (!Number.isInteger(this.maxSessions) || this.maxSessions < 1) {
      throw new RangeError(`maxSessions must be a positive integer, got ${this.maxSessions}`);
    }
    let pairCount = 0;
    if (options.pairs) {
      validatePortPairRange(options.pairs);
      pairCount = (options.pairs.last - options.pairs.first + 1) / 2;
    }
    this.firstPort = options.pairs?.first ?? 0;
    this.byPair = new Array<IngestSession | null>(pairCount).fill(null);
    this.pairClosedUntil = new Float64Array(pairCount);
  }

  get size(): number {
    return this.byStream.size;
  }

  get(stream: string): IngestSession | undefined {
    return this.byStream.get(stream);
  }

  sessions(): IterableIterator<IngestSession> {
    return this.byStream.values();
  }

  /** The live session of port pair `pairIndex`, or null; opens nothing. */
  findPair(pairIndex: number): IngestSession | null {
    return this.byPair[pairIndex] ?? null;
  }

  /** The live session of the call_leg_id in `view`, or null; opens nothing. */
  findStrep(view: StrepHeaderView): IngestSession | null {
    return this.byLegId.get(view.id0, view.id1, view.id2, view.id3) ?? null;
  }

  /** Session of port pair `pairIndex` ((P - first) / 2), opened unannounced if absent; null + refusal if refused. */
  forPair(pairIndex: number, nowMs: number): IngestSession | null {
    const existing = this.findPair(pairIndex);
    if (existing !== null) return existing;
    if (this.pairClosedUntil[pairIndex] > nowMs) {
      this.refusal = DROP.closed;
      return null;
    }
    const port = this.firstPort + 2 * pairIndex;
    const identity: CallIdentity = {
      stream: `udp:${port}`,
      callControlId: null,
      callLegId: null,
      callSessionId: null,
    };
    const session = this.open(identity, port, nowMs, false);
    if (session !== null) this.byPair[pairIndex] = session;
    return session;
  }

  /** Session of the call_leg_id in `view`, opened unannounced if absent; null + refusal if refused. */
  forStrep(view: StrepHeaderView, nowMs: number): IngestSession | null {
    const existing = this.findStrep(view);
    if (existing !== null) return existing;
    const closedUntil = this.strepClosedUntil.get(view.id0, view.id1, view.id2, view.id3);
    if (closedUntil !== undefined && closedUntil > nowMs) {
      this.refusal = DROP.closed;
      return null;
    }
    const callLegId = view.callLegId();
    const identity: CallIdentity = {
      stream: `strep:${callLegId}`,
      callControlId: null,
      callLegId,
      callSessionId: null,
    };
    const session = this.open(identity, -1, nowMs, false);
    if (session !== null) {
      session.strepLeg = view.legBit === 0 ? 'A' : 'B';
      this.byLegId.set(view.id0, view.id1, view.id2, view.id3, session);
    }
    return session;
  }

  /**
   * Registers a call before (or after) its first packets so they carry its Telnyx ids. With `port` the call is
   * the port pair starting at that even port; without, it is the STREP stream of `callLegId`. The stream name is
   * always derived from the transport (`udp:P` / `strep:<call_leg_id>`). A session already carrying other ids
   * is ended first (the port or leg was reused). Throws on a port outside the range, a missing call_leg_id, or
   * no room for another session.
   */
  announce(announced: AnnouncedIdentity, nowMs: number = performance.now()): IngestSession {
    const ids = {
      callControlId: announced.callControlId,
      callLegId: announced.callLegId,
      callSessionId: announced.callSessionId,
    };
    if (announced.port !== undefined) {
      const port = announced.port;
      const pairIndex = (port - this.firstPort) / 2;
      if (!Number.isInteger(pairIndex) || pairIndex < 0 || pairIndex >= this.byPair.length) {
        throw new RangeError(`port ${port} is not the even port of a pair in the configured RTP port range`);
      }
      const existing = this.adoptOrEnd(this.byPair[pairIndex], ids);
      if (existing !== null) return existing;
      this.pairClosedUntil[pairIndex] = 0;
      const session = this.openOrThrow({ stream: `udp:${port}`, ...ids }, port, nowMs);
      this.byPair[pairIndex] = session;
      return session;
    }
    if (ids.callLegId === null)
      throw new Error('announce needs a port (port pairs) or a call_leg_id (STREP)');
    const w = callLegIdWords(ids.callLegId);
    const callLegId = formatCallLegId(w[0], w[1], w[2], w[3]);
    const existing = this.adoptOrEnd(this.byLegId.get(w[0], w[1], w[2], w[3]) ?? null, { ...ids, callLegId });
    if (existing !== null) return existing;
    this.strepClosedUntil.delete(w[0], w[1], w[2], w[3]);
    const session = this.openOrThrow({ stream: `strep:${callLegId}`, ...ids, callLegId }, -1, nowMs);
    this.byLegId.set(w[0], w[1], w[2], w[3], session);
    return session;
  }

  /** Ends the session of `stream` now; false when there is none. */
  end(stream: string, reason: SessionEndReason, nowMs: number = performance.now()): boolean {
    const session = this.byStream.get(stream);
    if (session === undefined) return false;
    this.finish(session, reason, nowMs);
    return true;
  }

  endAll(reason: SessionEndReason, nowMs: number = performance.now()): void {
    for (const session of [...this.byStream.values()]) this.finish(session, reason, nowMs);
  }

  /**
   * Plays out due frames and ends the sessions idle for idleMs, visiting only the sessions the schedule says may
   * have either (see FlushSchedule). Returns how many it visited.
   */
  sweep(nowMs: number): number {
    this.pruneClosed(nowMs);
    const schedule = this.schedule;
    // Sessions opened by a handler during the sweep wait for the next one.
    const slots = schedule.slotCount;
    let visited = 0;
    for (let slot = 0; slot < slots; slot++) {
      if (!schedule.isDue(slot, nowMs)) continue;
      const session = this.bySlot[slot];
      if (session === null) continue;
      visited++;
      if (nowMs - session.lastSeenMs >= this.idleMs) {
        this.finish(session, 'idle', nowMs);
        continue;
      }
      try {
        session.media.flush(nowMs);
      } catch (error) {
        logger.error({ err: error, stream: session.stream }, 'media flush failed');
      }
    }
    return visited;
  }

  private adoptOrEnd(
    existing: IngestSession | null,
    ids: Omit<CallIdentity, 'stream'>,
  ): IngestSession | null {
    if (existing === null) return null;
    const current = existing.identity;
    if (!existing.announced || current.callControlId === ids.callControlId) {
      current.callControlId = ids.callControlId;
      current.callLegId = ids.callLegId ?? current.callLegId;
      current.callSessionId = ids.callSessionId;
      existing.announced = true;
      return existing;
    }
    this.finish(existing, 'request', performance.now(), false);
    return null;
  }

  private openOrThrow(identity: CallIdentity, pairPort: number, nowMs: number): IngestSession {
    const session = this.open(identity, pairPort, nowMs, true);
    if (session === null)
      throw new Error(`cannot open session ${identity.stream}: maxSessions (${this.maxSessions}) reached`);
    return session;
  }

  private open(
    identity: CallIdentity,
    pairPort: number,
    nowMs: number,
    announced: boolean,
  ): IngestSession | null {
    if (this.byStream.size >= this.maxSessions) {
      this.refusal = DROP.session_limit;
      return null;
    }
    const sink = this.handlers.open(identity);
    logger.debug({ stream: identity.stream, announced }, 'ingest session opened');
    // Packets reach the media only once `session` is set, so the report always names its session.
    let session: IngestSession | null = null;
    const onUnsupportedCodec = (codec: string): void => {
      if (session !== null) this.reportUnsupportedCodec(session, codec);
    };
    // Until its first packet, the session needs the sweep only to end it once idle.
    const slot = this.schedule.take(nowMs + this.idleMs);
    let media: SessionMedia;
    try {
      media = this.createMedia(sink, onUnsupportedCodec, { schedule: this.schedule, slot });
    } catch (error) {
      this.schedule.release(slot);
      throw error;
    }
    session = new IngestSession(identity, media, pairPort, nowMs, announced, slot);
    this.bySlot[slot] = session;
    this.byStream.set(identity.stream, session);
    return session;
  }

  /** Once per codec per session, while the call runs: the call is analysed without that leg's audio. */
  private reportUnsupportedCodec(session: IngestSession, codec: string): void {
    logger.warn({ stream: session.stream, codec }, 'session carries a codec forkguard does not decode');
    try {
      this.handlers.unsupportedCodec?.(session, codec);
    } catch (error) {
      logger.error({ err: error, stream: session.stream }, 'unsupported codec handler failed');
    }
  }

  private finish(
    session: IngestSession,
    reason: SessionEndReason,
    nowMs: number,
    graceAfterRequest = true,
  ): void {
    if (session.endReason !== null) return;
    session.endReason = reason;
    this.byStream.delete(session.stream);
    this.bySlot[session.flushSlot] = null;
    this.schedule.release(session.flushSlot);
    const grace = reason === 'request' && graceAfterRequest ? nowMs + this.closedGraceMs : 0;
    if (session.pairPort >= 0) {
      const pairIndex = (session.pairPort - this.firstPort) / 2;
      if (this.byPair[pairIndex] === session) this.byPair[pairIndex] = null;
      this.pairClosedUntil[pairIndex] = grace;
    } else if (session.identity.callLegId !== null) {
      const w = callLegIdWords(session.identity.callLegId);
      const current = this.byLegId.get(w[0], w[1], w[2], w[3]);
      if (current === session) this.byLegId.delete(w[0], w[1], w[2], w[3]);
      if (grace > 0) this.strepClosedUntil.set(w[0], w[1], w[2], w[3], grace);
      else this.strepClosedUntil.delete(w[0], w[1], w[2], w[3]);
    }
    try {
      session.media.end();
    } catch (error) {
      logger.error({ err: error, stream: session.stream }, 'ending session media failed');
    }
    const drops = session.media.drops;
    for (let i = 0; i < this.endedMediaDrops.length; i++) this.endedMediaDrops[i] += drops[i];
    if (session.media.failures > 0) {
      // Once per session, with the last exception: the drops were counted live as internal_error.
      logger.error(
        { stream: session.stream, failures: session.media.failures, err: session.media.lastFailure },
        'media handling threw on packets of this session',
      );
    }
    logger.debug({ stream: session.stream, reason }, 'ingest session ended');
    try {
      this.handlers.closed(session, reason);
    } catch (error) {
      logger.error({ err: error, stream: session.stream }, 'session closed handler failed');
    }
  }

  /** Forgets expired STREP grace entries so the map stays bounded by recent request-ends. */
  pruneClosed(nowMs: number): void {
    if (this.strepClosedUntil.size === 0) return;
    const expired: number[][] = [];
    this.strepClosedUntil.forEach((w0, w1, w2, w3, until) => {
      if (until <= nowMs) expired.push([w0, w1, w2, w3]);
    });
    for (const w of expired) this.strepClosedUntil.delete(w[0], w[1], w[2], w[3]);
  }
}
