import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The test kit (@kapkit/testing) depends on @kapkit/core, so core cannot list it as a devDependency (the
    // build graph would have a cycle): core's tests load the kit's source, and the kit's imports of
    // @kapkit/core load core's source, the code under test (tsconfig.json maps the same for the type check).
    alias: [
      {
        find: /^@kapkit\/testing$/,
        replacement: fileURLToPath(new URL('../testing/src/index.ts', import.meta.url)),
      },
      { find: /^@kapkit\/core$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      {
        find: /^@kapkit\/core\/(instruments|read|time|vocabularies)$/,
        replacement: fileURLToPath(new URL('./src/$1.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // `npm test` runs every package's suite side by side on small CI machines (2 cores): generous timeouts
    // keep slow-but-correct tests from failing under load. Speed is measured by `npm run bench`, not here.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
