import { existsSync, statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createEpisodeModel, type EpisodeModel } from '@kapkit/core';
import { type Db, openPgliteDb, openPostgresDb, type PostgresSettings, pgliteDb } from './db.js';
import { DiskFullError, StoreConfigError } from './errors.js';
import { pgliteOpenError, toStoreError } from './faults.js';
import { acquireDirectoryLock, type DirectoryLock } from './lock.js';
import { migrate, readSchemaVersion, tablesIn } from './schema.js';
import { SqlEventStore } from './store.js';
import type { EventStore } from './store-types.js';

/** Where PGlite keeps the store when neither `url`, `dataDir` nor `DATABASE_URL` says otherwise. */
export const DEFAULT_DATA_DIR = '.data/kapkit';
/** Largest event accepted by default: 64 KiB of JSON (kapkit default, configurable). */
export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;
/**
 * PGlite writes only while the data directory's file system has this much free (kapkit default,
 * configurable): 64 MiB, four times a 16 MB WAL segment, the file PGlite was seen to hang on when the disk
 * filled while it was creating one.
 */
export const DEFAULT_MIN_FREE_DISK_BYTES = 64 * 1024 * 1024;
/** Default limits (kapkit defaults, configurable), in milliseconds. */
export const DEFAULT_TIMEOUTS = {
  /** Getting a PostgreSQL connection: TCP connect and start-up, or waiting for a free pooled one. */
  connectTimeoutMs: 10_000,
  /** One SQL statement on PostgreSQL (client-side deadline and the server's `statement_timeout`). */
  statementTimeoutMs: 30_000,
  /** TCP keep-alive probes start after a connection has been idle this long. */
  keepAliveInitialDelayMs: 10_000,
  /** `close()`: operations in progress and closing the database together. */
  closeTimeoutMs: 10_000,
} as const;

export interface OpenStoreOptions {
  /**
   * A PostgreSQL connection URL (`postgres://user:password@host:5432/db`). Default: `DATABASE_URL` from the
   * environment, unless `dataDir` is given. Its standard parameters `connect_timeout` (seconds),
   * `statement_timeout` (milliseconds, or with a unit: `5s`), `options=-c statement_timeout=…`, `keepalives`
   * (0 or 1) and `keepalives_idle` (seconds) set the limits below when the option itself is not given.
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
  /**
   * Write an episode's snapshot once this many new events came after the last one, and at least as many as
   * it covered (default 100: snapshots at 100, 200, 400, … events). A snapshot is a cache that grows with the
   * episode, so writing it costs more than replaying the events since the last one; see docs/benchmarks.md.
   */
  readonly snapshotEvery?: number;
  /** Episode states kept in memory by this process (default 256; 0 turns the cache off). */
  readonly stateCacheSize?: number;
  /** PostgreSQL: connections in the pool (default 10). */
  readonly poolSize?: number;
  /**
   * PostgreSQL: the longest wait for a connection (TCP connect and start-up, or a free pooled connection),
   * in ms (default 10,000; 0: no limit). URL: `connect_timeout` in seconds.
   */
  readonly connectTimeoutMs?: number;
  /**
   * PostgreSQL: the longest any one SQL statement may take, in ms (default 30,000; 0: no limit). Enforced by
   * the server (`statement_timeout`) and by the store itself, so a frozen server or a dead network gives
   * `StoreTimeoutError` too. URL: `statement_timeout`, or `options=-c statement_timeout=…`.
   */
  readonly statementTimeoutMs?: number;
  /** PostgreSQL: TCP keep-alive on the connections (default true). URL: `keepalives=0|1`. */
  readonly keepAlive?: boolean;
  /** PostgreSQL: idle time before the first keep-alive probe, in ms (default 10,000). URL: `keepalives_idle` in seconds. */
  readonly keepAliveInitialDelayMs?: number;
  /** The longest `close()` waits for operations in progress and for the database to close, in ms (default 10,000; 0: no limit). */
  readonly closeTimeoutMs?: number;
  /**
   * PGlite on a directory: refuse to open or write (`DiskFullError`, code `disk-full`) while its file system
   * has less free space than this, in bytes (default 64 MiB; 0 turns the check off).
   */
  readonly minFreeDiskBytes?: number;
  /**
   * How free space is measured (default: `fs.statfs`, the bytes available to this user). Replace it for a
   * file system where statfs does not tell the truth, or to simulate a full disk in tests.
   */
  readonly freeDiskBytes?: (directory: string) => Promise<number>;
  /**
   * Check on open that the events table holds every event the store recorded committing (one pass over the
   * table, no event parsed), and refuse a damaged store with `StoreDamagedError`. Default: true for PGlite,
   * false for PostgreSQL (whose server has its own checksums, WAL and backups).
   */
  readonly checkOnOpen?: boolean;
  /**
   * Create the store when the directory (or the PostgreSQL schema) holds none (default true). False: refuse
   * with `StoreConfigError` instead, e.g. for a tool that must not create a store where a path was mistyped.
   */
  readonly createIfMissing?: boolean;
  /**
   * The store's clock, epoch ms (default `Date.now`). Every appended event is checked against it: an event
   * dated (or recorded) later than it by more than the policy's clock tolerance is refused as `future-event`.
   */
  readonly clock?: () => number;
}

/** How `checkStore` opens a store. */
export interface InternalOpenOptions {
  /** PGlite on a directory: load PostgreSQL's amcheck extension. */
  readonly amcheck?: boolean;
}

function integer(name: string, value: number | undefined, fallback: number, min = 1): number {
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

const UNIT_MS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A PostgreSQL duration setting (`30000`, `30s`, `1min`; a bare number is milliseconds) in ms. */
function durationMs(name: string, text: string): number {
  const m = /^\s*(\d+)\s*(us|ms|s|min|h|d)?\s*$/.exec(text);
  if (!m) {
    throw new StoreConfigError(
      `The database URL's ${name} must be a whole number of milliseconds or have a unit (ms, s, min, h), got "${text}".`,
    );
  }
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
}

function seconds(name: string, text: string): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new StoreConfigError(
      `The database URL's ${name} must be a whole number of seconds, got "${text}".`,
    );
  }
  return Number(text) * 1000;
}

/**
 * The PostgreSQL connection settings from `openStore`'s options, the URL's standard parameters and the
 * defaults, in that order of precedence. The parameters the store applies itself are taken out of the URL
 * (node-postgres would otherwise read `statement_timeout=5s` as 5 ms, and ignores `connect_timeout` and
 * `keepalives`).
 */
export function postgresSettings(url: string, options: OpenStoreOptions = {}): PostgresSettings {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null; // node-postgres has its own fallbacks for unusual URLs: pass it on untouched
  }
  const params = parsed?.searchParams;
  const take = (name: string): string | undefined => {
    const value = params?.get(name) ?? undefined;
    params?.delete(name);
    return value;
  };
  const connect = take('connect_timeout');
  const statement = take('statement_timeout');
  const keepalives = take('keepalives');
  const keepalivesIdle = take('keepalives_idle');
  // `options=-c statement_timeout=…` (libpq style) or `--statement_timeout=…`: the server applies it as
  // it is; the store reads it for its own deadline.
  const fromOptions = /(?:^|\s)(?:-c\s*|--)statement_timeout=(\S+)/.exec(params?.get('options') ?? '')?.[1];
  let statementMs: number = DEFAULT_TIMEOUTS.statementTimeoutMs;
  if (statement !== undefined) statementMs = durationMs('statement_timeout', statement);
  else if (fromOptions !== undefined) statementMs = durationMs('options statement_timeout', fromOptions);
  if (keepalives !== undefined && !/^[01]$/.test(keepalives.trim())) {
    throw new StoreConfigError(`The database URL's keepalives must be 0 or 1, got "${keepalives}".`);
  }
  const removed = [connect, statement, keepalives, keepalivesIdle].some((v) => v !== undefined);
  return {
    url: removed && parsed ? parsed.toString() : url,
    max: integer('poolSize', options.poolSize, 10),
    connectTimeoutMs: integer(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      connect !== undefined ? seconds('connect_timeout', connect) : DEFAULT_TIMEOUTS.connectTimeoutMs,
      0,
    ),
    statementTimeoutMs: integer('statementTimeoutMs', options.statementTimeoutMs, statementMs, 0),
    keepAlive: options.keepAlive ?? (keepalives !== undefined ? keepalives.trim() === '1' : true),
    keepAliveInitialDelayMs: integer(
      'keepAliveInitialDelayMs',
      options.keepAliveInitialDelayMs,
      keepalivesIdle !== undefined
        ? seconds('keepalives_idle', keepalivesIdle)
        : DEFAULT_TIMEOUTS.keepAliveInitialDelayMs,
      0,
    ),
    urlSetsIdleInTransaction:
      params?.has('idle_in_transaction_session_timeout') === true ||
      /idle_in_transaction_session_timeout=/.test(params?.get('options') ?? ''),
  };
}

/**
 * Free bytes available to this process on the file system holding `directory` (`fs.statfs`). Synchronous on
 * purpose: one statfs call takes about 0.3 ms, while the asynchronous one queues behind libuv's thread pool,
 * which PGlite keeps busy right after it starts (the first call was measured at 450 ms).
 */
async function statfsFreeBytes(directory: string): Promise<number> {
  const s = statfsSync(directory);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * Open the event store: PostgreSQL when `url` (or `DATABASE_URL`) is set, otherwise embedded PGlite in
 * `dataDir` (default `.data/kapkit`). Creates or upgrades the tables (versioned migrations, in a
 * transaction) and, for PGlite, takes the data directory's writer lock and checks that the events table
 * holds every event committed.
 *
 * @throws {StoreLockedError} PGlite: another live process (or an open store in this process) holds the
 *   data directory.
 * @throws {SchemaTooNewError} the store was made by a newer kapkit; it is left untouched.
 * @throws {StoreDamagedError} PGlite: the data directory is damaged (restore it from a backup).
 * @throws {DiskFullError} PGlite: the data directory's file system is short of free space.
 * @throws {StoreTimeoutError} PostgreSQL: no connection within `connectTimeoutMs`, or no answer.
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
export function openStore(options: OpenStoreOptions = {}): Promise<EventStore> {
  return openStoreWith(options);
}

/** `openStore` for tools: see {@link InternalOpenOptions}. */
export async function openStoreWith(
  options: OpenStoreOptions,
  internal: InternalOpenOptions = {},
): Promise<SqlEventStore> {
  const given = (['url', 'dataDir', 'pglite'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1) {
    throw new StoreConfigError(
      `Pass one of url (PostgreSQL), dataDir or pglite (PGlite), not ${given.join(' and ')}.`,
    );
  }
  const url = options.url ?? (given.length === 0 ? process.env.DATABASE_URL || undefined : undefined);
  const tables = tablesIn(options.schema ?? 'public');
  const minFreeDiskBytes = integer(
    'minFreeDiskBytes',
    options.minFreeDiskBytes,
    DEFAULT_MIN_FREE_DISK_BYTES,
    0,
  );
  const freeDiskBytes = options.freeDiskBytes ?? statfsFreeBytes;
  const base = {
    model: options.model ?? createEpisodeModel(),
    maxEventBytes: integer('maxEventBytes', options.maxEventBytes, DEFAULT_MAX_EVENT_BYTES),
    snapshotEvery: integer('snapshotEvery', options.snapshotEvery, 100),
    stateCacheSize: integer('stateCacheSize', options.stateCacheSize, 256, 0),
    closeTimeoutMs: integer('closeTimeoutMs', options.closeTimeoutMs, DEFAULT_TIMEOUTS.closeTimeoutMs, 0),
    minFreeDiskBytes,
    freeDiskBytes,
    clock: options.clock ?? Date.now,
  };
  let lock: DirectoryLock | null = null;
  let db: Db | null = null;
  let location = '';
  let diskDir: string | null = null;
  try {
    if (options.pglite !== undefined) {
      location = options.pglite.dataDir ?? 'memory://';
      // An instance on a plain directory is checked for disk space too; memory:// and idb:// are not.
      diskDir = /^[a-z]+:\/\//i.test(location) ? null : resolve(location);
      db = pgliteDb(options.pglite, false);
    } else if (url !== undefined) {
      if (!/^postgres(ql)?:\/\//.test(url)) {
        throw new StoreConfigError(`The database URL must start with postgres:// or postgresql://.`);
      }
      location = redactUrl(url);
      const settings = postgresSettings(url, options);
      db = await openPostgresDb(settings).catch((error: unknown) => {
        throw toStoreError(`connecting to ${location}`, error, location);
      });
    } else {
      location = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
      const pgdata = resolve(location, 'pgdata');
      if (options.createIfMissing === false && !existsSync(resolve(pgdata, 'PG_VERSION'))) {
        throw new StoreConfigError(`There is no kapkit store in "${location}" (no pgdata/PG_VERSION).`);
      }
      lock = acquireDirectoryLock(location);
      diskDir = location;
      if (minFreeDiskBytes > 0) {
        const free = await freeDiskBytes(location);
        if (free < minFreeDiskBytes) throw new DiskFullError(location, free, minFreeDiskBytes);
      }
      db = await openPgliteDb(pgdata, { amcheck: internal.amcheck }).catch((error: unknown) => {
        throw pgliteOpenError(location, pgdata, error);
      });
    }
    const opened = db;
    const where = location;
    await (async () => {
      if (options.createIfMissing === false && (await readSchemaVersion(opened, tables)) === 0) {
        throw new StoreConfigError(`There is no kapkit store in schema "${tables.schema}" of ${where}.`);
      }
      await migrate(opened, tables);
    })().catch((error: unknown) => {
      const typed = toStoreError('opening the store (reading and migrating the schema)', error, where);
      // PGlite started but cannot read its own catalog or tables: the directory is damaged.
      if (
        opened.engine === 'pglite' &&
        options.pglite === undefined &&
        typed.code === 'database-error' &&
        !(error instanceof StoreConfigError)
      ) {
        throw pgliteOpenError(where, resolve(where, 'pgdata'), error);
      }
      throw typed;
    });
    const store = new SqlEventStore(db, tables, { ...base, diskDir }, location, lock);
    if (options.checkOnOpen ?? db.engine === 'pglite') await store.verify();
    return store;
  } catch (error) {
    await db?.close(2000).catch(() => {});
    lock?.release();
    throw error;
  }
}
