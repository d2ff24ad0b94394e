import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '@kapkit/store';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An empty, migrated PGlite store directory that tests copy instead of running initdb again. */
    pgliteTemplate: string;
  }
}

const app = join(dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The browser tests load the built front end. `npm test` builds first (turbo); by hand, build it here. */
async function ensureClientBuilt(): Promise<void> {
  const index = join(app, 'dist', 'client', 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(app, 'src', 'client'))) return;
  const { build } = await import('vite');
  await build({ configFile: join(app, 'vite.config.ts'), logLevel: 'warn' });
}

/**
 * A fresh PGlite directory costs an initdb (about 15 s on a 2-core machine), so an empty migrated store is
 * made once, kept in the OS temp dir keyed by the PGlite and @kapkit/store builds, and copied by each test file.
 */
async function pgliteTemplate(): Promise<string> {
  const require = createRequire(import.meta.url);
  const storeEntry = require.resolve('@kapkit/store');
  const pgliteEntry = createRequire(storeEntry).resolve('@electric-sql/pglite');
  const pglite = readFileSync(join(pgliteEntry.slice(0, pgliteEntry.lastIndexOf('/dist/')), 'package.json'));
  const key = createHash('sha256').update(pglite).update(readFileSync(storeEntry)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `kapkit-dashboard-pglite-template-${key}`);
  if (existsSync(join(dir, 'pgdata', 'PG_VERSION'))) return dir;
  const work = mkdtempSync(join(tmpdir(), 'kapkit-dashboard-pglite-template-'));
  const store = await openStore({ dataDir: work });
  await store.close();
  try {
    renameSync(work, dir); // atomic: a half-made template is never used
  } catch {
    rmSync(work, { recursive: true, force: true }); // another run made it meanwhile
  }
  return dir;
}

export default async function setup(project: TestProject) {
  await ensureClientBuilt();
  project.provide('pgliteTemplate', await pgliteTemplate());
}
