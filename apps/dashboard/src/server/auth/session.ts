/**
 * Sessions, the route guard and the audit trail of the dashboard server.
 *
 * - A session is a random token in a cookie (HttpOnly, SameSite=Strict, Secure and `__Host-` prefixed over
 *   HTTPS); the store keeps only its hash, with the account, the last request time and the absolute expiry.
 * - Idle sign-out after `idleMs` without a request (default 15 minutes: HIPAA §164.312(a)(2)(iii), automatic
 *   logoff) and an absolute lifetime (default 12 hours). Both are read against the app's clock (`now`), so
 *   tests move time instead of waiting.
 * - CSRF: every write needs the session's token in `X-CSRF-Token` (forms: a `csrf` field) on top of the
 *   Origin check against the configured origins and the SameSite=Strict cookie. The request's Host is never
 *   trusted for any of it.
 * - The audit trail gets one entry per read or write of patient data and per refusal: who, role, when, the
 *   route template, patient/episode ids, allowed or denied, and a short reason code. Nothing else.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AccountStore, ActiveSession, LockoutPolicy, SessionPolicy, StaffRole } from '@kapkit/store';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { routePath } from 'hono/route';
import { type RouteKey, rolesFor } from './policy.js';

/** Default idle limit: 15 minutes (HIPAA §164.312(a)(2)(iii) automatic logoff; kapkit default, configurable). */
export const DEFAULT_IDLE_MS = 15 * 60_000;
/** Default absolute session lifetime: 12 hours, one clinic day (kapkit default, configurable). */
export const DEFAULT_ABSOLUTE_MS = 12 * 60 * 60_000;
/** Default lockout: 5 wrong passwords in a row lock the account for 15 minutes (kapkit default). */
export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, lockMs: 15 * 60_000 };
/** Default per-address throttle: 30 failed sign-ins per 15 minutes from one client address. */
export const DEFAULT_ADDRESS_THROTTLE = { maxFailures: 30, windowMs: 15 * 60_000 };

export interface AuthSettings {
  readonly accounts: AccountStore;
  readonly session: SessionPolicy;
  readonly lockout: LockoutPolicy;
  readonly addressThrottle: { readonly maxFailures: number; readonly windowMs: number };
  /** Cookies marked Secure with the `__Host-` prefix (the dashboard is reached over HTTPS). */
  readonly secureCookies: boolean;
  readonly now: () => number;
}

/** The Hono environment of the dashboard: the request's session, once checked. */
export interface AuthEnv {
  Variables: {
    session: ActiveSession | null;
    /** Why the request's cookie no longer signs in (`idle`, `absolute`, `disabled`, `unknown`), or null. */
    signedOut: string | null;
  };
}

function cookieName(settings: Pick<AuthSettings, 'secureCookies'>): string {
  return settings.secureCookies ? '__Host-kapkit_session' : 'kapkit_session';
}

/** Put the session token in the cookie. */
function setSessionCookie(c: Context, settings: AuthSettings, token: string): void {
  setCookie(c, cookieName(settings), token, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: settings.secureCookies,
    path: '/',
  });
}

export function clearSessionCookie(c: Context, settings: AuthSettings): void {
  deleteCookie(c, cookieName(settings), { path: '/', secure: settings.secureCookies });
}

export function sessionToken(c: Context, settings: AuthSettings): string | undefined {
  return getCookie(c, cookieName(settings));
}

/** The route template that answered (or is about to), never the path with its values. */
function routeOf(c: Context): string {
  try {
    return routePath(c) || '(unmatched)';
  } catch {
    return '(unmatched)';
  }
}

/** Constant-time string comparison. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Audit helper bound to the settings. */
export function auditor(settings: AuthSettings) {
  return (
    c: Context<AuthEnv>,
    entry: {
      action: string;
      route?: string;
      outcome: 'allowed' | 'denied';
      patientId?: string | null;
      episodeId?: string | null;
      reason?: string | null;
      actor?: { id: string; role: StaffRole } | null;
    },
  ) => {
    const s = c.get('session');
    const actor = entry.actor !== undefined ? entry.actor : s ? { id: s.user.id, role: s.user.role } : null;
    return settings.accounts.audit({
      atMs: settings.now(),
      actorId: actor?.id ?? null,
      role: actor?.role ?? null,
      action: entry.action,
      method: c.req.method,
      route: entry.route ?? routeOf(c),
      patientId: entry.patientId ?? null,
      episodeId: entry.episodeId ?? null,
      outcome: entry.outcome,
      reason: entry.reason ?? null,
    });
  };
}

/**
 * Sign `user` in: a new server-side session, its cookie, and the audit entry of it (`sign-in`, allowed, with
 * how: `password`, `one-time-link`, `oidc`; or `set-up` for the first administrator).
 */
export async function startSession(
  c: Context<AuthEnv>,
  settings: AuthSettings,
  user: { readonly id: string; readonly role: StaffRole },
  nowMs: number,
  entry: { readonly action: 'sign-in' | 'set-up'; readonly reason?: string },
): Promise<void> {
  const s = await settings.accounts.createSession(user.id, nowMs, settings.session);
  setSessionCookie(c, settings, s.token);
  await auditor(settings)(c, {
    action: entry.action,
    outcome: 'allowed',
    reason: entry.reason ?? null,
    actor: { id: user.id, role: user.role },
  });
}

/**
 * Read the session cookie of every request (`c.get('session')`, null when there is none or it ended). A
 * read does not count as activity when the query has `touch=0` (the page's periodic check).
 */
export function loadSession(settings: AuthSettings): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    c.set('session', null);
    c.set('signedOut', null);
    const token = sessionToken(c, settings);
    if (token) {
      const touch = c.req.query('touch') !== '0';
      const found = await settings.accounts.session(token, settings.now(), settings.session, touch);
      if (found.status === 'active') c.set('session', found.session);
      else {
        clearSessionCookie(c, settings);
        c.set('signedOut', found.status === 'expired' ? found.reason : 'unknown');
      }
    }
    return next();
  };
}

/**
 * The guard of one API route: a session is required (401 otherwise), its role must be in the access table
 * (403 otherwise, audited), and a write must carry the session's CSRF token (403 otherwise).
 */
export function allow(settings: AuthSettings, route: RouteKey): MiddlewareHandler<AuthEnv> {
  const roles = rolesFor(route);
  const audit = auditor(settings);
  const template = route.slice(route.indexOf(' ') + 1);
  return async (c, next) => {
    const s = c.get('session');
    if (!s) {
      const reason = c.get('signedOut');
      return c.json(
        {
          error: 'unauthenticated',
          message:
            reason === 'idle'
              ? 'You were signed out after a period without activity. Sign in again.'
              : 'Sign in to use the dashboard.',
          ...(reason ? { reason } : {}),
        },
        401,
      );
    }
    if (!roles.includes(s.user.role)) {
      await audit(c, { action: 'access', route: template, outcome: 'denied', reason: 'role' });
      return c.json(
        {
          error: 'forbidden',
          message:
            s.user.role === 'researcher'
              ? 'Researchers see the cohort and the de-identified export only, never an identified patient record.'
              : `The ${s.user.role} role may not use this page.`,
        },
        403,
      );
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const sent = c.req.header('x-csrf-token') ?? '';
      if (!sameSecret(sent, s.csrfToken)) {
        await audit(c, { action: 'write', route: template, outcome: 'denied', reason: 'csrf' });
        return c.json(
          { error: 'forbidden', message: 'The request lacks this session’s CSRF token. Reload the page.' },
          403,
        );
      }
    }
    return next();
  };
}

/**
 * In-memory throttle of failed sign-ins per client address (on top of the per-account lockout in the store,
 * which an attacker spraying many accounts would not trip).
 */
export class AddressThrottle {
  readonly #failures = new Map<string, number[]>();
  constructor(
    readonly maxFailures: number,
    readonly windowMs: number,
  ) {}

  #recent(address: string, atMs: number): number[] {
    const list = (this.#failures.get(address) ?? []).filter((t) => t > atMs - this.windowMs);
    if (list.length === 0) this.#failures.delete(address);
    else this.#failures.set(address, list);
    return list;
  }

  blocked(address: string, atMs: number): boolean {
    return this.#recent(address, atMs).length >= this.maxFailures;
  }

  fail(address: string, atMs: number): void {
    this.#failures.set(address, [...this.#recent(address, atMs), atMs]);
  }
}
