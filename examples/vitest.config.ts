import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each example is a fresh Node process; on a loaded 2-core CI machine a chart render takes seconds.
    testTimeout: 120_000,
  },
});
