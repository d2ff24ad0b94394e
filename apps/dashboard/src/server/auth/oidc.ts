/**
 * Single sign-on with OpenID Connect: the authorization code flow with PKCE (S256), state and nonce, through
 * `openid-client`. The role comes from a claim of the identity provider (`roleClaim`, default `kapkit_role`),
 * a string or a list (groups), mapped to a kapkit role by `roleMap` (`{ "kap-therapists": "therapist" }`) or
 * taken as it is when it names a role. Without a mappable role, sign-in is refused (and audited). Accounts are
 * found by issuer + subject, else linked by e-mail, else created; the role is updated from the claim at each
 * sign-in (the identity provider decides).
 *
 * The callback URL is built from the configured origin, never from the request's Host.
 */

import type { AccountStore, StaffRole } from '@kapkit/store';
import { staffRoles } from '@kapkit/store';
import { type Context, Hono } from 'hono';
import * as client from 'openid-client';
import { isLoopback, NetworkConfigError } from './network.js';
import { escapeHtml, messagePage } from './pages.js';
import { type AuthEnv, type AuthSettings, auditor, startSession } from './session.js';

export interface OidcOptions {
  /** The identity provider's issuer URL (discovery at `/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /**
   * The dashboard's own origin (`https://kap.clinic.example`), or a function giving it once the server
   * listens: the callback is `<origin>/auth/oidc/callback`.
   */
  readonly origin: string | (() => string);
  /** The claim holding the role or groups (default `kapkit_role`). */
  readonly roleClaim?: string;
  /** Claim values to kapkit roles; without it, a value that names a role is used as it is. */
  readonly roleMap?: Readonly<Record<string, StaffRole>>;
  /** Label of the sign-in button (default "Sign in with single sign-on"). */
  readonly label?: string;
}

/** Read the OpenID Connect settings from the environment (`KAPKIT_OIDC_*`), or null when not configured. */
export function oidcFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  origin: string | (() => string),
): OidcOptions | null {
  const issuer = env.KAPKIT_OIDC_ISSUER;
  if (!issuer) return null;
  const clientId = env.KAPKIT_OIDC_CLIENT_ID;
  const clientSecret = env.KAPKIT_OIDC_CLIENT_SECRET;
  if (!clientId || !clientSecret) {
    throw new NetworkConfigError(
      'KAPKIT_OIDC_ISSUER is set: set KAPKIT_OIDC_CLIENT_ID and KAPKIT_OIDC_CLIENT_SECRET too.',
    );
  }
  const roleMap = env.KAPKIT_OIDC_ROLE_MAP ? parseRoleMap(env.KAPKIT_OIDC_ROLE_MAP) : undefined;
  return {
    issuer,
    clientId,
    clientSecret,
    origin,
    ...(env.KAPKIT_OIDC_ROLE_CLAIM ? { roleClaim: env.KAPKIT_OIDC_ROLE_CLAIM } : {}),
    ...(roleMap ? { roleMap } : {}),
    ...(env.KAPKIT_OIDC_LABEL ? { label: env.KAPKIT_OIDC_LABEL } : {}),
  };
}

/** `kap-admins=admin,kap-therapists=therapist` → a role map. */
export function parseRoleMap(text: string): Record<string, StaffRole> {
  const map: Record<string, StaffRole> = {};
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [value, role] = pair.split('=').map((x) => x.trim());
    if (!value || !role || !(staffRoles as readonly string[]).includes(role)) {
      throw new NetworkConfigError(
        `KAPKIT_OIDC_ROLE_MAP: expected claim=role pairs with a role among ${staffRoles.join(', ')}, got "${pair}".`,
      );
    }
    map[value] = role as StaffRole;
  }
  return map;
}

/** The kapkit role a claim value (string or list) maps to; the most privileged clinical one wins. */
export function roleFromClaim(value: unknown, map?: Readonly<Record<string, StaffRole>>): StaffRole | null {
  const values = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  const roles = values
    .filter((v): v is string => typeof v === 'string')
    .map((v) => (map ? map[v] : (staffRoles as readonly string[]).includes(v) ? (v as StaffRole) : undefined))
    .filter((r): r is StaffRole => r !== undefined);
  // One role per account: admin, then medical, therapist, researcher.
  for (const r of ['admin', 'medical', 'therapist', 'researcher'] as const) if (roles.includes(r)) return r;
  return null;
}

interface Pending {
  readonly verifier: string;
  readonly nonce: string;
  readonly expiresAt: number;
}

/** The `/auth/oidc/*` routes. */
export function oidcRoutes(settings: AuthSettings, options: OidcOptions): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const accounts: AccountStore = settings.accounts;
  const audit = auditor(settings);
  const redirectUri = () =>
    `${new URL(typeof options.origin === 'function' ? options.origin() : options.origin).origin}/auth/oidc/callback`;
  const roleClaim = options.roleClaim ?? 'kapkit_role';
  // Sign-ins in progress, by state (10 minutes). Kept in this process: behind several processes, route a
  // user's requests to one of them (sticky sessions), or sign-in starts over.
  const pending = new Map<string, Pending>();
  let config: Promise<client.Configuration> | null = null;
  const configuration = () => {
    config ??= client
      .discovery(
        new URL(options.issuer),
        options.clientId,
        options.clientSecret,
        undefined,
        // Plain http only for an identity provider on this machine (tests, a local provider).
        isLoopback(new URL(options.issuer).hostname.replace(/^\[|\]$/g, ''))
          ? { execute: [client.allowInsecureRequests] }
          : undefined,
      )
      .catch((error: unknown) => {
        config = null;
        throw error;
      });
    return config;
  };

  const refuse = async (
    c: Context<AuthEnv>,
    reason: string,
    message: string,
    status: 400 | 403 | 502 = 403,
  ) => {
    await audit(c, { action: 'sign-in', outcome: 'denied', reason, actor: null });
    return c.html(
      messagePage('Single sign-on refused', message, { href: '/auth/sign-in', text: 'Back to sign-in' }),
      status,
    );
  };

  app.get('/auth/oidc/start', async (c) => {
    let cfg: client.Configuration;
    try {
      cfg = await configuration();
    } catch {
      return refuse(
        c,
        'oidc-unreachable',
        'The identity provider could not be reached. Try again later.',
        502,
      );
    }
    const now = settings.now();
    for (const [k, p] of pending) if (p.expiresAt <= now) pending.delete(k);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    pending.set(state, { verifier, nonce, expiresAt: now + 10 * 60_000 });
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: redirectUri(),
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return c.redirect(url.href, 302);
  });

  app.get('/auth/oidc/callback', async (c) => {
    const query = new URL(c.req.url).search;
    const state = c.req.query('state') ?? '';
    const p = pending.get(state);
    pending.delete(state);
    if (!p || p.expiresAt <= settings.now()) {
      return refuse(c, 'oidc-state', 'This sign-in expired or was not started here. Start again.', 400);
    }
    let claims: Record<string, unknown>;
    let issuer: string;
    try {
      const cfg = await configuration();
      issuer = cfg.serverMetadata().issuer;
      const tokens = await client.authorizationCodeGrant(cfg, new URL(`${redirectUri()}${query}`), {
        pkceCodeVerifier: p.verifier,
        expectedState: state,
        expectedNonce: p.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims() as Record<string, unknown>;
      const info = await client.fetchUserInfo(cfg, tokens.access_token, String(idClaims.sub));
      claims = { ...info, ...idClaims };
    } catch {
      return refuse(
        c,
        'oidc-failed',
        'The identity provider’s answer could not be verified. Start again.',
        400,
      );
    }
    const subject = String(claims.sub);
    const role = roleFromClaim(claims[roleClaim], options.roleMap);
    if (!role) {
      return refuse(
        c,
        'oidc-no-role',
        `Your identity provider gives no kapkit role (claim "${escapeHtml(roleClaim)}"). Ask your administrator.`,
      );
    }
    const email = typeof claims.email === 'string' ? claims.email : `${subject}@${new URL(issuer).hostname}`;
    const now = settings.now();
    let user = await accounts.userByOidc(issuer, subject);
    if (!user) {
      const byEmail = await accounts.userByEmail(email);
      user = byEmail
        ? await accounts.linkOidc(byEmail.id, issuer, subject, role)
        : await accounts.createUser(
            {
              email,
              role,
              oidc: { issuer, subject },
              ...(typeof claims.name === 'string' ? { displayName: claims.name } : {}),
            },
            now,
          );
    } else if (user.role !== role) {
      user = await accounts.linkOidc(user.id, issuer, subject, role);
    }
    if (user.disabled) return refuse(c, 'disabled', 'This account is disabled. Ask an administrator.');
    await startSession(c, settings, user, now, { action: 'sign-in', reason: 'oidc' });
    // A page of this site moves on: the SameSite=Strict cookie set here is not sent on a redirect that the
    // identity provider's site started, but it is on a navigation this page starts.
    const next = user.role === 'admin' ? '/admin/audit' : '/';
    return c.html(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${next}"><title>Signed in · kapkit dashboard</title><link rel="stylesheet" href="/auth/auth.css"></head><body><main><p>Signed in. <a href="${next}" id="continue">Continue</a></p></main></body></html>`,
    );
  });

  return app;
}
