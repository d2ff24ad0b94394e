import type { Db, Queryable } from './db.js';
import { SchemaTooNewError, StoreConfigError } from './errors.js';

/**
 * The store's tables, created and upgraded by versioned migrations. The same SQL runs on PGlite and on
 * PostgreSQL. Table names are qualified with the store's PostgreSQL schema (default `public`).
 */

/** Advisory lock keys (two-int form), so that kapkit's locks do not collide with an application's. */
export const LOCK_CLASS = {
  /** Per-episode writer lock: `(EPISODE, hashtext(episode_id))`. */
  episode: 1801547883, // 0x6b61706b, 'kapk'
  /** Global append lock, held from the INSERT to the commit, so positions are assigned in commit order. */
  append: 1801547884,
  /** Migrations on open. */
  migrate: 1801547885,
} as const;

export interface Tables {
  readonly schema: string;
  readonly events: string;
  readonly snapshots: string;
  readonly meta: string;
  readonly migrations: string;
  readonly safetySignals: string;
  readonly safetySignalReviews: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Qualified table names in `schema` (a plain lower-case PostgreSQL identifier). */
export function tablesIn(schema: string): Tables {
  if (!SCHEMA_NAME.test(schema)) {
    throw new StoreConfigError(
      `Invalid schema name "${schema}": use lower-case letters, digits and underscores (at most 63, not starting with a digit).`,
    );
  }
  const q = `"${schema}"`;
  return {
    schema,
    events: `${q}.kapkit_events`,
    snapshots: `${q}.kapkit_snapshots`,
    meta: `${q}.kapkit_meta`,
    migrations: `${q}.kapkit_migrations`,
    safetySignals: `${q}.kapkit_safety_signals`,
    safetySignalReviews: `${q}.kapkit_safety_signal_reviews`,
  };
}

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (t: Tables) => readonly string[];
}

/**
 * Every migration, in order. Never edit one that has shipped: add the next. `SCHEMA_VERSION` is the last.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events, snapshots, meta',
    statements: (t) => [
      `CREATE TABLE ${t.events} (
        position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        episode_id TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version > 0),
        event_id TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        type TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        payload JSONB NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        CONSTRAINT kapkit_events_event_id_key UNIQUE (event_id),
        CONSTRAINT kapkit_events_episode_version_key UNIQUE (episode_id, version)
      )`,
      `CREATE INDEX kapkit_events_patient_idx ON ${t.events} (patient_id, position)`,
      `CREATE TABLE ${t.snapshots} (
        episode_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        machine_version INTEGER NOT NULL,
        snapshot JSONB NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE ${t.meta} (
        id BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
        schema_version INTEGER NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE ${t.migrations} (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    // Positions from an identity column have gaps: PostgreSQL hands out sequence values that a rolled-back
    // INSERT never uses (a unique-key race, a failed snapshot write, a lost connection) and skips up to 32
    // values after a crash. A gap then means nothing, and missing events cannot be told from it. From here
    // on each append takes its positions from kapkit_meta.last_position, in the same transaction and under
    // the append lock, so positions are contiguous; kapkit_meta also counts the events committed, an
    // independent record to check the events table against. Older positions (up to dense_from) keep their
    // gaps: readers never renumber what they have seen.
    version: 2,
    name: 'contiguous positions, committed event count',
    statements: (t) => [
      // No writer of an older kapkit may insert while the counters are set (and none can afterwards: without
      // the identity default its INSERT fails instead of skipping the counters).
      `LOCK TABLE ${t.events} IN SHARE MODE`,
      `ALTER TABLE ${t.meta}
        ADD COLUMN event_count BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN last_position BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN dense_from BIGINT NOT NULL DEFAULT 0`,
      // The last position is read through the primary key index, which then fetches its row: a table file
      // cut short (its last pages lost, the index intact) fails here with SQLSTATE XX001 instead of being
      // counted as it is and taken as complete.
      `SET LOCAL enable_seqscan = off`,
      `UPDATE ${t.meta} SET event_count = s.n, last_position = s.maxp,
         dense_from = CASE WHEN s.n = s.maxp THEN 0 ELSE s.maxp END
       FROM (SELECT count(e.payload) AS n,
               COALESCE((SELECT e2.position FROM ${t.events} e2 ORDER BY e2.position DESC LIMIT 1), 0) AS maxp
             FROM ${t.events} e) AS s`,
      `RESET enable_seqscan`,
      `ALTER TABLE ${t.events} ALTER COLUMN position DROP IDENTITY IF EXISTS`,
    ],
  },
  {
    // A refused submission that carries a safety signal (a positive PHQ-9 item 9, a serious adverse event,
    // alarming vitals) is kept as a signal of that patient and episode: only the signal and the identifiers,
    // nothing else of the refused event. Reviews are a separate, append-only table: nothing is updated.
    version: 3,
    name: 'safety signals of refused submissions, and their reviews',
    statements: (t) => [
      `CREATE TABLE ${t.safetySignals} (
        id TEXT PRIMARY KEY,
        episode_id TEXT NOT NULL,
        patient_id TEXT,
        event_id TEXT,
        event_type TEXT,
        refusal_code TEXT NOT NULL,
        event_at TIMESTAMPTZ,
        signals JSONB NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX kapkit_safety_signals_patient_idx ON ${t.safetySignals} (patient_id, recorded_at)`,
      `CREATE INDEX kapkit_safety_signals_episode_idx ON ${t.safetySignals} (episode_id, recorded_at)`,
      `CREATE TABLE ${t.safetySignalReviews} (
        signal_id TEXT PRIMARY KEY REFERENCES ${t.safetySignals} (id),
        outcome TEXT NOT NULL,
        reviewed_by TEXT NOT NULL,
        actor_id TEXT,
        reviewed_at TIMESTAMPTZ NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
    ],
  },
];

/** The schema version this @kapkit/store creates and reads. */
export const SCHEMA_VERSION = migrations[migrations.length - 1]!.version;

/**
 * What the store recorded about its events, updated in the same transaction as every append: how many were
 * committed, the last position handed out, and the position after which positions are contiguous (0 for a
 * store created with schema version 2 or later).
 */
export interface StoreMeta {
  readonly eventCount: number;
  readonly lastPosition: number;
  readonly denseFrom: number;
}

/** The store's {@link StoreMeta}, or null when its meta row is missing. */
export async function readMeta(db: Queryable, t: Tables): Promise<StoreMeta | null> {
  const [row] = await db.query<{ event_count: unknown; last_position: unknown; dense_from: unknown }>(
    `SELECT event_count, last_position, dense_from FROM ${t.meta}`,
  );
  return row
    ? {
        eventCount: Number(row.event_count),
        lastPosition: Number(row.last_position),
        denseFrom: Number(row.dense_from),
      }
    : null;
}

/** The schema version recorded in the store, or 0 when it has no kapkit tables yet. */
export async function readSchemaVersion(db: Queryable, t: Tables): Promise<number> {
  const [exists] = await db.query<{ meta: string | null }>(`SELECT to_regclass($1)::text AS meta`, [t.meta]);
  if (!exists?.meta) return 0;
  const [row] = await db.query<{ schema_version: number }>(`SELECT schema_version FROM ${t.meta}`);
  return row ? Number(row.schema_version) : 0;
}

/**
 * Bring the store's schema up to {@link SCHEMA_VERSION}, in one transaction under an advisory lock (so that
 * processes opening a new PostgreSQL store at once do not race). A store made by a newer kapkit is refused
 * before anything is changed.
 * @returns the versions applied (empty when already current).
 */
export async function migrate(db: Db, t: Tables): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS.migrate}, 0)`);
    const found = await readSchemaVersion(tx, t);
    if (found > SCHEMA_VERSION) throw new SchemaTooNewError(found, SCHEMA_VERSION);
    const applied: number[] = [];
    if (found === SCHEMA_VERSION) return applied;
    await tx.query(`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`);
    for (const m of migrations) {
      if (m.version <= found) continue;
      for (const statement of m.statements(t)) await tx.query(statement);
      await tx.query(`INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    await tx.query(
      `INSERT INTO ${t.meta} (id, schema_version) VALUES (true, $1)
       ON CONFLICT (id) DO UPDATE SET schema_version = EXCLUDED.schema_version, updated_at = now()`,
      [SCHEMA_VERSION],
    );
    return applied;
  });
}
