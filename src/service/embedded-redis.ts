import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { logger } from './logger.ts';

export interface RedisHandle {
  url: string;
  /** True when this process started the redis-server and must stop it. */
  embedded: boolean;
  stop(): Promise<void>;
}

/** Thrown when no Redis answers and none can be started: the message is what the operator should do. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/** One PING over a raw socket: answers whether something speaking Redis listens there, without any client setup. */
export function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      // +PONG, or -NOAUTH when a password is required: either way a Redis answers.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

/**
 * With no REDIS_URL, forkguard uses 127.0.0.1:6379 (`url`), and starts a redis-server it owns there when nothing answers,
 * so a fresh machine runs `forkguard start` with no setup. The child runs without persistence (alerts leave Redis
 * for their consumers; leases and dedup keys are short-lived) in its own process group: a Ctrl-C meant for
 * forkguard must not kill Redis before the alerts held in memory are flushed to it. It is stopped at shutdown,
 * and on any process exit as a last resort.
 */
export async function ensureRedis(url: string, isDefault: boolean): Promise<RedisHandle> {
  const external: RedisHandle = { url, embedded: false, stop: async () => {} };
  if (!isDefault) return external;
  const { hostname: host, port: portText } = new URL(url);
  const port = Number(portText || 6379);
  if (await redisAnswers(host, port)) return external;
  const child = await startRedisServer(host, port);
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await redisAnswers(host, port)) {
      logger.info({ pid: child.pid, port }, 'started an embedded redis-server (no REDIS_URL set)');
      return {
        url,
        embedded: true,
        stop: async () => {
          process.off('exit', killOnExit);
          await stopChild(child);
        },
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new RedisUnavailableError(
    `redis-server did not answer on ${host}:${port}; is the port taken? Set REDIS_URL to a running Redis`,
  );
}

function startRedisServer(host: string, port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        host,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], detached: true },
    );
    child.once('spawn', () => resolve(child));
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new RedisUnavailableError(
              `no Redis answers on ${host}:${port} and redis-server is not installed: install it (apt-get install redis-server) or set REDIS_URL`,
            )
          : new RedisUnavailableError(
              `cannot start redis-server: ${err.message}; set REDIS_URL to a running Redis`,
            ),
      );
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
