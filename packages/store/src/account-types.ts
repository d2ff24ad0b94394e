/**
 * The public types of the accounts, care teams, sessions and audit trail (see `AccountStore`). Every export of
 * this module is public API: index.ts re-exports it whole.
 */

/** Staff roles. `researcher` sees the cohort and the de-identified export only. */
export const staffRoles = ['admin', 'therapist', 'medical', 'researcher'] as const;
export type StaffRole = (typeof staffRoles)[number];

/** A staff account, without its password hash. */
export interface Account {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: StaffRole;
  /** A demo account (created with the synthetic demo caseload). */
  readonly demo: boolean;
  readonly disabled: boolean;
  readonly hasPassword: boolean;
  /** The OpenID Connect identity this account signs in with, if any. */
  readonly oidc: { readonly issuer: string; readonly subject: string } | null;
  /** Signed-in refused until then, after too many wrong passwords (ISO 8601, UTC), or null. */
  readonly lockedUntil: string | null;
  readonly createdAt: string;
}

export interface NewAccount {
  readonly email: string;
  readonly role: StaffRole;
  readonly displayName?: string;
  /** A password (at least 12 characters); without one the account signs in by link or SSO. */
  readonly password?: string;
  readonly demo?: boolean;
  readonly oidc?: { readonly issuer: string; readonly subject: string };
}

/** How long a session lasts. */
export interface SessionPolicy {
  /** Signed out after this long without a request (HIPAA §164.312(a)(2)(iii) automatic logoff). */
  readonly idleMs: number;
  /** Signed out this long after signing in, however active. */
  readonly absoluteMs: number;
}

/** Sign-in throttling: after `maxFailures` wrong passwords in a row, the account is locked for `lockMs`. */
export interface LockoutPolicy {
  readonly maxFailures: number;
  readonly lockMs: number;
}

export interface ActiveSession {
  readonly user: Account;
  /** The token a write must echo in `X-CSRF-Token`. */
  readonly csrfToken: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export type SessionLookup =
  | { readonly status: 'active'; readonly session: ActiveSession }
  | { readonly status: 'expired'; readonly reason: 'idle' | 'absolute' | 'disabled' }
  | { readonly status: 'unknown' };

export type SignInResult =
  | { readonly ok: true; readonly user: Account }
  | {
      readonly ok: false;
      readonly reason: 'unknown-or-wrong' | 'locked' | 'disabled';
      /** The account (when the e-mail names one): the audit records who was refused. */
      readonly userId: string | null;
      readonly lockedUntil?: string;
    };

export interface CareTeam {
  readonly id: string;
  readonly name: string;
  readonly members: readonly string[];
  readonly patients: readonly string[];
}

/** What the audit trail records: who, in which role, when, what, about which patient/episode, and the outcome. */
export interface AuditEntryInput {
  readonly atMs: number;
  readonly actorId: string | null;
  readonly role: string | null;
  /** `read`, `write`, `sign-in`, `sign-out`, `admin`, `export`… */
  readonly action: string;
  readonly method: string;
  /** The route template (`/api/patients/:patientId`), never a path with values in it. */
  readonly route: string;
  readonly patientId?: string | null;
  readonly episodeId?: string | null;
  readonly outcome: 'allowed' | 'denied';
  /** A short code saying why (`not-in-care-team`, `role`, `locked`); never free text from a request. */
  readonly reason?: string | null;
}

export interface AuditEntry extends Omit<AuditEntryInput, 'atMs'> {
  readonly position: number;
  readonly at: string;
  readonly patientId: string | null;
  readonly episodeId: string | null;
  readonly reason: string | null;
}

export interface AuditFilter {
  /** ISO 8601 or epoch ms: entries at or after. */
  readonly from?: string | number;
  /** Entries strictly before. */
  readonly to?: string | number;
  readonly actorId?: string;
  readonly patientId?: string;
  readonly outcome?: 'allowed' | 'denied';
  /** Entries with a position below this (paging backwards). */
  readonly beforePosition?: number;
  /** Most entries returned, newest first (default 100, at most 1000). */
  readonly limit?: number;
}
