import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The store's and the dashboard's test set-up (their vitest global-setup.ts) share this module.

declare module 'vitest' {
  export interface ProvidedContext {
    /** An empty, migrated and closed PGlite store directory that tests copy instead of running initdb again. */
    pgliteTemplate: string;
  }
}

/** The newest modification time (ms) of any file under `dir`: is a build older than its sources? */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * A fresh PGlite directory costs an initdb (about 15 s on a 2-core machine), so an empty migrated store is
 * made once by `create(dir)` and copied by each test (about 0.2 s). It is kept across runs in the OS temp
 * dir as `<name>-<hash of keyParts>`: the parts name what the template depends on (the PGlite version, the
 * migrations), so a change to any of them makes a new one.
 */
export async function pgliteTemplate(
  name: string,
  keyParts: readonly (string | Buffer)[],
  create: (dir: string) => Promise<void>,
): Promise<string> {
  const hash = createHash('sha256');
  for (const part of keyParts) hash.update(part);
  const dir = join(tmpdir(), `${name}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(join(dir, 'pgdata', 'PG_VERSION'))) return dir;
  const work = mkdtempSync(join(tmpdir(), `${name}-`));
  await create(work);
  try {
    renameSync(work, dir); // atomic: a half-made template is never used
  } catch {
    rmSync(work, { recursive: true, force: true }); // another run made it meanwhile
  }
  return dir;
}
