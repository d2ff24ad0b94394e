import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['registry/**/*.test.ts'],
    // npm installs from a local registry on a busy 2-core machine: generous limits, nothing timed.
    testTimeout: 600_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
