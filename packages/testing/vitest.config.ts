import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // `npm test` runs every package's suite side by side on small CI machines (2 cores): generous timeouts
    // keep slow-but-correct tests from failing under load. Speed is measured by `npm run bench`, not here.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
