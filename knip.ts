import type { KnipConfig } from 'knip';

/**
 * knip (https://knip.dev) finds unused files, dependencies and exports; `npm test` runs it after the lint.
 *
 * What a package's `exports` map points to (`src/index.ts`, `src/read.ts`, …) is public API: knip does not
 * report its exports (its default). Exports of every other module must be used by another module, or lose
 * their `export`. The entries below are files knip cannot find on its own: programs that another program
 * starts (`node file.mjs`), and fixtures a test spawns.
 */
const config: KnipConfig = {
  workspaces: {
    '.': {
      entry: ['scripts/**/*.mjs'],
      // The types of test-support/prng.mjs (shared by the tests, in TypeScript, and the benchmarks, in plain
      // JavaScript): TypeScript reads them beside the module; knip does not pair them.
      ignore: ['test-support/prng.d.mts'],
    },
    'packages/core': {
      // Core's tests load the test kit from its source (see packages/core/vitest.config.ts): the kit depends
      // on core, so core cannot list it as a devDependency without a cycle in the build graph.
      ignoreDependencies: ['@kapkit/testing'],
    },
    examples: {
      // Each example is a program the examples test runs with `node`.
      entry: ['*.mjs'],
    },
    'packages/export': {
      // run-one.mjs is started by the export benchmark; write-schemas.mjs by tsup's onSuccess.
      entry: ['bench/*.mjs', 'scripts/*.mjs'],
    },
    'packages/store': {
      // Child processes of the crash, disk and concurrency tests.
      entry: ['test/fixtures/*.mjs'],
      // The disk test mounts a small tmpfs when it runs as root on Linux (and says why it skips otherwise).
      ignoreBinaries: ['mount', 'umount'],
    },
    tests: {
      // The docs test compiles and runs the TypeScript blocks of every README and doc against these packages
      // (their imports live in Markdown), and the registry test starts verdaccio's bin by path.
      ignoreDependencies: [
        '@kapkit/analytics',
        '@kapkit/charts',
        '@kapkit/core',
        '@kapkit/export',
        '@kapkit/store',
        '@kapkit/testing',
        '@napi-rs/canvas',
        'chart.js',
        'chartjs-adapter-date-fns',
        'chartjs-plugin-annotation',
        'date-fns',
        'kapkit',
        'verdaccio',
      ],
    },
  },
};

export default config;
