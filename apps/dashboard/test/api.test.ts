import { gunzipSync } from 'node:zlib';
import { phq9 } from '@kapkit/core/instruments';
import { describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { researchExporter } from '../src/server/export.js';
import type * as Api from '../src/shared/api.js';
import { instrumentForm } from '../src/shared/instruments.js';
import { answer, apiFixture, READY } from './support/api.js';

/*
 * The dashboard's JSON API in process, reading: meta, instruments, caseload, a patient, the cohort and the
 * research export; then consent, medications and maintenance recorded through it. Recording and its refusals:
 * api-events.test.ts.
 */

const { fixture, req, okJson, post, appendTo, versionOf } = apiFixture();

describe('GET /api/meta', () => {
  it('says the store holds demo data, which engine it is and how many patients there are', async () => {
    const meta = await okJson<Api.MetaResponse>('/api/meta');
    expect(meta.demo).toBe(true);
    expect(meta.engine).toBe('pglite');
    expect(meta.patients).toBe(fixture.demoEpisodes + 2);
    expect(meta.asOf).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/);
  });
});

describe('GET /api/instruments', () => {
  it('serves the registered instrument definitions, from which the forms are generated', async () => {
    const defs = (await (await req('/api/instruments')).json()) as Api.InstrumentsResponse;
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
    const defs = (await (await req('/api/instruments')).json()) as Api.InstrumentsResponse;
    const unlicensed = defs.find((d) => !d.licence.itemTextIncluded)!;
    expect(unlicensed).toBeDefined();
    const form = instrumentForm(unlicensed);
    expect(form.items.map((i) => i.text)).toEqual(unlicensed.items.map((_, i) => `Item ${i + 1}`));
    expect(form.stem).toBeNull();
  });
});

describe('GET /api/caseload', () => {
  it('lists every patient once with phase, latest scores, doses on hand and alerts from statusAt', async () => {
    const body = await okJson<Api.CaseloadResponse>('/api/caseload');
    expect(body.demo).toBe(true);
    expect(body.rows).toHaveLength(fixture.demoEpisodes + 2);
    expect(new Set(body.rows.map((r) => r.patientId)).size).toBe(body.rows.length);
    const ready = body.rows.find((r) => r.patientId === READY.patientId)!;
    const { state } = await fixture.store.loadEpisode(READY.episodeId);
    const last = state.context.assessments.filter((a) => a.instrument === 'phq9').at(-1)!;
    expect(ready.phase).toBe('dosing-course');
    expect(ready.phq9?.total).toBe(last.total);
    expect(ready.phq9?.severity).toBe(last.severity);
    expect(ready.dosesOnHand).toBe(state.context.dosesDelivered - state.context.unitsUsed);
    expect(ready.phq9?.baseline).not.toBeNull();
    expect(ready.phq9?.change).toBe(last.total! - ready.phq9!.baseline!);
  });

  it('puts patients with urgent alerts first', async () => {
    const body = (await (await req('/api/caseload')).json()) as Api.CaseloadResponse;
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
    const body = await okJson<Api.PatientResponse>(`/api/patients/${READY.patientId}`);
    const { state, version } = await fixture.store.loadEpisode(READY.episodeId);
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
    expect((await answer<Api.ApiError>(res, 403)).error).toBe('forbidden');
  });
});

describe('GET /api/cohort', () => {
  it('reports response and remission rates, trajectory and time to response from analyzeOutcomes', async () => {
    const body = await okJson<Api.CohortResponse>('/api/cohort');
    const p = body.instruments.find((i) => i.instrument === 'phq9')!;
    expect(p.patients).toBeGreaterThan(0);
    expect(p.response.of).toBe(p.evaluable);
    expect(p.response.definition).toMatch(/50%/);
    expect(p.trajectory.length).toBeGreaterThan(0);
    expect(p.timeToResponse.curve.length).toBeGreaterThan(0);
    // Reliable change states the critical |RCI| it was judged at (the PHQ-9 definition's 1.96).
    expect(p.reliableImprovement.critical).toBe(1.96);
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
    const { app: withExport } = createDashboardApp({ store: fixture.store, log: () => {}, exporter });
    const res = await withExport.request('/api/export?format=csv', { headers: fixture.therapist.headers });
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
    const { app: withExport } = createDashboardApp({ store: fixture.store, log: () => {}, exporter });
    expect(
      (await withExport.request('/api/export?format=xlsx', { headers: fixture.therapist.headers })).status,
    ).toBe(400);
    const res = await req('/api/export');
    expect((await answer<Api.ApiError>(res, 503)).error).toBe('unavailable');
  });
});

describe('consent, medications and maintenance through the API', () => {
  /** A demo episode in its dosing course (v2 events from the generator: the consent gate applies). */
  async function inCourse() {
    const caseload = (await (await req('/api/caseload')).json()) as Api.CaseloadResponse;
    const row = caseload.rows.find((r) => r.phase === 'dosing-course' && r.patientId.startsWith('demo-'))!;
    expect(row).toBeDefined();
    return row;
  }
  const patientView = async (patientId: string) =>
    ((await (await req(`/api/patients/${patientId}`)).json()) as Api.PatientResponse).episode;

  it('shows the consent in force; a withdrawal raises consent-missing and a new consent clears it', async () => {
    const row = await inCourse();
    const before = await patientView(row.patientId);
    expect(before.consent.inForce).toEqual(expect.arrayContaining(['kap', 'remote-sessions']));
    const withdrawn = await appendTo(row, await versionOf(row.episodeId), [
      { type: 'ConsentWithdrawn', scope: ['kap'], recordedBy: 'therapist' },
    ]);
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
    const caseload = (await (await req('/api/caseload')).json()) as Api.CaseloadResponse;
    let row: (typeof caseload.rows)[number] | undefined;
    for (const r of caseload.rows.filter((x) => x.phase === 'dosing-course')) {
      const ep = await patientView(r.patientId);
      if (ep.plannedDosingSessions !== null && ep.dosesGiven < ep.plannedDosingSessions) row = r;
    }
    if (!row) throw new Error('no demo episode short of its planned sessions');
    const v = await versionOf(row.episodeId);
    const res = await appendTo(row, v, [
      { type: 'MaintenancePlanned', intervalDays: 45, recordedBy: 'medical' },
    ]);
    expect((await answer<Api.ApiError>(res, 422)).refusal?.code).toBe('reason-required');
    expect(await versionOf(row.episodeId)).toBe(v);
  });
});
