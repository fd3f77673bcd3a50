/**
 * One measurement in a fresh process: the benchmark script runs itself again (same Node, same loader flags, same
 * CPU pinning) with `args`, and prints its result as JSON on the last line of its stdout. Its stderr goes to ours,
 * so a child's progress and failures show; `env` adds to the environment it inherits (a quieter LOG_LEVEL, say).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function runMeasureChild<T>(
  scriptUrl: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): T {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(scriptUrl), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}
