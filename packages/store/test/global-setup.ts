import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { openStore } from '../src/open.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PGlite store directory, migrated and closed, that tests copy instead of running initdb again. */
    pgliteTemplate: string;
  }
}

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

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

/**
 * A fresh PGlite directory costs an initdb (~15 s on a 2-core machine), so it is made once and copied per
 * test (~0.2 s). Kept in the OS temp dir across runs, keyed by the PGlite version and the migrations.
 */
async function pgliteTemplate(): Promise<string> {
  const require = createRequire(import.meta.url);
  // The package does not export ./package.json: find it above its entry point.
  const entry = require.resolve('@electric-sql/pglite');
  const pglite = JSON.parse(
    readFileSync(join(entry.slice(0, entry.lastIndexOf('/dist/')), 'package.json'), 'utf8'),
  ) as { version: string };
  const key = createHash('sha256')
    .update(pglite.version)
    .update(readFileSync(join(pkg, 'src', 'schema.ts')))
    .digest('hex')
    .slice(0, 12);
  const dir = join(tmpdir(), `kapkit-store-pglite-template-${key}`);
  if (existsSync(join(dir, 'pgdata', 'PG_VERSION'))) return dir;
  const work = mkdtempSync(join(tmpdir(), 'kapkit-store-pglite-template-'));
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
  ensureBuilt();
  project.provide('pgliteTemplate', await pgliteTemplate());
}
