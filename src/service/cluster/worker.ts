import { hostname } from 'node:os';
import type { ServiceConfig } from '../config/load-config.ts';
import { logger } from '../logger.ts';
import { MediaPipeline } from '../media-pipeline.ts';
import { metricsRegistry } from '../metrics-registry.ts';
import { loadScorer, onShutdownSignal } from '../service-startup.ts';
import { isPrimaryMessage, type WorkerMessage } from './ipc.ts';
import { splitPortRange } from './port-split.ts';

/** Resolves once the message is handed to the IPC channel, so a worker can exit right after its last report. */
function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * A media worker: ingest, DSP, scoring and the alert producer for its slice of the port range (worker 0 also takes
 * the STREP port). Fork announcements and ends arrive from the primary; the primary asks for a drain at shutdown.
 * Resolves with the exit code after the drain.
 */
export async function runWorker(config: ServiceConfig, index: number): Promise<number> {
  const slice = splitPortRange(config.rtpPorts, config.workers)[index];
  let pipeline: MediaPipeline;
  try {
    const scorer = await loadScorer(config);
    pipeline = new MediaPipeline({
      config,
      rtpPorts: slice,
      strepPort: index === 0 ? config.strepPort : null,
      scorer,
      nodeTag: `${hostname()}/${process.pid}`,
    });
    await pipeline.start();
  } catch (err) {
    await send({ t: 'failed', error: `worker ${index}: ${(err as Error).message}` });
    return 1;
  }

  let stopping = false;
  let stopped: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    stopped = resolve;
  });
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const result = await pipeline.stop(config.shutdownFlushMs);
    await send({ t: 'stopped', result });
    stopped(result.lost > 0 ? 1 : 0);
  };

  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    try {
      switch (message.t) {
        case 'announce':
          pipeline.announce(message.identity);
          break;
        case 'end':
          pipeline.end(message.stream, message.reason);
          break;
        case 'metrics-req':
          void metricsRegistry
            .getMetricsAsJSON()
            .then((metrics) => send({ t: 'metrics-res', id: message.id, metrics }));
          break;
        case 'shutdown':
          void stop();
          break;
      }
    } catch (err) {
      logger.warn(
        { err: (err as Error).message, message: message.t },
        'worker could not apply a primary request',
      );
    }
  });
  // The primary coordinates Ctrl-C; a SIGTERM aimed at this worker, or losing the primary, drains it alone.
  onShutdownSignal(() => void stop(), true);
  process.on('disconnect', () => void stop());
  logger.info({ worker: index, rtpPorts: `${slice.first}-${slice.last}` }, 'media worker ready');
  await send({ t: 'ready' });
  return done;
}
