import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { newestMtime, pgliteTemplate } from '../../../test-support/pglite-template.js';
import { openStore } from '../src/open.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The reliability tests fork child processes that import the built package (dist/). `npm test` builds
 * first (turbo); when vitest is run by hand, rebuild here if dist is missing or older than src.
 */
function ensureBuilt(): void {
  const dist = join(pkg, 'dist', 'index.js');
  if (existsSync(dist) && statSync(dist).mtimeMs >= newestMtime(join(pkg, 'src'))) return;
  const require = createRequire(import.meta.url);
  const tsup = join(dirname(require.resolve('tsup/package.json')), 'dist', 'cli-default.js');
  try {
    execFileSync(process.execPath, [tsup], { cwd: pkg, stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`Building @kapkit/store for the tests failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** The empty store template, keyed by the PGlite version and the migrations (src/schema.ts). */
function storeTemplate(): Promise<string> {
  const require = createRequire(import.meta.url);
  // The package does not export ./package.json: find it above its entry point.
  const entry = require.resolve('@electric-sql/pglite');
  const pglite = JSON.parse(
    readFileSync(join(entry.slice(0, entry.lastIndexOf('/dist/')), 'package.json'), 'utf8'),
  ) as { version: string };
  const schema = readFileSync(join(pkg, 'src', 'schema.ts'));
  return pgliteTemplate('kapkit-store-pglite-template', [pglite.version, schema], async (dir) => {
    const store = await openStore({ dataDir: dir });
    await store.close();
  });
}

export default async function setup(project: TestProject) {
  ensureBuilt();
  project.provide('pgliteTemplate', await storeTemplate());
}
