import { randomBytes, randomUUID } from 'node:crypto';
import {
  type Account,
  type AuditEntry,
  type AuditEntryInput,
  type AuditFilter,
  type CareTeam,
  type LockoutPolicy,
  type NewAccount,
  type SessionLookup,
  type SessionPolicy,
  type SignInResult,
  type StaffRole,
  staffRoles,
} from './account-types.js';
import { auditPage, searchAudit, writeAudit } from './audit.js';
import type { Queryable } from './db.js';
import { InvalidArgumentError } from './errors.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import type { Tables } from './schema.js';
import type { SqlEventStore } from './store.js';
import type { EventStore } from './store-types.js';
import { at, hashToken, iso, newToken } from './values.js';

/**
 * The people around the record, kept in the same database as the events (PGlite or PostgreSQL, same SQL):
 * staff accounts, care teams and the patients they look after, server-side sessions, one-time sign-in and
 * set-up links, and the append-only audit trail. Every time is passed in by the caller (`atMs`, epoch ms):
 * the server reads its clock in one place.
 */

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  role: StaffRole;
  password_hash: string | null;
  oidc_issuer: string | null;
  oidc_subject: string | null;
  demo: boolean;
  disabled: boolean;
  failed_sign_ins: number;
  locked_until: Date | string | null;
  created_at: Date | string;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** A session's last request time is refreshed at most this often (the idle limit is that much less exact). */
const TOUCH_EVERY_MS = 15_000;

function account(r: UserRow): Account {
  return {
    id: r.id,
    email: r.email,
    displayName: r.display_name,
    role: r.role,
    demo: r.demo,
    disabled: r.disabled,
    hasPassword: r.password_hash !== null,
    oidc: r.oidc_issuer && r.oidc_subject ? { issuer: r.oidc_issuer, subject: r.oidc_subject } : null,
    lockedUntil: iso(r.locked_until),
    createdAt: iso(r.created_at)!,
  };
}

/** A hash to compare against when the e-mail names no account, so both answers take as long. */
let decoyHash: Promise<string> | null = null;

/**
 * Accounts, care teams, sessions, one-time links and the audit trail of a store opened with `openStore`.
 * @example
 * ```ts
 * const accounts = openAccounts(store);
 * const admin = await accounts.createUser({ email: 'ada@clinic.example', role: 'admin', password }, Date.now());
 * ```
 */
export function openAccounts(store: EventStore): AccountStore {
  return new AccountStore(store as SqlEventStore);
}

export class AccountStore {
  readonly #store: SqlEventStore;
  readonly #t: Tables;

  constructor(store: SqlEventStore) {
    this.#store = store;
    this.#t = store.tables;
  }

  // ── accounts ─────────────────────────────────────────────────────────────────────────────────────────────

  /** Create an account. @throws {InvalidArgumentError} for a bad e-mail, role or password, or a taken e-mail. */
  async createUser(input: NewAccount, atMs: number): Promise<Account> {
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email) || email.length > 254) {
      throw new InvalidArgumentError('email', `Expected an e-mail address, got "${input.email}".`);
    }
    if (!(staffRoles as readonly string[]).includes(input.role)) {
      throw new InvalidArgumentError(
        'role',
        `Expected one of ${staffRoles.join(', ')}, got "${input.role}".`,
      );
    }
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password);
      if (problem) throw new InvalidArgumentError('password', problem);
    }
    const hash = input.password !== undefined ? await hashPassword(input.password) : null;
    return this.#store.withDb('creating an account', async (db) => {
      const [taken] = await db.query(`SELECT 1 FROM ${this.#t.users} WHERE email = $1`, [email]);
      if (taken) throw new InvalidArgumentError('email', `An account with e-mail ${email} already exists.`);
      const [row] = await db.query<UserRow>(
        `INSERT INTO ${this.#t.users}
           (id, email, display_name, role, password_hash, oidc_issuer, oidc_subject, demo, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz) RETURNING *`,
        [
          `usr-${randomUUID()}`,
          email,
          input.displayName?.trim() || email,
          input.role,
          hash,
          input.oidc?.issuer ?? null,
          input.oidc?.subject ?? null,
          input.demo ?? false,
          at(atMs),
        ],
      );
      return account(row!);
    });
  }

  userById(id: string): Promise<Account | null> {
    return this.#store.withDb('reading an account', async (db) => {
      const [row] = await db.query<UserRow>(`SELECT * FROM ${this.#t.users} WHERE id = $1`, [id]);
      return row ? account(row) : null;
    });
  }

  userByEmail(email: string): Promise<Account | null> {
    return this.#store.withDb('reading an account', async (db) => {
      const [row] = await db.query<UserRow>(`SELECT * FROM ${this.#t.users} WHERE email = $1`, [
        email.trim().toLowerCase(),
      ]);
      return row ? account(row) : null;
    });
  }

  userByOidc(issuer: string, subject: string): Promise<Account | null> {
    return this.#store.withDb('reading an account', async (db) => {
      const [row] = await db.query<UserRow>(
        `SELECT * FROM ${this.#t.users} WHERE oidc_issuer = $1 AND oidc_subject = $2`,
        [issuer, subject],
      );
      return row ? account(row) : null;
    });
  }

  /** Link an account to an OpenID Connect identity, and set its role (the identity provider's claim). */
  linkOidc(userId: string, issuer: string, subject: string, role: StaffRole): Promise<Account> {
    return this.#store.withDb('linking a single sign-on identity', async (db) => {
      const [row] = await db.query<UserRow>(
        `UPDATE ${this.#t.users} SET oidc_issuer = $2, oidc_subject = $3, role = $4 WHERE id = $1 RETURNING *`,
        [userId, issuer, subject, role],
      );
      if (!row) throw new InvalidArgumentError('userId', 'No such account.');
      return account(row);
    });
  }

  listUsers(): Promise<Account[]> {
    return this.#store.withDb('listing accounts', async (db) =>
      (await db.query<UserRow>(`SELECT * FROM ${this.#t.users} ORDER BY email`)).map(account),
    );
  }

  /** How many accounts exist (0 on a new store: the first start offers a set-up link). */
  countUsers(): Promise<number> {
    return this.#store.withDb('counting accounts', async (db) => {
      const [row] = await db.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${this.#t.users}`);
      return Number(row?.n ?? 0);
    });
  }

  /** Set (or replace) a password; the account's sessions end. */
  async setPassword(userId: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new InvalidArgumentError('password', problem);
    const hash = await hashPassword(password);
    await this.#store.withDb('setting a password', async (db) => {
      const rows = await db.query(
        `UPDATE ${this.#t.users} SET password_hash = $2, failed_sign_ins = 0, locked_until = NULL
         WHERE id = $1 RETURNING id`,
        [userId, hash],
      );
      if (rows.length === 0) throw new InvalidArgumentError('userId', 'No such account.');
      await db.query(`DELETE FROM ${this.#t.sessions} WHERE user_id = $1`, [userId]);
    });
  }

  /** Change an account's role or disable it; its sessions end either way. */
  updateUser(userId: string, change: { role?: StaffRole; disabled?: boolean }): Promise<Account> {
    if (change.role !== undefined && !(staffRoles as readonly string[]).includes(change.role)) {
      throw new InvalidArgumentError('role', `Expected one of ${staffRoles.join(', ')}.`);
    }
    return this.#store.withDb('updating an account', async (db) => {
      const [row] = await db.query<UserRow>(
        `UPDATE ${this.#t.users} SET role = COALESCE($2, role), disabled = COALESCE($3, disabled)
         WHERE id = $1 RETURNING *`,
        [userId, change.role ?? null, change.disabled ?? null],
      );
      if (!row) throw new InvalidArgumentError('userId', 'No such account.');
      await db.query(`DELETE FROM ${this.#t.sessions} WHERE user_id = $1`, [userId]);
      return account(row);
    });
  }

  /**
   * Check an e-mail and password. A wrong password counts towards the lockout; `lockout.maxFailures` in a
   * row lock the account for `lockout.lockMs` (a locked account is refused without checking the password);
   * a right one resets the count. An unknown e-mail costs as long as a wrong password.
   */
  async verifySignIn(
    email: string,
    password: string,
    atMs: number,
    lockout: LockoutPolicy,
  ): Promise<SignInResult> {
    const row = await this.#store.withDb('signing in', async (db) => {
      const [r] = await db.query<UserRow>(`SELECT * FROM ${this.#t.users} WHERE email = $1`, [
        email.trim().toLowerCase(),
      ]);
      return r ?? null;
    });
    if (!row || row.password_hash === null) {
      decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(password, await decoyHash);
      return { ok: false, reason: 'unknown-or-wrong', userId: row?.id ?? null };
    }
    if (row.locked_until !== null && new Date(row.locked_until).getTime() > atMs) {
      return { ok: false, reason: 'locked', userId: row.id, lockedUntil: iso(row.locked_until)! };
    }
    const matches = await verifyPassword(password, row.password_hash);
    return this.#store.withDb('signing in', async (db) => {
      if (!matches) {
        const [r] = await db.query<UserRow>(
          `UPDATE ${this.#t.users} SET failed_sign_ins = failed_sign_ins + 1,
             locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN $3::timestamptz ELSE NULL END
           WHERE id = $1 RETURNING *`,
          [row.id, lockout.maxFailures, at(atMs + lockout.lockMs)],
        );
        return r?.locked_until
          ? { ok: false, reason: 'locked', userId: row.id, lockedUntil: iso(r.locked_until)! }
          : { ok: false, reason: 'unknown-or-wrong', userId: row.id };
      }
      if (row.disabled) return { ok: false, reason: 'disabled', userId: row.id };
      const [r] = await db.query<UserRow>(
        `UPDATE ${this.#t.users} SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1 RETURNING *`,
        [row.id],
      );
      return { ok: true, user: account(r!) };
    });
  }

  // ── care teams ───────────────────────────────────────────────────────────────────────────────────────────

  createTeam(name: string, atMs: number): Promise<CareTeam> {
    const clean = name.trim();
    if (clean.length === 0 || clean.length > 120) {
      throw new InvalidArgumentError('name', 'A care team needs a name of 1 to 120 characters.');
    }
    return this.#store.withDb('creating a care team', async (db) => {
      const [taken] = await db.query(`SELECT 1 FROM ${this.#t.careTeams} WHERE name = $1`, [clean]);
      if (taken) throw new InvalidArgumentError('name', `A care team named "${clean}" already exists.`);
      const id = `team-${randomUUID()}`;
      await db.query(
        `INSERT INTO ${this.#t.careTeams} (id, name, created_at) VALUES ($1, $2, $3::timestamptz)`,
        [id, clean, at(atMs)],
      );
      return { id, name: clean, members: [], patients: [] };
    });
  }

  listTeams(): Promise<CareTeam[]> {
    return this.#store.withDb('listing care teams', async (db) => {
      const teams = await db.query<{ id: string; name: string }>(
        `SELECT id, name FROM ${this.#t.careTeams} ORDER BY name`,
      );
      const members = await db.query<{ team_id: string; user_id: string }>(
        `SELECT team_id, user_id FROM ${this.#t.careTeamMembers} ORDER BY user_id`,
      );
      const patients = await db.query<{ team_id: string; patient_id: string }>(
        `SELECT team_id, patient_id FROM ${this.#t.careTeamPatients} ORDER BY patient_id`,
      );
      return teams.map((t) => ({
        id: t.id,
        name: t.name,
        members: members.filter((m) => m.team_id === t.id).map((m) => m.user_id),
        patients: patients.filter((p) => p.team_id === t.id).map((p) => p.patient_id),
      }));
    });
  }

  /** Add (`true`) or remove (`false`) a member of a team. */
  setTeamMember(teamId: string, userId: string, member: boolean): Promise<void> {
    return this.#store.withDb('changing a care team', async (db) => {
      await this.#teamExists(db, teamId);
      if (member) {
        const [u] = await db.query(`SELECT 1 FROM ${this.#t.users} WHERE id = $1`, [userId]);
        if (!u) throw new InvalidArgumentError('userId', 'No such account.');
        await db.query(
          `INSERT INTO ${this.#t.careTeamMembers} (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [teamId, userId],
        );
      } else {
        await db.query(`DELETE FROM ${this.#t.careTeamMembers} WHERE team_id = $1 AND user_id = $2`, [
          teamId,
          userId,
        ]);
      }
    });
  }

  /** Put a patient in (`true`) or take them out of (`false`) a team's care. */
  setTeamPatients(teamId: string, patientIds: readonly string[], inCare: boolean): Promise<void> {
    return this.#store.withDb('changing a care team', async (db) => {
      await this.#teamExists(db, teamId);
      if (inCare) {
        await db.query(
          `INSERT INTO ${this.#t.careTeamPatients} (team_id, patient_id)
           SELECT $1, p FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING`,
          [teamId, patientIds],
        );
      } else {
        await db.query(
          `DELETE FROM ${this.#t.careTeamPatients} WHERE team_id = $1 AND patient_id = ANY($2::text[])`,
          [teamId, patientIds],
        );
      }
    });
  }

  async #teamExists(db: Queryable, teamId: string): Promise<void> {
    const [t] = await db.query(`SELECT 1 FROM ${this.#t.careTeams} WHERE id = $1`, [teamId]);
    if (!t) throw new InvalidArgumentError('teamId', 'No such care team.');
  }

  /** The patients in the care of any of the user's teams. */
  patientsOf(userId: string): Promise<Set<string>> {
    return this.#store.withDb('reading care teams', async (db) => {
      const rows = await db.query<{ patient_id: string }>(
        `SELECT DISTINCT p.patient_id FROM ${this.#t.careTeamPatients} p
         JOIN ${this.#t.careTeamMembers} m ON m.team_id = p.team_id WHERE m.user_id = $1`,
        [userId],
      );
      return new Set(rows.map((r) => r.patient_id));
    });
  }

  /** True when one of the user's teams looks after the patient. */
  inCareOf(userId: string, patientId: string): Promise<boolean> {
    return this.#store.withDb('reading care teams', async (db) => {
      const [row] = await db.query(
        `SELECT 1 FROM ${this.#t.careTeamPatients} p
         JOIN ${this.#t.careTeamMembers} m ON m.team_id = p.team_id
         WHERE m.user_id = $1 AND p.patient_id = $2 LIMIT 1`,
        [userId, patientId],
      );
      return Boolean(row);
    });
  }

  // ── sessions ─────────────────────────────────────────────────────────────────────────────────────────────

  /** Start a session; returns the token for the cookie (only its hash is stored) and the CSRF token. */
  createSession(
    userId: string,
    atMs: number,
    policy: SessionPolicy,
  ): Promise<{ token: string; csrfToken: string; expiresAt: string }> {
    const token = newToken();
    const csrfToken = newToken();
    const expiresAt = at(atMs + policy.absoluteMs);
    return this.#store.withDb('starting a session', async (db) => {
      // Expired sessions of anyone are removed here, so the table does not grow without bound.
      await db.query(
        `DELETE FROM ${this.#t.sessions} WHERE expires_at <= $1::timestamptz OR last_seen_at <= $2::timestamptz`,
        [at(atMs), at(atMs - policy.idleMs)],
      );
      await db.query(
        `INSERT INTO ${this.#t.sessions} (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz, $5::timestamptz)`,
        [hashToken(token), userId, csrfToken, at(atMs), expiresAt],
      );
      return { token, csrfToken, expiresAt };
    });
  }

  /**
   * The session of a cookie token at `atMs`. An active one is marked as seen now (`touch`, the default), so
   * the idle limit restarts; an idle, expired or disabled one is removed and reported as expired.
   */
  session(token: string, atMs: number, policy: SessionPolicy, touch = true): Promise<SessionLookup> {
    return this.#store.withDb('reading a session', async (db) => {
      const [row] = await db.query<
        UserRow & {
          csrf_token: string;
          s_created_at: Date | string;
          last_seen_at: Date | string;
          expires_at: Date | string;
          token_hash: string;
        }
      >(
        `SELECT u.*, s.token_hash, s.csrf_token, s.created_at AS s_created_at, s.last_seen_at, s.expires_at
         FROM ${this.#t.sessions} s JOIN ${this.#t.users} u ON u.id = s.user_id WHERE s.token_hash = $1`,
        [hashToken(token)],
      );
      if (!row) return { status: 'unknown' };
      const reason =
        new Date(row.expires_at).getTime() <= atMs
          ? 'absolute'
          : new Date(row.last_seen_at).getTime() + policy.idleMs <= atMs
            ? 'idle'
            : row.disabled
              ? 'disabled'
              : null;
      if (reason) {
        await db.query(`DELETE FROM ${this.#t.sessions} WHERE token_hash = $1`, [row.token_hash]);
        return { status: 'expired', reason };
      }
      // The last request time is written at most every TOUCH_EVERY_MS: a write per request would cost more
      // than the rest of the lookup (measured ≈ 9 ms median on PGlite), and the idle limit is minutes.
      if (touch && atMs - new Date(row.last_seen_at).getTime() >= TOUCH_EVERY_MS) {
        await db.query(
          `UPDATE ${this.#t.sessions} SET last_seen_at = GREATEST(last_seen_at, $2::timestamptz) WHERE token_hash = $1`,
          [row.token_hash, at(atMs)],
        );
      }
      return {
        status: 'active',
        session: {
          user: account(row),
          csrfToken: row.csrf_token,
          createdAt: iso(row.s_created_at)!,
          expiresAt: iso(row.expires_at)!,
        },
      };
    });
  }

  /** End one session (sign-out). */
  endSession(token: string): Promise<void> {
    return this.#store.withDb('ending a session', async (db) => {
      await db.query(`DELETE FROM ${this.#t.sessions} WHERE token_hash = $1`, [hashToken(token)]);
    });
  }

  // ── one-time links ───────────────────────────────────────────────────────────────────────────────────────

  /**
   * A one-time token: `sign-in` for an account (demo accounts, `kapkit users add`), or `set-up` (no account:
   * creates the first admin). Only its hash is stored.
   */
  createOneTimeToken(
    kind: 'sign-in' | 'set-up',
    userId: string | null,
    atMs: number,
    ttlMs: number,
  ): Promise<string> {
    const token = newToken();
    return this.#store.withDb('creating a one-time link', async (db) => {
      await db.query(
        `INSERT INTO ${this.#t.oneTimeTokens} (token_hash, kind, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz)`,
        [hashToken(token), kind, userId, at(atMs), at(atMs + ttlMs)],
      );
      return token;
    });
  }

  /**
   * The one-time token's kind and account when it is unused and unexpired; with `consume`, it is marked used
   * in the same statement (so two requests cannot both use it).
   */
  oneTimeToken(
    token: string,
    atMs: number,
    consume: boolean,
  ): Promise<{ kind: 'sign-in' | 'set-up'; userId: string | null } | null> {
    return this.#store.withDb('reading a one-time link', async (db) => {
      const [row] = consume
        ? await db.query<{ kind: 'sign-in' | 'set-up'; user_id: string | null }>(
            `UPDATE ${this.#t.oneTimeTokens} SET used_at = $2::timestamptz
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2::timestamptz RETURNING kind, user_id`,
            [hashToken(token), at(atMs)],
          )
        : await db.query<{ kind: 'sign-in' | 'set-up'; user_id: string | null }>(
            `SELECT kind, user_id FROM ${this.#t.oneTimeTokens}
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2::timestamptz`,
            [hashToken(token), at(atMs)],
          );
      return row ? { kind: row.kind, userId: row.user_id } : null;
    });
  }

  // ── audit trail ──────────────────────────────────────────────────────────────────────────────────────────

  /** Append an entry to the audit trail (identifiers and codes only: never health data). */
  audit(entry: AuditEntryInput): Promise<void> {
    return this.#store.withDb('writing the audit trail', (db) => writeAudit(db, this.#t, entry));
  }

  /** Audit entries matching `filter`, newest first. */
  searchAudit(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    return this.#store.withDb('reading the audit trail', (db) => searchAudit(db, this.#t, filter));
  }

  /** Every audit entry with `from` ≤ at < `to`, oldest first, paged through the table. */
  async *streamAudit(
    range: { from?: string | number; to?: string | number } = {},
  ): AsyncIterable<AuditEntry> {
    let after = 0;
    for (;;) {
      const page = await this.#store.withDb('reading the audit trail', (db) =>
        auditPage(db, this.#t, after, range),
      );
      if (page.length === 0) return;
      yield* page;
      after = page[page.length - 1]!.position;
    }
  }
}
