import type { AccountStore, EventStore } from '@kapkit/store';
import { openMeasureRequests } from '@kapkit/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import type {
  MeasureLinkResponse,
  MeasureRequestSummaryResponse,
  PatientFormResponse,
  PatientMeasureRequestsResponse,
} from '../src/shared/measure-requests.js';
import { signedIn, type TestSession } from './support/auth.js';
import { appendLongEpisode, openTempStore } from './support/store.js';

/*
 * Measure requests through the HTTP API, in process: a clinician sends measures, the patient opens the link
 * and submits (through the episode machine, recordedBy patient), a retry is the same event, a used, expired
 * or withdrawn link says so, attempts are limited, only instruments with shipped item text can be sent, and
 * the scheduler makes one automatic request per due measure however often it runs.
 */

const DAY_MS = 86_400_000;
const NOW = Date.now();
const A = { patientId: 'test-pt-links-a', episodeId: 'test-ep-links-a' };
const B = { patientId: 'test-pt-links-b', episodeId: 'test-ep-links-b' };
const C = { patientId: 'test-pt-links-c', episodeId: 'test-ep-links-c' };

let store: EventStore;
let dispose: () => Promise<void>;
let dashboard: ReturnType<typeof createDashboardApp>;
let accounts: AccountStore;
let therapist: TestSession;
let otherTeam: TestSession;
/** The app's clock runs this far ahead of the real one. */
let ahead = 0;

const json = (session: TestSession | null, body: unknown) => ({
  method: 'POST',
  headers: { ...(session?.headers ?? { origin: 'http://localhost' }), 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const patientPost = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  dashboard.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://localhost', ...headers },
    body: JSON.stringify(body),
  });
const tokenOf = (url: string) => new URL(url).pathname.split('/')[2]!;
const PHQ9_ITEM9_2 = [1, 1, 1, 1, 1, 1, 1, 1, 2];
const GAD7 = [1, 1, 1, 1, 1, 1, 1];

beforeAll(async () => {
  ({ store, dispose } = await openTempStore());
  for (const p of [A, B, C]) {
    await appendLongEpisode(store, p, { nowMs: NOW, daysAgo: 70, weeks: 8, doses: 3 });
  }
  dashboard = createDashboardApp({
    store,
    log: () => {},
    now: () => Date.now() + ahead,
    patientLinks: {
      rateLimits: {
        perToken: { maxAttempts: 8, windowMs: 60_000 },
        perAddress: { maxAttempts: 1000, windowMs: 60_000 },
        unknownPerAddress: { maxAttempts: 3, windowMs: 60_000 },
      },
      addressOf: (c) => c.req.header('x-test-client') ?? null,
    },
  });
  accounts = dashboard.accounts;
  therapist = await signedIn(accounts, 'therapist', { patients: [A.patientId, C.patientId], team: 'links' });
  otherTeam = await signedIn(accounts, 'therapist', { patients: [B.patientId], team: 'other' });
});

afterAll(async () => {
  await dispose?.();
});

async function send(patientId: string, instruments: string[]) {
  return dashboard.app.request(
    `/api/patients/${patientId}/measure-requests`,
    json(therapist, { instruments }),
  );
}

describe('sending measures', () => {
  it('answers { url, expiresAt } with a link that names neither the patient nor an instrument', async () => {
    const res = await send(A.patientId, ['phq9', 'gad7']);
    expect(res.status).toBe(201);
    const body = (await res.json()) as MeasureLinkResponse;
    expect(body.url).toMatch(/^http:\/\/localhost\/m\/[A-Za-z0-9_-]{43}$/);
    expect(body.url).not.toMatch(/test-pt|phq|gad/i);
    expect(Date.parse(body.expiresAt) - (Date.now() + ahead)).toBeGreaterThan(7 * DAY_MS - 60_000);
    expect(body.request).toMatchObject({ status: 'sent', origin: 'clinician' });
  });

  it('refuses an instrument whose licence does not ship the item text, naming it', async () => {
    const res = await send(A.patientId, ['phq9', 'cadss6']);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.issues).toEqual([
      {
        path: 'instruments[1]',
        message: expect.stringMatching(/CADSS-6 cannot be sent to patients: its licence/),
      },
    ]);
  });

  it('refuses a patient outside the caller’s care teams (audited)', async () => {
    const res = await dashboard.app.request(
      `/api/patients/${A.patientId}/measure-requests`,
      json(otherTeam, { instruments: ['phq9'] }),
    );
    expect(res.status).toBe(403);
    const denied = await accounts.searchAudit({ actorId: otherTeam.userId, outcome: 'denied' });
    expect(denied[0]).toMatchObject({ reason: 'not-in-care-team', patientId: A.patientId });
  });
});

// One link's life, in order: opened, answered, retried, used.
describe('the patient’s link', () => {
  let token: string;
  let requestId: string;

  beforeAll(async () => {
    const body = (await (await send(A.patientId, ['phq9', 'gad7'])).json()) as MeasureLinkResponse;
    token = tokenOf(body.url);
    requestId = body.request.id;
  });

  it('opens the form with the instruments’ own item text and the crisis screen, and marks the request opened', async () => {
    const res = await patientPost('/m/api/open', { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const form = (await res.json()) as PatientFormResponse;
    expect(form.instruments.map((i) => i.id)).toEqual(['phq9', 'gad7']);
    expect(form.instruments[0]!.items[8]!.text).toMatch(/better off dead/);
    expect(form.instruments[0]!.items[0]!.options.map((o) => o.label)).toEqual([
      'Not at all',
      'Several days',
      'More than half the days',
      'Nearly every day',
    ]);
    expect(form.instruments[0]!.safety).toEqual([{ item: 9, op: '>', value: 0 }]);
    expect(form.crisis.actions.map((a) => a.href)).toEqual(['tel:988', 'sms:988', 'tel:911']);
    const list = (await (
      await dashboard.app.request(`/api/patients/${A.patientId}/measure-requests`, {
        headers: therapist.headers,
      })
    ).json()) as PatientMeasureRequestsResponse;
    expect(list.requests.find((r) => r.id === requestId)).toMatchObject({ status: 'opened' });
    expect(list.reminders).toBe('off');
    expect(list.sendable.map((s) => s.id)).toEqual(expect.arrayContaining(['phq9', 'gad7']));
    expect(list.sendable.map((s) => s.id)).not.toContain('cadss6');
  });

  it('records the answers as patient-reported assessments; item 9 > 0 raises the urgent alert marked patient-reported', async () => {
    const before = await store.version(A.episodeId);
    const res = await patientPost('/m/api/submit', { token, answers: { phq9: PHQ9_ITEM9_2, gad7: GAD7 } });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ status: 'recorded', crisis: true });
    const events = await store.readEpisode(A.episodeId, { fromVersion: before + 1 });
    expect(
      events.map((s) => [s.event.type, s.event.recordedBy, (s.event as { instrument?: string }).instrument]),
    ).toEqual([
      ['AssessmentRecorded', 'patient', 'phq9'],
      ['AssessmentRecorded', 'patient', 'gad7'],
    ]);
    const caseload = await (
      await dashboard.app.request('/api/caseload', { headers: therapist.headers })
    ).json();
    const row = caseload.rows.find((r: { patientId: string }) => r.patientId === A.patientId);
    expect(row.alerts[0]).toMatchObject({ code: 'safety-flag', severity: 'urgent' });
    expect(row.alerts[0].message).toMatch(/item 9 answered 2 .*\(patient-reported\)/);
    const page = await (
      await dashboard.app.request(`/api/patients/${A.patientId}`, { headers: therapist.headers })
    ).json();
    expect(page.episode.assessments.slice(-2).map((a: { recordedBy: string }) => a.recordedBy)).toEqual([
      'patient',
      'patient',
    ]);
    const audit = await accounts.searchAudit({ patientId: A.patientId });
    expect(audit.find((e) => e.reason === 'patient-reported')).toMatchObject({
      role: 'patient',
      actorId: null,
    });
  });

  it('answers a retry of the same submission with duplicate: the same events, nothing written twice', async () => {
    const version = await store.version(A.episodeId);
    const res = await patientPost('/m/api/submit', { token, answers: { phq9: PHQ9_ITEM9_2, gad7: GAD7 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'duplicate', crisis: true });
    expect(await store.version(A.episodeId)).toBe(version);
  });

  it('says plainly that a used link cannot be used again, to open or to submit other answers', async () => {
    const open = await patientPost('/m/api/open', { token });
    expect(open.status).toBe(410);
    expect(await open.json()).toMatchObject({
      error: 'used',
      message: expect.stringMatching(/already been used/),
    });
    const other = await patientPost('/m/api/submit', {
      token,
      answers: { phq9: PHQ9_ITEM9_2.map(() => 0), gad7: GAD7 },
    });
    expect(other.status).toBe(410);
    const summary = (await (
      await dashboard.app.request('/api/measure-requests', { headers: therapist.headers })
    ).json()) as MeasureRequestSummaryResponse;
    expect(summary.patients[A.patientId]).toMatchObject({ completed: 1 });
    expect(summary.patients[B.patientId]).toBeUndefined();
  });
});

// The same topic, continued: links made for one test each (the block above follows one link from open to used).
describe('the patient’s link', () => {
  it('checks the answers against the instruments, naming what is wrong', async () => {
    const body = (await (await send(C.patientId, ['gad7'])).json()) as MeasureLinkResponse;
    const res = await patientPost('/m/api/submit', {
      token: tokenOf(body.url),
      answers: { gad7: [1, 1, 4] },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/answers\.gad7: expected 7 answers, got 3/);
    const wrong = await patientPost('/m/api/submit', {
      token: tokenOf(body.url),
      answers: { gad7: [1, 1, 1, 1, 1, 1, 4] },
    });
    expect((await wrong.json()).message).toMatch(/answers\.gad7\[6\] \(question 7\): expected 0 to 3, got 4/);
  });

  it('says plainly that an expired or withdrawn link no longer works', async () => {
    const expiring = (await (await send(C.patientId, ['phq9'])).json()) as MeasureLinkResponse;
    const withdrawn = (await (await send(C.patientId, ['gad7'])).json()) as MeasureLinkResponse;
    const revoke = await dashboard.app.request(
      `/api/measure-requests/${withdrawn.request.id}/revoke`,
      json(therapist, {}),
    );
    expect(revoke.status).toBe(200);
    const r = await patientPost('/m/api/open', { token: tokenOf(withdrawn.url) });
    expect(r.status).toBe(410);
    expect(await r.json()).toMatchObject({ error: 'revoked' });
    ahead = 8 * DAY_MS;
    try {
      const e = await patientPost('/m/api/open', { token: tokenOf(expiring.url) });
      expect(e.status).toBe(410);
      expect(await e.json()).toMatchObject({
        error: 'expired',
        message: expect.stringMatching(/has expired/),
      });
      const s = await patientPost('/m/api/submit', {
        token: tokenOf(expiring.url),
        answers: { phq9: PHQ9_ITEM9_2 },
      });
      expect(s.status).toBe(410);
    } finally {
      ahead = 0;
    }
  });

  it('limits attempts per link and per client address', async () => {
    const body = (await (await send(C.patientId, ['gad7'])).json()) as MeasureLinkResponse;
    const t = tokenOf(body.url);
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await patientPost('/m/api/open', { token: t })).status);
    expect(statuses.slice(0, 8).every((s) => s === 200)).toBe(true);
    expect(statuses[8]).toBe(429);
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      unknown.push(
        (
          await patientPost(
            '/m/api/open',
            { token: `x${'A'.repeat(42)}${i}` },
            { 'x-test-client': '203.0.113.7' },
          )
        ).status,
      );
    }
    expect(unknown).toEqual([404, 404, 404, 429]);
    // Another address is not blocked.
    expect(
      (await patientPost('/m/api/open', { token: `y${'A'.repeat(43)}` }, { 'x-test-client': '203.0.113.8' }))
        .status,
    ).toBe(404);
  });
});

describe('automatic requests from the monitoring plan', () => {
  it('makes one request per due measure of an episode, and none when run again', async () => {
    const requests = openMeasureRequests(store);
    const later = NOW + 40 * DAY_MS;
    const first = await dashboard.measureLinks.runScheduler(later);
    expect(first.created).toBeGreaterThan(0);
    const mine = (await requests.list({ episodeId: B.episodeId }, later)).filter(
      (r) => r.origin === 'automatic',
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]!.instruments).toEqual(expect.arrayContaining(['phq9', 'gad7']));
    expect(await dashboard.measureLinks.runScheduler(later)).toMatchObject({ created: 0 });
    expect(await dashboard.measureLinks.runScheduler(later + 60_000)).toMatchObject({ created: 0 });
    expect(
      (await requests.list({ episodeId: B.episodeId }, later)).filter((r) => r.origin === 'automatic'),
    ).toHaveLength(1);
  });
});
