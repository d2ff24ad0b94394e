import { describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import type * as Api from '../src/shared/api.js';
import { answer, apiFixture, DAY_MS, DOSING, dosingSession, NOW, phq9Event, READY } from './support/api.js';

/*
 * Recording through the dashboard's JSON API in process (`POST /api/episodes/:episodeId/events`, through the
 * episode machine), its refusals, and the security of every answer. The tests run in order on READY's history.
 */

const { fixture, req, post, appendTo, versionOf } = apiFixture();

describe('POST /api/episodes/:episodeId/events', () => {
  it('records a PHQ-9 through the episode machine and reports the safety alert of item 9 = 2', async () => {
    const before = await versionOf(READY.episodeId);
    const res = await appendTo(READY, before, [phq9Event([1, 1, 1, 1, 1, 1, 1, 1, 2])]);
    const body = await answer<Api.AppendResponse>(res, 201);
    expect(body.status).toBe('appended');
    expect(body.version).toBe(before + 1);
    expect(body.alerts.map((a) => a.code)).toContain('safety-flag');
    const { state } = await fixture.store.loadEpisode(READY.episodeId);
    expect(state.context.assessments.at(-1)?.responses).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 2]);
  });

  it('is idempotent on a client-chosen event id: a retry answers "duplicate" and stores nothing twice', async () => {
    const v = await versionOf(READY.episodeId);
    const event = { ...phq9Event([0, 0, 0, 0, 0, 0, 0, 0, 0]), id: 'test-retry-1' };
    const first = await appendTo(READY, v, [event]);
    const { at } = (await answer<Api.AppendResponse>(first, 201)).events[0]!;
    const retry = await appendTo(READY, v, [{ ...event, at }]);
    expect((await answer<Api.AppendResponse>(retry, 200)).status).toBe('duplicate');
    expect(await versionOf(READY.episodeId)).toBe(v + 1);
  });

  it('answers 400 naming the field and the allowed range for an out-of-range answer, and stores nothing', async () => {
    const v = await versionOf(READY.episodeId);
    const res = await appendTo(READY, v, [phq9Event([0, 1, 2, 3, 0, 1, 2, 3, 4])]);
    const body = await answer<Api.ApiError>(res, 400);
    expect(body.error).toBe('invalid-input');
    expect(body.issues).toEqual([
      {
        path: 'events[0].responses[8]',
        message: expect.stringMatching(/item 9.*expected an integer from 0 to 3.*got 4/),
      },
    ]);
    expect(await versionOf(READY.episodeId)).toBe(v);
  });

  it('answers 400 with zod issue paths for a malformed event, unknown fields and a missing version', async () => {
    const res = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: await versionOf(READY.episodeId),
      events: [
        { type: 'VitalsRecorded', sessionId: 's', phase: 'pre', systolic: 'high', diastolic: 80, colour: 1 },
      ],
    });
    const paths = (await answer<Api.ApiError>(res, 400)).issues!.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['events[0].systolic', 'events[0].colour']));

    const noVersion = await post(`/api/episodes/${READY.episodeId}/events`, { events: [phq9Event([0])] });
    expect((await answer<Api.ApiError>(noVersion, 400)).issues!.map((i) => i.path)).toContain(
      'expectedVersion',
    );

    const serverField = await appendTo(READY, 0, [
      { ...phq9Event([0, 0, 0, 0, 0, 0, 0, 0, 0]), patientId: 'someone-else' },
    ]);
    expect(((await serverField.json()) as Api.ApiError).issues!.map((i) => i.path)).toContain(
      'events[0].patientId',
    );
  });

  it('answers 400 for a body that is not JSON, and 415 for one that is not sent as JSON', async () => {
    const bad = await post(`/api/episodes/${READY.episodeId}/events`, '{"expectedVersion": 1,');
    expect((await answer<Api.ApiError>(bad, 400)).error).toBe('invalid-json');
    const form = await req(`/api/episodes/${READY.episodeId}/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(form.status).toBe(415);
  });

  it('records a stale form that is still allowed after deciding it again, and says what changed', async () => {
    const v = await versionOf(READY.episodeId);
    const res = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v - 1,
      events: [
        { ...phq9Event([0, 0, 0, 0, 0, 0, 0, 0, 0]), instrument: 'gad7', responses: [0, 1, 0, 0, 0, 0, 0] },
      ],
    });
    const body = await answer<Api.AppendResponse>(res, 201);
    expect(body.version).toBe(v + 1);
    expect(body.rebased?.fromVersion).toBe(v - 1);
    expect(body.rebased?.changes).toHaveLength(1);
    expect(body.rebased?.changes[0]).toEqual({
      type: expect.any(String),
      at: expect.any(String),
      recordedBy: expect.any(String),
    });
  });

  it('answers 409 with what changed when a stale form is no longer allowed, keeping nothing', async () => {
    const v = await versionOf(READY.episodeId);
    // Someone else closes the course: a stale preparation-session form is then refused.
    const close = await appendTo(READY, v, [
      { type: 'EpisodePaused', reason: 'scheduling', recordedBy: 'therapist' },
    ]);
    expect(close.status).toBe(201);
    const res = await appendTo(READY, v, [
      { type: 'IntegrationSessionCompleted', mode: 'telehealth', recordedBy: 'therapist' },
    ]);
    const body = await answer<Api.ApiError>(res, 409);
    expect(body.error).toBe('concurrency-conflict');
    expect(body.actualVersion).toBe(v + 1);
    expect(body.changes?.map((c) => c.type)).toEqual(['EpisodePaused']);
    expect(body.refusal?.code).toBe('episode-paused');
    expect(body.message).toContain('your answers are kept');
    expect(await versionOf(READY.episodeId)).toBe(v + 1);
    const resume = await appendTo(READY, v + 1, [{ type: 'EpisodeResumed', recordedBy: 'therapist' }]);
    expect(resume.status).toBe(201);
  });
});

// The same route, continued (one block per topic): refusals by the episode machine, then refused requests.
describe('POST /api/episodes/:episodeId/events', () => {
  it('answers 422 with the refusal code when the machine holds a dose (BP 150/95, no override)', async () => {
    const v = await versionOf(DOSING.episodeId);
    const res = await appendTo(DOSING, v, dosingSession('test-s-hold', { systolic: 150, diastolic: 95 }));
    const body = await answer<Api.ApiError>(res, 422);
    expect(body.error).toBe('event-refused');
    expect(body.refusal?.code).toBe('vitals-hold');
    expect(body.refusal?.message).toMatch(/BP 150\/95 mmHg/);
    expect(body.index).toBe(2);
    expect(await versionOf(DOSING.episodeId)).toBe(v);
  });

  it('accepts the same dose with a clinician override and its reason', async () => {
    const v = await versionOf(DOSING.episodeId);
    const res = await post(`/api/episodes/${DOSING.episodeId}/events`, {
      expectedVersion: v,
      events: dosingSession(
        'test-s-override',
        { systolic: 150, diastolic: 95 },
        'Repeat reading 138/88; cleared by medical team.',
      ),
    });
    expect((await answer<Api.AppendResponse>(res, 201)).version).toBe(v + 5);
    const { state } = await fixture.store.loadEpisode(DOSING.episodeId);
    expect(state.context.sessions.at(-1)?.doses[0]?.vitalsOverride).toBe(true);
  });

  it('refuses an event dated in the future of the server clock (2062), with future-event', async () => {
    const v = await versionOf(READY.episodeId);
    const res = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v,
      events: [
        {
          ...phq9Event([0, 0, 0, 0, 0, 0, 0, 0, 0]),
          at: '2062-01-01T00:00:00Z',
          recordedAt: '2062-01-01T00:00:00Z',
        },
      ],
    });
    expect((await answer<Api.ApiError>(res, 422)).refusal?.code).toBe('future-event');
    expect(await versionOf(READY.episodeId)).toBe(v);
  });

  it('keeps the item-9 signal of a refused PHQ-9 as an urgent alert of the patient until a clinician reviews it', async () => {
    const v = await versionOf(READY.episodeId);
    // Dated before the episode opened: refused, but the positive item 9 must not be lost.
    const res = await appendTo(READY, v, [
      { ...phq9Event([1, 1, 1, 1, 1, 1, 1, 1, 2]), at: new Date(NOW - 400 * DAY_MS).toISOString() },
    ]);
    const body = await answer<Api.ApiError>(res, 422);
    expect(body.refusal?.code).toBe('episode-not-opened');
    expect(body.refusal?.safetyFlags?.[0]).toMatchObject({ rule: 'phq9-item9-positive', value: 2 });
    expect(await versionOf(READY.episodeId)).toBe(v);
    const caseload = (await (await req('/api/caseload')).json()) as Api.CaseloadResponse;
    const row = caseload.rows.find((r) => r.patientId === READY.patientId)!;
    expect(row.alerts[0]).toMatchObject({ code: 'safety-signal-refused', severity: 'urgent' });
    expect(row.alerts[0]!.message).not.toContain('patient-reported');
    const patient = (await (await req(`/api/patients/${READY.patientId}`)).json()) as Api.PatientResponse;
    const signal = patient.episode.safetySignals.find((s) => s.review === null)!;
    expect(signal.signals[0]).toMatchObject({ rule: 'phq9-item9-positive', value: 2 });
    expect(signal.recordedBy).toBe('therapist');
    // Only a clinician reviews it.
    const byPatient = await post(`/api/safety-signals/${signal.id}/review`, {
      outcome: 'safety-plan',
      recordedBy: 'patient',
    });
    expect(byPatient.status).toBe(400);
    const reviewed = await post(`/api/safety-signals/${signal.id}/review`, {
      outcome: 'safety-plan',
      recordedBy: 'medical',
    });
    expect(reviewed.status).toBe(201);
    const after = (await (await req('/api/caseload')).json()) as Api.CaseloadResponse;
    expect(after.rows.find((r) => r.patientId === READY.patientId)!.alerts.map((a) => a.code)).not.toContain(
      'safety-signal-refused',
    );
  });

  it('marks the kept signal of a refused record the patient made as patient-reported, on the alert and the signal', async () => {
    // A patient's own answers (a measure link) reach the store as recordedBy: patient; this one is dated before
    // the episode opened, so it is refused and only its safety signal is kept.
    const stored = await fixture.store.readEpisode(READY.episodeId);
    const opened = stored[0]!.event;
    const at = new Date(Date.parse(opened.at) - 30 * DAY_MS).toISOString();
    const refused = fixture.store.append(
      READY.episodeId,
      [
        {
          ...opened,
          ...phq9Event([1, 1, 1, 1, 1, 1, 1, 1, 3]),
          id: 'test-patient-refused-phq9',
          recordedBy: 'patient',
          at,
          recordedAt: at,
        } as never,
      ],
      { expectedVersion: stored.length },
    );
    await expect(refused).rejects.toMatchObject({ refusal: { code: 'episode-not-opened' } });
    const caseload = (await (await req('/api/caseload')).json()) as Api.CaseloadResponse;
    const alert = caseload.rows
      .find((r) => r.patientId === READY.patientId)!
      .alerts.find((a) => a.code === 'safety-signal-refused')!;
    expect(alert.severity).toBe('urgent');
    expect(alert.message).toContain('AssessmentRecorded (patient-reported)');
    const patient = (await (await req(`/api/patients/${READY.patientId}`)).json()) as Api.PatientResponse;
    const signal = patient.episode.safetySignals.find((s) => s.review === null)!;
    expect(signal).toMatchObject({ recordedBy: 'patient' });
    expect(signal.signals[0]).toMatchObject({ rule: 'phq9-item9-positive', value: 3 });
  });

  it('answers 404 for an unknown episode', async () => {
    const res = await post('/api/episodes/no-such-episode/events', {
      expectedVersion: 0,
      events: [phq9Event([0, 0, 0, 0, 0, 0, 0, 0, 0])],
    });
    expect(res.status).toBe(404);
  });

  it('answers 413 for a body over the limit and stores nothing', async () => {
    const v = await versionOf(READY.episodeId);
    const res = await appendTo(READY, v, [
      { ...phq9Event([0, 0, 0, 0, 0, 0, 0, 0, 0]), note: 'x'.repeat(20 * 1024) },
    ]);
    expect((await answer<Api.ApiError>(res, 413)).error).toBe('payload-too-large');
    expect(await versionOf(READY.episodeId)).toBe(v);
  });

  it('refuses a write from another origin', async () => {
    const res = await post(
      `/api/episodes/${READY.episodeId}/events`,
      { expectedVersion: 0, events: [] },
      { origin: 'https://elsewhere.example' },
    );
    expect(res.status).toBe(403);
  });
});

describe('security', () => {
  it('sends a strict Content-Security-Policy and no-store on API answers', async () => {
    const res = await req('/api/meta');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 404 for an unknown API path', async () => {
    expect((await req('/api/nothing-here')).status).toBe(404);
  });

  it('logs method, route template and status only: no patient id, episode id, query or answer', async () => {
    expect(fixture.logs.length).toBeGreaterThan(10);
    for (const line of fixture.logs) {
      expect(line).toMatch(/^(GET|POST) \S+ \d{3} \d+\.\dms$/);
      expect(line).not.toMatch(/demo-pt|demo-ep|test-pt|test-ep|phq9|responses/);
    }
    expect(fixture.logs).toContain(
      fixture.logs.find((l) => l.startsWith('POST /api/episodes/:episodeId/events 422')),
    );
  });

  it('refuses requests for another Host name when an allow-list is set (DNS rebinding)', async () => {
    const { app: guarded } = createDashboardApp({
      store: fixture.store,
      log: () => {},
      allowedHosts: ['127.0.0.1:8787'],
    });
    expect(
      (await guarded.request('http://evil.example/api/meta', { headers: fixture.therapist.headers })).status,
    ).toBe(421);
    expect(
      (await guarded.request('http://127.0.0.1:8787/api/meta', { headers: fixture.therapist.headers }))
        .status,
    ).toBe(200);
  });
});
