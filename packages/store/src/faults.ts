import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KapkitError } from '@kapkit/core';
import { DbFault } from './db.js';
import {
  DiskFullError,
  StoreDamagedError,
  StoreDatabaseError,
  StoreTimeoutError,
  sqlStateOf,
} from './errors.js';

/**
 * SQLSTATEs that mean the data on disk is damaged: XX001 data_corrupted (e.g. "could not read block … read
 * only 0 of 8192 bytes" from a truncated file), XX002 index_corrupted, 58P01 undefined_file (a table's file
 * is missing).
 */
const DAMAGE_STATES = new Set(['XX001', 'XX002', '58P01']);

/** Turn whatever a database call threw into the store's typed error for `operation` at `location`. */
export function toStoreError(operation: string, error: unknown, location: string): KapkitError {
  if (error instanceof KapkitError) return error;
  if (error instanceof DbFault) {
    if (error.kind === 'timeout') {
      return new StoreTimeoutError(operation, error.phase, error.timeoutMs, error.outcome, error.cause);
    }
    return new StoreDatabaseError(operation, error.cause ?? error, {
      connectionLost: true,
      outcome: error.outcome,
    });
  }
  const state = sqlStateOf(error);
  if (state === '53100') return new DiskFullError(location, null, null, error);
  if (state !== undefined && DAMAGE_STATES.has(state)) {
    return new StoreDamagedError(
      location,
      [`${operation} failed: ${error instanceof Error ? error.message : String(error)} (SQLSTATE ${state})`],
      error,
    );
  }
  return new StoreDatabaseError(operation, error);
}

/**
 * PGlite reports a data directory it cannot start on with opaque messages: `Aborted(). Build with
 * -sASSERTIONS for more info.` (damaged WAL) or `PGlite failed to initialize properly` (damaged pg_control or
 * pg_xact, or a directory made by a PGlite with another PostgreSQL major version). Say what they mean.
 */
export function pgliteOpenError(location: string, pgdata: string, error: unknown): KapkitError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC') return new DiskFullError(location, null, null, error);
  if (/Aborted\(\)|failed to initialize/i.test(message) || sqlStateOf(error) !== undefined) {
    let version = '';
    try {
      const file = join(pgdata, 'PG_VERSION');
      version = existsSync(file)
        ? ` (its PG_VERSION file says PostgreSQL ${readFileSync(file, 'utf8').trim().slice(0, 10)}; a directory made by a PGlite of another PostgreSQL major version fails the same way)`
        : ' (its PG_VERSION file is missing)';
    } catch {
      // unreadable: say nothing about the version
    }
    return new StoreDamagedError(
      location,
      [`PGlite cannot start on ${pgdata}: ${message.split('\n')[0]}${version}`],
      error,
    );
  }
  return new StoreDatabaseError(`opening PGlite in ${location}`, error);
}
