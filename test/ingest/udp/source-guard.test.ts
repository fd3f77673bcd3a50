import { describe, expect, it } from 'vitest';
import { DROP } from '../../../src/ingest/drop-reasons.ts';
import { SourceGuard } from '../../../src/ingest/trust/source-guard.ts';
import { PASS } from '../../../src/ingest/udp/datagram-checks.ts';

describe('SourceGuard', () => {
  it('lets everything through when nothing is configured, remembering no source', () => {
    const guard = new SourceGuard();
    for (let i = 0; i < 100; i++) expect(guard.admit(`10.0.0.${i}`, i)).toBe(PASS);
    expect(guard.trackedSources).toBe(0);
  });

  it('caps each source at its rate after a one-second burst, refilling with time', () => {
    const guard = new SourceGuard({ maxPacketsPerSecond: 100 });
    let accepted = 0;
    for (let i = 0; i < 150; i++) if (guard.admit('192.0.2.1', 0) === PASS) accepted++;
    expect(accepted).toBe(100);
    expect(guard.admit('192.0.2.1', 0)).toBe(DROP.rate_limited);
    // Another source has its own bucket.
    expect(guard.admit('192.0.2.2', 0)).toBe(PASS);
    // 50 ms later five more packets are due, not six.
    accepted = 0;
    for (let i = 0; i < 10; i++) if (guard.admit('192.0.2.1', 50) === PASS) accepted++;
    expect(accepted).toBe(5);
    // A steady 100 packet/s stream is never capped.
    const steady = new SourceGuard({ maxPacketsPerSecond: 100 });
    for (let i = 0; i < 1000; i++) expect(steady.admit('192.0.2.3', i * 10)).toBe(PASS);
  });

  it('drops sources outside the allow-list and stays bounded under many sources', () => {
    const guard = new SourceGuard({ allowCidrs: ['198.51.100.0/24', '2001:db8::/32'], maxSources: 64 });
    expect(guard.admit('198.51.100.9', 0)).toBe(PASS);
    expect(guard.admit('2001:db8::5', 0)).toBe(PASS);
    expect(guard.admit('203.0.113.9', 0)).toBe(DROP.not_allowed);
    for (let i = 0; i < 1000; i++) guard.admit(`10.${i >> 8}.${i & 255}.1`, i);
    expect(guard.trackedSources).toBe(64);
    // A forgotten source is judged again, with the same verdict.
    expect(guard.admit('198.51.100.9', 2000)).toBe(PASS);
    expect(guard.admit('203.0.113.9', 2000)).toBe(DROP.not_allowed);
  });

  it('refuses a negative rate with a message naming the field', () => {
    expect(() => new SourceGuard({ maxPacketsPerSecond: -1 })).toThrow(/maxPacketsPerSecondPerSource/);
  });
});
