/**
 * The same dashboard over PostgreSQL (what DATABASE_URL selects): seed, caseload, patient page, a recorded
 * assessment, a stale form re-decided and a concurrency conflict. Runs when KAPKIT_TEST_DATABASE_URL names a server (CI starts one),
 * in a schema of its own; skipped otherwise.
 */
import { randomBytes } from 'node:crypto';
import { type EventStore, openStore } from '@kapkit/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { seedDemoCaseload } from '../src/server/demo.js';
import type { ApiError, AppendResponse, CaseloadResponse, PatientResponse } from '../src/shared/api.js';
import { signedIn, type TestSession } from './support/auth.js';
import { patientIdsOf } from './support/store.js';

const url = process.env.KAPKIT_TEST_DATABASE_URL;

describe.skipIf(!url)('dashboard on PostgreSQL', () => {
  let store: EventStore;
  let app: ReturnType<typeof createDashboardApp>['app'];
  let seeded = 0;
  let therapist: TestSession;
  /** A request of a therapist whose care team looks after every seeded patient. */
  const req = (path: string, init: RequestInit = {}) =>
    app.request(path, {
      ...init,
      headers: { ...therapist.headers, ...((init.headers as Record<string, string> | undefined) ?? {}) },
    });

  beforeAll(async () => {
    store = await openStore({ url: url!, schema: `kapkit_dashboard_${randomBytes(4).toString('hex')}` });
    seeded = await seedDemoCaseload(store, { nowMs: Date.now(), patients: 8 });
    let accounts: ReturnType<typeof createDashboardApp>['accounts'];
    ({ app, accounts } = createDashboardApp({ store, log: () => {} }));
    therapist = await signedIn(accounts, 'therapist', { patients: await patientIdsOf(store) });
  });

  afterAll(async () => {
    await store?.close();
  });

  it('lists the seeded caseload and serves a patient page from PostgreSQL', async () => {
    const meta = await (await req('/api/meta')).json();
    expect(meta.engine).toBe('postgres');
    const caseload = (await (await req('/api/caseload')).json()) as CaseloadResponse;
    expect(caseload.rows).toHaveLength(seeded);
    const active = caseload.rows.find((r) => r.phase === 'dosing-course') ?? caseload.rows[0]!;
    const res = await req(`/api/patients/${active.patientId}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as PatientResponse;
    expect(body.episode.version).toBe((await store.loadEpisode(active.episodeId)).version);
  });

  it('records through the episode machine, re-decides a stale form and answers 409 when it is no longer allowed', async () => {
    const caseload = (await (await req('/api/caseload')).json()) as CaseloadResponse;
    const open = caseload.rows.find((r) => r.phase !== 'completed' && r.phase !== 'discontinued')!;
    const { version } = await store.loadEpisode(open.episodeId);
    const post = (expectedVersion: number, events: unknown[]) =>
      req(`/api/episodes/${open.episodeId}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ expectedVersion, events }),
      });
    const gad7 = { type: 'AssessmentRecorded', instrument: 'gad7', responses: [1, 1, 1, 1, 1, 1, 1] };
    const ok = await post(version, [gad7]);
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as AppendResponse).version).toBe(version + 1);
    // A second tab still on the old version: an unrelated assessment is checked again and recorded.
    const second = await post(version, [{ ...gad7, responses: [2, 2, 2, 2, 2, 2, 2] }]);
    expect(second.status).toBe(201);
    const rebased = (await second.json()) as AppendResponse;
    expect(rebased.version).toBe(version + 2);
    expect(rebased.rebased?.fromVersion).toBe(version);
    // Paused meanwhile: a stale session form is refused on the latest state, and nothing is written.
    const pause = await post(version + 2, [
      { type: 'EpisodePaused', reason: 'scheduling', recordedBy: 'therapist' },
    ]);
    expect(pause.status).toBe(201);
    const stale = await post(version + 2, [
      { type: 'IntegrationSessionCompleted', mode: 'telehealth', recordedBy: 'therapist' },
    ]);
    expect(stale.status).toBe(409);
    const body = (await stale.json()) as ApiError;
    expect(body.error).toBe('concurrency-conflict');
    expect(body.actualVersion).toBe(version + 3);
    expect(body.refusal?.code).toBeTruthy();
    expect((await store.loadEpisode(open.episodeId)).version).toBe(version + 3);
  });
});
