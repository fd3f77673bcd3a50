import { classifyTelnyxError } from '../../alert/actions/telnyx-outcome.ts';
import { uuidV5 } from '../../alert/command-id.ts';
import type { TelnyxClient } from '../../telnyx/telnyx-client.ts';
import { logger as defaultLogger, type Logger } from '../logger.ts';
import { type PortLease, type PortLeaseManager, PortsExhaustedError } from './port-leases.ts';
import type { ForkSessionHooks } from './session-hooks.ts';

/** A fork error with the HTTP status it should answer with. */
export class ForkError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ForkError';
  }
}

export interface ForkRequest {
  callControlId: string;
  callLegId?: string | null;
  callSessionId?: string | null;
}

export interface ForkRecord {
  callControlId: string;
  callLegId: string | null;
  callSessionId: string | null;
  stream: string;
  port: number;
  rx: string;
  tx: string;
  lease: PortLease;
}

export interface ForkControllerOptions {
  telnyx: TelnyxClient;
  leases: PortLeaseManager;
  /** FORKGUARD_PUBLIC_IP: the address Telnyx sends forked media to. */
  publicIp: string;
  sessions: ForkSessionHooks;
  /**
   * SDK retries for fork_start/fork_stop (default 2). These calls answer an HTTP request, so they cannot wait in
   * a queue; this is their only retry layer, and command_id keeps a retried fork_start single.
   */
  requestRetries?: number;
  logger?: Logger;
}

/** Forks this node started: a leased port pair, a Telnyx fork pointed at it, and an announced session. */
export class ForkController {
  private readonly forks = new Map<string, ForkRecord>();
  private readonly starting = new Map<string, Promise<ForkRecord>>();
  private readonly log: Logger;

  constructor(private readonly options: ForkControllerOptions) {
    this.log = options.logger ?? defaultLogger;
  }

  get(callControlId: string): ForkRecord | undefined {
    return this.forks.get(callControlId);
  }

  list(): ForkRecord[] {
    return [...this.forks.values()];
  }

  /** Starts forking a call to a fresh port pair; a call already forked here returns its fork (created false). */
  async start(request: ForkRequest): Promise<{ fork: ForkRecord; created: boolean }> {
    const existing = this.forks.get(request.callControlId);
    if (existing) return { fork: existing, created: false };
    const pending = this.starting.get(request.callControlId);
    if (pending) return { fork: await pending, created: false };
    const promise = this.startNew(request);
    this.starting.set(request.callControlId, promise);
    try {
      return { fork: await promise, created: true };
    } finally {
      this.starting.delete(request.callControlId);
    }
  }

  /** Asks Telnyx to stop the fork, then lets the ports and the session go. Null when this node has no such fork. */
  async stop(callControlId: string): Promise<ForkRecord | null> {
    const fork = this.forks.get(callControlId);
    if (!fork) return null;
    try {
      await this.options.telnyx.calls.actions.stopForking(
        callControlId,
        { command_id: uuidV5(`fork_stop|${callControlId}|${fork.port}`) },
        { maxRetries: this.options.requestRetries ?? 2 },
      );
    } catch (err) {
      const failure = classifyTelnyxError(err);
      // A call that has ended has no fork left to stop: the local cleanup below is all there is to do.
      if (!failure.callEnded) throw new ForkError(502, `fork_stop failed: ${failure.reason}`);
    }
    await this.ended(callControlId, 'request');
    return fork;
  }

  /** The fork is over on Telnyx's side (call.fork.stopped, call.hangup): release ports and end the session. */
  async ended(callControlId: string, reason: 'request' | 'shutdown' = 'request'): Promise<ForkRecord | null> {
    const fork = this.forks.get(callControlId);
    if (!fork) return null;
    this.forks.delete(callControlId);
    this.options.sessions.end(fork.stream, reason);
    await this.options.leases.release(fork.lease).catch((err: Error) => {
      this.log.warn({ err: err.message, port: fork.port }, 'port lease release failed; it will expire');
    });
    return fork;
  }

  /** call.fork.started told us the leg and session ids: re-announce so the stream carries them. */
  identify(callControlId: string, callLegId: string | null, callSessionId: string | null): ForkRecord | null {
    const fork = this.forks.get(callControlId);
    if (!fork) return null;
    fork.callLegId = callLegId ?? fork.callLegId;
    fork.callSessionId = callSessionId ?? fork.callSessionId;
    this.announce(fork);
    return fork;
  }

  /** A lease expired under a live fork (Redis lost our heartbeats): the ports may be reassigned, so stop. */
  leaseLost(lease: PortLease): void {
    const fork = this.forks.get(lease.owner);
    if (!fork || fork.lease !== lease) return;
    this.forks.delete(lease.owner);
    this.options.sessions.end(fork.stream, 'request');
    this.options.telnyx.calls.actions
      .stopForking(lease.owner, { command_id: uuidV5(`fork_stop|${lease.owner}|${fork.port}`) })
      .catch((err: Error) =>
        this.log.warn({ err: err.message, callControlId: lease.owner }, 'fork_stop after lost lease failed'),
      );
  }

  /** Shutdown: ends every local session and gives the ports back (forks on Telnyx stop with their calls). */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.forks.keys()].map((id) => this.ended(id, 'shutdown')));
  }

  private async startNew(request: ForkRequest): Promise<ForkRecord> {
    let lease: PortLease;
    try {
      lease = await this.options.leases.acquire(request.callControlId);
    } catch (err) {
      if (err instanceof PortsExhaustedError) throw new ForkError(503, err.message);
      throw new ForkError(503, `port registry unavailable: ${(err as Error).message}`);
    }
    const ip = this.options.publicIp;
    const fork: ForkRecord = {
      callControlId: request.callControlId,
      callLegId: request.callLegId ?? null,
      callSessionId: request.callSessionId ?? null,
      stream: `udp:${lease.port}`,
      port: lease.port,
      rx: `udp:${ip}:${lease.port}`,
      tx: `udp:${ip}:${lease.txPort}`,
      lease,
    };
    // Announce before Telnyx starts sending, so the first packets are already attributed to the call.
    this.forks.set(request.callControlId, fork);
    this.announce(fork);
    try {
      await this.options.telnyx.calls.actions.startForking(
        request.callControlId,
        { rx: fork.rx, tx: fork.tx, command_id: uuidV5(`fork_start|${request.callControlId}|${lease.port}`) },
        { maxRetries: this.options.requestRetries ?? 2 },
      );
    } catch (err) {
      await this.ended(request.callControlId, 'request');
      const failure = classifyTelnyxError(err);
      if (failure.callEnded) throw new ForkError(409, `call has already ended: ${failure.reason}`);
      if (failure.status !== null && failure.status >= 400 && failure.status < 500 && !failure.retryable) {
        throw new ForkError(422, `Telnyx refused fork_start: ${failure.reason}`);
      }
      throw new ForkError(502, `fork_start failed: ${failure.reason}`);
    }
    this.log.info({ callControlId: fork.callControlId, rx: fork.rx, tx: fork.tx }, 'fork started');
    return fork;
  }

  private announce(fork: ForkRecord): void {
    this.options.sessions.announce({
      stream: fork.stream,
      callControlId: fork.callControlId,
      callLegId: fork.callLegId,
      callSessionId: fork.callSessionId,
      port: fork.port,
    });
  }
}
