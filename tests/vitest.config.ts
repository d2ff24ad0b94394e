import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Runs beside every package's suite on a 2-core CI machine: documentation programs start Node processes
    // (one opens an embedded PostgreSQL), so timeouts are generous. Nothing here measures time.
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
