import type { AuditEntry, AuditEntryInput, AuditFilter } from './account-types.js';
import type { Queryable } from './db.js';
import { InvalidArgumentError } from './errors.js';
import type { Tables } from './schema.js';
import { at, iso } from './values.js';

/**
 * The audit trail's statements (an append-only table: a trigger refuses UPDATE, DELETE and TRUNCATE). Used
 * through `AccountStore`.
 */

/** Append an entry (identifiers and codes only: never health data). */
export async function writeAudit(db: Queryable, t: Tables, entry: AuditEntryInput): Promise<void> {
  await db.query(
    `INSERT INTO ${t.audit}
       (at, actor_id, role, action, method, route, patient_id, episode_id, outcome, reason)
     VALUES ($1::timestamptz, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      at(entry.atMs),
      entry.actorId,
      entry.role,
      entry.action,
      entry.method,
      entry.route,
      entry.patientId ?? null,
      entry.episodeId ?? null,
      entry.outcome,
      entry.reason ?? null,
    ],
  );
}

/** Entries matching `filter`, newest first. */
export async function searchAudit(db: Queryable, t: Tables, filter: AuditFilter): Promise<AuditEntry[]> {
  const limit = Math.min(Math.max(1, filter.limit ?? 100), 1000);
  const rows = await db.query<AuditRow>(
    `SELECT * FROM ${t.audit}
     WHERE ($1::timestamptz IS NULL OR at >= $1::timestamptz) AND ($2::timestamptz IS NULL OR at < $2::timestamptz)
       AND ($3::text IS NULL OR actor_id = $3) AND ($4::text IS NULL OR patient_id = $4)
       AND ($5::text IS NULL OR outcome = $5) AND ($6::bigint IS NULL OR position < $6)
     ORDER BY position DESC LIMIT ${limit}`,
    [
      timeParam(filter.from),
      timeParam(filter.to),
      filter.actorId ?? null,
      filter.patientId ?? null,
      filter.outcome ?? null,
      filter.beforePosition ?? null,
    ],
  );
  return rows.map(auditEntry);
}

/** Up to 1000 entries after position `after` with `from` ≤ at < `to`, oldest first. */
export async function auditPage(
  db: Queryable,
  t: Tables,
  after: number,
  range: { from?: string | number; to?: string | number },
): Promise<AuditEntry[]> {
  const rows = await db.query<AuditRow>(
    `SELECT * FROM ${t.audit}
     WHERE position > $1 AND ($2::timestamptz IS NULL OR at >= $2::timestamptz)
       AND ($3::timestamptz IS NULL OR at < $3::timestamptz)
     ORDER BY position LIMIT 1000`,
    [after, timeParam(range.from), timeParam(range.to)],
  );
  return rows.map(auditEntry);
}

interface AuditRow {
  position: unknown;
  at: Date | string;
  actor_id: string | null;
  role: string | null;
  action: string;
  method: string;
  route: string;
  patient_id: string | null;
  episode_id: string | null;
  outcome: 'allowed' | 'denied';
  reason: string | null;
}

function auditEntry(r: AuditRow): AuditEntry {
  return {
    position: Number(r.position),
    at: iso(r.at)!,
    actorId: r.actor_id,
    role: r.role,
    action: r.action,
    method: r.method,
    route: r.route,
    patientId: r.patient_id,
    episodeId: r.episode_id,
    outcome: r.outcome,
    reason: r.reason,
  };
}

function timeParam(v: string | number | undefined): string | null {
  if (v === undefined) return null;
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('time', `Expected an ISO 8601 time, got "${v}".`);
  return at(ms);
}
