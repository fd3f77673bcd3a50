import { FEATURE_NAMES } from '../dsp/feature-names.ts';
import {
  assertFeaturesMatch,
  defaultManifestPath,
  loadManifest,
  type ModelManifest,
} from '../score/model-manifest.ts';
import { OnnxScorer } from '../score/onnx-scorer.ts';
import type { ServiceConfig } from './config/load-config.ts';
import { logger } from './logger.ts';

/** The manifest `start` scores with (--model, else models/default.json), checked against the feature extractor. */
export async function checkModel(config: ServiceConfig): Promise<{ path: string; manifest: ModelManifest }> {
  const path = config.model ?? (await defaultManifestPath());
  const manifest = await loadManifest(path);
  assertFeaturesMatch(manifest, FEATURE_NAMES);
  return { path, manifest };
}

/** Loads the ONNX session of the configured model (one per process). */
export async function loadScorer(config: ServiceConfig): Promise<OnnxScorer> {
  const { path } = await checkModel(config);
  const scorer = await OnnxScorer.load(path);
  assertFeaturesMatch(scorer.manifest, FEATURE_NAMES);
  return scorer;
}

/**
 * Calls `onFirst` once on the first SIGTERM or SIGINT; a second signal while it runs forces the exit (an operator
 * who insists should not have to reach for SIGKILL). `ignoreSigint`: cluster workers leave Ctrl-C to the primary,
 * which drains them in order.
 */
export function onShutdownSignal(onFirst: (signal: string) => void, ignoreSigint = false): void {
  let received = false;
  const handle = (signal: NodeJS.Signals) => {
    if (received) {
      logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      process.exit(130);
    }
    received = true;
    logger.info({ signal }, 'shutting down: stopping intake, finishing sessions, flushing alerts');
    onFirst(signal);
  };
  process.on('SIGTERM', handle);
  if (ignoreSigint) process.on('SIGINT', () => {});
  else process.on('SIGINT', handle);
}

/** The last log line of a run: what was raised and whether all of it reached Redis. Returns the exit code. */
export function finish(alertsRaised: number, lost: number): number {
  if (lost > 0) {
    logger.error(
      { alertsRaised, lost },
      'forkguard stopped; some alert jobs did not reach Redis (logged above)',
    );
    return 1;
  }
  logger.info({ alertsRaised, lost }, 'forkguard stopped');
  return 0;
}
