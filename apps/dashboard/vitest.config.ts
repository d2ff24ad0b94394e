import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Opening PGlite takes a second or two per test file (a fresh directory: ~15 s, done once in the global
    // setup); the browser tests start Chromium.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
