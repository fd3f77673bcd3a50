import { Counter } from 'prom-client';
import { metricsRegistry } from '../metrics-registry.ts';

export const webhooksRejected = new Counter({
  name: 'forkguard_webhooks_rejected_total',
  help: 'Webhook requests refused before processing, by reason',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const webhooksReceived = new Counter({
  name: 'forkguard_webhooks_total',
  help: 'Verified webhook events by event type (types forkguard does not handle count as "other") and result',
  labelNames: ['event_type', 'result'] as const,
  registers: [metricsRegistry],
});
