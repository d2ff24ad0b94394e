import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventStore, openStore } from '@kapkit/store';
import { inject } from 'vitest';
import { buildLongEpisode } from '../../src/server/demo.js';

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

/**
 * Append a synthetic long episode (`buildLongEpisode`: weekly PHQ-9 and GAD-7, `doses` dosing sessions, ending
 * with a dose on hand) for `ids`, starting `daysAgo` days before `nowMs`.
 */
export async function appendLongEpisode(
  store: EventStore,
  ids: { readonly patientId: string; readonly episodeId: string },
  o: { readonly nowMs: number; readonly daysAgo: number; readonly weeks: number; readonly doses: number },
): Promise<void> {
  await store.append(
    ids.episodeId,
    buildLongEpisode({ ...ids, startMs: o.nowMs - o.daysAgo * 86_400_000, weeks: o.weeks, doses: o.doses }),
    { expectedVersion: 0 },
  );
}

/** Every patient id in the store, once each, in the order of their first event. */
export async function patientIdsOf(store: EventStore): Promise<string[]> {
  const patients = new Set<string>();
  for await (const s of store.streamAll()) patients.add(s.event.patientId);
  return [...patients];
}

/** Record the episodes the store is asked to load from now on, until `restore()`. */
export function recordEpisodeLoads(store: EventStore): { readonly loaded: string[]; restore(): void } {
  const loaded: string[] = [];
  const original = store.loadEpisode.bind(store);
  store.loadEpisode = (id: string) => {
    loaded.push(id);
    return original(id);
  };
  return { loaded, restore: () => (store.loadEpisode = original) };
}
