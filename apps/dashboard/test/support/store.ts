import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventStore, openStore } from '@kapkit/store';
import { inject } from 'vitest';

/** A PGlite store in a fresh temp directory (a copy of the migrated template), and how to remove it. */
export async function openTempStore(): Promise<{ store: EventStore; dir: string; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kapkit-dashboard-test-'));
  cpSync(inject('pgliteTemplate'), dir, { recursive: true });
  const store = await openStore({ dataDir: dir });
  return {
    store,
    dir,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
