import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/instruments.ts', 'src/read.ts', 'src/time.ts', 'src/vocabularies.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // One shared chunk for all entries in CommonJS too (tsup splits ESM only by default): without it
  // index.cjs, read.cjs and the other entries each bundle their own KapkitError and instanceof fails across them.
  splitting: true,
  // No source maps in the tarball: the code is not minified, and the maps were larger than the code.
  clean: true,
  target: 'node20',
  treeshake: true,
});
