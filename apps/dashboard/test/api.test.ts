import { gunzipSync } from 'node:zlib';
import { phq9 } from '@kapkit/core/instruments';
import type { EventStore } from '@kapkit/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { seedDemoCaseload } from '../src/server/demo.js';
import { researchExporter } from '../src/server/export.js';
import type {
  ApiError,
  AppendResponse,
  CaseloadResponse,
  CohortResponse,
  InstrumentsResponse,
  MetaResponse,
  PatientResponse,
} from '../src/shared/api.js';
import { instrumentForm } from '../src/shared/instruments.js';
import { signedIn, type TestSession } from './support/auth.js';
import { appendLongEpisode, openTempStore } from './support/store.js';

const DAY_MS = 86_400_000;
const NOW = Date.now();
const READY = { patientId: 'test-pt-ready', episodeId: 'test-ep-ready' };
/** Like READY, for the dosing-session tests only: nothing is recorded after its last event but by them. */
const DOSING = { patientId: 'test-pt-dosing', episodeId: 'test-ep-dosing' };

let store: EventStore;
let dispose: () => Promise<void>;
const logs: string[] = [];
let app: ReturnType<typeof createDashboardApp>['app'];
let demoEpisodes = 0;
/** A therapist and a medical clinician whose care team looks after every patient of the store. */
let therapist: TestSession;
let medical: TestSession;

beforeAll(async () => {
  ({ store, dispose } = await openTempStore());
  demoEpisodes = await seedDemoCaseload(store, { nowMs: NOW, patients: 16 });
  // A patient between dosing sessions, integrated, with a dose on hand: a dose may be recorded next.
  await appendLongEpisode(store, READY, { nowMs: NOW, daysAgo: 70, weeks: 8, doses: 3 });
  await appendLongEpisode(store, DOSING, { nowMs: NOW, daysAgo: 70, weeks: 8, doses: 3 });
  let accounts: ReturnType<typeof createDashboardApp>['accounts'];
  ({ app, accounts } = createDashboardApp({
    store,
    log: (line) => logs.push(line),
    bodyLimitBytes: 16 * 1024,
  }));
  const patients = new Set<string>();
  for await (const s of store.streamAll()) patients.add(s.event.patientId);
  therapist = await signedIn(accounts, 'therapist', { patients: [...patients], team: 'everyone' });
  medical = await signedIn(accounts, 'medical', { patients: [...patients], team: 'everyone' });
});

/** A request of the signed-in therapist. */
function req(path: string, init: RequestInit = {}) {
  return app.request(path, {
    ...init,
    headers: { ...therapist.headers, ...((init.headers as Record<string, string> | undefined) ?? {}) },
  });
}

/** The signed-in clinician whose role the body names (`recordedBy: 'medical'`), else the therapist. */
function authorOf(body: unknown): TestSession {
  const b = (typeof body === 'object' && body !== null ? body : {}) as {
    recordedBy?: unknown;
    events?: { recordedBy?: unknown }[];
  };
  const roles = [b.recordedBy, ...(Array.isArray(b.events) ? b.events.map((e) => e?.recordedBy) : [])];
  return roles.includes('medical') ? medical : therapist;
}

afterAll(async () => {
  await dispose?.();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.request(path, {
    method: 'POST',
    headers: { ...authorOf(body).headers, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function versionOf(episodeId: string) {
  return (await store.loadEpisode(episodeId)).version;
}

const phq9Event = (responses: unknown[]) => ({
  type: 'AssessmentRecorded',
  instrument: 'phq9',
  responses,
  context: 'routine',
  recordedBy: 'therapist',
});

/** A whole dosing session as the form sends it: book, pre-dose vitals, dose, post-dose vitals, complete. */
function dosingSession(
  sessionId: string,
  pre: { systolic: number; diastolic: number },
  override?: string,
  startMs = Date.now() - 130 * 60_000,
) {
  // A session that started 130 minutes ago, dosed then, and ended now: the policy observes 2 hours.
  const t = new Date(startMs).toISOString();
  const t2 = new Date(startMs + 125 * 60_000).toISOString();
  return [
    { type: 'DosingSessionScheduled', sessionId, scheduledFor: t, mode: 'in-person', at: t },
    { type: 'VitalsRecorded', sessionId, phase: 'pre', ...pre, heartRate: 70, at: t },
    {
      type: 'DoseAdministered',
      sessionId,
      kind: 'full',
      doseMg: 300,
      route: 'sublingual',
      formulation: 'sublingual-lozenge',
      at: t,
      ...(override ? { vitalsOverride: { clinicianRole: 'medical', reason: override } } : {}),
    },
    { type: 'VitalsRecorded', sessionId, phase: 'post', systolic: 128, diastolic: 82, at: t2 },
    { type: 'DosingSessionCompleted', sessionId, durationMinutes: 120, at: t2 },
  ];
}

describe('GET /api/meta', () => {
  it('says the store holds demo data, which engine it is and how many patients there are', async () => {
    const res = await req('/api/meta');
    expect(res.status).toBe(200);
    const meta = (await res.json()) as MetaResponse;
    expect(meta.demo).toBe(true);
    expect(meta.engine).toBe('pglite');
    expect(meta.patients).toBe(demoEpisodes + 2);
    expect(meta.asOf).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/);
  });
});

describe('GET /api/instruments', () => {
  it('serves the registered instrument definitions, from which the forms are generated', async () => {
    const defs = (await (await req('/api/instruments')).json()) as InstrumentsResponse;
    const p = defs.find((d) => d.id === 'phq9')!;
    expect(p.items).toHaveLength(9);
    const form = instrumentForm(p);
    expect(form.items[8]!.text).toBe(phq9.items[8].text);
    expect(form.items[0]!.scale.options?.map((o) => o.label)).toEqual([
      'Not at all',
      'Several days',
      'More than half the days',
      'Nearly every day',
    ]);
    expect(form.safetyItems).toEqual([9]);
  });

  it('labels items "Item n" when the licence does not let kapkit ship the text', async () => {
    const defs = (await (await req('/api/instruments')).json()) as InstrumentsResponse;
    const unlicensed = defs.find((d) => !d.licence.itemTextIncluded)!;
    expect(unlicensed).toBeDefined();
    const form = instrumentForm(unlicensed);
    expect(form.items.map((i) => i.text)).toEqual(unlicensed.items.map((_, i) => `Item ${i + 1}`));
    expect(form.stem).toBeNull();
  });
});

describe('GET /api/caseload', () => {
  it('lists every patient once with phase, latest scores, doses on hand and alerts from statusAt', async () => {
    const res = await req('/api/caseload');
    expect(res.status).toBe(200);
    const body = (await res.json()) as CaseloadResponse;
    expect(body.demo).toBe(true);
    expect(body.rows).toHaveLength(demoEpisodes + 2);
    expect(new Set(body.rows.map((r) => r.patientId)).size).toBe(body.rows.length);
    const ready = body.rows.find((r) => r.patientId === READY.patientId)!;
    const { state } = await store.loadEpisode(READY.episodeId);
    const last = state.context.assessments.filter((a) => a.instrument === 'phq9').at(-1)!;
    expect(ready.phase).toBe('dosing-course');
    expect(ready.phq9?.total).toBe(last.total);
    expect(ready.phq9?.severity).toBe(last.severity);
    expect(ready.dosesOnHand).toBe(state.context.dosesDelivered - state.context.unitsUsed);
    expect(ready.phq9?.baseline).not.toBeNull();
    expect(ready.phq9?.change).toBe(last.total! - ready.phq9!.baseline!);
  });

  it('puts patients with urgent alerts first', async () => {
    const body = (await (await req('/api/caseload')).json()) as CaseloadResponse;
    const rank = (r: (typeof body.rows)[number]) =>
      r.alerts.some((a) => a.severity === 'urgent')
        ? 0
        : r.alerts.some((a) => a.severity === 'warning')
          ? 1
          : 2;
    const ranks = body.rows.map(rank);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
  });
});

describe('GET /api/patients/:patientId', () => {
  it('gives the episode with its version, chart rows matching the stored assessments, vitals and timeline', async () => {
    const res = await req(`/api/patients/${READY.patientId}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as PatientResponse;
    const { state, version } = await store.loadEpisode(READY.episodeId);
    expect(body.episode.version).toBe(version);
    const stored = state.context.assessments.filter(
      (a) => a.instrument === 'phq9' || a.instrument === 'gad7',
    );
    const rows = body.episode.chart.rows.filter((r) => r.charted);
    expect(rows.map((r) => [r.eventId, r.total])).toEqual(stored.map((a) => [a.eventId, a.total]));
    expect(body.episode.doses).toHaveLength(3);
    expect(body.episode.vitals.filter((v) => v.phase === 'pre')).toHaveLength(3);
    expect(body.episode.timeline.filter((t) => t.kind === 'dosing')).toHaveLength(3);
    expect(body.episode.chart.instruments[0]?.responseSource).toMatch(/50%/);
  });

  it('answers 403 for a patient outside the care teams, known or not (existence is not revealed)', async () => {
    const res = await req('/api/patients/no-such-patient');
    expect(res.status).toBe(403);
    expect(((await res.json()) as ApiError).error).toBe('forbidden');
  });
});

describe('POST /api/episodes/:episodeId/events', () => {
  it('records a PHQ-9 through the episode machine and reports the safety alert of item 9 = 2', async () => {
    const before = await versionOf(READY.episodeId);
    const res = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: before,
      events: [phq9Event([1, 1, 1, 1, 1, 1, 1, 1, 2])],
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as AppendResponse;
    expect(body.status).toBe('appended');
    expect(body.version).toBe(before + 1);
    expect(body.alerts.map((a) => a.code)).toContain('safety-flag');
    const { state } = await store.loadEpisode(READY.episodeId);
    expect(state.context.assessments.at(-1)?.responses).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 2]);
  });

  it('is idempotent on a client-chosen event id: a retry answers "duplicate" and stores nothing twice', async () => {
    const v = await versionOf(READY.episodeId);
    const event = { ...phq9Event([0, 0, 0, 0, 0, 0, 0, 0, 0]), id: 'test-retry-1' };
    const first = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v,
      events: [event],
    });
    expect(first.status).toBe(201);
    const { at } = ((await first.json()) as AppendResponse).events[0]!;
    const retry = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v,
      events: [{ ...event, at }],
    });
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as AppendResponse).status).toBe('duplicate');
    expect(await versionOf(READY.episodeId)).toBe(v + 1);
  });

  it('answers 400 naming the field and the allowed range for an out-of-range answer, and stores nothing', async () => {
    const v = await versionOf(READY.episodeId);
    const res = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v,
      events: [phq9Event([0, 1, 2, 3, 0, 1, 2, 3, 4])],
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ApiError;
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
    expect(res.status).toBe(400);
    const paths = ((await res.json()) as ApiError).issues!.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['events[0].systolic', 'events[0].colour']));

    const noVersion = await post(`/api/episodes/${READY.episodeId}/events`, { events: [phq9Event([0])] });
    expect(noVersion.status).toBe(400);
    expect(((await noVersion.json()) as ApiError).issues!.map((i) => i.path)).toContain('expectedVersion');

    const serverField = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: 0,
      events: [{ ...phq9Event([0, 0, 0, 0, 0, 0, 0, 0, 0]), patientId: 'someone-else' }],
    });
    expect(((await serverField.json()) as ApiError).issues!.map((i) => i.path)).toContain(
      'events[0].patientId',
    );
  });

  it('answers 400 for a body that is not JSON, and 415 for one that is not sent as JSON', async () => {
    const bad = await post(`/api/episodes/${READY.episodeId}/events`, '{"expectedVersion": 1,');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ApiError).error).toBe('invalid-json');
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
    expect(res.status).toBe(201);
    const body = (await res.json()) as AppendResponse;
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
    const close = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v,
      events: [{ type: 'EpisodePaused', reason: 'scheduling', recordedBy: 'therapist' }],
    });
    expect(close.status).toBe(201);
    const res = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v,
      events: [{ type: 'IntegrationSessionCompleted', mode: 'telehealth', recordedBy: 'therapist' }],
    });
    expect(res.status).toBe(409);
    const body = (await res.json()) as ApiError;
    expect(body.error).toBe('concurrency-conflict');
    expect(body.actualVersion).toBe(v + 1);
    expect(body.changes?.map((c) => c.type)).toEqual(['EpisodePaused']);
    expect(body.refusal?.code).toBe('episode-paused');
    expect(body.message).toContain('your answers are kept');
    expect(await versionOf(READY.episodeId)).toBe(v + 1);
    const resume = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v + 1,
      events: [{ type: 'EpisodeResumed', recordedBy: 'therapist' }],
    });
    expect(resume.status).toBe(201);
  });

  it('answers 422 with the refusal code when the machine holds a dose (BP 150/95, no override)', async () => {
    const v = await versionOf(DOSING.episodeId);
    const res = await post(`/api/episodes/${DOSING.episodeId}/events`, {
      expectedVersion: v,
      events: dosingSession('test-s-hold', { systolic: 150, diastolic: 95 }),
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as ApiError;
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
    expect(res.status).toBe(201);
    expect(((await res.json()) as AppendResponse).version).toBe(v + 5);
    const { state } = await store.loadEpisode(DOSING.episodeId);
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
    expect(res.status).toBe(422);
    expect(((await res.json()) as ApiError).refusal?.code).toBe('future-event');
    expect(await versionOf(READY.episodeId)).toBe(v);
  });

  it('keeps the item-9 signal of a refused PHQ-9 as an urgent alert of the patient until a clinician reviews it', async () => {
    const v = await versionOf(READY.episodeId);
    // Dated before the episode opened: refused, but the positive item 9 must not be lost.
    const res = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v,
      events: [{ ...phq9Event([1, 1, 1, 1, 1, 1, 1, 1, 2]), at: new Date(NOW - 400 * DAY_MS).toISOString() }],
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as ApiError;
    expect(body.refusal?.code).toBe('episode-not-opened');
    expect(body.refusal?.safetyFlags?.[0]).toMatchObject({ rule: 'phq9-item9-positive', value: 2 });
    expect(await versionOf(READY.episodeId)).toBe(v);
    const caseload = (await (await req('/api/caseload')).json()) as CaseloadResponse;
    const row = caseload.rows.find((r) => r.patientId === READY.patientId)!;
    expect(row.alerts[0]).toMatchObject({ code: 'safety-signal-refused', severity: 'urgent' });
    expect(row.alerts[0]!.message).not.toContain('patient-reported');
    const patient = (await (await req(`/api/patients/${READY.patientId}`)).json()) as PatientResponse;
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
    const after = (await (await req('/api/caseload')).json()) as CaseloadResponse;
    expect(after.rows.find((r) => r.patientId === READY.patientId)!.alerts.map((a) => a.code)).not.toContain(
      'safety-signal-refused',
    );
  });

  it('marks the kept signal of a refused record the patient made as patient-reported, on the alert and the signal', async () => {
    // A patient's own answers (a measure link) reach the store as recordedBy: patient; this one is dated before
    // the episode opened, so it is refused and only its safety signal is kept.
    const stored = await store.readEpisode(READY.episodeId);
    const opened = stored[0]!.event;
    const at = new Date(Date.parse(opened.at) - 30 * DAY_MS).toISOString();
    const refused = store.append(
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
    const caseload = (await (await req('/api/caseload')).json()) as CaseloadResponse;
    const alert = caseload.rows
      .find((r) => r.patientId === READY.patientId)!
      .alerts.find((a) => a.code === 'safety-signal-refused')!;
    expect(alert.severity).toBe('urgent');
    expect(alert.message).toContain('AssessmentRecorded (patient-reported)');
    const patient = (await (await req(`/api/patients/${READY.patientId}`)).json()) as PatientResponse;
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
    const res = await post(`/api/episodes/${READY.episodeId}/events`, {
      expectedVersion: v,
      events: [{ ...phq9Event([0, 0, 0, 0, 0, 0, 0, 0, 0]), note: 'x'.repeat(20 * 1024) }],
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ApiError).error).toBe('payload-too-large');
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

describe('GET /api/cohort', () => {
  it('reports response and remission rates, trajectory and time to response from analyzeOutcomes', async () => {
    const res = await req('/api/cohort');
    expect(res.status).toBe(200);
    const body = (await res.json()) as CohortResponse;
    const p = body.instruments.find((i) => i.instrument === 'phq9')!;
    expect(p.patients).toBeGreaterThan(0);
    expect(p.response.of).toBe(p.evaluable);
    expect(p.response.definition).toMatch(/50%/);
    expect(p.trajectory.length).toBeGreaterThan(0);
    expect(p.timeToResponse.curve.length).toBeGreaterThan(0);
    expect(body.notes.join(' ')).toMatch(/biased/);
  });
});

/** The files of a (gzipped) ustar archive. */
function untar(gz: Uint8Array): Map<string, string> {
  const bytes = gunzipSync(gz);
  const files = new Map<string, string>();
  const text = new TextDecoder();
  for (let at = 0; at + 512 <= bytes.length; ) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = text.decode(header.subarray(0, 100)).replace(/\0.*$/s, '');
    const size = Number.parseInt(text.decode(header.subarray(124, 136)).replace(/\0.*$/s, ''), 8);
    files.set(name, text.decode(bytes.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe('GET /api/export', () => {
  it('downloads a de-identified research bundle (tables, manifest, codebook) made by @kapkit/export', async () => {
    const { exporter } = researchExporter({ key: 'test-key-that-is-long-enough-0123456789' });
    const { app: withExport } = createDashboardApp({ store, log: () => {}, exporter });
    const res = await withExport.request('/api/export?format=csv', { headers: therapist.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-disposition')).toMatch(
      /attachment; filename="kapkit-research-export-csv-.*\.tar\.gz"/,
    );
    const files = untar(new Uint8Array(await res.arrayBuffer()));
    const names = [...files.keys()].map((n) => n.split('/').pop());
    expect(names).toEqual(expect.arrayContaining(['manifest.json', 'codebook.md', 'assessments.csv']));
    const manifest = JSON.parse([...files.entries()].find(([n]) => n.endsWith('manifest.json'))![1]);
    expect(manifest.deidentified).toBe(true);
    expect(manifest.format).toBe('csv');
    expect(manifest.input.accepted).toBeGreaterThan(100);
    for (const [name, body] of files) {
      expect(body, name).not.toMatch(/demo-pt-|test-pt-|demo-ep-|test-ep-/);
    }
  });

  it('answers 400 for an unknown format, and 503 with a note when no exporter is configured', async () => {
    const { exporter } = researchExporter({ key: 'test-key-that-is-long-enough-0123456789' });
    const { app: withExport } = createDashboardApp({ store, log: () => {}, exporter });
    expect((await withExport.request('/api/export?format=xlsx', { headers: therapist.headers })).status).toBe(
      400,
    );
    const res = await req('/api/export');
    expect(res.status).toBe(503);
    expect(((await res.json()) as ApiError).error).toBe('unavailable');
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
    expect(logs.length).toBeGreaterThan(10);
    for (const line of logs) {
      expect(line).toMatch(/^(GET|POST) \S+ \d{3} \d+\.\dms$/);
      expect(line).not.toMatch(/demo-pt|demo-ep|test-pt|test-ep|phq9|responses/);
    }
    expect(logs).toContain(logs.find((l) => l.startsWith('POST /api/episodes/:episodeId/events 422')));
  });

  it('refuses requests for another Host name when an allow-list is set (DNS rebinding)', async () => {
    const { app: guarded } = createDashboardApp({ store, log: () => {}, allowedHosts: ['127.0.0.1:8787'] });
    expect(
      (await guarded.request('http://evil.example/api/meta', { headers: therapist.headers })).status,
    ).toBe(421);
    expect(
      (await guarded.request('http://127.0.0.1:8787/api/meta', { headers: therapist.headers })).status,
    ).toBe(200);
  });
});

describe('consent, medications and maintenance through the API', () => {
  /** A demo episode in its dosing course (v2 events from the generator: the consent gate applies). */
  async function inCourse() {
    const caseload = (await (await req('/api/caseload')).json()) as CaseloadResponse;
    const row = caseload.rows.find((r) => r.phase === 'dosing-course' && r.patientId.startsWith('demo-'))!;
    expect(row).toBeDefined();
    return row;
  }
  const patientView = async (patientId: string) =>
    ((await (await req(`/api/patients/${patientId}`)).json()) as PatientResponse).episode;

  it('shows the consent in force; a withdrawal raises consent-missing and a new consent clears it', async () => {
    const row = await inCourse();
    const before = await patientView(row.patientId);
    expect(before.consent.inForce).toEqual(expect.arrayContaining(['kap', 'remote-sessions']));
    const withdrawn = await post(`/api/episodes/${row.episodeId}/events`, {
      expectedVersion: await versionOf(row.episodeId),
      events: [{ type: 'ConsentWithdrawn', scope: ['kap'], recordedBy: 'therapist' }],
    });
    expect(withdrawn.status).toBe(201);
    const after = await patientView(row.patientId);
    expect(after.consent.withdrawn).toEqual(['kap']);
    expect(after.alerts.map((a) => a.code)).toContain('consent-missing');
    expect(after.timeline.some((t) => t.title === 'Consent withdrawn')).toBe(true);
    const again = await post(`/api/episodes/${row.episodeId}/events`, {
      expectedVersion: await versionOf(row.episodeId),
      events: [
        {
          type: 'InformedConsentRecorded',
          scope: ['kap', 'remote-sessions'],
          documentVersion: 'KAP consent v3',
          recordedBy: 'therapist',
        },
      ],
    });
    expect(again.status).toBe(201);
    const restored = await patientView(row.patientId);
    expect(restored.consent.inForce).toEqual(expect.arrayContaining(['kap']));
    expect(restored.alerts.map((a) => a.code)).not.toContain('consent-missing');
  });

  it('records a medication review and shows the interaction alert with the diazepam equivalent', async () => {
    const row = await inCourse();
    const res = await post(`/api/episodes/${row.episodeId}/events`, {
      expectedVersion: await versionOf(row.episodeId),
      events: [
        {
          type: 'MedicationsReviewed',
          medications: [{ name: 'lorazepam', class: 'benzodiazepine', dailyDose: 3, unit: 'mg' }],
          recordedBy: 'medical',
        },
      ],
    });
    expect(res.status).toBe(201);
    const ep = await patientView(row.patientId);
    expect(ep.medications.diazepamEquivalentMgPerDay).toBe(30);
    expect(ep.medications.findings[0]).toContain('Andrashko');
    expect(ep.alerts.find((a) => a.code === 'medication-interaction')?.severity).toBe('warning');
  });

  it('refuses maintenance before the course is done without a reason (422 reason-required)', async () => {
    const caseload = (await (await req('/api/caseload')).json()) as CaseloadResponse;
    let row: (typeof caseload.rows)[number] | undefined;
    for (const r of caseload.rows.filter((x) => x.phase === 'dosing-course')) {
      const ep = await patientView(r.patientId);
      if (ep.plannedDosingSessions !== null && ep.dosesGiven < ep.plannedDosingSessions) row = r;
    }
    if (!row) throw new Error('no demo episode short of its planned sessions');
    const v = await versionOf(row.episodeId);
    const res = await post(`/api/episodes/${row.episodeId}/events`, {
      expectedVersion: v,
      events: [{ type: 'MaintenancePlanned', intervalDays: 45, recordedBy: 'medical' }],
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as ApiError).refusal?.code).toBe('reason-required');
    expect(await versionOf(row.episodeId)).toBe(v);
  });
});
