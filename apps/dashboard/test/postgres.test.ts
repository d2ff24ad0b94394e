/**
 * The same dashboard over PostgreSQL (what DATABASE_URL selects): seed, caseload, patient page, a recorded
 * assessment and a concurrency conflict. Runs when KAPKIT_TEST_DATABASE_URL names a server (CI starts one),
 * in a schema of its own; skipped otherwise.
 */
import { randomBytes } from 'node:crypto';
import { type EventStore, openStore } from '@kapkit/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { seedDemoCaseload } from '../src/server/demo.js';
import type { ApiError, AppendResponse, CaseloadResponse, PatientResponse } from '../src/shared/api.js';

const url = process.env.KAPKIT_TEST_DATABASE_URL;

describe.skipIf(!url)('dashboard on PostgreSQL', () => {
  let store: EventStore;
  let app: ReturnType<typeof createDashboardApp>['app'];
  let seeded = 0;

  beforeAll(async () => {
    store = await openStore({ url: url!, schema: `kapkit_dashboard_${randomBytes(4).toString('hex')}` });
    seeded = await seedDemoCaseload(store, { nowMs: Date.now(), patients: 8 });
    ({ app } = createDashboardApp({ store, log: () => {} }));
  });

  afterAll(async () => {
    await store?.close();
  });

  it('lists the seeded caseload and serves a patient page from PostgreSQL', async () => {
    const meta = await (await app.request('/api/meta')).json();
    expect(meta.engine).toBe('postgres');
    const caseload = (await (await app.request('/api/caseload')).json()) as CaseloadResponse;
    expect(caseload.rows).toHaveLength(seeded);
    const active = caseload.rows.find((r) => r.phase === 'dosing-course') ?? caseload.rows[0]!;
    const res = await app.request(`/api/patients/${active.patientId}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as PatientResponse;
    expect(body.episode.version).toBe((await store.loadEpisode(active.episodeId)).version);
  });

  it('records through the episode machine and answers 409 to a stale version', async () => {
    const caseload = (await (await app.request('/api/caseload')).json()) as CaseloadResponse;
    const open = caseload.rows.find((r) => r.phase !== 'completed' && r.phase !== 'discontinued')!;
    const { version } = await store.loadEpisode(open.episodeId);
    const post = (expectedVersion: number) =>
      app.request(`/api/episodes/${open.episodeId}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          expectedVersion,
          events: [{ type: 'AssessmentRecorded', instrument: 'gad7', responses: [1, 1, 1, 1, 1, 1, 1] }],
        }),
      });
    const ok = await post(version);
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as AppendResponse).version).toBe(version + 1);
    const stale = await post(version);
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as ApiError).error).toBe('concurrency-conflict');
  });
});
