import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One Prometheus registry per process. Hot-path modules keep plain number counters and publish them through
 * `collect` callbacks at scrape time, so no prom-client call sits in a per-packet loop.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'forkguard_process_' });
