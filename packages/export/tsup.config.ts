import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  splitting: true,
  clean: true,
  target: 'node20',
  treeshake: true,
  // The JSON Schemas shipped as @kapkit/export/schemas/... are generated from the built code.
  onSuccess: 'node scripts/write-schemas.mjs',
});
