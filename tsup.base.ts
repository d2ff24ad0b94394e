import type { Options } from 'tsup';

/**
 * The build every kapkit library package shares: ESM and CommonJS side by side, each with its type
 * declarations (.d.ts and .d.cts), for Node 20. A package's tsup.config.ts names its entries and anything
 * of its own, e.g. `defineConfig(libraryBuild({ entry: ['src/index.ts'] }))`.
 */
export function libraryBuild(options: Options): Options {
  return {
    format: ['esm', 'cjs'],
    dts: true,
    // One shared chunk for all entries in CommonJS too (tsup splits ESM only by default): without it a
    // package with two entries (core's index.cjs and read.cjs) bundles its KapkitError twice and instanceof
    // fails across them.
    splitting: true,
    // No source maps in the tarball: the code is not minified, and the maps were larger than the code.
    clean: true,
    target: 'node20',
    treeshake: true,
    ...options,
  };
}
