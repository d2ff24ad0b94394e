import { type EpisodeState, KapkitError, parseEvent } from '@kapkit/core';
import type { Queryable } from './db.js';
import { toStoreError } from './faults.js';
import { PositionCheck, quickCheck } from './integrity.js';
import { type OpenStoreOptions, openStoreWith } from './open.js';
import { readSchemaVersion, SCHEMA_VERSION, type Tables } from './schema.js';
import { SqlEventStore } from './store.js';
import type { EventStore } from './store-types.js';

/** What part of the full check found a problem. */
export type StoreCheckArea =
  /** The schema version or the store's tables. */
  | 'schema'
  /** The events table against the committed-event count and last position the store recorded. */
  | 'counts'
  /** Positions: a gap, or the events stop before the last position recorded. */
  | 'positions'
  /** An episode's versions are not 1, 2, 3, … */
  | 'versions'
  /** A stored event does not parse as an episode event, or disagrees with its row. */
  | 'event'
  /** The episode machine refuses a stored event when the episode is replayed. */
  | 'replay'
  /** Reading the events failed part way (a damaged file). */
  | 'read'
  /** PostgreSQL's amcheck found a damaged index or table page. */
  | 'amcheck';

/** One problem found by {@link checkStore}: positions, versions, ids and codes, never event contents. */
export interface StoreCheckProblem {
  readonly area: StoreCheckArea;
  readonly message: string;
  readonly position?: number;
  readonly episodeId?: string;
  readonly version?: number;
}

/** The result of {@link checkStore}. */
export interface StoreCheckReport {
  /** True when no problem was found (amcheck unavailable does not count as a problem). */
  readonly ok: boolean;
  readonly engine: 'pglite' | 'postgres';
  readonly location: string;
  readonly schema: string;
  readonly schemaVersion: number;
  /** Events read and checked. */
  readonly events: number;
  readonly episodes: number;
  /** The last position the store recorded handing out. */
  readonly lastPosition: number;
  /**
   * PostgreSQL's amcheck (`bt_index_check` with `heapallindexed` on every index of the store's tables, and
   * `verify_heapam` on its tables): `passed`, `failed` (see the problems), or `unavailable` with the reason
   * (the extension is not installed on the server, or may not be created by this user).
   */
  readonly amcheck: { readonly status: 'passed' | 'failed' | 'unavailable'; readonly detail: string };
  /** The problems found, at most `maxProblems`. */
  readonly problems: readonly StoreCheckProblem[];
  /** Problems found beyond `maxProblems` and left out. */
  readonly problemsOmitted: number;
}

export interface CheckStoreOptions {
  /** Run PostgreSQL's amcheck where it is available (default true). */
  readonly amcheck?: boolean;
  /** Keep at most this many problems in the report (default 100). */
  readonly maxProblems?: number;
  /** Events read per query (default 1000). */
  readonly batchSize?: number;
}

interface Row {
  position: unknown;
  episode_id: string;
  version: unknown;
  event_id: string;
  patient_id: string;
  type: string;
  payload: unknown;
}

class Rollback extends Error {}

/**
 * The full check of a store (what `kapkit store check` runs): the schema; the events table against what the
 * store recorded committing; then every event, in one consistent snapshot and in position order: positions
 * contiguous, each episode's versions 1, 2, 3, …, each event parses as an episode event and agrees with its
 * row, and each episode replays through the episode machine without a refusal; finally PostgreSQL's amcheck
 * on the store's indexes and tables where the extension can be used (it is created inside a transaction
 * that is rolled back, so the check leaves nothing behind). The report names positions, episodes, versions
 * and codes, never event contents. Reads only; a long check on PGlite holds its single connection.
 *
 * `target` is an open store, or the options to open one (`{ dataDir }`, `{ url, schema }`): then the check
 * opens it without creating it and without refusing damage (so that it can report it), loads PGlite's
 * amcheck extension, and closes it at the end. PGlite that cannot start at all still throws
 * `StoreDamagedError`, and a directory held by another process `StoreLockedError`.
 */
export async function checkStore(
  target: EventStore | OpenStoreOptions,
  options: CheckStoreOptions = {},
): Promise<StoreCheckReport> {
  if (!(target instanceof SqlEventStore)) {
    // Open it for the check: never create a store, report damage instead of refusing it, load amcheck.
    const store = await openStoreWith(
      { ...(target as OpenStoreOptions), createIfMissing: false, checkOnOpen: false },
      { amcheck: options.amcheck !== false },
    );
    try {
      return await checkStore(store, options);
    } finally {
      await store.close();
    }
  }
  const s = target;
  const t = s.tables;
  const max = options.maxProblems ?? 100;
  const batchSize = options.batchSize ?? 1000;
  const problems: StoreCheckProblem[] = [];
  let omitted = 0;
  const add = (p: StoreCheckProblem) => {
    if (problems.length < max) problems.push(p);
    else omitted++;
  };

  return s.operation('checkStore', async () => {
    const db = s.db;
    const schemaVersion = await readSchemaVersion(db, t);
    if (schemaVersion !== SCHEMA_VERSION) {
      add({
        area: 'schema',
        message: `schema version ${schemaVersion}, this @kapkit/store reads ${SCHEMA_VERSION}`,
      });
    }
    try {
      for (const message of await quickCheck(db, t)) add({ area: 'counts', message });
    } catch (error) {
      add({ area: 'counts', message: `counting the events failed: ${messageOf(error, s.location)}` });
    }

    let events = 0;
    let lastPosition = 0;
    const episodes = new Map<string, { state: EpisodeState; next: number }>();
    const model = s.model;
    try {
      await db.transaction(
        async (tx) => {
          const meta = await s.readMeta(tx);
          lastPosition = meta.lastPosition;
          const positions = new PositionCheck(meta, 0);
          let cursor = 0;
          for (;;) {
            let rows: Row[];
            try {
              rows = await tx.query<Row>(
                `SELECT position, episode_id, version, event_id, patient_id, type, payload FROM ${t.events}
                 WHERE position > $1 ORDER BY position LIMIT $2`,
                [cursor, batchSize],
              );
            } catch (error) {
              add({
                area: 'read',
                position: cursor,
                message: `reading the events after position ${cursor} failed: ${messageOf(error, s.location)}`,
              });
              return;
            }
            for (const row of rows) {
              events++;
              checkRow(row, positions, episodes, model, add);
            }
            if (rows.length < batchSize) break;
            cursor = Number(rows[rows.length - 1]!.position);
          }
          const end = positions.finish();
          if (end) add({ area: 'positions', message: end });
        },
        { snapshot: true },
      );
    } catch (error) {
      if (error instanceof KapkitError && error.code !== 'database-error') {
        add({ area: 'read', message: error.message });
      } else {
        add({ area: 'read', message: `reading the events failed: ${messageOf(error, s.location)}` });
      }
    }

    const amcheck =
      options.amcheck === false
        ? { status: 'unavailable' as const, detail: 'not requested' }
        : await runAmcheck(db, t, add, s.location);
    return {
      ok: problems.length === 0 && omitted === 0,
      engine: s.engine,
      location: s.location,
      schema: t.schema,
      schemaVersion,
      events,
      episodes: episodes.size,
      lastPosition,
      amcheck,
      problems,
      problemsOmitted: omitted,
    };
  });
}

function messageOf(error: unknown, location: string): string {
  return toStoreError('reading', error, location).message;
}

function checkRow(
  row: Row,
  positions: PositionCheck,
  episodes: Map<string, { state: EpisodeState; next: number }>,
  model: SqlEventStore['model'],
  add: (p: StoreCheckProblem) => void,
): void {
  const position = Number(row.position);
  const version = Number(row.version);
  const episodeId = row.episode_id;
  const gap = positions.see(position);
  if (gap) add({ area: 'positions', position, message: gap });
  let entry = episodes.get(episodeId);
  if (!entry) {
    entry = { state: model.initial, next: 1 };
    episodes.set(episodeId, entry);
  }
  if (version !== entry.next) {
    add({
      area: 'versions',
      position,
      episodeId,
      version,
      message:
        version > entry.next
          ? `episode "${episodeId}": version${version - entry.next > 1 ? `s ${entry.next}..${version - 1} are` : ` ${entry.next} is`} missing`
          : `episode "${episodeId}": version ${version} comes after ${entry.next - 1}`,
    });
  }
  entry.next = version + 1;
  // As the machine reads it: a version 1 event (stored before event schema version 2) is upcast first.
  const parsed = parseEvent(row.payload, model.permissions);
  if (!parsed.success) {
    const where = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(event)'} (${i.code})`)
      .join(', ');
    add({
      area: 'event',
      position,
      episodeId,
      version,
      message: `episode "${episodeId}" version ${version}: not a valid episode event: ${where}`,
    });
  } else {
    const e = parsed.data as { id: string; episodeId: string; patientId: string; type: string };
    const mismatched = [
      e.id !== row.event_id && 'id',
      e.episodeId !== episodeId && 'episodeId',
      e.patientId !== row.patient_id && 'patientId',
      e.type !== row.type && 'type',
    ].filter(Boolean);
    if (mismatched.length > 0) {
      add({
        area: 'event',
        position,
        episodeId,
        version,
        message: `episode "${episodeId}" version ${version}: the event's ${mismatched.join(', ')} disagree with its row`,
      });
    }
  }
  const d = model.decide(entry.state, row.payload);
  if (d.ok) entry.state = d.state;
  else {
    add({
      area: 'replay',
      position,
      episodeId,
      version,
      message: `episode "${episodeId}" version ${version}: refused on replay (${d.refusal.code})`,
    });
  }
}

/** amcheck in a transaction that is always rolled back (the extension is created only for the check). */
async function runAmcheck(
  db: SqlEventStore['db'],
  t: Tables,
  add: (p: StoreCheckProblem) => void,
  location: string,
): Promise<StoreCheckReport['amcheck']> {
  let result: StoreCheckReport['amcheck'] = { status: 'unavailable', detail: '' };
  try {
    await db.transaction(async (tx: Queryable) => {
      try {
        await tx.query('CREATE EXTENSION IF NOT EXISTS amcheck');
      } catch (error) {
        result = {
          status: 'unavailable',
          detail: `amcheck cannot be used here: ${error instanceof Error ? error.message : String(error)}`,
        };
        throw new Rollback();
      }
      const [ext] = await tx.query<{ nspname: string }>(
        `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'`,
      );
      const ns = `"${ext!.nspname.replace(/"/g, '""')}"`;
      const tables = [t.events, t.snapshots, t.meta, t.migrations];
      const indexes = await tx.query<{ name: string }>(
        `SELECT i.indexrelid::regclass::text AS name FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
         WHERE a.amname = 'btree' AND i.indrelid = ANY (ARRAY[${tables.map((_, k) => `to_regclass($${k + 1})`).join(', ')}])
         ORDER BY 1`,
        tables,
      );
      let failed = 0;
      for (const { name } of indexes) {
        try {
          await tx.query(`SELECT ${ns}.bt_index_check($1::regclass, true)`, [name]);
        } catch (error) {
          failed++;
          add({
            area: 'amcheck',
            message: `index ${name}: ${error instanceof Error ? error.message : String(error)}`,
          });
          throw new Rollback(); // the transaction is aborted: stop here
        }
      }
      const [hasHeap] = await tx.query<{ ok: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.proname = 'verify_heapam' AND n.nspname = $1) AS ok`,
        [ext!.nspname],
      );
      if (hasHeap?.ok) {
        for (const table of tables) {
          const rows = await tx.query<{ blkno: unknown; offnum: unknown; msg: string }>(
            `SELECT blkno, offnum, msg FROM ${ns}.verify_heapam($1::regclass) LIMIT 20`,
            [table],
          );
          for (const r of rows) {
            failed++;
            add({
              area: 'amcheck',
              message: `table ${table}, block ${String(r.blkno)}, item ${String(r.offnum)}: ${r.msg}`,
            });
          }
        }
      }
      result = {
        status: failed > 0 ? 'failed' : 'passed',
        detail: `${indexes.length} indexes checked with bt_index_check (heapallindexed)${
          hasHeap?.ok ? `, ${tables.length} tables with verify_heapam` : ''
        }`,
      };
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) {
      result = { status: 'failed', detail: messageOf(error, location) };
      add({ area: 'amcheck', message: result.detail });
    } else if (result.status === 'unavailable' && result.detail === '') {
      result = { status: 'failed', detail: 'amcheck reported a damaged index' };
    }
  }
  return result;
}
