import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base';

export default defineConfig(
  libraryBuild({
    entry: ['src/index.ts'],
    // The JSON Schemas shipped as @kapkit/export/schemas/... are generated from the built code.
    onSuccess: 'node scripts/write-schemas.mjs',
  }),
);
