/**
 * The sign-in routes (`/auth/*`): the password form, sign-out, one-time sign-in links (demo accounts,
 * `kapkit users add`, an admin's invitation) and the first administrator's set-up link. Every POST must come
 * from a configured origin (the `Origin` header is required and compared with the server's configuration,
 * never with the request's Host).
 */
import { passwordProblem } from '@kapkit/store';
import { type Context, Hono } from 'hono';
import { acceptedOrigin, peerAddress } from './network.js';
import { AUTH_CSS, linkPage, messagePage, setUpPage, signInPage } from './pages.js';
import {
  AddressThrottle,
  type AuthEnv,
  type AuthSettings,
  auditor,
  clearSessionCookie,
  sameSecret,
  sessionToken,
  startSession,
} from './session.js';

export interface AuthRouteOptions {
  readonly allowedOrigins: () => readonly string[] | undefined;
  /** Label of the single sign-on button, when OpenID Connect is configured. */
  readonly ssoLabel?: () => string | null;
}

const NOTICES: Record<string, string> = {
  idle: 'You were signed out after a period without activity. Sign in again.',
  absolute: 'Your session reached its maximum length. Sign in again.',
  'signed-out': 'You are signed out.',
  disabled: 'This account is disabled.',
};

function minutesUntil(iso: string, nowMs: number): number {
  return Math.max(1, Math.ceil((Date.parse(iso) - nowMs) / 60_000));
}

/** The `/auth/*` routes, to mount on the dashboard app. */
export function authRoutes(settings: AuthSettings, options: AuthRouteOptions): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.get('/auth/auth.css', (c) =>
    c.body(AUTH_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'no-cache' }),
  );

  // Every form post: from a configured origin only. Under `Referrer-Policy: no-referrer` browsers send
  // `Origin: null` with a form post; then the browser's own `Sec-Fetch-Site: same-origin` (which a page
  // cannot set) must vouch for it.
  app.post('/auth/*', async (c, next) => {
    const origin = c.req.header('origin');
    const sameOriginFetch = c.req.header('sec-fetch-site') === 'same-origin';
    const ok =
      origin !== undefined && origin !== 'null'
        ? acceptedOrigin(origin, options.allowedOrigins())
        : sameOriginFetch;
    if (!ok) {
      return c.html(messagePage('Refused', 'This form was not sent from the dashboard’s own address.'), 403);
    }
    return next();
  });

  passwordRoutes(app, settings, options);
  oneTimeLinkRoutes(app, settings);
  return app;
}

/** The sign-in page, the password sign-in (throttled per client address) and sign-out. */
function passwordRoutes(app: Hono<AuthEnv>, settings: AuthSettings, options: AuthRouteOptions): void {
  const accounts = settings.accounts;
  const audit = auditor(settings);
  const throttle = new AddressThrottle(
    settings.addressThrottle.maxFailures,
    settings.addressThrottle.windowMs,
  );

  app.get('/auth/sign-in', (c) => {
    if (c.get('session')) return c.redirect('/', 303);
    const reason = c.req.query('reason') ?? c.get('signedOut');
    return c.html(signInPage({ notice: reason ? (NOTICES[reason] ?? null) : null, sso: sso() }));
  });

  const sso = () => {
    const label = options.ssoLabel?.();
    return label ? { label } : null;
  };

  app.post('/auth/sign-in', async (c) => {
    const form = await c.req.parseBody();
    const email = typeof form.email === 'string' ? form.email.slice(0, 254) : '';
    const password = typeof form.password === 'string' ? form.password.slice(0, 1024) : '';
    const nowMs = settings.now();
    const address = peerAddress(c);
    if (address !== null && throttle.blocked(address, nowMs)) {
      await audit(c, { action: 'sign-in', outcome: 'denied', reason: 'throttled', actor: null });
      return c.html(
        signInPage({
          email,
          error: 'Too many failed sign-ins from this address. Wait a few minutes.',
          sso: sso(),
        }),
        429,
      );
    }
    const result = await accounts.verifySignIn(email, password, nowMs, settings.lockout);
    if (!result.ok) {
      if (address !== null) throttle.fail(address, nowMs);
      const user = result.userId ? await accounts.userById(result.userId) : null;
      await audit(c, {
        action: 'sign-in',
        outcome: 'denied',
        reason: result.reason,
        actor: user ? { id: user.id, role: user.role } : null,
      });
      const error =
        result.reason === 'locked'
          ? `Too many wrong passwords: this account is locked for ${minutesUntil(result.lockedUntil!, nowMs)} more minute(s).`
          : result.reason === 'disabled'
            ? 'This account is disabled. Ask an administrator.'
            : 'The e-mail or the password is wrong.';
      return c.html(signInPage({ email, error, sso: sso() }), result.reason === 'locked' ? 429 : 401);
    }
    await startSession(c, settings, result.user, nowMs, { action: 'sign-in', reason: 'password' });
    return c.redirect(result.user.role === 'admin' ? '/admin/audit' : '/', 303);
  });

  app.post('/auth/sign-out', async (c) => {
    const s = c.get('session');
    const token = sessionToken(c, settings);
    if (s && token) {
      const form = await c.req.parseBody();
      const csrf = typeof form.csrf === 'string' ? form.csrf : (c.req.header('x-csrf-token') ?? '');
      if (!sameSecret(csrf, s.csrfToken)) {
        return c.html(messagePage('Refused', 'The sign-out form is out of date. Reload the page.'), 403);
      }
      await accounts.endSession(token);
      await audit(c, { action: 'sign-out', outcome: 'allowed' });
    }
    clearSessionCookie(c, settings);
    return c.redirect('/auth/sign-in?reason=signed-out', 303);
  });
}

/** One-time sign-in links and the first administrator's set-up link. */
function oneTimeLinkRoutes(app: Hono<AuthEnv>, settings: AuthSettings): void {
  const accounts = settings.accounts;
  const usedLink = (c: Context) =>
    c.html(
      messagePage(
        'Link used or expired',
        'This one-time link was already used or has expired. Ask an administrator for a new one, or sign in with your password.',
        { href: '/auth/sign-in', text: 'Sign in' },
      ),
      410,
    );

  app.get('/auth/link/:token', async (c) => {
    const t = await accounts.oneTimeToken(c.req.param('token'), settings.now(), false);
    if (t?.kind !== 'sign-in' || !t.userId) return usedLink(c);
    const user = await accounts.userById(t.userId);
    if (!user || user.disabled) return usedLink(c);
    return c.html(
      linkPage({
        action: `/auth/link/${encodeURIComponent(c.req.param('token'))}`,
        email: user.email,
        role: user.role,
        needsPassword: !user.hasPassword && !user.demo && !user.oidc,
      }),
    );
  });

  app.post('/auth/link/:token', async (c) => {
    const token = c.req.param('token');
    const nowMs = settings.now();
    const peek = await accounts.oneTimeToken(token, nowMs, false);
    if (peek?.kind !== 'sign-in' || !peek.userId) return usedLink(c);
    const user = await accounts.userById(peek.userId);
    if (!user || user.disabled) return usedLink(c);
    const form = await c.req.parseBody();
    const password = typeof form.password === 'string' ? form.password : '';
    const needsPassword = !user.hasPassword && !user.demo && !user.oidc;
    if (password !== '' || needsPassword) {
      const problem = passwordProblem(password);
      if (problem) {
        return c.html(
          linkPage({
            action: `/auth/link/${encodeURIComponent(token)}`,
            ...user,
            needsPassword,
            error: problem,
          }),
          400,
        );
      }
    }
    if (!(await accounts.oneTimeToken(token, nowMs, true))) return usedLink(c);
    if (password !== '') await accounts.setPassword(user.id, password);
    await startSession(c, settings, user, nowMs, { action: 'sign-in', reason: 'one-time-link' });
    return c.redirect(user.role === 'admin' ? '/admin/audit' : '/', 303);
  });

  const setUpAvailable = async (token: string, nowMs: number) => {
    const t = await accounts.oneTimeToken(token, nowMs, false);
    if (t?.kind !== 'set-up') return false;
    return !(await accounts.listUsers()).some((u) => u.role === 'admin');
  };

  app.get('/auth/set-up/:token', async (c) => {
    if (!(await setUpAvailable(c.req.param('token'), settings.now()))) return usedLink(c);
    return c.html(setUpPage({ action: `/auth/set-up/${encodeURIComponent(c.req.param('token'))}` }));
  });

  app.post('/auth/set-up/:token', async (c) => {
    const token = c.req.param('token');
    const nowMs = settings.now();
    if (!(await setUpAvailable(token, nowMs))) return usedLink(c);
    const form = await c.req.parseBody();
    const email = typeof form.email === 'string' ? form.email.trim() : '';
    const name = typeof form.name === 'string' ? form.name.trim() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const action = `/auth/set-up/${encodeURIComponent(token)}`;
    const problem = !/^[^\s@]+@[^\s@]+$/.test(email) ? 'Enter an e-mail address.' : passwordProblem(password);
    if (problem) return c.html(setUpPage({ action, error: problem, email, name }), 400);
    if (!(await accounts.oneTimeToken(token, nowMs, true))) return usedLink(c);
    const admin = await accounts.createUser(
      { email, role: 'admin', password, ...(name ? { displayName: name } : {}) },
      nowMs,
    );
    await startSession(c, settings, admin, nowMs, { action: 'set-up' });
    return c.redirect('/admin/audit', 303);
  });
}
