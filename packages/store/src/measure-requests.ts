import { randomUUID } from 'node:crypto';
import type { Queryable } from './db.js';
import { InvalidArgumentError } from './errors.js';
import {
  checkText,
  type OutboxRow,
  outboxMessage,
  type RequestRow,
  request,
} from './measure-request-rows.js';
import type {
  MeasureRequest,
  MeasureRequestStatus,
  MeasureRequestSummary,
  NewMeasureRequest,
  OutboxMessage,
} from './measure-request-types.js';
import type { Tables } from './schema.js';
import type { SqlEventStore } from './store.js';
import type { EventStore } from './store-types.js';
import { at, hashToken, iso, newToken } from './values.js';

/** The stored form of a link token: its SHA-256 hash (hex). */
export const hashMeasureToken = (token: string): string => hashToken(token);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INSTRUMENT = /^[a-z0-9]{1,40}$/;

/**
 * Measure requests, links, patient contacts and the e-mail outbox of a store opened with `openStore`.
 * @example
 * ```ts
 * const requests = openMeasureRequests(store);
 * const made = await requests.create({
 *   episodeId, patientId, instruments: ['phq9'], origin: 'clinician', atMs: Date.now(),
 *   ttlMs: 7 * 86_400_000, issueLink: true, email: false,
 * });
 * // made.token goes into the link /m/<token>; only its hash is stored.
 * ```
 */
export function openMeasureRequests(store: EventStore): MeasureRequestStore {
  return new MeasureRequestStore(store as SqlEventStore);
}

export class MeasureRequestStore {
  readonly #store: SqlEventStore;
  readonly #t: Tables;

  constructor(store: SqlEventStore) {
    this.#store = store;
    this.#t = store.tables;
  }

  // ── requests ─────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Create a request, in one transaction with its open-measure rows, its link and its e-mail.
   *
   * A `clinician` request takes over the open measures it names (an older open request keeps working). An
   * `automatic` one leaves out every instrument that already has an open request in the episode, and returns
   * null when none is left: called again (after a restart, from another process), it creates nothing.
   * @returns the request and its link token (null unless `issueLink`), or null.
   * @throws {InvalidArgumentError} for bad ids, instruments or times.
   */
  async create(input: NewMeasureRequest): Promise<{ request: MeasureRequest; token: string | null } | null> {
    checkText('episodeId', input.episodeId);
    checkText('patientId', input.patientId);
    if (
      !Array.isArray(input.instruments) ||
      input.instruments.length === 0 ||
      input.instruments.length > 10
    ) {
      throw new InvalidArgumentError('instruments', 'Expected 1 to 10 instrument ids.');
    }
    for (const [i, id] of input.instruments.entries()) {
      if (typeof id !== 'string' || !INSTRUMENT.test(id)) {
        throw new InvalidArgumentError(
          `instruments[${i}]`,
          `Expected a canonical instrument id (lower-case letters and digits), got ${JSON.stringify(id)}.`,
        );
      }
    }
    if (new Set(input.instruments).size !== input.instruments.length) {
      throw new InvalidArgumentError('instruments', 'Each instrument may be named once.');
    }
    if (!Number.isFinite(input.atMs) || !(input.ttlMs > 0)) {
      throw new InvalidArgumentError('ttlMs', 'Expected a time (epoch ms) and a positive lifetime.');
    }
    const id = `mr-${randomUUID()}`;
    const token = input.issueLink ? newToken() : null;
    return this.#store.inTransaction('creating a measure request', async (db) => {
      const t = this.#t;
      let instruments = [...input.instruments];
      if (input.origin === 'automatic') {
        const held = await db.query<{ instrument: string }>(
          `SELECT instrument FROM ${t.measureOpen} WHERE episode_id = $1 AND instrument = ANY($2::text[])`,
          [input.episodeId, instruments],
        );
        const taken = new Set(held.map((h) => h.instrument));
        instruments = instruments.filter((i) => !taken.has(i));
        if (instruments.length === 0) return null;
      }
      await db.query(
        `INSERT INTO ${t.measureRequests}
           (id, episode_id, patient_id, instruments, origin, created_by, status, created_at, expires_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, 'sent', $7::timestamptz, $8::timestamptz)`,
        [
          id,
          input.episodeId,
          input.patientId,
          JSON.stringify(instruments),
          input.origin,
          input.createdBy ?? null,
          at(input.atMs),
          at(input.atMs + input.ttlMs),
        ],
      );
      if (input.origin === 'automatic') {
        // Another process may have taken a measure since the read above: keep only what this one holds.
        const got = await db.query<{ instrument: string }>(
          `INSERT INTO ${t.measureOpen} (episode_id, instrument, request_id)
           SELECT $1, i, $3 FROM unnest($2::text[]) AS i ON CONFLICT DO NOTHING RETURNING instrument`,
          [input.episodeId, instruments, id],
        );
        const held = new Set(got.map((g) => g.instrument));
        if (held.size === 0) {
          await db.query(`DELETE FROM ${t.measureRequests} WHERE id = $1`, [id]);
          return null;
        }
        if (held.size < instruments.length) {
          instruments = instruments.filter((i) => held.has(i));
          await db.query(`UPDATE ${t.measureRequests} SET instruments = $2::jsonb WHERE id = $1`, [
            id,
            JSON.stringify(instruments),
          ]);
        }
      } else {
        await db.query(
          `INSERT INTO ${t.measureOpen} (episode_id, instrument, request_id)
           SELECT $1, i, $3 FROM unnest($2::text[]) AS i
           ON CONFLICT (episode_id, instrument) DO UPDATE SET request_id = EXCLUDED.request_id`,
          [input.episodeId, instruments, id],
        );
      }
      if (token !== null) {
        await db.query(
          `INSERT INTO ${t.measureLinks} (token_hash, request_id, channel, created_at)
           VALUES ($1, $2, 'link', $3::timestamptz)`,
          [hashMeasureToken(token), id, at(input.atMs)],
        );
      }
      if (input.email) {
        const [contact] = await db.query<{ email: string }>(
          `SELECT email FROM ${t.patientContacts} WHERE patient_id = $1`,
          [input.patientId],
        );
        if (contact) {
          await db.query(
            `INSERT INTO ${t.outbox}
               (id, idempotency_key, kind, request_id, recipient, status, next_attempt_at, created_at)
             VALUES ($1, $2, 'measure-request', $3, $4, 'pending', $5::timestamptz, $5::timestamptz)
             ON CONFLICT (idempotency_key) DO NOTHING`,
            [`mail-${randomUUID()}`, `measure-request:${id}`, id, contact.email, at(input.atMs)],
          );
        }
      }
      const [row] = await db.query<RequestRow>(`SELECT * FROM ${t.measureRequests} WHERE id = $1`, [id]);
      return { request: request(row!, input.atMs, await this.#emailOf(db, id)), token };
    });
  }

  async #emailOf(db: Queryable, requestId: string): Promise<OutboxMessage | null> {
    const [row] = await db.query<OutboxRow>(
      `SELECT * FROM ${this.#t.outbox} WHERE request_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [requestId],
    );
    return row ? outboxMessage(row) : null;
  }

  /** One request as of `atMs`, or null. */
  get(requestId: string, atMs: number): Promise<MeasureRequest | null> {
    return this.#store.withDb('reading a measure request', async (db) => {
      const [row] = await db.query<RequestRow>(`SELECT * FROM ${this.#t.measureRequests} WHERE id = $1`, [
        requestId,
      ]);
      return row ? request(row, atMs, await this.#emailOf(db, row.id)) : null;
    });
  }

  /**
   * A new link for an open request (a clinician copying it, or an e-mail): returns its token, or null when
   * the request is no longer open (completed, expired, revoked).
   */
  issueLink(requestId: string, atMs: number, channel: 'link' | 'email'): Promise<string | null> {
    const token = newToken();
    return this.#store.withDb('issuing a measure link', async (db) => {
      const rows = await db.query(
        `INSERT INTO ${this.#t.measureLinks} (token_hash, request_id, channel, created_at)
         SELECT $1, id, $3, $4::timestamptz FROM ${this.#t.measureRequests}
         WHERE id = $2 AND status IN ('sent', 'opened') AND expires_at > $4::timestamptz
         RETURNING token_hash`,
        [hashMeasureToken(token), requestId, channel, at(atMs)],
      );
      return rows.length > 0 ? token : null;
    });
  }

  /** Forget a link that was never delivered (its e-mail failed). */
  dropLink(token: string): Promise<void> {
    return this.#store.withDb('dropping a measure link', async (db) => {
      await db.query(`DELETE FROM ${this.#t.measureLinks} WHERE token_hash = $1`, [hashMeasureToken(token)]);
    });
  }

  /** The request a link token opens (compared by hash), as of `atMs`, or null for an unknown token. */
  byToken(token: string, atMs: number): Promise<MeasureRequest | null> {
    return this.#store.withDb('reading a measure link', async (db) => {
      const [row] = await db.query<RequestRow>(
        `SELECT r.* FROM ${this.#t.measureLinks} l JOIN ${this.#t.measureRequests} r ON r.id = l.request_id
         WHERE l.token_hash = $1`,
        [hashMeasureToken(token)],
      );
      return row ? request(row, atMs, null) : null;
    });
  }

  /** Mark a request opened (the first time a link of it is opened while it is open). */
  markOpened(requestId: string, atMs: number): Promise<void> {
    return this.#store.withDb('opening a measure request', async (db) => {
      await db.query(
        `UPDATE ${this.#t.measureRequests} SET status = 'opened', opened_at = COALESCE(opened_at, $2::timestamptz)
         WHERE id = $1 AND status IN ('sent', 'opened') AND expires_at > $2::timestamptz`,
        [requestId, at(atMs)],
      );
    });
  }

  /**
   * Start (or retry) the submission of a request: its first submission time is kept, so a retry records the
   * same events. Null when the request may not be submitted (expired or revoked before any submission).
   */
  beginSubmission(requestId: string, atMs: number): Promise<{ submittedAt: string } | null> {
    return this.#store.withDb('submitting a measure request', async (db) => {
      const [row] = await db.query<{ submitted_at: Date | string }>(
        `UPDATE ${this.#t.measureRequests} SET submitted_at = COALESCE(submitted_at, $2::timestamptz)
         WHERE id = $1 AND (
           status = 'completed'
           OR (status IN ('sent', 'opened') AND (expires_at > $2::timestamptz OR submitted_at IS NOT NULL)))
         RETURNING submitted_at`,
        [requestId, at(atMs)],
      );
      return row ? { submittedAt: iso(row.submitted_at)! } : null;
    });
  }

  /** The answers are recorded: the request is spent, its measures free, its unsent e-mail cancelled. */
  complete(requestId: string, atMs: number, eventIds: readonly string[]): Promise<void> {
    return this.#store.inTransaction('completing a measure request', async (db) => {
      await db.query(
        `UPDATE ${this.#t.measureRequests}
         SET status = 'completed', completed_at = COALESCE(completed_at, $2::timestamptz), event_ids = $3::jsonb
         WHERE id = $1 AND status IN ('sent', 'opened', 'expired', 'completed')`,
        [requestId, at(atMs), JSON.stringify(eventIds)],
      );
      await this.#release(db, [requestId]);
    });
  }

  async #release(db: Queryable, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await db.query(`DELETE FROM ${this.#t.measureOpen} WHERE request_id = ANY($1::text[])`, [ids]);
    await db.query(
      `UPDATE ${this.#t.outbox} SET status = 'cancelled' WHERE request_id = ANY($1::text[]) AND status = 'pending'`,
      [ids],
    );
  }

  /**
   * Withdraw an open request: its links stop working at once.
   * @throws {InvalidArgumentError} when there is no such request or it is no longer open.
   */
  revoke(requestId: string, atMs: number, actorId: string | null): Promise<MeasureRequest> {
    return this.#store.inTransaction('revoking a measure request', async (db) => {
      const [row] = await db.query<RequestRow>(
        `UPDATE ${this.#t.measureRequests} SET status = 'revoked', revoked_at = $2::timestamptz, revoked_by = $3
         WHERE id = $1 AND status IN ('sent', 'opened') AND expires_at > $2::timestamptz RETURNING *`,
        [requestId, at(atMs), actorId],
      );
      if (!row) {
        throw new InvalidArgumentError(
          'requestId',
          'No open measure request with this id (completed, expired or revoked).',
        );
      }
      await this.#release(db, [requestId]);
      return request(row, atMs, await this.#emailOf(db, requestId));
    });
  }

  /** Mark every open request past its expiry `expired` (freeing its measures). @returns how many. */
  expireDue(atMs: number): Promise<number> {
    return this.#store.inTransaction('expiring measure requests', async (db) => {
      const rows = await db.query<{ id: string }>(
        `UPDATE ${this.#t.measureRequests} SET status = 'expired'
         WHERE status IN ('sent', 'opened') AND expires_at <= $1::timestamptz RETURNING id`,
        [at(atMs)],
      );
      await this.#release(
        db,
        rows.map((r) => r.id),
      );
      return rows.length;
    });
  }

  /** A patient's (or an episode's) requests as of `atMs`, newest first (at most 100). */
  list(filter: { patientId?: string; episodeId?: string }, atMs: number): Promise<MeasureRequest[]> {
    return this.#store.withDb('listing measure requests', async (db) => {
      const rows = await db.query<RequestRow>(
        `SELECT * FROM ${this.#t.measureRequests}
         WHERE ($1::text IS NULL OR patient_id = $1) AND ($2::text IS NULL OR episode_id = $2)
         ORDER BY created_at DESC, id LIMIT 100`,
        [filter.patientId ?? null, filter.episodeId ?? null],
      );
      const mail = await db.query<OutboxRow>(
        `SELECT * FROM ${this.#t.outbox} WHERE request_id = ANY($1::text[]) ORDER BY created_at`,
        [rows.map((r) => r.id)],
      );
      const byRequest = new Map(mail.map((m) => [m.request_id, outboxMessage(m)]));
      return rows.map((r) => request(r, atMs, byRequest.get(r.id) ?? null));
    });
  }

  /** Counts of requests by status as of `atMs`, per patient. */
  summaries(patientIds: readonly string[], atMs: number): Promise<Map<string, MeasureRequestSummary>> {
    return this.#store.withDb('summarising measure requests', async (db) => {
      const rows = await db.query<{
        patient_id: string;
        s: MeasureRequestStatus;
        n: unknown;
        last: Date | string;
      }>(
        `SELECT patient_id,
           CASE WHEN status IN ('sent', 'opened') AND expires_at <= $2::timestamptz THEN 'expired' ELSE status END AS s,
           count(*) AS n, max(created_at) AS last
         FROM ${this.#t.measureRequests} WHERE patient_id = ANY($1::text[]) GROUP BY 1, 2`,
        [patientIds, at(atMs)],
      );
      const out = new Map<string, MeasureRequestSummary>();
      for (const r of rows) {
        const s = out.get(r.patient_id) ?? {
          sent: 0,
          opened: 0,
          completed: 0,
          expired: 0,
          revoked: 0,
          lastCreatedAt: null,
        };
        const last = iso(r.last);
        out.set(r.patient_id, {
          ...s,
          [r.s]: Number(r.n),
          lastCreatedAt:
            s.lastCreatedAt === null || (last !== null && last > s.lastCreatedAt) ? last : s.lastCreatedAt,
        });
      }
      return out;
    });
  }

  // ── patient contacts ─────────────────────────────────────────────────────────────────────────────────────

  /** Set (or, with null, remove) the e-mail address reminders go to. */
  async setContact(patientId: string, email: string | null, atMs: number): Promise<void> {
    checkText('patientId', patientId);
    const clean = email === null ? null : email.trim();
    if (clean !== null && (!EMAIL.test(clean) || clean.length > 254)) {
      throw new InvalidArgumentError('email', `Expected an e-mail address, got "${email}".`);
    }
    return this.#store.withDb('saving a patient contact', async (db) => {
      if (clean === null) {
        await db.query(`DELETE FROM ${this.#t.patientContacts} WHERE patient_id = $1`, [patientId]);
        return;
      }
      await db.query(
        `INSERT INTO ${this.#t.patientContacts} (patient_id, email, updated_at) VALUES ($1, $2, $3::timestamptz)
         ON CONFLICT (patient_id) DO UPDATE SET email = EXCLUDED.email, updated_at = EXCLUDED.updated_at`,
        [patientId, clean, at(atMs)],
      );
    });
  }

  /** The patient's e-mail address for reminders, or null. */
  contact(patientId: string): Promise<string | null> {
    return this.#store.withDb('reading a patient contact', async (db) => {
      const [row] = await db.query<{ email: string }>(
        `SELECT email FROM ${this.#t.patientContacts} WHERE patient_id = $1`,
        [patientId],
      );
      return row?.email ?? null;
    });
  }

  // ── outbox ───────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Claim up to `limit` messages due at `atMs` (`pending`, next attempt reached): each becomes `sending`,
   * its attempt counted, before anything is sent. Messages claimed by another process are skipped.
   */
  claimDue(atMs: number, limit = 10): Promise<OutboxMessage[]> {
    return this.#store.withDb('claiming e-mails', async (db) =>
      (
        await db.query<OutboxRow>(
          `UPDATE ${this.#t.outbox} SET status = 'sending', attempts = attempts + 1, next_attempt_at = $1::timestamptz
           WHERE id IN (SELECT id FROM ${this.#t.outbox}
                        WHERE status = 'pending' AND next_attempt_at <= $1::timestamptz
                        ORDER BY next_attempt_at, id LIMIT ${Math.max(1, Math.min(100, Math.floor(limit)))}
                        FOR UPDATE SKIP LOCKED)
           RETURNING *`,
          [at(atMs)],
        )
      ).map(outboxMessage),
    );
  }

  /** The mail server accepted the message. */
  markSent(id: string, atMs: number): Promise<void> {
    return this.#store.withDb('recording a sent e-mail', async (db) => {
      await db.query(
        `UPDATE ${this.#t.outbox} SET status = 'sent', sent_at = $2::timestamptz, last_error = NULL
         WHERE id = $1 AND status = 'sending'`,
        [id, at(atMs)],
      );
    });
  }

  /**
   * The message was not accepted: try again at `retryAtMs`, or give up (`failed`) with null. `error` is a
   * short code, never a message text.
   */
  markFailed(id: string, error: string, retryAtMs: number | null): Promise<void> {
    return this.#store.withDb('recording a failed e-mail', async (db) => {
      await db.query(
        `UPDATE ${this.#t.outbox}
         SET status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
             next_attempt_at = COALESCE($3::timestamptz, next_attempt_at), last_error = $2
         WHERE id = $1 AND status = 'sending'`,
        [id, error.slice(0, 60), retryAtMs === null ? null : at(retryAtMs)],
      );
    });
  }

  /** The request is no longer open: its message is not sent. */
  cancel(id: string): Promise<void> {
    return this.#store.withDb('cancelling an e-mail', async (db) => {
      await db.query(
        `UPDATE ${this.#t.outbox} SET status = 'cancelled' WHERE id = $1 AND status IN ('pending', 'sending')`,
        [id],
      );
    });
  }

  /**
   * Messages claimed before `claimedBeforeMs` and still `sending` (the process died while handing them to the
   * mail server): marked `uncertain`, never sent again (the patient may have it). @returns how many.
   */
  markInterrupted(claimedBeforeMs: number): Promise<number> {
    return this.#store.withDb('checking interrupted e-mails', async (db) => {
      const rows = await db.query(
        `UPDATE ${this.#t.outbox} SET status = 'uncertain', last_error = 'interrupted'
         WHERE status = 'sending' AND next_attempt_at < $1::timestamptz RETURNING id`,
        [at(claimedBeforeMs)],
      );
      return rows.length;
    });
  }

  /** Every message of the outbox, oldest first (at most 1000): for tests and tools. */
  outbox(): Promise<OutboxMessage[]> {
    return this.#store.withDb('reading the outbox', async (db) =>
      (await db.query<OutboxRow>(`SELECT * FROM ${this.#t.outbox} ORDER BY created_at, id LIMIT 1000`)).map(
        outboxMessage,
      ),
    );
  }
}
