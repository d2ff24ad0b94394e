import { createHash, type Hash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable, type Writable } from 'node:stream';
import type { EpisodeState } from '@kapkit/core';
import {
  advanceClinicSequences,
  CLINIC_TABLES,
  type ClinicCounts,
  type ClinicTableTotal,
  checkClinicLine,
  insertClinicRows,
  noClinicRows,
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

/** The `format` of a kapkit store backup's first line. */
export const BACKUP_FORMAT = 'kapkit-store-backup';
/**
 * The version of the backup format this @kapkit/store writes. It reads this one and version 1 (events and
 * safety signals only, no clinic tables).
 */
export const BACKUP_FORMAT_VERSION = 2;

/** The first line of a backup. */
export interface BackupHeader {
  readonly format: typeof BACKUP_FORMAT;
  readonly formatVersion: number;
  /** The schema version of the store it was taken from. */
  readonly schemaVersion: number;
  readonly engine: 'pglite' | 'postgres';
  /** When the backup was taken (ISO 8601, UTC). */
  readonly createdAt: string;
}

/** What a backup or a restore covered. */
export interface BackupSummary {
  readonly events: number;
  readonly episodes: number;
  /** The last position the store had handed out (the backup's last event, unless the store is empty). */
  readonly lastPosition: number;
  /** Safety signals of refused submissions (`safetySignals()`), with their reviews. */
  readonly safetySignals: number;
  /**
   * Rows of each clinic table, by the name its lines carry: `users`, `careTeams`, `careTeamMembers`,
   * `careTeamPatients`, `audit`, `patientContacts`, `measureRequests`, `measureLinks`, `measureOpen`, `outbox`
   * (every table named; all 0 for a version-1 backup, which has none).
   */
  readonly clinic: Readonly<Record<string, number>>;
  /** SHA-256 (hex) of every line between the header and the end line, as in the trailer. */
  readonly sha256: string;
}

/** The end line of a backup. */
interface Trailer {
  events: number;
  safetySignals?: number;
  lastPosition: number;
  /** Format version 2: each clinic table's rows and the SHA-256 of its lines. */
  clinic?: Record<string, ClinicTableTotal>;
  sha256: string;
}

const countsOf = (totals: Record<string, ClinicTableTotal>): ClinicCounts =>
  Object.fromEntries(Object.entries(totals).map(([name, total]) => [name, total.rows]));

/** A stored safety signal as a backup line carries it (`{ "safetySignal": … }`). */
interface SignalLine {
  id: string;
  episodeId: string;
  patientId: string | null;
  eventId: string | null;
  eventType: string | null;
  refusalCode: string;
  eventAt: string | null;
  /** Who recorded the refused submission (a role); absent in backups of stores before schema version 7. */
  recordedBy?: string | null;
  signals: unknown[];
  recordedAt: string;
  review: null | {
    outcome: string;
    reviewedBy: string;
    actorId: string | null;
    at: string;
    recordedAt: string;
  };
}

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

interface BackupLine {
  position: number;
  episodeId: string;
  version: number;
  committedAt: string;
  event: Record<string, unknown>;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

type BackupInput = Readable | Iterable<string | Buffer> | AsyncIterable<string | Buffer>;

const toStream = (input: BackupInput): Readable =>
  typeof (input as Readable).pipe === 'function' ? (input as Readable) : Readable.from(input);

/** What reading a backup passes on, line by line. */
interface BackupHandlers {
  readonly onEvent?: (line: BackupLine, lineNo: number) => Promise<void> | void;
  readonly onSignal?: (signal: SignalLine) => void;
  readonly onClinic?: (
    spec: (typeof CLINIC_TABLES)[number],
    row: Record<string, unknown>,
    lineNo: number,
  ) => Promise<void> | void;
}

/**
 * The clinic lines of a backup as they are read: tables in their order (after every event and safety signal),
 * each table's rows counted and its lines hashed, so that an altered table is named.
 */
class ClinicLines {
  readonly #seen = new Map<string, { rows: number; hash: Hash; first: number; last: number }>();
  #index = 0;

  constructor(readonly formatVersion: number) {}

  get started(): boolean {
    return this.#seen.size > 0;
  }

  /** Check a clinic line (`value` parsed from `text`) and count it; returns its table's spec and row. */
  see(value: Record<string, unknown>, text: string, lineNo: number) {
    if (this.formatVersion < 2) {
      throw new InvalidBackupError(lineNo, 'a table line in a version-1 backup (which has none)');
    }
    const spec = checkClinicLine(value.table, value.row);
    if (typeof spec === 'string') throw new InvalidBackupError(lineNo, spec);
    const index = CLINIC_TABLES.indexOf(spec);
    if (index < this.#index) {
      throw new InvalidBackupError(lineNo, `a ${spec.name} line after the lines of a later table`);
    }
    this.#index = index;
    let table = this.#seen.get(spec.name);
    if (!table) {
      table = { rows: 0, hash: createHash('sha256'), first: lineNo, last: lineNo };
      this.#seen.set(spec.name, table);
    }
    table.rows++;
    table.last = lineNo;
    table.hash.update(`${text}\n`);
    return { spec, row: value.row as Record<string, unknown> };
  }

  /** Check the end line's record of each table (a version-2 backup must have one); returns the counts. */
  finish(trailer: Trailer, lineNo: number): ClinicCounts {
    const counts = noClinicRows();
    if (this.formatVersion < 2) return counts;
    const recorded = trailer.clinic;
    if (!isRecord(recorded)) throw new InvalidBackupError(lineNo, 'the end line has no clinic tables');
    for (const { name } of CLINIC_TABLES) {
      const table = this.#seen.get(name);
      const rows = table?.rows ?? 0;
      const sha256 = (table?.hash ?? createHash('sha256')).digest('hex');
      const r = recorded[name];
      if (!r || r.rows !== rows || r.sha256 !== sha256) {
        const where = table ? ` in lines ${table.first}–${table.last}` : '';
        throw new InvalidBackupError(
          lineNo,
          `the end line records ${String(r?.rows)} ${name} rows with SHA-256 ${String(r?.sha256).slice(0, 12)}…, the file holds ${rows}${where} with SHA-256 ${sha256.slice(0, 12)}…: it was altered`,
        );
      }
      counts[name] = rows;
    }
    return counts;
  }
}

/**
 * Read a backup line by line: the header, then each event (passed to `onEvent` with its line number, after
 * checking its shape, that positions increase and that each episode's versions run 1, 2, 3, …), the safety
 * signals, the clinic tables' rows (format version 2, in table order), then the trailer, whose counts and
 * SHA-256s must match the lines.
 */
async function readBackup(
  stream: Readable,
  handlers: BackupHandlers = {},
): Promise<BackupSummary & { header: BackupHeader; denseFrom: number }> {
  let safetySignals = 0;
  const hash = createHash('sha256');
  const next = new Map<string, number>();
  let lineNo = 0;
  let header: BackupHeader | null = null;
  let clinic: ClinicLines | null = null;
  let trailer: Trailer | null = null;
  let events = 0;
  let lastPosition = 0;
  let denseFrom = 0;
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const raw of lines) {
    lineNo++;
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') continue;
    if (trailer) throw new InvalidBackupError(lineNo, 'there is more after the end line');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidBackupError(lineNo, 'not JSON');
    }
    if (!isRecord(value)) throw new InvalidBackupError(lineNo, 'not a JSON object');
    if (header === null || clinic === null) {
      header = readHeader(value, lineNo);
      clinic = new ClinicLines(header.formatVersion);
      continue;
    }
    if (value.end === true) {
      trailer = value as unknown as Trailer;
      continue;
    }
    hash.update(`${text}\n`);
    if (typeof value.table === 'string') {
      const { spec, row } = clinic.see(value, text, lineNo);
      await handlers.onClinic?.(spec, row, lineNo);
      continue;
    }
    if (clinic.started) {
      throw new InvalidBackupError(lineNo, 'an event or safety signal after the clinic tables');
    }
    if (isRecord(value.safetySignal)) {
      const g = value.safetySignal;
      if (
        typeof g.id !== 'string' ||
        typeof g.episodeId !== 'string' ||
        typeof g.refusalCode !== 'string' ||
        !Array.isArray(g.signals) ||
        typeof g.recordedAt !== 'string'
      ) {
        throw new InvalidBackupError(
          lineNo,
          'expected a safety signal {id, episodeId, refusalCode, signals, recordedAt}',
        );
      }
      safetySignals++;
      handlers.onSignal?.(g as unknown as SignalLine);
      continue;
    }
    const { position, episodeId, version, committedAt, event } = value;
    if (
      !Number.isSafeInteger(position) ||
      (position as number) <= lastPosition ||
      typeof episodeId !== 'string' ||
      !Number.isSafeInteger(version) ||
      typeof committedAt !== 'string' ||
      Number.isNaN(Date.parse(committedAt)) ||
      !isRecord(event) ||
      event.episodeId !== episodeId
    ) {
      throw new InvalidBackupError(
        lineNo,
        'expected {position (increasing), episodeId, version, committedAt, event of that episode}',
      );
    }
    const expected = next.get(episodeId) ?? 1;
    if (version !== expected) {
      throw new InvalidBackupError(
        lineNo,
        `episode "${episodeId}": version ${String(version)} where ${expected} was expected`,
      );
    }
    next.set(episodeId, expected + 1);
    // A store whose positions had gaps (made before schema version 2) keeps them: dense_from marks where
    // contiguous positions start.
    if ((position as number) !== lastPosition + 1) denseFrom = (position as number) - 1;
    lastPosition = position as number;
    events++;
    await handlers.onEvent?.({ position, episodeId, version, committedAt, event } as BackupLine, lineNo);
  }
  if (header === null || clinic === null) throw new InvalidBackupError(0, 'the file is empty');
  if (trailer === null)
    throw new InvalidBackupError(lineNo, 'the end line is missing: the file is truncated');
  const counts = clinic.finish(trailer, lineNo);
  const sha256 = hash.digest('hex');
  if (
    trailer.events !== events ||
    (trailer.safetySignals ?? 0) !== safetySignals ||
    trailer.sha256 !== sha256
  ) {
    throw new InvalidBackupError(
      lineNo,
      `the end line records ${String(trailer.events)} events and SHA-256 ${String(trailer.sha256).slice(0, 12)}…, the file holds ${events} events with SHA-256 ${sha256.slice(0, 12)}…: it was altered`,
    );
  }
  if (trailer.lastPosition !== lastPosition) {
    throw new InvalidBackupError(
      lineNo,
      `the end line records last position ${String(trailer.lastPosition)}, the last event is at ${lastPosition}`,
    );
  }
  return {
    header,
    events,
    episodes: next.size,
    lastPosition,
    safetySignals,
    clinic: counts,
    sha256,
    denseFrom,
  };
}

/** A backup's first line, checked: its format, a format version this @kapkit/store reads, its schema. */
function readHeader(value: Record<string, unknown>, lineNo: number): BackupHeader {
  if (value.format !== BACKUP_FORMAT) {
    throw new InvalidBackupError(lineNo, `not a kapkit store backup (no "format": "${BACKUP_FORMAT}")`);
  }
  if (value.formatVersion !== 1 && value.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw new InvalidBackupError(
      lineNo,
      `backup format version ${String(value.formatVersion)}, this @kapkit/store reads 1 to ${BACKUP_FORMAT_VERSION}`,
    );
  }
  if (typeof value.schemaVersion !== 'number' || value.schemaVersion > SCHEMA_VERSION) {
    throw new InvalidBackupError(
      lineNo,
      `made from a store of schema version ${String(value.schemaVersion)}; this @kapkit/store supports up to ${SCHEMA_VERSION}`,
    );
  }
  return value as unknown as BackupHeader;
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
