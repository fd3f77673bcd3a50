import { type ChildProcess, spawn } from 'node:child_process';
import { freeTcpPort } from '../../src/bench-harness/free-tcp-port.ts';

/** A throwaway redis-server the test owns, so it can kill and restart Redis without touching the shared one. */
export class RedisChild {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisChild> {
    const redis = new RedisChild(await freeTcpPort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on the same port again (after `kill`), and waits until it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('Ready to accept connections')) {
          child.stdout?.off('data', onData);
          child.stdout?.resume();
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited with ${code}: ${seen.slice(-300)}`)),
      );
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = null;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** Deletes the keys a test file created under its own prefix. */
export async function deleteKeys(
  redis: { keys(p: string): Promise<string[]>; del(...k: string[]): Promise<number> },
  pattern: string,
): Promise<void> {
  const keys = await redis.keys(pattern);
  if (keys.length > 0) await redis.del(...keys);
}
