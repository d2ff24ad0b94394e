import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createEpisodeModel, type EpisodeModel, KapkitError } from '@kapkit/core';
import { type Db, openPgliteDb, openPostgresDb, pgliteDb } from './db.js';
import { StoreConfigError, StoreDatabaseError } from './errors.js';
import { acquireDirectoryLock, type DirectoryLock } from './lock.js';
import { migrate, tablesIn } from './schema.js';
import { type EventStore, SqlEventStore } from './store.js';

/** Where PGlite keeps the store when neither `url`, `dataDir` nor `DATABASE_URL` says otherwise. */
export const DEFAULT_DATA_DIR = '.data/kapkit';
/** Largest event accepted by default: 64 KiB of JSON (kapkit default, configurable). */
export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;

export interface OpenStoreOptions {
  /**
   * A PostgreSQL connection URL (`postgres://user:password@host:5432/db`). Default: `DATABASE_URL` from the
   * environment, unless `dataDir` is given.
   */
  readonly url?: string;
  /**
   * The PGlite data directory (created if missing; default `.data/kapkit`, relative to the working
   * directory). PGlite's own files go in its `pgdata/` folder; `kapkit.lock` marks the writer process.
   */
  readonly dataDir?: string;
  /**
   * A PGlite instance you opened yourself (e.g. in memory for an application's tests: `new PGlite()`). The
   * store uses it as it is: no lock file (keeping one process on its directory is up to you), and `close()`
   * leaves the instance open.
   */
  readonly pglite?: PGlite;
  /** PostgreSQL schema for the store's tables (default `public`; created if missing). */
  readonly schema?: string;
  /** The episode model that checks every event (default `createEpisodeModel()`: built-in instruments). */
  readonly model?: EpisodeModel;
  /** Largest event accepted, in bytes of JSON (default 64 KiB). */
  readonly maxEventBytes?: number;
  /** Write an episode's snapshot after this many new events (default 25). */
  readonly snapshotEvery?: number;
  /** Episode states kept in memory by this process (default 256; 0 turns the cache off). */
  readonly stateCacheSize?: number;
  /** PostgreSQL: connections in the pool (default 10). */
  readonly poolSize?: number;
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new StoreConfigError(`${name} must be an integer ≥ ${min}, got ${String(value)}.`);
  }
  return value;
}

/** The URL without its password, for messages and `store.location`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

/**
 * Open the event store: PostgreSQL when `url` (or `DATABASE_URL`) is set, otherwise embedded PGlite in
 * `dataDir` (default `.data/kapkit`). Creates or upgrades the tables (versioned migrations, in a
 * transaction) and, for PGlite, takes the data directory's writer lock.
 *
 * @throws {StoreLockedError} PGlite: another live process (or an open store in this process) holds the
 *   data directory.
 * @throws {SchemaTooNewError} the store was made by a newer kapkit; it is left untouched.
 * @throws {StoreConfigError} inconsistent options.
 * @throws {StoreDatabaseError} the database could not be opened or reached.
 *
 * @example
 * ```ts
 * const store = await openStore({ dataDir: '.data/kapkit' }); // or openStore({ url: process.env.DATABASE_URL })
 * const { version } = await store.loadEpisode('ep-1');
 * await store.append('ep-1', [event], { expectedVersion: version });
 * await store.close();
 * ```
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<EventStore> {
  const given = (['url', 'dataDir', 'pglite'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1) {
    throw new StoreConfigError(
      `Pass one of url (PostgreSQL), dataDir or pglite (PGlite), not ${given.join(' and ')}.`,
    );
  }
  const url = options.url ?? (given.length === 0 ? process.env.DATABASE_URL || undefined : undefined);
  const tables = tablesIn(options.schema ?? 'public');
  const settings = {
    model: options.model ?? createEpisodeModel(),
    maxEventBytes: positiveInt('maxEventBytes', options.maxEventBytes, DEFAULT_MAX_EVENT_BYTES),
    snapshotEvery: positiveInt('snapshotEvery', options.snapshotEvery, 25),
    stateCacheSize: positiveInt('stateCacheSize', options.stateCacheSize, 256, 0),
  };
  let lock: DirectoryLock | null = null;
  let db: Db | null = null;
  let location: string;
  try {
    if (options.pglite !== undefined) {
      location = options.pglite.dataDir ?? 'memory://';
      db = pgliteDb(options.pglite, false);
    } else if (url !== undefined) {
      if (!/^postgres(ql)?:\/\//.test(url)) {
        throw new StoreConfigError(`The database URL must start with postgres:// or postgresql://.`);
      }
      location = redactUrl(url);
      db = await openPostgresDb(url, { max: positiveInt('poolSize', options.poolSize, 10) }).catch(
        (error: unknown) => {
          throw new StoreDatabaseError(`connecting to ${location}`, error);
        },
      );
    } else {
      location = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
      lock = acquireDirectoryLock(location);
      db = await openPgliteDb(resolve(location, 'pgdata')).catch((error: unknown) => {
        throw new StoreDatabaseError(`opening PGlite in ${location}`, error);
      });
    }
    await migrate(db, tables).catch((error: unknown) => {
      if (error instanceof KapkitError) throw error;
      throw new StoreDatabaseError('migrating the schema', error);
    });
    return new SqlEventStore(db, tables, settings, location, lock);
  } catch (error) {
    await db?.close().catch(() => {});
    lock?.release();
    throw error;
  }
}
