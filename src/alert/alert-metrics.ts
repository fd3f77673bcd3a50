import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../service/metrics-registry.ts';

/**
 * Alert and action metrics (CONTRACTS §4 names). Registered once per process at import, because prom-client
 * refuses a second metric of the same name and several producers or workers may live in one process.
 */
export const alertsTotal = new Counter({
  name: 'forkguard_alerts_total',
  help: 'Alerts written to the forkguard-alerts queue by this process, by kind',
  labelNames: ['kind'] as const,
  registers: [metricsRegistry],
});

/** Sum over live producers, read at scrape time so the publish path only touches a plain number. */
const bufferedSources = new Set<{ readonly buffered: number }>();
export const alertsBuffered = new Gauge({
  name: 'forkguard_alerts_buffered',
  help: 'Alert and action jobs held in process memory while Redis cannot take them',
  registers: [metricsRegistry],
  collect() {
    let total = 0;
    for (const source of bufferedSources) total += source.buffered;
    this.set(total);
  },
});
export function trackBuffered(source: { readonly buffered: number }): () => void {
  bufferedSources.add(source);
  return () => bufferedSources.delete(source);
}

export const alertsDropped = new Counter({
  name: 'forkguard_alerts_dropped_total',
  help: 'Alert and action jobs given up: buffer full, or still unsent when the flush timeout ran out at shutdown',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const actionsTotal = new Counter({
  name: 'forkguard_actions_total',
  help: 'Telnyx call actions by action and outcome (ok, call_ended, rejected, retry, failed)',
  labelNames: ['action', 'outcome'] as const,
  registers: [metricsRegistry],
});
