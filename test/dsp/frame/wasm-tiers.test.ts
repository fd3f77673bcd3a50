import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('WebAssembly frame path in each V8 compiler tier', () => {
  it('WasmRealFft and WasmSpectralSums equal their JS forms under the baseline and the optimising compiler', {
    timeout: 120_000,
  }, async () => {
    // Optimised code can differ from baseline code (an in-place form of the sums loop was miscompiled by the
    // optimising tier only); a child process runs each tier alone over thousands of consecutive frames.
    const child = fileURLToPath(new URL('./wasm-tier-child.ts', import.meta.url));
    for (const tier of ['--liftoff-only', '--no-liftoff']) {
      const { stdout } = await run(process.execPath, [tier, '--import', 'tsx', child]);
      const result = JSON.parse(stdout) as { frames: number; differing: number };
      expect(result.frames).toBeGreaterThan(1000);
      expect(result.differing, tier).toBe(0);
    }
  });
});
