import { createHash, type Hash } from 'node:crypto';
import type { Queryable } from './db.js';
import type { Tables } from './schema.js';

/**
 * The clinic tables a backup carries besides the events and safety signals (backup format version 2): one
 * line per row, `{"table": "<name>", "row": {<column>: <value>, …}}`, in the order below, which satisfies the
 * foreign keys. Values are typed explicitly, the same on both engines: `text` a string, `int` a number, `bigint`
 * a decimal string, `bool` a boolean, `timestamptz` an ISO 8601 UTC string with microseconds
 * (`2026-03-02T09:00:00.123456Z`), `jsonb` the JSON value; SQL NULL is JSON `null`.
 *
 * Not backed up: sign-in sessions and one-time sign-in/set-up tokens (ephemeral secrets: after a restore
 * everyone signs in again), snapshots (rebuilt from the events), meta and migrations (the target's own).
 */

type ColumnType = 'text' | 'int' | 'bigint' | 'bool' | 'timestamptz' | 'jsonb';

interface ClinicTableSpec {
  /** The name a backup line carries. */
  readonly name: string;
  readonly table: (t: Tables) => string;
  /** Every column, in the order of the line's row. */
  readonly columns: Readonly<Record<string, ColumnType>>;
  /** The primary key: rows are written in its order. */
  readonly key: readonly string[];
  /** A `GENERATED ALWAYS AS IDENTITY` column, whose sequence a restore moves past the restored values. */
  readonly identity?: string;
}

/**
 * Every clinic table, in foreign-key order (a table after every table it references): its name in
 * {@link Tables}, then its columns as in the DDL of schema.ts (`name type`), `key` marking the primary key's
 * columns and `identity` a `GENERATED ALWAYS AS IDENTITY` column.
 */
const CLINIC_COLUMNS = `
  users: id text key, email text, display_name text, role text, password_hash text, oidc_issuer text,
    oidc_subject text, demo bool, disabled bool, failed_sign_ins int, locked_until timestamptz,
    created_at timestamptz;
  careTeams: id text key, name text, created_at timestamptz;
  careTeamMembers: team_id text key, user_id text key;
  careTeamPatients: team_id text key, patient_id text key;
  audit: position bigint key identity, at timestamptz, actor_id text, role text, action text, method text,
    route text, patient_id text, episode_id text, outcome text, reason text, recorded_at timestamptz;
  patientContacts: patient_id text key, email text, updated_at timestamptz;
  measureRequests: id text key, episode_id text, patient_id text, instruments jsonb, origin text,
    created_by text, status text, created_at timestamptz, expires_at timestamptz, opened_at timestamptz,
    submitted_at timestamptz, completed_at timestamptz, revoked_at timestamptz, revoked_by text, event_ids jsonb;
  measureLinks: token_hash text key, request_id text, channel text, created_at timestamptz;
  measureOpen: episode_id text key, instrument text key, request_id text;
  outbox: id text key, idempotency_key text, kind text, request_id text, recipient text, status text,
    attempts int, next_attempt_at timestamptz, last_error text, created_at timestamptz, sent_at timestamptz`;

/** A table's spec from its entry in {@link CLINIC_COLUMNS}. */
function clinicTable(entry: string): ClinicTableSpec {
  const [name, list] = entry.split(':').map((part) => part.trim()) as [keyof Tables, string];
  const columns: Record<string, ColumnType> = {};
  const key: string[] = [];
  let identity: string | undefined;
  for (const column of list.split(',')) {
    const [columnName, type, ...flags] = column.trim().split(/\s+/) as [string, ColumnType, ...string[]];
    columns[columnName] = type;
    if (flags.includes('key')) key.push(columnName);
    if (flags.includes('identity')) identity = columnName;
  }
  return { name, table: (t) => t[name], columns, key, ...(identity ? { identity } : {}) };
}

/** The clinic tables, in foreign-key order (a table after every table it references). */
export const CLINIC_TABLES: readonly ClinicTableSpec[] = CLINIC_COLUMNS.split(';').map(clinicTable);

/** Rows per clinic table, by the name its lines carry (every table named, 0 when it has none). */
export type ClinicCounts = Record<string, number>;

/** A clinic table's rows in a backup and the SHA-256 of its lines, as the end line records them. */
export interface ClinicTableTotal {
  readonly rows: number;
  readonly sha256: string;
}

export const noClinicRows = (): ClinicCounts => Object.fromEntries(CLINIC_TABLES.map((c) => [c.name, 0]));

/** The SELECT expression of a column that gives its backup value on either engine. */
function selectExpr(column: string, type: ColumnType): string {
  const c = `"${column}"`;
  if (type === 'timestamptz') {
    return `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${c}`;
  }
  return type === 'bigint' ? `${c}::text AS ${c}` : c;
}

/**
 * Write the lines of every clinic table, each line hashed into `hash` and into its table's own SHA-256, read in
 * batches of `batchSize` in primary-key order (keyset paging: each batch starts after the last key read).
 */
export async function writeClinicLines(
  t: Tables,
  tx: Queryable,
  hash: Hash,
  batchSize: number,
  write: (chunk: string) => Promise<void>,
): Promise<Record<string, ClinicTableTotal>> {
  const result: Record<string, ClinicTableTotal> = {};
  for (const spec of CLINIC_TABLES) {
    const names = Object.keys(spec.columns);
    const select = names.map((n) => selectExpr(n, spec.columns[n]!)).join(', ');
    const keys = spec.key.map((k) => `"${k}"`).join(', ');
    const after = spec.key.map((k, i) => `$${i + 2}::${spec.columns[k]}`).join(', ');
    const own = createHash('sha256');
    let rows = 0;
    let last: unknown[] | null = null;
    for (;;) {
      const batch: Record<string, unknown>[] = await tx.query<Record<string, unknown>>(
        `SELECT ${select} FROM ${spec.table(t)} ${last ? `WHERE (${keys}) > (${after})` : ''}
         ORDER BY ${keys} LIMIT $1`,
        [batchSize, ...(last ?? [])],
      );
      let chunk = '';
      for (const r of batch) {
        const row: Record<string, unknown> = {};
        for (const n of names) row[n] = r[n] ?? null;
        const line = `${JSON.stringify({ table: spec.name, row })}\n`;
        hash.update(line);
        own.update(line);
        chunk += line;
      }
      rows += batch.length;
      if (chunk) await write(chunk);
      if (batch.length < batchSize) break;
      const end = batch[batch.length - 1]!;
      last = spec.key.map((k) => end[k]);
    }
    result[spec.name] = { rows, sha256: own.digest('hex') };
  }
  return result;
}

const VALID: Record<ColumnType, (v: unknown) => boolean> = {
  text: (v) => typeof v === 'string',
  int: (v) => Number.isSafeInteger(v),
  bigint: (v) => typeof v === 'string' && /^-?\d{1,19}$/.test(v),
  bool: (v) => typeof v === 'boolean',
  timestamptz: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
  jsonb: () => true,
};

/**
 * The spec of a clinic line's table, after checking its row: every column present with a value of its type
 * (or null), and nothing else. Returns a message instead when the line is not a valid clinic line.
 */
export function checkClinicLine(table: unknown, row: unknown): ClinicTableSpec | string {
  const spec = CLINIC_TABLES.find((c) => c.name === table);
  if (!spec) return `unknown table ${JSON.stringify(table)}`;
  if (typeof row !== 'object' || row === null || Array.isArray(row))
    return `a ${spec.name} line without a row`;
  const values = row as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    if (!(key in spec.columns)) return `a ${spec.name} row with an unknown column "${key}"`;
  }
  for (const [column, type] of Object.entries(spec.columns)) {
    const v = values[column];
    if (v === undefined) return `a ${spec.name} row without column "${column}"`;
    if (v !== null && !VALID[type](v)) return `a ${spec.name} row whose "${column}" is not of type ${type}`;
  }
  return spec;
}

/** The clinic tables of `t` that already hold rows (a restore does not mix a backup's rows into them). */
export async function nonEmptyClinicTables(t: Tables, tx: Queryable): Promise<Set<string>> {
  const found = new Set<string>();
  for (const spec of CLINIC_TABLES) {
    const [row] = await tx.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${spec.table(t)}) AS any`);
    if (row?.any) found.add(spec.name);
  }
  return found;
}

/**
 * Insert one table's rows of a backup (a JSON null stored as SQL NULL, every value through its column's type
 * input, identity values kept as they were).
 */
export async function insertClinicRows(
  t: Tables,
  tx: Queryable,
  spec: ClinicTableSpec,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  if (rows.length === 0) return;
  const table = spec.table(t);
  const columns = Object.keys(spec.columns)
    .map((c) => `"${c}"`)
    .join(', ');
  await tx.query(
    `INSERT INTO ${table} (${columns}) ${spec.identity ? 'OVERRIDING SYSTEM VALUE ' : ''}
     SELECT ${columns} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)`,
    [JSON.stringify(rows)],
  );
}

/** Move every identity sequence of the clinic tables past the largest value restored. */
export async function advanceClinicSequences(t: Tables, tx: Queryable): Promise<void> {
  for (const spec of CLINIC_TABLES) {
    if (!spec.identity) continue;
    const table = spec.table(t);
    await tx.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT max("${spec.identity}") AS m FROM ${table}) s
       WHERE m IS NOT NULL`,
      [table, spec.identity],
    );
  }
}
