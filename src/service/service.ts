import cluster from 'node:cluster';
import { modelId } from '../score/model-manifest.ts';
import { WORKER_INDEX_ENV } from './cluster/ipc.ts';
import { runPrimary } from './cluster/primary.ts';
import { runWorker } from './cluster/worker.ts';
import { describeConfig, type ServiceConfig } from './config/load-config.ts';
import { ControlPlane } from './control-plane.ts';
import { ensureRedis, type RedisHandle } from './embedded-redis.ts';
import { logger } from './logger.ts';
import { MediaPipeline } from './media-pipeline.ts';
import { checkModel, finish, loadScorer, onShutdownSignal } from './service-startup.ts';

/** A startup failure whose message is the whole story (printed as one line by the CLI). */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/**
 * `forkguard start`: one process (workers = 1) or a primary with media workers. Resolves with the exit code once
 * the service has shut down after SIGTERM/SIGINT; rejects with StartupError when it cannot start.
 */
export async function runService(config: ServiceConfig): Promise<number> {
  logger.level = config.logLevel;
  if (cluster.isWorker && process.env[WORKER_INDEX_ENV] !== undefined) {
    return runWorker(config, Number(process.env[WORKER_INDEX_ENV]));
  }
  // Model first: a missing or mismatched model is the likeliest first-run problem, and costs nothing to check.
  const model = await checkModel(config).catch((err: Error) => {
    throw new StartupError(err.message);
  });
  const redis = await ensureRedis(config.redisUrl, config.redisIsDefault).catch((err: Error) => {
    throw new StartupError(err.message);
  });
  try {
    if (config.workers > 1) return await runPrimary(config, redis, modelId(model.manifest));
    return await runSingleProcess(config, redis);
  } catch (err) {
    await redis.stop();
    throw err;
  }
}

async function runSingleProcess(config: ServiceConfig, redis: RedisHandle): Promise<number> {
  const scorer = await loadScorer(config).catch((err: Error) => {
    throw new StartupError(err.message);
  });
  const pipeline = new MediaPipeline({
    config,
    rtpPorts: config.rtpPorts,
    strepPort: config.strepPort,
    scorer,
  });
  try {
    await pipeline.start();
  } catch (err) {
    await pipeline.stop(0);
    throw new StartupError(`${(err as Error).message} (choose free ports with --rtp-ports / --strep-port)`);
  }
  let plane: ControlPlane;
  try {
    plane = await ControlPlane.start({
      config,
      sessions: pipeline,
      alerts: pipeline.producer,
      mediaReady: () => true,
    });
  } catch (err) {
    await pipeline.stop(config.shutdownFlushMs);
    throw new StartupError((err as Error).message);
  }
  logger.info(
    {
      ...describeConfig(config),
      model: modelId(scorer.manifest),
      redisEmbedded: redis.embedded,
      forkControl: plane.forks !== null,
    },
    'forkguard started',
  );

  await new Promise<void>((resolve) => onShutdownSignal(() => resolve()));
  plane.beginDrain();
  const result = await pipeline.stop(config.shutdownFlushMs);
  await plane.close();
  await redis.stop();
  return finish(result.alertsRaised, result.lost);
}
