import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // UDP ports and Redis keys are shared machine resources: files run in parallel but each test file picks
    // its own ports and key prefixes.
    pool: 'forks',
  },
});
