import { defineConfig } from 'tsup';

// The server: an application, not a library (no type declarations). Dependencies stay external.
export default defineConfig({
  entry: { index: 'src/server/index.ts', main: 'src/server/main.ts' },
  outDir: 'dist/server',
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
