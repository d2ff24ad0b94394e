import { EPISODE_MACHINE_VERSION, type EpisodeModel } from '@kapkit/core';
import type { Queryable } from './db.js';
import { StoredEventRefusedError } from './errors.js';
import type { CachedState, SnapshotRow } from './rows.js';
import type { Statements } from './statements.js';
import type { LoadedEpisode } from './store-types.js';

/** The read side of an episode: its state at a version, from the cache, the snapshot row and the events. */

/** An episode's state as {@link loadState} rebuilt it, with where it came from. */
export interface LoadedState extends CachedState {
  readonly source: LoadedEpisode['source'];
  readonly replayed: number;
  /** The snapshot row was unusable (another machine version, past `current`, unreadable): rewrite it. */
  readonly snapshotStale: boolean;
}

/** What {@link loadState} reads with. */
export interface LoadContext {
  readonly model: EpisodeModel;
  readonly sql: Statements;
  /** A damage report of the store. */
  readonly damaged: (problems: readonly string[]) => Error;
}

/**
 * The episode state at `current`: the best of this process's cache (`cached`) and the snapshot row (same
 * machine version, not past `current`), then the events after it replayed through the machine.
 * `prefetched`: the snapshot row when the caller read it already (null: there is none); undefined: read it here.
 */
export async function loadState(
  ctx: LoadContext,
  q: Queryable,
  episodeId: string,
  current: number,
  cached: CachedState | undefined,
  prefetched?: SnapshotRow | null,
): Promise<LoadedState> {
  const { model, sql } = ctx;
  let base: CachedState | null = null;
  let source: LoadedEpisode['source'] = 'replay';
  if (cached && cached.version <= current) {
    base = cached;
    source = 'cache';
  }
  let snapshotStale = false;
  let snapshotVersion = cached?.snapshotVersion ?? 0;
  if (!base || base.version < current) {
    const snap =
      prefetched !== undefined ? prefetched : (await q.query<SnapshotRow>(sql.readSnapshot, [episodeId]))[0];
    if (snap) {
      const v = Number(snap.version);
      if (Number(snap.machine_version) !== EPISODE_MACHINE_VERSION || v > current) {
        snapshotStale = true;
        snapshotVersion = 0;
      } else {
        snapshotVersion = v;
        if (v > (base?.version ?? 0)) {
          try {
            const state = model.restore({
              machineVersion: EPISODE_MACHINE_VERSION,
              snapshot: snap.snapshot,
            });
            base = { version: v, state, snapshotVersion: v };
            source = 'snapshot';
          } catch {
            snapshotStale = true; // unreadable snapshot: replay and rewrite it
            snapshotVersion = 0;
          }
        }
      }
    } else {
      snapshotVersion = 0;
    }
  }
  let state = base?.state ?? model.initial;
  let version = base?.version ?? 0;
  if (version === 0) source = 'replay';
  let replayed = 0;
  if (version < current) {
    const rows = await q.query<{ version: unknown; payload: unknown }>(sql.readTail, [
      episodeId,
      version,
      current,
    ]);
    if (rows.length !== current - version) {
      throw ctx.damaged([
        `episode "${episodeId}" is at version ${current}, but ${rows.length} of its events ${version + 1}..${current} can be read`,
      ]);
    }
    for (const row of rows) {
      const d = model.decide(state, row.payload);
      if (!d.ok) throw new StoredEventRefusedError(episodeId, Number(row.version), d.refusal);
      state = d.state;
      version = Number(row.version);
      replayed++;
    }
  }
  return { state, version, snapshotVersion, source, replayed, snapshotStale };
}
