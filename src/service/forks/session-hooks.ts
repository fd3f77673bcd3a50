import type { CallIdentity } from '../../ingest/media-sink.ts';

/**
 * What fork control and webhooks need from the ingest session table (SessionTable satisfies it): tell it which
 * call a stream belongs to, and that a stream is over.
 */
export interface ForkSessionHooks {
  announce(identity: CallIdentity & { port?: number }): unknown;
  end(stream: string, reason: 'idle' | 'request' | 'shutdown'): unknown;
}
