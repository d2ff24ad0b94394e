import { createHash, type Hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { EpisodeState } from '@kapkit/core';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  type BackupHeader,
  type BackupSummary,
  countsOf,
  type SignalLine,
  type Trailer,
} from './backup-format.js';
import { type BackupInput, type BackupLine, readBackup, toStream } from './backup-read.js';
import {
  advanceClinicSequences,
  type CLINIC_TABLES,
  insertClinicRows,
  nonEmptyClinicTables,
  writeClinicLines,
} from './backup-tables.js';
import type { Queryable } from './db.js';
import { InvalidBackupError, StoreConfigError } from './errors.js';
import { PositionCheck } from './integrity.js';
import { LOCK_CLASS, SCHEMA_VERSION, type StoreMeta, type Tables } from './schema.js';
import type { SqlEventStore } from './store.js';
import type { EventStore } from './store-types.js';

/**
 * Logical backups of a store: NDJSON, one line per event with its position, version and commit time, then one
 * line per safety signal kept from a refused submission (with its review), then (format version 2) one line per
 * row of the clinic tables (accounts, care teams, audit trail, patient contacts, measure requests and links,
 * outbox: see backup-tables.ts), between a header and a trailer that carries the counts and a SHA-256 of those
 * lines. The same format for both engines, so a PGlite store can be restored into PostgreSQL and back. It
 * holds health data and account password hashes: the CLI writes it with mode 0600; keep it as safe as the
 * store.
 */

export {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  type BackupHeader,
  type BackupSummary,
} from './backup-format.js';

interface Row {
  position: unknown;
  episode_id: string;
  version: unknown;
  recorded_at: unknown;
  payload: unknown;
}

async function writeChunk(out: Writable, chunk: string): Promise<void> {
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      out.off('drain', onDrain);
      out.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    out.once('drain', onDrain);
    out.once('error', done);
  });
}

const iso = (v: unknown) => (v instanceof Date ? v : new Date(String(v))).toISOString();

/**
 * Write a consistent backup of `store` to `out` (which is left open: end it yourself). All events, safety
 * signals and clinic tables (accounts, care teams, audit trail, patient contacts, measure requests and links,
 * outbox; not sign-in sessions or one-time links) are read in one snapshot (REPEATABLE READ, read-only), so
 * appends made meanwhile by other processes are either wholly in or wholly out; on PGlite, this process's
 * other store calls wait until the backup is written. The events are checked as they are read (positions
 * contiguous up to the last one recorded, each episode's versions 1, 2, 3, …): a damaged store is refused
 * with `StoreDamagedError` rather than backed up incomplete.
 *
 * @example
 * ```ts
 * const out = createWriteStream('kapkit.backup.ndjson', { mode: 0o600 });
 * await backupStore(store, out);
 * out.end();
 * ```
 */
export async function backupStore(
  store: EventStore,
  out: Writable,
  options: { readonly batchSize?: number } = {},
): Promise<BackupSummary> {
  const s = store as SqlEventStore;
  const batchSize = options.batchSize ?? 1000;
  return s.inTransaction(
    'backupStore',
    async (tx) => {
      const meta = await s.readMeta(tx);
      const header: BackupHeader = {
        format: BACKUP_FORMAT,
        formatVersion: BACKUP_FORMAT_VERSION,
        schemaVersion: SCHEMA_VERSION,
        engine: s.engine,
        createdAt: new Date().toISOString(),
      };
      await writeChunk(out, `${JSON.stringify(header)}\n`);
      const hash = createHash('sha256');
      const { events, episodes } = await writeEventLines(s, tx, meta, { out, hash, batchSize });
      const safetySignals = await writeSignalLines(s.tables, tx, out, hash);
      const clinic = await writeClinicLines(s.tables, tx, hash, batchSize, (chunk) => writeChunk(out, chunk));
      const sha256 = hash.digest('hex');
      const trailer: Trailer & { end: true } = {
        end: true,
        events,
        safetySignals,
        lastPosition: meta.lastPosition,
        clinic,
        sha256,
      };
      await writeChunk(out, `${JSON.stringify(trailer)}\n`);
      return {
        events,
        episodes,
        lastPosition: meta.lastPosition,
        safetySignals,
        clinic: countsOf(clinic),
        sha256,
      };
    },
    { snapshot: true },
  );
}

/**
 * The event lines of a backup, read in batches of `batchSize` in position order and checked as they are read
 * (positions contiguous up to the last one in `meta`, each episode's versions 1, 2, 3, …).
 */
async function writeEventLines(
  s: SqlEventStore,
  tx: Queryable,
  meta: StoreMeta,
  to: { readonly out: Writable; readonly hash: Hash; readonly batchSize: number },
): Promise<{ events: number; episodes: number }> {
  const { out, hash, batchSize } = to;
  const positions = new PositionCheck(meta, 0);
  const next = new Map<string, number>();
  let events = 0;
  let cursor = 0;
  for (;;) {
    const rows = await tx.query<Row>(
      `SELECT position, episode_id, version, recorded_at, payload FROM ${s.tables.events}
       WHERE position > $1 ORDER BY position LIMIT $2`,
      [cursor, batchSize],
    );
    let chunk = '';
    for (const row of rows) {
      const position = Number(row.position);
      const version = Number(row.version);
      const gap = positions.see(position);
      if (gap) throw s.damaged([`backup: ${gap}`]);
      const expected = next.get(row.episode_id) ?? 1;
      if (version !== expected) {
        throw s.damaged([`backup: episode "${row.episode_id}" version ${expected} is missing`]);
      }
      next.set(row.episode_id, version + 1);
      const line = `${JSON.stringify({
        position,
        episodeId: row.episode_id,
        version,
        committedAt: iso(row.recorded_at),
        event: row.payload,
      })}\n`;
      hash.update(line);
      chunk += line;
      events++;
    }
    if (chunk) await writeChunk(out, chunk);
    if (rows.length < batchSize) break;
    cursor = Number(rows[rows.length - 1]!.position);
  }
  const end = positions.finish();
  if (end) throw s.damaged([`backup: ${end}`]);
  return { events, episodes: next.size };
}

/** The safety signals of refused submissions, one line each with its review (a restore must not lose one). */
async function writeSignalLines(t: Tables, tx: Queryable, out: Writable, hash: Hash): Promise<number> {
  const signalRows = await tx.query<Record<string, unknown>>(
    `SELECT s.id, s.episode_id, s.patient_id, s.event_id, s.event_type, s.refusal_code, s.event_at,
       s.recorded_by, s.signals, s.recorded_at, r.outcome, r.reviewed_by, r.actor_id, r.reviewed_at,
       r.recorded_at AS review_recorded_at
     FROM ${t.safetySignals} s LEFT JOIN ${t.safetySignalReviews} r ON r.signal_id = s.id
     ORDER BY s.recorded_at, s.id`,
  );
  let chunk = '';
  for (const r of signalRows) {
    const signal: SignalLine = {
      id: r.id as string,
      episodeId: r.episode_id as string,
      patientId: (r.patient_id as string | null) ?? null,
      eventId: (r.event_id as string | null) ?? null,
      eventType: (r.event_type as string | null) ?? null,
      refusalCode: r.refusal_code as string,
      eventAt: r.event_at === null ? null : iso(r.event_at),
      recordedBy: (r.recorded_by as string | null) ?? null,
      signals: (typeof r.signals === 'string' ? JSON.parse(r.signals) : r.signals) as unknown[],
      recordedAt: iso(r.recorded_at),
      review:
        r.outcome === null || r.outcome === undefined
          ? null
          : {
              outcome: r.outcome as string,
              reviewedBy: r.reviewed_by as string,
              actorId: (r.actor_id as string | null) ?? null,
              at: iso(r.reviewed_at),
              recordedAt: iso(r.review_recorded_at),
            },
    };
    const line = `${JSON.stringify({ safetySignal: signal })}\n`;
    hash.update(line);
    chunk += line;
  }
  if (chunk) await writeChunk(out, chunk);
  return signalRows.length;
}

/**
 * Check that a backup file is complete and unaltered (header, trailer, count, SHA-256, positions and
 * versions in order) without a store: a quick look before creating a store to restore into. Events are not
 * replayed here; {@link restoreStore} does that.
 *
 * @throws {InvalidBackupError} the file is not a complete, unaltered backup.
 */
export async function inspectBackup(input: BackupInput): Promise<BackupSummary & { header: BackupHeader }> {
  const { denseFrom: _, ...summary } = await readBackup(toStream(input));
  return summary;
}

/**
 * Restore a backup made by {@link backupStore} into `store`, which must hold no events (a new PGlite
 * directory, or a new PostgreSQL schema). Every event is stored as it was: same position, version, commit
 * time and content, so `streamAll` gives back exactly what it gave on the original store. The clinic tables
 * (format version 2: accounts with their password hashes, care teams, audit trail, patient contacts, measure
 * requests and links, outbox) are restored row for row, in foreign-key order, and the audit trail's sequence is
 * moved past the restored positions; each must be empty in the target. Sign-in sessions and one-time links are
 * not in a backup: after a restore everyone signs in again. Before anything is
 * kept, the whole file is checked: header and trailer (a truncated file is refused), the SHA-256 of its lines
 * (and of each clinic table's), every clinic row's columns and types, positions increasing, each episode's versions 1, 2, 3, … and every episode replayed through the
 * episode machine. One transaction: on any error nothing is restored. `input` is a stream or any (async)
 * iterable of text chunks (split into lines here).
 *
 * @throws {InvalidBackupError} the file is not a complete, unaltered backup, or an event is refused.
 * @throws {StoreConfigError} the target store already holds events.
 */
export async function restoreStore(
  store: EventStore,
  input: BackupInput,
  options: { readonly batchSize?: number } = {},
): Promise<BackupSummary> {
  const stream = toStream(input);
  const s = store as SqlEventStore;
  const t = s.tables;
  const model = s.model;
  const batchSize = options.batchSize ?? 500;
  return s.inTransaction('restoreStore', async (tx) => {
    // Appends of other processes wait until the restore commits, then continue after its last position.
    await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS.append}, 0)`);
    const meta = await s.readMeta(tx);
    const [present] = await tx.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${t.events}`);
    if (meta.eventCount > 0 || meta.lastPosition > 0 || Number(present?.n) > 0) {
      throw new StoreConfigError(
        `A backup is restored only into an empty store; ${s.location} (schema "${t.schema}") holds ${Math.max(meta.eventCount, Number(present?.n))} events.`,
      );
    }
    const states = new Map<string, EpisodeState>();
    let batch: BackupLine[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await tx.query(
        `INSERT INTO ${t.events} (position, episode_id, version, event_id, patient_id, type, at, payload, recorded_at)
           SELECT (r->>'position')::bigint, r->>'episodeId', (r->>'version')::int, r->'event'->>'id',
             r->'event'->>'patientId', r->'event'->>'type', (r->'event'->>'at')::timestamptz, r->'event',
             (r->>'committedAt')::timestamptz
           FROM jsonb_array_elements($1::jsonb) AS r`,
        [JSON.stringify(batch)],
      );
      batch = [];
    };
    // The stream is read only now, once the transaction is ready: readline drops the lines it emits
    // before its async iterator exists, and the queries above take time.
    const signals: SignalLine[] = [];
    const occupied = await nonEmptyClinicTables(t, tx);
    let rows: { spec: (typeof CLINIC_TABLES)[number]; rows: Record<string, unknown>[] } | null = null;
    const flushRows = async () => {
      if (rows) await insertClinicRows(t, tx, rows.spec, rows.rows);
      rows = null;
    };
    const read = await readBackup(stream, {
      onEvent: async (line, lineNo) => {
        const d = model.decide(states.get(line.episodeId) ?? model.initial, line.event);
        if (!d.ok) {
          throw new InvalidBackupError(
            lineNo,
            `episode "${line.episodeId}" version ${line.version} is refused by the episode machine (${d.refusal.code})`,
          );
        }
        states.set(line.episodeId, d.state);
        batch.push(line);
        if (batch.length >= batchSize) await flush();
      },
      onSignal: (signal) => signals.push(signal),
      onClinic: async (spec, row) => {
        if (rows?.spec !== spec) {
          // The events and signals first; each clinic table after the tables it references.
          await flush();
          if (signals.length > 0) await insertSignals(t, tx, signals.splice(0));
          await flushRows();
          if (occupied.has(spec.name)) {
            throw new StoreConfigError(
              `A backup is restored only into an empty store; ${s.location} (schema "${t.schema}") already holds ${spec.name} rows.`,
            );
          }
          rows = { spec, rows: [] };
        }
        rows.rows.push(row);
        if (rows.rows.length >= batchSize) {
          await insertClinicRows(t, tx, spec, rows.rows);
          rows.rows = [];
        }
      },
    });
    await flush();
    await insertSignals(t, tx, signals);
    await flushRows();
    await advanceClinicSequences(t, tx);
    await tx.query(
      `UPDATE ${t.meta} SET event_count = $1, last_position = $2, dense_from = $3, updated_at = now()`,
      [read.events, read.lastPosition, read.denseFrom],
    );
    return {
      events: read.events,
      episodes: read.episodes,
      lastPosition: read.lastPosition,
      safetySignals: read.safetySignals,
      clinic: read.clinic,
      sha256: read.sha256,
    };
  });
}

/** The safety signals of a backup, with their reviews, as they were kept. */
async function insertSignals(t: Tables, tx: Queryable, signals: readonly SignalLine[]): Promise<void> {
  for (const g of signals) {
    await tx.query(
      `INSERT INTO ${t.safetySignals}
         (id, episode_id, patient_id, event_id, event_type, refusal_code, event_at, recorded_by, signals,
          recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8, $9::jsonb, $10::timestamptz)`,
      [
        g.id,
        g.episodeId,
        g.patientId,
        g.eventId,
        g.eventType,
        g.refusalCode,
        g.eventAt,
        typeof g.recordedBy === 'string' ? g.recordedBy : null,
        JSON.stringify(g.signals),
        g.recordedAt,
      ],
    );
    if (g.review) {
      await tx.query(
        `INSERT INTO ${t.safetySignalReviews} (signal_id, outcome, reviewed_by, actor_id, reviewed_at, recorded_at)
         VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz)`,
        [g.id, g.review.outcome, g.review.reviewedBy, g.review.actorId, g.review.at, g.review.recordedAt],
      );
    }
  }
}
