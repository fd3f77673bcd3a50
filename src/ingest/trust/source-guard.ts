/**
 * Per-source admission: the CIDR allow-list decision and a packet-rate token bucket, both keyed by the source
 * address (not address:port, so a sender cannot escape the cap by cycling ports, and no string is concatenated
 * per packet). The allow-list verdict is computed once per source and cached with its bucket.
 */
import { DROP } from '../drop-reasons.ts';
import { PASS } from '../udp/datagram-checks.ts';
import { CidrAllowList } from './cidr.ts';

export interface SourceGuardOptions {
  allowCidrs?: readonly string[];
  /** Sustained packets per second a single source address may send; a burst of one second is allowed. */
  maxPacketsPerSecond?: number;
  /** Sources remembered at once (default 65536); beyond that the longest-known source is forgotten first. */
  maxSources?: number;
}

class SourceEntry {
  tokens: number;
  lastMs: number;
  constructor(
    readonly allowed: boolean,
    tokens: number,
    nowMs: number,
  ) {
    this.tokens = tokens;
    this.lastMs = nowMs;
  }
}

export class SourceGuard {
  private readonly allowList: CidrAllowList | null;
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxSources: number;
  private readonly sources = new Map<string, SourceEntry>();
  /** True when there is nothing to check, so admit() is a single branch. */
  readonly open: boolean;

  constructor(options: SourceGuardOptions = {}) {
    const cidrs = options.allowCidrs ?? [];
    this.allowList = cidrs.length > 0 ? new CidrAllowList(cidrs) : null;
    const rate = options.maxPacketsPerSecond ?? 0;
    if (!(rate >= 0) || !Number.isFinite(rate)) {
      throw new RangeError(`maxPacketsPerSecondPerSource must be a non-negative number, got ${rate}`);
    }
    this.rate = rate;
    this.burst = Math.max(1, rate);
    this.maxSources = Math.max(1, options.maxSources ?? 65536);
    this.open = this.allowList === null && rate === 0;
  }

  get trackedSources(): number {
    return this.sources.size;
  }

  /** PASS when a datagram from `address` may go on, else DROP.not_allowed or DROP.rate_limited. */
  admit(address: string, nowMs: number): number {
    if (this.open) return PASS;
    let entry = this.sources.get(address);
    if (entry === undefined) entry = this.remember(address, nowMs);
    if (!entry.allowed) return DROP.not_allowed;
    if (this.rate === 0) return PASS;
    const elapsed = nowMs - entry.lastMs;
    entry.lastMs = nowMs;
    let tokens = entry.tokens + (elapsed * this.rate) / 1000;
    if (tokens > this.burst) tokens = this.burst;
    if (tokens < 1) {
      entry.tokens = tokens;
      return DROP.rate_limited;
    }
    entry.tokens = tokens - 1;
    return PASS;
  }

  private remember(address: string, nowMs: number): SourceEntry {
    if (this.sources.size >= this.maxSources) {
      // Forgetting a source only refills its bucket and re-runs its allow-list check: bounded memory under a
      // flood of spoofed addresses costs at most one extra burst per forgotten source.
      const oldest = this.sources.keys().next().value;
      if (oldest !== undefined) this.sources.delete(oldest);
    }
    const allowed = this.allowList === null || this.allowList.allows(address);
    const entry = new SourceEntry(allowed, this.burst, nowMs);
    this.sources.set(address, entry);
    return entry;
  }
}
