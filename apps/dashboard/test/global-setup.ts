import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '@kapkit/store';
import type { TestProject } from 'vitest/node';
import { newestMtime, pgliteTemplate } from '../../../test-support/pglite-template.js';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The browser tests load the built front end. `npm test` builds first (turbo); by hand, build it here. */
async function ensureClientBuilt(): Promise<void> {
  const index = join(app, 'dist', 'client', 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(app, 'src', 'client'))) return;
  const { build } = await import('vite');
  await build({ configFile: join(app, 'vite.config.ts'), logLevel: 'warn' });
}

/** The empty store template, keyed by the PGlite and @kapkit/store builds. */
function storeTemplate(): Promise<string> {
  const require = createRequire(import.meta.url);
  const storeEntry = require.resolve('@kapkit/store');
  const pgliteEntry = createRequire(storeEntry).resolve('@electric-sql/pglite');
  const pglite = readFileSync(join(pgliteEntry.slice(0, pgliteEntry.lastIndexOf('/dist/')), 'package.json'));
  return pgliteTemplate(
    'kapkit-dashboard-pglite-template',
    [pglite, readFileSync(storeEntry)],
    async (dir) => {
      const store = await openStore({ dataDir: dir });
      await store.close();
    },
  );
}

export default async function setup(project: TestProject) {
  await ensureClientBuilt();
  project.provide('pgliteTemplate', await storeTemplate());
}
