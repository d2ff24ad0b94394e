import type { AccountStore, EventStore, StaffRole } from '@kapkit/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { type RouteKey, routeAccess } from '../src/server/auth/policy.js';
import { researchExporter } from '../src/server/export.js';
import { signedIn, type TestSession } from './support/auth.js';
import { appendLongEpisode, openTempStore } from './support/store.js';

/*
 * Every API route × every role, against the access table; care teams; authorship from the session; the
 * audit entries of reads, writes and refusals; CSRF.
 */

const NOW = Date.now();
const A = { patientId: 'test-pt-team-a', episodeId: 'test-ep-team-a' };
const B = { patientId: 'test-pt-team-b', episodeId: 'test-ep-team-b' };

let store: EventStore;
let dispose: () => Promise<void>;
let app: ReturnType<typeof createDashboardApp>['app'];
let accounts: AccountStore;
const as: Record<StaffRole, TestSession> = {} as never;
let otherTeamTherapist: TestSession;
let teamId: string;
/** The account the admin routes change (changing an account ends its sessions). */
let targetUserId: string;

beforeAll(async () => {
  ({ store, dispose } = await openTempStore());
  for (const p of [A, B]) {
    await appendLongEpisode(store, p, { nowMs: NOW, daysAgo: 70, weeks: 8, doses: 3 });
  }
  const { exporter } = researchExporter({ key: 'access-test-key-0123456789abcdef0123' });
  ({ app, accounts } = createDashboardApp({ store, log: () => {}, exporter }));
  as.therapist = await signedIn(accounts, 'therapist', { patients: [A.patientId], team: 'A' });
  as.medical = await signedIn(accounts, 'medical', { patients: [A.patientId], team: 'A' });
  as.admin = await signedIn(accounts, 'admin');
  as.researcher = await signedIn(accounts, 'researcher');
  otherTeamTherapist = await signedIn(accounts, 'therapist', { patients: [B.patientId], team: 'B' });
  teamId = (await accounts.listTeams()).find((t) => t.name === 'A')!.id;
  targetUserId = (await accounts.createUser({ email: 'target@test.kapkit.invalid', role: 'therapist' }, NOW))
    .id;
});

afterAll(async () => {
  await dispose?.();
});

function call(route: RouteKey, session: TestSession | null, extra: Record<string, string> = {}) {
  const [method, template] = route.split(' ') as [string, string];
  const path = template
    .replace(':patientId', A.patientId)
    .replace(':episodeId', A.episodeId)
    .replace(':signalId', 'no-such-signal')
    .replace(':userId', targetUserId)
    .replace(':teamId', teamId);
  const bodies: Partial<Record<RouteKey, unknown>> = {
    'POST /api/episodes/:episodeId/events': { expectedVersion: 0, events: [] },
    'POST /api/safety-signals/:signalId/review': { outcome: 'nonsense' },
    'POST /api/admin/users': { email: 'not-an-email' },
    'POST /api/admin/users/:userId': { role: 'researcher' },
    'POST /api/admin/teams': { name: '' },
    'POST /api/admin/teams/:teamId/members': { userId: as.therapist.userId, member: true },
    'POST /api/admin/teams/:teamId/patients': { patientIds: [A.patientId], inCare: true },
  };
  return app.request(path, {
    method,
    headers: {
      ...(session?.headers ?? { origin: 'http://localhost' }),
      'content-type': 'application/json',
      ...extra,
    },
    ...(method === 'POST' ? { body: JSON.stringify(bodies[route] ?? {}) } : {}),
  });
}

describe('the access table', () => {
  it('lists every API route of the app (and nothing else)', () => {
    const registered = new Set(
      app.routes
        .filter((r) => r.path.startsWith('/api/') && !r.path.endsWith('*') && r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path}`),
    );
    const table = new Set(Object.keys(routeAccess));
    expect([...registered].filter((r) => !table.has(r) && r !== 'GET /api/openapi.json')).toEqual([]);
    expect([...table].filter((r) => !registered.has(r))).toEqual([]);
  });

  const roles: StaffRole[] = ['admin', 'therapist', 'medical', 'researcher'];
  for (const route of Object.keys(routeAccess) as RouteKey[]) {
    it(`${route}: 401 without a session; allowed roles pass the guard, others get 403`, async () => {
      expect((await call(route, null)).status).toBe(401);
      for (const role of roles) {
        const res = await call(route, as[role]);
        const allowed = (routeAccess[route] as readonly string[]).includes(role);
        if (allowed) expect([401, 403], `${role} on ${route}`).not.toContain(res.status);
        else expect(res.status, `${role} on ${route}`).toBe(403);
      }
    });
  }
});

describe('GET /api/openapi.json', () => {
  it('describes every API route of the app (OpenAPI 3.1), without a session', async () => {
    const res = await app.request('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    const routes = app.routes.filter(
      (r) => r.path.startsWith('/api/') && !r.path.endsWith('*') && r.method !== 'ALL',
    );
    expect(routes.length).toBeGreaterThan(15);
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, '{$1}');
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined();
    }
    const append = doc.paths['/api/episodes/{episodeId}/events'].post;
    const body = append.requestBody.content['application/json'].schema;
    expect(body.properties.events.items.anyOf.length).toBeGreaterThan(20);
    expect(JSON.stringify(body)).not.toMatch(/"recordedBy"|"patientId"/);
    expect(append['x-kapkit-roles']).toEqual(['therapist', 'medical']);
  });
});

describe('care teams', () => {
  it('shows a clinician only the patients of their care teams', async () => {
    const mine = await (await app.request('/api/caseload', { headers: as.therapist.headers })).json();
    expect(mine.rows.map((r: { patientId: string }) => r.patientId)).toEqual([A.patientId]);
    const theirs = await (await app.request('/api/caseload', { headers: otherTeamTherapist.headers })).json();
    expect(theirs.rows.map((r: { patientId: string }) => r.patientId)).toEqual([B.patientId]);
  });

  it('refuses a therapist another team’s patient page and writes, and audits the refusal', async () => {
    const res = await app.request(`/api/patients/${A.patientId}`, { headers: otherTeamTherapist.headers });
    expect(res.status).toBe(403);
    expect((await res.json()).message).toMatch(/not in the care of your care teams/);
    const write = await app.request(`/api/episodes/${A.episodeId}/events`, {
      method: 'POST',
      headers: { ...otherTeamTherapist.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ expectedVersion: 0, events: [{ type: 'EpisodePaused', reason: 'scheduling' }] }),
    });
    expect(write.status).toBe(403);
    const denied = await accounts.searchAudit({ actorId: otherTeamTherapist.userId, outcome: 'denied' });
    expect(denied.map((e) => [e.action, e.patientId, e.reason])).toEqual([
      ['write', A.patientId, 'not-in-care-team'],
      ['read', A.patientId, 'not-in-care-team'],
    ]);
  });

  it('refuses a researcher every identified patient page, and audits it', async () => {
    const res = await app.request(`/api/patients/${A.patientId}`, { headers: as.researcher.headers });
    expect(res.status).toBe(403);
    expect((await res.json()).message).toMatch(
      /Researchers see the cohort and the de-identified export only/,
    );
    const [entry] = await accounts.searchAudit({
      actorId: as.researcher.userId,
      outcome: 'denied',
      limit: 1,
    });
    expect(entry).toMatchObject({ role: 'researcher', route: '/api/patients/:patientId', reason: 'role' });
  });
});

describe('authorship and the audit trail', () => {
  const write = (session: TestSession, events: unknown[], expectedVersion: number, headers = {}) =>
    app.request(`/api/episodes/${A.episodeId}/events`, {
      method: 'POST',
      headers: { ...session.headers, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ expectedVersion, events }),
    });

  it('writes the role and actor id of the session on the event, and refuses others from the body', async () => {
    const v = (await store.loadEpisode(A.episodeId)).version;
    const forged = await write(
      as.therapist,
      [{ type: 'EpisodePaused', reason: 'scheduling', recordedBy: 'medical' }],
      v,
    );
    expect(forged.status).toBe(400);
    expect(JSON.stringify(await forged.json())).toMatch(/events\[0\]\.recordedBy/);
    const actor = await write(
      as.therapist,
      [{ type: 'EpisodePaused', reason: 'scheduling', actorId: 'someone' }],
      v,
    );
    expect(actor.status).toBe(400);
    const ok = await write(as.therapist, [{ type: 'EpisodePaused', reason: 'scheduling' }], v);
    expect(ok.status).toBe(201);
    const [stored] = await store.readEpisode(A.episodeId, { fromVersion: v + 1 });
    expect(stored!.event).toMatchObject({ recordedBy: 'therapist', actorId: as.therapist.userId });
    const resumed = await write(as.medical, [{ type: 'EpisodeResumed' }], v + 1);
    expect(resumed.status).toBe(201);
    const [again] = await store.readEpisode(A.episodeId, { fromVersion: v + 2 });
    expect(again!.event).toMatchObject({ recordedBy: 'medical', actorId: as.medical.userId });
  });

  it('refuses a write without the session’s CSRF token, even from the right origin', async () => {
    const v = (await store.loadEpisode(A.episodeId)).version;
    const res = await write(as.therapist, [{ type: 'EpisodePaused', reason: 'scheduling' }], v, {
      'x-csrf-token': 'guessed',
    });
    expect(res.status).toBe(403);
    expect((await store.loadEpisode(A.episodeId)).version).toBe(v);
  });

  it('records who read and wrote which patient, with identifiers and codes only', async () => {
    await app.request(`/api/patients/${A.patientId}`, { headers: as.medical.headers });
    const entries = await accounts.searchAudit({ patientId: A.patientId, limit: 1000 });
    expect(
      entries.some((e) => e.action === 'read' && e.actorId === as.medical.userId && e.outcome === 'allowed'),
    ).toBe(true);
    expect(entries.some((e) => e.action === 'write' && e.actorId === as.therapist.userId)).toBe(true);
    const all = JSON.stringify(await accounts.searchAudit({ limit: 1000 }));
    expect(all).not.toMatch(/phq9|responses|scheduling|systolic/);
  });

  it('lets an admin search the audit trail, not read a patient page', async () => {
    const res = await app.request(`/api/audit?patientId=${A.patientId}&outcome=denied`, {
      headers: as.admin.headers,
    });
    expect(res.status).toBe(200);
    const { entries } = await res.json();
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e: { outcome: string }) => e.outcome === 'denied')).toBe(true);
    const page = await app.request(`/admin/audit?patientId=${A.patientId}`, { headers: as.admin.headers });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('not-in-care-team');
    expect((await app.request('/admin/audit', { headers: as.therapist.headers })).status).toBe(403);
  });
});

describe('the admin page of accounts and care teams', () => {
  const form = (path: string, session: TestSession, fields: Record<string, string>, csrf = true) => {
    const body = new URLSearchParams(fields);
    if (csrf) body.set('csrf', session.headers['x-csrf-token']!);
    return app.request(path, {
      method: 'POST',
      headers: {
        cookie: session.headers.cookie!,
        origin: 'http://localhost',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: body.toString(),
    });
  };

  it('adds an account with a one-time link, makes a team, and puts a member and a patient in it', async () => {
    const page = await app.request('/admin/users', { headers: as.admin.headers });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('target@test.kapkit.invalid');
    const added = await form('/admin/users', as.admin, {
      email: 'new@clinic.example',
      role: 'medical',
      name: 'New',
    });
    expect(added.status).toBe(200);
    expect(await added.text()).toMatch(/<code id="link">http:\/\/localhost\/auth\/link\/[\w-]{40,}<\/code>/);
    const newUser = (await accounts.userByEmail('new@clinic.example'))!;
    expect(newUser.role).toBe('medical');
    expect((await form('/admin/teams', as.admin, { name: 'C' })).status).toBe(200);
    const c = (await accounts.listTeams()).find((t) => t.name === 'C')!;
    expect(
      (await form(`/admin/teams/${c.id}/members`, as.admin, { userId: newUser.id, member: 'true' })).status,
    ).toBe(200);
    expect(
      (await form(`/admin/teams/${c.id}/patients`, as.admin, { patientIds: B.patientId, inCare: 'true' }))
        .status,
    ).toBe(200);
    expect([...(await accounts.patientsOf(newUser.id))]).toEqual([B.patientId]);
    const taken = await form('/admin/users', as.admin, { email: 'new@clinic.example', role: 'medical' });
    expect(taken.status).toBe(400);
    expect(await taken.text()).toMatch(/already exists/);
  });

  it('refuses clinicians, and a form without the session’s CSRF token', async () => {
    expect((await app.request('/admin/users', { headers: as.therapist.headers })).status).toBe(403);
    expect((await form('/admin/teams', as.admin, { name: 'D' }, false)).status).toBe(403);
    expect((await accounts.listTeams()).some((t) => t.name === 'D')).toBe(false);
  });
});
