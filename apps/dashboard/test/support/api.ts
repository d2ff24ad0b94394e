import type { EventStore } from '@kapkit/store';
import { afterAll, beforeAll, expect } from 'vitest';
import { createDashboardApp } from '../../src/server/app.js';
import { DEMO_DOSE, seedDemoCaseload } from '../../src/server/demo.js';
import { signedIn, type TestSession } from './auth.js';
import { appendLongEpisode, openTempStore, patientIdsOf } from './store.js';

/*
 * The in-process API tests' dashboard: a temp store with the demo caseload and two long episodes, the app over
 * it and a signed-in therapist and medical clinician whose care team looks after every patient.
 */

export const DAY_MS = 86_400_000;
export const NOW = Date.now();
export const READY = { patientId: 'test-pt-ready', episodeId: 'test-ep-ready' };
/** Like READY, for the dosing-session tests only: nothing is recorded after its last event but by them. */
export const DOSING = { patientId: 'test-pt-dosing', episodeId: 'test-ep-dosing' };

interface ApiFixture {
  readonly store: EventStore;
  readonly app: ReturnType<typeof createDashboardApp>['app'];
  /** The app's log lines. */
  readonly logs: string[];
  /** How many demo episodes were seeded. */
  readonly demoEpisodes: number;
  readonly therapist: TestSession;
  readonly medical: TestSession;
}

/** A therapist's request. */
type ApiRequest = (path: string, init?: RequestInit) => Promise<Response>;

/** The fixture (filled in `beforeAll`, removed in `afterAll` of the calling test file) and its request helpers. */
export function apiFixture() {
  const f = { logs: [] as string[] } as { -readonly [K in keyof ApiFixture]: ApiFixture[K] };
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ store: f.store, dispose } = await openTempStore());
    f.demoEpisodes = await seedDemoCaseload(f.store, { nowMs: NOW, patients: 16 });
    // A patient between dosing sessions, integrated, with a dose on hand: a dose may be recorded next.
    await appendLongEpisode(f.store, READY, { nowMs: NOW, daysAgo: 70, weeks: 8, doses: 3 });
    await appendLongEpisode(f.store, DOSING, { nowMs: NOW, daysAgo: 70, weeks: 8, doses: 3 });
    let accounts: ReturnType<typeof createDashboardApp>['accounts'];
    ({ app: f.app, accounts } = createDashboardApp({
      store: f.store,
      log: (line) => f.logs.push(line),
      bodyLimitBytes: 16 * 1024,
    }));
    const patients = await patientIdsOf(f.store);
    f.therapist = await signedIn(accounts, 'therapist', { patients, team: 'everyone' });
    f.medical = await signedIn(accounts, 'medical', { patients, team: 'everyone' });
  });

  afterAll(async () => {
    await dispose?.();
  });

  /** A request of the signed-in therapist. */
  const req: ApiRequest = (path, init = {}) =>
    Promise.resolve(
      f.app.request(path, {
        ...init,
        headers: { ...f.therapist.headers, ...((init.headers as Record<string, string> | undefined) ?? {}) },
      }),
    );

  /** The therapist's GET of `path`, expecting 200, and its JSON body. */
  const okJson = async <T>(path: string): Promise<T> => answer<T>(await req(path), 200);

  /** The signed-in clinician whose role the body names (`recordedBy: 'medical'`), else the therapist. */
  const authorOf = (body: unknown): TestSession => {
    const b = (typeof body === 'object' && body !== null ? body : {}) as {
      recordedBy?: unknown;
      events?: { recordedBy?: unknown }[];
    };
    const roles = [b.recordedBy, ...(Array.isArray(b.events) ? b.events.map((e) => e?.recordedBy) : [])];
    return roles.includes('medical') ? f.medical : f.therapist;
  };

  /** A JSON POST by the clinician the body names. */
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    Promise.resolve(
      f.app.request(path, {
        method: 'POST',
        headers: { ...authorOf(body).headers, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );

  /** Append `events` to an episode through the API, expecting it at `expectedVersion`. */
  const appendTo = (
    ids: { readonly episodeId: string },
    expectedVersion: number,
    events: readonly unknown[],
  ) => post(`/api/episodes/${ids.episodeId}/events`, { expectedVersion, events });

  const versionOf = async (episodeId: string) => (await f.store.loadEpisode(episodeId)).version;

  return { fixture: f as ApiFixture, req, okJson, post, appendTo, versionOf };
}

/** The answer's JSON body, once its status is checked to be `status`. */
export async function answer<T>(res: Response, status: number): Promise<T> {
  expect(res.status).toBe(status);
  return (await res.json()) as T;
}

export const phq9Event = (responses: unknown[]) => ({
  type: 'AssessmentRecorded',
  instrument: 'phq9',
  responses,
  context: 'routine',
  recordedBy: 'therapist',
});

/** A whole dosing session as the form sends it: book, pre-dose vitals, dose, post-dose vitals, complete. */
export function dosingSession(
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
      ...DEMO_DOSE,
      at: t,
      ...(override ? { vitalsOverride: { clinicianRole: 'medical', reason: override } } : {}),
    },
    { type: 'VitalsRecorded', sessionId, phase: 'post', systolic: 128, diastolic: 82, at: t2 },
    { type: 'DosingSessionCompleted', sessionId, durationMinutes: 120, at: t2 },
  ];
}
