import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../../src/bench-harness/bench-options.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A benchmark script run as a user would, through tsx; every case below exits before it measures anything. */
function runBench(script: string, args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', `bench/${script}`, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
}

const OPTIONS = {
  calls: { description: 'calls', default: '2000' },
  pps: { description: 'datagrams per second' },
  'capacity-only': { description: 'ramp alone', flag: true },
  measure: { description: 'internal', internal: true },
};

describe('parseBenchOptions', () => {
  it('gives defaults, given values, flags and internal options by the name they are typed with', () => {
    const none = parseBenchOptions('x', 'y', OPTIONS, ['node', 'x']);
    expect([none.calls, none.pps, none['capacity-only'], none.measure]).toEqual([
      '2000',
      undefined,
      undefined,
      undefined,
    ]);
    const all = parseBenchOptions('x', 'y', OPTIONS, [
      'node',
      'x',
      '--calls',
      '30',
      '--pps=5000',
      '--capacity-only',
      '--measure',
      'fg',
    ]);
    expect([all.calls, all.pps, all['capacity-only'], all.measure]).toEqual(['30', '5000', 'true', 'fg']);
  });
});

describe('a benchmark script given a bad command line', () => {
  it('names an unknown option in one line and exits 2', () => {
    const { status, stderr } = runBench('ingest-calls.bench.ts', ['--second', '1']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/unknown option '--second'/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('names an option whose value is not a number of the right kind', () => {
    const seconds = runBench('ingest-calls.bench.ts', ['--seconds', 'abc']);
    expect(seconds.status).toBe(2);
    expect(seconds.stderr).toBe("--seconds must be a number > 0, got 'abc'");
    const pairs = runBench('ingest-udp-ab.bench.ts', ['--pairs', '2.5']);
    expect(pairs.status).toBe(2);
    expect(pairs.stderr).toBe("--pairs must be a whole number >= 1, got '2.5'");
    const loss = runBench('ingest-udp-ab.bench.ts', ['--loss', '1']);
    expect(loss.status).toBe(2);
    expect(loss.stderr).toBe("--loss must be a fraction from 0 up to (not including) 1, got '1'");
  });

  it('lists its options with their defaults under --help, not the internal ones, and exits 0', () => {
    const { status, stdout } = runBench('ingest-udp-ab.bench.ts', ['--help']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/--calls <value>.*\(default: "2000"\)/);
    expect(stdout).toMatch(/--base <value>/);
    expect(stdout).not.toMatch(/--measure|--src/);
  });

  it('npm run bench names a benchmark that does not exist', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/run-all.ts', 'ingest-udp', 'nope'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toMatch(/^bench: no benchmark named nope; one of ingest-inprocess, /);
  });
});
