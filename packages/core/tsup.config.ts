import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base';

export default defineConfig(
  libraryBuild({
    entry: ['src/index.ts', 'src/instruments.ts', 'src/read.ts', 'src/time.ts', 'src/vocabularies.ts'],
  }),
);
