import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Opening PGlite takes about a second (a fresh data directory: ~15 s, done once in the global setup);
    // the reliability tests fork processes and kill them.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Side by side even on 2 cores (vitest's default there is 1 worker): the crash and concurrency files
    // mostly wait on their child processes and on PostgreSQL.
    maxWorkers: 3,
  },
});
