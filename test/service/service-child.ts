import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type Alert, alertSchema } from '../../src/alert/alert.ts';
import { freeTcpPort } from '../../src/bench-harness/free-tcp-port.ts';
import { deleteKeys } from '../alert/redis-child.ts';
import { writeTinyModel } from './tiny-model.ts';

const BIN = fileURLToPath(new URL('../../bin/forkguard.js', import.meta.url));

/** `forkguard start` as a child process, its JSON log lines collected from standard error. */
export class ServiceChild {
  readonly logs: Record<string, unknown>[] = [];
  stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line));
        } catch {
          // not a log line (e.g. the CLI's one-line error)
        }
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(args: string[], env: Record<string, string>): ServiceChild {
    const child = spawn(process.execPath, [BIN, 'start', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return new ServiceChild(child);
  }

  logsWith(msg: string): Record<string, unknown>[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  /** Polls GET /healthz until it answers 200; throws with the child's output if it exits or takes too long. */
  async waitHealthy(base: string, timeoutMs = 40_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`service exited ${this.child.exitCode}:\n${this.stderr}`);
      try {
        const res = await fetch(`${base}/healthz`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`service not healthy within ${timeoutMs} ms:\n${this.stderr}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export interface TestServiceOptions {
  /** Unique to the test file: names the BullMQ prefix and forkguard's key prefix. */
  name: string;
  /** Below 32768, outside the OS's ephemeral range, so no socket another test opens on port 0 can hold one. */
  rtpFirst: number;
  rtpLast: number;
  args?: string[];
  env?: Record<string, string>;
}

/**
 * The setup the service tests share: a tiny real model in a temp folder, a free HTTP port, the child started on
 * the test's own ports and Redis prefixes with debug logs, healthy before the test begins; `cleanup` removes it
 * all (queues and keys under the prefixes included).
 */
export class TestService {
  readonly queuePrefix: string;
  readonly keyPrefix: string;
  readonly redis = new Redis('redis://127.0.0.1:6379');
  readonly alertQueue: Queue;
  child: ServiceChild | null = null;
  base = '';
  private readonly dir = mkdtempSync(join(tmpdir(), 'fg-service-'));

  constructor(readonly options: TestServiceOptions) {
    this.queuePrefix = `fgtest-${options.name}-${process.pid}`;
    this.keyPrefix = `${this.queuePrefix}:`;
    this.alertQueue = new Queue('forkguard-alerts', { connection: this.redis, prefix: this.queuePrefix });
  }

  async start(): Promise<ServiceChild> {
    const manifest = writeTinyModel(this.dir);
    const { rtpFirst, rtpLast } = this.options;
    const httpPort = await freeTcpPort('127.0.0.1', { first: rtpFirst, last: rtpLast });
    this.base = `http://127.0.0.1:${httpPort}`;
    this.child = ServiceChild.start(
      [
        ...['--rtp-ports', `${rtpFirst}-${rtpLast}`, '--http-port', String(httpPort), '--model', manifest],
        ...['--queue-prefix', this.queuePrefix, '--key-prefix', this.keyPrefix, '--idle-ms', '60000'],
        ...(this.options.args ?? []),
      ],
      { REDIS_URL: 'redis://127.0.0.1:6379', LOG_LEVEL: 'debug', ...this.options.env },
    );
    await this.child.waitHealthy(this.base);
    return this.child;
  }

  /** Alert jobs in Redis, validated against the alert schema. */
  async alerts(): Promise<Alert[]> {
    const jobs = await this.alertQueue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    return jobs.map((j) => alertSchema.parse(j.data));
  }

  async cleanup(): Promise<void> {
    await this.child?.stop('SIGKILL');
    await this.alertQueue.close();
    await deleteKeys(this.redis, `${this.queuePrefix}:*`);
    this.redis.disconnect();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
