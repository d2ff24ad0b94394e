/**
 * The caseload reuses each episode's folded state until the store has a newer event of it: what another writer
 * (another server process, the command line) appends shows on the next read, and an unchanged caseload answers
 * the same rows again.
 */
import type { EventStore } from '@kapkit/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { seedDemoCaseload } from '../src/server/demo.js';
import type { CaseloadResponse } from '../src/shared/api.js';
import { signedIn, type TestSession } from './support/auth.js';
import { openTempStore, patientIdsOf, recordEpisodeLoads } from './support/store.js';

const NOW = Date.now();
let store: EventStore;
let dispose: () => Promise<void>;
let app: ReturnType<typeof createDashboardApp>['app'];
let therapist: TestSession;

beforeAll(async () => {
  ({ store, dispose } = await openTempStore());
  await seedDemoCaseload(store, { nowMs: NOW, patients: 16 });
  let accounts: ReturnType<typeof createDashboardApp>['accounts'];
  ({ app, accounts } = createDashboardApp({ store, log: () => {} }));
  therapist = await signedIn(accounts, 'therapist', { patients: await patientIdsOf(store) });
});

afterAll(async () => {
  await dispose?.();
});

const caseload = () => app.request('/api/caseload', { headers: therapist.headers });

describe('the caseload over cached episode states', () => {
  it('answers the same rows again while the store is unchanged', async () => {
    const first = (await (await caseload()).json()) as CaseloadResponse;
    const second = (await (await caseload()).json()) as CaseloadResponse;
    expect(second.rows).toEqual(first.rows);
    expect(first.rows.length).toBeGreaterThan(0);
  });

  it('shows a PHQ-9 another writer appended to the store since the last read (an episode is folded again once it has a newer version)', async () => {
    const before = (await (await caseload()).json()) as CaseloadResponse;
    // Any demo patient with a PHQ-9 whose episode is still open (which phase each is in depends on the clock).
    const row = before.rows.find(
      (r) =>
        r.patientId.startsWith('demo-') &&
        r.phq9 !== null &&
        !['completed', 'discontinued', 'dosing-session'].includes(r.phase),
    )!;
    expect(row).toBeDefined();
    const stored = await store.readEpisode(row.episodeId);
    const last = stored.at(-1)!.event;
    const template = stored
      .flatMap((s) =>
        s.event.type === 'AssessmentRecorded' && s.event.instrument === 'phq9' ? [s.event] : [],
      )
      .at(-1)!;
    // Not the total shown before, and item 9 = 0 (no safety flag): 24 or 0.
    const responses = row.phq9!.total === 24 ? [0, 0, 0, 0, 0, 0, 0, 0, 0] : [3, 3, 3, 3, 3, 3, 3, 3, 0];
    const at = new Date(Math.max(Date.parse(last.at) + 60_000, NOW - 3_600_000)).toISOString();
    await store.append(
      row.episodeId,
      [{ ...template, id: 'test-phq9-from-another-writer', at, recordedAt: at, responses }],
      { expectedVersion: stored.length },
    );
    const after = (await (await caseload()).json()) as CaseloadResponse;
    const now = after.rows.find((r) => r.patientId === row.patientId)!;
    expect(now.phq9?.total).toBe(responses.reduce((a, b) => a + b, 0));
    expect(Date.parse(now.phq9!.at)).toBe(Date.parse(at));
    expect(now.phq9?.total).not.toBe(row.phq9?.total);
  });
});

describe('warming the caseload at start', () => {
  it('folds every patient’s latest episode before the first caseload request, which then asks the store for none', async () => {
    const { app: fresh, accounts, warm } = createDashboardApp({ store, log: () => {} });
    const patients = await patientIdsOf(store);
    const me = await signedIn(accounts, 'therapist', { patients });
    await warm();
    const { loaded, restore } = recordEpisodeLoads(store);
    try {
      const res = await fresh.request('/api/caseload', { headers: me.headers });
      const body = (await res.json()) as CaseloadResponse;
      expect(body.rows.length).toBe(patients.length);
      expect(loaded).toEqual([]);
    } finally {
      restore();
    }
  });

  it('stops between two episodes once aborted', async () => {
    const { warm } = createDashboardApp({ store, log: () => {} });
    const { loaded, restore } = recordEpisodeLoads(store);
    try {
      const stop = new AbortController();
      stop.abort();
      await warm(stop.signal);
      expect(loaded).toEqual([]);
      await warm();
      expect(loaded.length).toBeGreaterThan(0);
    } finally {
      restore();
    }
  });
});
