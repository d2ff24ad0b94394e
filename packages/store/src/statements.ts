import type { Tables } from './schema.js';

/** Every SQL statement of the store, for one schema. The same text runs on PGlite and PostgreSQL. */
export function statements(t: Tables) {
  const signalSelect = `SELECT s.id, s.episode_id, s.patient_id, s.event_id, s.event_type, s.refusal_code,
      s.event_at, s.recorded_by, s.signals, s.recorded_at, r.outcome AS review_outcome, r.reviewed_by, r.actor_id,
      r.reviewed_at, r.recorded_at AS review_recorded_at
    FROM ${t.safetySignals} s LEFT JOIN ${t.safetySignalReviews} r ON r.signal_id = s.id`;
  const columns = 'position, episode_id, version, payload, recorded_at';
  return {
    currentVersion: `SELECT COALESCE(MAX(version), 0) AS version FROM ${t.events} WHERE episode_id = $1`,
    // The append function (see migration 6): the episode's lock and head, and the batch when it was decided
    // on that head. $1 episode, $2 the version the batch was decided on, $3 the batch's event ids, $4 the
    // events (null: only read the head), $5 the snapshot after them (null: none), $6 the machine version,
    // $7 whether to return the episode's snapshot row with the head.
    append: `SELECT ${t.appendFn}($1::text, $2::integer, $3::text[], $4::jsonb, $5::jsonb, $6::integer, $7::boolean)
      AS result`,
    readSnapshot: `SELECT version, machine_version, snapshot FROM ${t.snapshots} WHERE episode_id = $1`,
    // A newer machine's snapshot, or a later one of the same machine, is never replaced by an older one.
    upsertSnapshot: `INSERT INTO ${t.snapshots} (episode_id, version, machine_version, snapshot)
      VALUES ($1, $2, $3, $4::jsonb)
      ON CONFLICT (episode_id) DO UPDATE SET version = EXCLUDED.version,
        machine_version = EXCLUDED.machine_version, snapshot = EXCLUDED.snapshot, updated_at = now()
      WHERE (${t.snapshots}.machine_version, ${t.snapshots}.version)
        < (EXCLUDED.machine_version, EXCLUDED.version)`,
    readTail: `SELECT version, payload FROM ${t.events}
      WHERE episode_id = $1 AND version > $2 AND version <= $3 ORDER BY version`,
    readEpisode: `SELECT ${columns} FROM ${t.events} WHERE episode_id = $1 AND version >= $2 ORDER BY version`,
    readPatient: `SELECT ${columns} FROM ${t.events} WHERE patient_id = $1 ORDER BY position`,
    page: `SELECT ${columns} FROM ${t.events} WHERE position > $1 ORDER BY position LIMIT $2`,
    insertSignal: `INSERT INTO ${t.safetySignals}
        (id, episode_id, patient_id, event_id, event_type, refusal_code, event_at, recorded_by, signals)
      VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8, $9::jsonb)
      ON CONFLICT (id) DO NOTHING`,
    readSignals: `${signalSelect}
      WHERE ($1::text IS NULL OR s.patient_id = $1) AND ($2::text IS NULL OR s.episode_id = $2)
        AND (NOT $3::boolean OR r.signal_id IS NULL)
      ORDER BY s.recorded_at, s.id`,
    readSignal: `${signalSelect} WHERE s.id = $1`,
    insertReview: `INSERT INTO ${t.safetySignalReviews} (signal_id, outcome, reviewed_by, actor_id, reviewed_at)
      VALUES ($1, $2, $3, $4, $5::timestamptz)`,
  };
}

/** The store's statements. */
export type Statements = ReturnType<typeof statements>;
