import type { AccountStore, EventStore } from '@kapkit/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { demoSignInLinks, setUpLink } from '../src/server/auth/first-run.js';
import { openTempStore } from './support/store.js';

/*
 * Signing in through the forms, in process: cookies, wrong passwords, lockout, idle and absolute sign-out on
 * the app's clock (moved by the test, never waited for), sign-out, one-time links and the first set-up.
 */

const MIN = 60_000;
const PASSWORD = 'a long enough passphrase';
const ORIGIN = 'http://localhost';

let store: EventStore;
let dispose: () => Promise<void>;
let accounts: AccountStore;
let clock = Date.parse('2026-03-02T09:00:00Z');
let app: ReturnType<typeof createDashboardApp>['app'];

beforeAll(async () => {
  ({ store, dispose } = await openTempStore());
  ({ app, accounts } = createDashboardApp({
    store,
    log: () => {},
    now: () => clock,
    auth: { lockout: { maxFailures: 3, lockMs: 15 * MIN } },
  }));
  await accounts.createUser({ email: 'ada@clinic.example', role: 'therapist', password: PASSWORD }, clock);
  await accounts.createUser({ email: 'lock@clinic.example', role: 'therapist', password: PASSWORD }, clock);
});

afterAll(async () => {
  await dispose?.();
});

function signIn(email: string, password: string, origin: string | null = ORIGIN) {
  return app.request('/auth/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
    body: new URLSearchParams({ email, password }).toString(),
  });
}

function cookieOf(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  return set.split(';')[0]!;
}

describe('signing in with a password', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and lands on the caseload', async () => {
    const res = await signIn('Ada@clinic.example', PASSWORD);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^kapkit_session=[\w-]{40,};/);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).not.toMatch(/Secure/); // plain http on loopback
    const session = await app.request('/api/session', { headers: { cookie: cookieOf(res) } });
    expect(session.status).toBe(200);
    expect((await session.json()).user).toMatchObject({ email: 'ada@clinic.example', role: 'therapist' });
  });

  it('says only that the e-mail or the password is wrong, for both', async () => {
    const wrong = await signIn('ada@clinic.example', 'not the password');
    const unknown = await signIn('nobody@clinic.example', PASSWORD);
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await wrong.text()).toMatch(/The e-mail or the password is wrong/);
    expect(await unknown.text()).toMatch(/The e-mail or the password is wrong/);
  });

  it('locks the account after repeated wrong passwords, and audits each refusal', async () => {
    for (let i = 0; i < 2; i++)
      expect((await signIn('lock@clinic.example', 'wrong password')).status).toBe(401);
    const locked = await signIn('lock@clinic.example', 'wrong password');
    expect(locked.status).toBe(429);
    expect(await locked.text()).toMatch(/locked for 15 more minute/);
    expect((await signIn('lock@clinic.example', PASSWORD)).status).toBe(429);
    clock += 16 * MIN;
    expect((await signIn('lock@clinic.example', PASSWORD)).status).toBe(303);
    const user = await accounts.userByEmail('lock@clinic.example');
    const entries = await accounts.searchAudit({ actorId: user!.id, limit: 10 });
    expect(entries.map((e) => `${e.action} ${e.outcome} ${e.reason}`)).toEqual([
      'sign-in allowed password',
      'sign-in denied locked',
      'sign-in denied locked',
      'sign-in denied unknown-or-wrong',
      'sign-in denied unknown-or-wrong',
    ]);
  });

  it('refuses a sign-in form posted from another origin, or without an Origin', async () => {
    expect((await signIn('ada@clinic.example', PASSWORD, 'https://evil.example')).status).toBe(403);
    expect((await signIn('ada@clinic.example', PASSWORD, null)).status).toBe(403);
  });
});

describe('session limits', () => {
  it('signs out after 15 minutes without a request, and says why', async () => {
    const cookie = cookieOf(await signIn('ada@clinic.example', PASSWORD));
    clock += 14 * MIN;
    expect((await app.request('/api/meta', { headers: { cookie } })).status).toBe(200);
    clock += 14 * MIN; // 14 minutes after the last request: still signed in
    expect((await app.request('/api/meta', { headers: { cookie } })).status).toBe(200);
    clock += 15 * MIN + 1;
    const res = await app.request('/api/meta', { headers: { cookie } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthenticated', reason: 'idle' });
  });

  it('does not count the page’s periodic session check (touch=0) as activity', async () => {
    const cookie = cookieOf(await signIn('ada@clinic.example', PASSWORD));
    clock += 10 * MIN;
    expect((await app.request('/api/session?touch=0', { headers: { cookie } })).status).toBe(200);
    clock += 6 * MIN;
    expect((await app.request('/api/session?touch=0', { headers: { cookie } })).status).toBe(401);
  });

  it('signs out after the absolute lifetime however active, and on sign-out', async () => {
    const cookie = cookieOf(await signIn('ada@clinic.example', PASSWORD));
    for (let h = 0; h < 12 * 6 - 1; h++) {
      clock += 10 * MIN;
      expect((await app.request('/api/meta', { headers: { cookie } })).status).toBe(200);
    }
    clock += 10 * MIN;
    expect(await (await app.request('/api/meta', { headers: { cookie } })).json()).toMatchObject({
      reason: 'absolute',
    });

    const again = cookieOf(await signIn('ada@clinic.example', PASSWORD));
    const { csrfToken } = await (await app.request('/api/session', { headers: { cookie: again } })).json();
    const out = await app.request('/auth/sign-out', {
      method: 'POST',
      headers: { cookie: again, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfToken }).toString(),
    });
    expect(out.status).toBe(303);
    expect((await app.request('/api/meta', { headers: { cookie: again } })).status).toBe(401);
  });

  it('marks the cookie Secure with the __Host- prefix when the dashboard is reached over https', async () => {
    const { app: secure } = createDashboardApp({
      store,
      log: () => {},
      now: () => clock,
      allowedOrigins: ['https://kap.clinic.example'],
    });
    const res = await secure.request('https://kap.clinic.example/auth/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://kap.clinic.example' },
      body: new URLSearchParams({ email: 'ada@clinic.example', password: PASSWORD }).toString(),
    });
    expect(res.status).toBe(303);
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^__Host-kapkit_session=/);
    expect(set).toMatch(/Secure/);
    expect(set).toMatch(/SameSite=Strict/);
  });
});

describe('one-time links', () => {
  it('signs in a demo account once per link', async () => {
    const links = await demoSignInLinks(accounts, [], clock);
    expect(links.map((l) => l.role)).toEqual(['therapist', 'medical', 'admin']);
    const path = links[0]!.path;
    expect((await app.request(path)).status).toBe(200);
    const post = () =>
      app.request(path, {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      });
    const first = await post();
    expect(first.status).toBe(303);
    expect(first.headers.get('set-cookie')).toMatch(/^kapkit_session=/);
    expect((await post()).status).toBe(410);
  });

  it('creates the first administrator from the set-up link, and only while there is none', async () => {
    const { store: fresh, dispose: done } = await openTempStore();
    try {
      const { app: first, accounts: acc } = createDashboardApp({
        store: fresh,
        log: () => {},
        now: () => clock,
      });
      const link = await setUpLink(acc, clock);
      expect(link?.role).toBe('first-admin');
      const form = (password: string) =>
        first.request(link!.path, {
          method: 'POST',
          headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ email: 'admin@clinic.example', name: 'Ada', password }).toString(),
        });
      expect((await form('short')).status).toBe(400);
      const ok = await form(PASSWORD);
      expect(ok.status).toBe(303);
      expect(ok.headers.get('location')).toBe('/admin/audit');
      expect((await acc.userByEmail('admin@clinic.example'))?.role).toBe('admin');
      expect(await setUpLink(acc, clock)).toBeNull();
      expect((await form(PASSWORD)).status).toBe(410);
    } finally {
      await done();
    }
  });
});

describe('single sign-on role mapping', () => {
  it('maps a role claim (a string or a list of groups) to one kapkit role, or none', async () => {
    const { parseRoleMap, roleFromClaim } = await import('../src/server/auth/oidc.js');
    const map = parseRoleMap('kap-admins=admin, kap-therapists=therapist,kap-medical=medical');
    expect(roleFromClaim('kap-therapists', map)).toBe('therapist');
    expect(roleFromClaim(['staff', 'kap-therapists', 'kap-medical'], map)).toBe('medical');
    expect(roleFromClaim(['staff'], map)).toBeNull();
    expect(roleFromClaim('researcher')).toBe('researcher');
    expect(roleFromClaim('root')).toBeNull();
    expect(roleFromClaim(undefined)).toBeNull();
    expect(() => parseRoleMap('kap-admins=root')).toThrow(/KAPKIT_OIDC_ROLE_MAP/);
  });
});

describe('per-address sign-in throttle', () => {
  it('refuses an address after its failures in the window, and forgets them after it', async () => {
    const { AddressThrottle } = await import('../src/server/auth/session.js');
    const t = new AddressThrottle(3, 15 * MIN);
    const at = Date.parse('2026-03-02T09:00:00Z');
    for (let i = 0; i < 3; i++) t.fail('203.0.113.7', at + i * MIN);
    expect(t.blocked('203.0.113.7', at + 3 * MIN)).toBe(true);
    expect(t.blocked('198.51.100.2', at + 3 * MIN)).toBe(false);
    expect(t.blocked('203.0.113.7', at + 16 * MIN)).toBe(false);
  });
});
