/**
 * What a bench step sends to: the service as a child process (`forkguard start`), a service that is already
 * running (attach), or the bare receiver. Each is sampled the same way: datagrams received, drops by reason,
 * live sessions, and the process's CPU time and resident memory.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from './free-tcp-port.ts';
import { readProcessStats } from './process-stats.ts';
import { byLabel, parsePrometheusText, sumOf } from './prometheus-text.ts';

const BIN = fileURLToPath(new URL('../../bin/forkguard.js', import.meta.url));
const BARE_CHILD = fileURLToPath(new URL('./bare-receiver-child.ts', import.meta.url));

export interface TargetSample {
  atMs: number;
  received: number;
  drops: Record<string, number>;
  sessions: number | null;
  cpuSeconds: number | null;
  rssBytes: number | null;
}

export interface BenchTarget {
  readonly kind: 'service' | 'attached' | 'bare';
  readonly pid: number | null;
  sample(): Promise<TargetSample>;
  stop(): Promise<void>;
}

async function scrape(base: string): Promise<ReturnType<typeof parsePrometheusText>> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new Error(`${base}/metrics answered ${res.status}`);
  return parsePrometheusText(await res.text());
}

/** A sample from /metrics; CPU and memory from /proc when `pid` is local, else from the process metrics. */
async function sampleService(base: string, pid: number | null): Promise<TargetSample> {
  const samples = await scrape(base);
  const local = pid === null ? null : readProcessStats(pid);
  const cpu =
    sumOf(samples, 'forkguard_process_cpu_user_seconds_total') +
    sumOf(samples, 'forkguard_process_cpu_system_seconds_total');
  const rss = sumOf(samples, 'forkguard_process_resident_memory_bytes');
  return {
    atMs: Date.now(),
    received: sumOf(samples, 'forkguard_rtp_packets_received_total'),
    drops: byLabel(samples, 'forkguard_rtp_packets_dropped_total', 'reason'),
    sessions: sumOf(samples, 'forkguard_sessions_active'),
    cpuSeconds: local?.cpuSeconds ?? (Number.isNaN(cpu) ? null : cpu),
    rssBytes: local?.rssBytes ?? (Number.isNaN(rss) ? null : rss),
  };
}

function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface ServiceChildOptions {
  host: string;
  rtpFirst: number;
  rtpLast: number;
  redisUrl: string;
  queuePrefix: string;
  keyPrefix: string;
  idleMs: number;
  model?: string;
  startTimeoutMs: number;
}

export interface ServiceTarget extends BenchTarget {
  readonly base: string;
  /** The child's last lines of standard error, for error messages. */
  tail(): string;
}

/** `forkguard start` with one worker on the bench's ports and Redis prefixes, healthy before this resolves. */
export async function startServiceChild(options: ServiceChildOptions): Promise<ServiceTarget> {
  const httpPort = await freeTcpPort(options.host, { first: options.rtpFirst, last: options.rtpLast });
  const base = `http://${options.host}:${httpPort}`;
  const args = [
    ...[BIN, 'start', '--workers', '1', '--host', options.host, '--http-port', String(httpPort)],
    ...['--rtp-ports', `${options.rtpFirst}-${options.rtpLast}`, '--strep-port', 'off'],
    ...['--queue-prefix', options.queuePrefix, '--key-prefix', options.keyPrefix],
    ...[
      '--idle-ms',
      String(options.idleMs),
      '--max-sessions',
      String(options.rtpLast - options.rtpFirst + 1),
    ],
    ...(options.model === undefined ? [] : ['--model', options.model]),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, REDIS_URL: options.redisUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const tail = () => stderr.trim().split('\n').slice(-3).join(' | ');
  const target: ServiceTarget = {
    kind: 'service',
    pid: child.pid ?? null,
    base,
    tail,
    sample: () => sampleService(base, child.pid ?? null),
    stop: () => stopChild(child, 20_000),
  };
  const deadline = Date.now() + options.startTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`forkguard start exited ${child.exitCode}: ${tail()}`);
    try {
      if ((await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200)
        return target;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await target.stop();
  throw new Error(`forkguard start not healthy within ${options.startTimeoutMs} ms: ${tail()}`);
}

/** A running service at `base` (http://host:port); `pid` when it runs on this host, for /proc figures. */
export async function attachService(base: string, pid: number | null): Promise<ServiceTarget> {
  const target: ServiceTarget = {
    kind: 'attached',
    pid,
    base,
    tail: () => '',
    sample: () => sampleService(base, pid),
    stop: async () => {},
  };
  await target.sample().catch((err: Error) => {
    throw new Error(`cannot read ${base}/metrics: ${err.message}`);
  });
  return target;
}

/** The counting-only receiver as a child process on the same ports. */
export async function startBareReceiver(host: string, first: number, last: number): Promise<BenchTarget> {
  const child = fork(BARE_CHILD, [host, String(first), String(last)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ ready?: true; error?: string }>((resolve) => {
    child.once('message', (m) => resolve(m as { ready?: true; error?: string }));
    child.once('exit', (code) => resolve({ error: `bare receiver exited ${code}` }));
  });
  if (ready.error !== undefined) {
    await stopChild(child, 2000);
    throw new Error(ready.error);
  }
  const pid = child.pid ?? null;
  return {
    kind: 'bare',
    pid,
    sample: async () => {
      const received = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('bare receiver did not answer')), 5000);
        child.once('message', (m) => {
          clearTimeout(timer);
          resolve((m as { received: number }).received);
        });
        child.send({});
      });
      const stats = pid === null ? null : readProcessStats(pid);
      return {
        atMs: Date.now(),
        received,
        drops: {},
        sessions: null,
        cpuSeconds: stats?.cpuSeconds ?? null,
        rssBytes: stats?.rssBytes ?? null,
      };
    },
    stop: () => {
      child.disconnect();
      return stopChild(child, 2000);
    },
  };
}
