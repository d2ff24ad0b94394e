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
  /** Migrations on open: `(MIGRATE, hashtext(schema))`. */
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
  readonly users: string;
  readonly careTeams: string;
  readonly careTeamMembers: string;
  readonly careTeamPatients: string;
  readonly sessions: string;
  readonly oneTimeTokens: string;
  readonly audit: string;
  readonly patientContacts: string;
  readonly measureRequests: string;
  readonly measureLinks: string;
  readonly measureOpen: string;
  readonly outbox: string;
  /** The append function (schema version 6). */
  readonly appendFn: string;
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
    users: `${q}.kapkit_users`,
    careTeams: `${q}.kapkit_care_teams`,
    careTeamMembers: `${q}.kapkit_care_team_members`,
    careTeamPatients: `${q}.kapkit_care_team_patients`,
    sessions: `${q}.kapkit_sessions`,
    oneTimeTokens: `${q}.kapkit_one_time_tokens`,
    audit: `${q}.kapkit_audit`,
    patientContacts: `${q}.kapkit_patient_contacts`,
    measureRequests: `${q}.kapkit_measure_requests`,
    measureLinks: `${q}.kapkit_measure_links`,
    measureOpen: `${q}.kapkit_measure_open`,
    outbox: `${q}.kapkit_outbox`,
    appendFn: `${q}.kapkit_append`,
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
  {
    // The people around the record: accounts (a password hash, or an OpenID Connect subject), care teams and
    // the patients they look after, server-side sessions (only a hash of each token is stored), one-time
    // sign-in and set-up links, and the audit trail. The audit table is append-only: a trigger refuses
    // UPDATE, DELETE and TRUNCATE for every role that does not own the trigger's table (and for its owner
    // too, unless the trigger is dropped, which the audit itself cannot record: see docs/security.md).
    version: 4,
    name: 'accounts, care teams, sessions, one-time links, audit trail',
    statements: (t) => [
      `CREATE TABLE ${t.users} (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'therapist', 'medical', 'researcher')),
        password_hash TEXT,
        oidc_issuer TEXT,
        oidc_subject TEXT,
        demo BOOLEAN NOT NULL DEFAULT false,
        disabled BOOLEAN NOT NULL DEFAULT false,
        failed_sign_ins INTEGER NOT NULL DEFAULT 0,
        locked_until TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL,
        CONSTRAINT kapkit_users_email_key UNIQUE (email),
        CONSTRAINT kapkit_users_oidc_key UNIQUE (oidc_issuer, oidc_subject)
      )`,
      `CREATE TABLE ${t.careTeams} (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        CONSTRAINT kapkit_care_teams_name_key UNIQUE (name)
      )`,
      `CREATE TABLE ${t.careTeamMembers} (
        team_id TEXT NOT NULL REFERENCES ${t.careTeams} (id),
        user_id TEXT NOT NULL REFERENCES ${t.users} (id),
        PRIMARY KEY (team_id, user_id)
      )`,
      `CREATE INDEX kapkit_care_team_members_user_idx ON ${t.careTeamMembers} (user_id)`,
      `CREATE TABLE ${t.careTeamPatients} (
        team_id TEXT NOT NULL REFERENCES ${t.careTeams} (id),
        patient_id TEXT NOT NULL,
        PRIMARY KEY (team_id, patient_id)
      )`,
      `CREATE INDEX kapkit_care_team_patients_patient_idx ON ${t.careTeamPatients} (patient_id)`,
      `CREATE TABLE ${t.sessions} (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES ${t.users} (id),
        csrf_token TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        last_seen_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE INDEX kapkit_sessions_user_idx ON ${t.sessions} (user_id)`,
      `CREATE TABLE ${t.oneTimeTokens} (
        token_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('sign-in', 'set-up')),
        user_id TEXT REFERENCES ${t.users} (id),
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        used_at TIMESTAMPTZ
      )`,
      `CREATE TABLE ${t.audit} (
        position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL,
        actor_id TEXT,
        role TEXT,
        action TEXT NOT NULL,
        method TEXT NOT NULL,
        route TEXT NOT NULL,
        patient_id TEXT,
        episode_id TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied')),
        reason TEXT,
        recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX kapkit_audit_at_idx ON ${t.audit} (at)`,
      `CREATE INDEX kapkit_audit_patient_idx ON ${t.audit} (patient_id, at)`,
      `CREATE INDEX kapkit_audit_actor_idx ON ${t.audit} (actor_id, at)`,
      `CREATE FUNCTION "${t.schema}".kapkit_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
       BEGIN
         RAISE EXCEPTION 'kapkit_audit is append-only: % is not allowed', TG_OP USING ERRCODE = '42501';
       END
       $fn$`,
      `CREATE TRIGGER kapkit_audit_no_update_delete BEFORE UPDATE OR DELETE ON ${t.audit}
        FOR EACH ROW EXECUTE FUNCTION "${t.schema}".kapkit_audit_append_only()`,
      `CREATE TRIGGER kapkit_audit_no_truncate BEFORE TRUNCATE ON ${t.audit}
        FOR EACH STATEMENT EXECUTE FUNCTION "${t.schema}".kapkit_audit_append_only()`,
    ],
  },
  {
    // Patients report their own outcomes: measure requests (one patient, one or more instruments), the links
    // that open them (only a SHA-256 hash of each token is stored, never the token), which measure of an
    // episode has an open request (the primary key allows at most one), the patient's e-mail for reminders,
    // and the e-mail outbox (an idempotency key per message, so a restart never queues one twice; attempts
    // and the next attempt time for back-off; the time it was sent).
    version: 5,
    name: 'measure requests, links, patient contacts, e-mail outbox',
    statements: (t) => [
      `CREATE TABLE ${t.patientContacts} (
        patient_id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE ${t.measureRequests} (
        id TEXT PRIMARY KEY,
        episode_id TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        instruments JSONB NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('automatic', 'clinician')),
        created_by TEXT,
        status TEXT NOT NULL CHECK (status IN ('sent', 'opened', 'completed', 'expired', 'revoked')),
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        opened_at TIMESTAMPTZ,
        submitted_at TIMESTAMPTZ,
        completed_at TIMESTAMPTZ,
        revoked_at TIMESTAMPTZ,
        revoked_by TEXT,
        event_ids JSONB
      )`,
      `CREATE INDEX kapkit_measure_requests_patient_idx ON ${t.measureRequests} (patient_id, created_at)`,
      `CREATE INDEX kapkit_measure_requests_open_idx ON ${t.measureRequests} (status, expires_at)`,
      `CREATE TABLE ${t.measureLinks} (
        token_hash TEXT PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES ${t.measureRequests} (id),
        channel TEXT NOT NULL CHECK (channel IN ('link', 'email')),
        created_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE INDEX kapkit_measure_links_request_idx ON ${t.measureLinks} (request_id)`,
      `CREATE TABLE ${t.measureOpen} (
        episode_id TEXT NOT NULL,
        instrument TEXT NOT NULL,
        request_id TEXT NOT NULL REFERENCES ${t.measureRequests} (id),
        PRIMARY KEY (episode_id, instrument)
      )`,
      `CREATE TABLE ${t.outbox} (
        id TEXT PRIMARY KEY,
        idempotency_key TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('measure-request')),
        request_id TEXT NOT NULL REFERENCES ${t.measureRequests} (id),
        recipient TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ NOT NULL,
        last_error TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        sent_at TIMESTAMPTZ,
        CONSTRAINT kapkit_outbox_idempotency_key UNIQUE (idempotency_key)
      )`,
      `CREATE INDEX kapkit_outbox_due_idx ON ${t.outbox} (status, next_attempt_at)`,
    ],
  },
  {
    // An append in one statement: the episode's lock, its version and the batch's ids already stored, then,
    // when the caller decided the batch on that very version and none of its ids is stored, the append lock,
    // the positions, the snapshot and the events. Otherwise it writes nothing and returns what it read (the
    // caller decides again, in the same transaction, still holding the episode's lock). A PL/pgSQL function
    // because each of its statements takes a fresh snapshot: the version it reads is the one after the lock
    // (a single SQL statement would read with the snapshot taken before it waited for the lock). One round
    // trip instead of three per append.
    version: 6,
    name: 'append function',
    statements: (t) => [
      `CREATE FUNCTION ${t.appendFn}(p_episode_id text, p_version integer, p_event_ids text[],
         p_events jsonb, p_snapshot jsonb, p_machine_version integer, p_read_snapshot boolean)
       RETURNS json LANGUAGE plpgsql VOLATILE AS $fn$
       DECLARE
         v_version integer;
         v_stored json;
         v_count integer;
         v_base bigint;
       BEGIN
         PERFORM pg_advisory_xact_lock(${LOCK_CLASS.episode}, hashtext(p_episode_id));
         SELECT COALESCE(MAX(version), 0) INTO v_version FROM ${t.events} WHERE episode_id = p_episode_id;
         SELECT json_agg(json_build_object('event_id', event_id, 'episode_id', episode_id, 'version', version,
             'payload', payload))
           INTO v_stored FROM ${t.events} WHERE event_id = ANY(p_event_ids);
         IF p_events IS NULL OR v_stored IS NOT NULL OR v_version <> p_version THEN
           RETURN json_build_object('version', v_version, 'stored', COALESCE(v_stored, '[]'::json),
             'snapshot', (SELECT json_build_object('version', version, 'machine_version', machine_version,
                 'snapshot', snapshot)
               FROM ${t.snapshots} WHERE episode_id = p_episode_id AND p_read_snapshot));
         END IF;
         v_count := jsonb_array_length(p_events);
         -- Positions in commit order: the append lock is held until COMMIT.
         PERFORM pg_advisory_xact_lock(${LOCK_CLASS.append}, 0);
         UPDATE ${t.meta} SET last_position = last_position + v_count, event_count = event_count + v_count
           RETURNING last_position - v_count INTO v_base;
         IF v_base IS NULL THEN
           RETURN json_build_object('version', v_version, 'meta_missing', true);
         END IF;
         -- A newer machine's snapshot, or a later one of the same machine, is never replaced.
         IF p_snapshot IS NOT NULL THEN
           INSERT INTO ${t.snapshots} (episode_id, version, machine_version, snapshot)
             VALUES (p_episode_id, v_version + v_count, p_machine_version, p_snapshot)
           ON CONFLICT (episode_id) DO UPDATE SET version = EXCLUDED.version,
             machine_version = EXCLUDED.machine_version, snapshot = EXCLUDED.snapshot, updated_at = now()
           WHERE (${t.snapshots}.machine_version, ${t.snapshots}.version)
             < (EXCLUDED.machine_version, EXCLUDED.version);
         END IF;
         INSERT INTO ${t.events} (position, episode_id, version, event_id, patient_id, type, at, payload)
           SELECT v_base + e.ord, p_episode_id, v_version + e.ord::integer, e.payload->>'id',
             e.payload->>'patientId', e.payload->>'type', (e.payload->>'at')::timestamptz, e.payload
           FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(payload, ord)
           ORDER BY e.ord;
         RETURN json_build_object('version', v_version, 'base', v_base, 'recorded_at', now());
       END
       $fn$`,
    ],
  },
  {
    // Who recorded the refused submission a safety signal was kept from (its `recordedBy` role: `patient`
    // for a patient's own report through a measure link), so a reviewer knows the patient said it.
    version: 7,
    name: 'safety signals record who recorded the refused submission',
    statements: (t) => [`ALTER TABLE ${t.safetySignals} ADD COLUMN recorded_by TEXT`],
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
    // One lock per store (schema): stores in other schemas of the same server migrate at the same time.
    await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS.migrate}, hashtext($1))`, [t.schema]);
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
