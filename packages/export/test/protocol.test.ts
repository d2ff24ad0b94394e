import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { exportEvents, SCHEMA_TARGETS } from '../src/index.js';
import { failures, publishedValidator } from './ajv.js';
import { COURSE, interleave, ndjson, readLines, SESSION, streamOf, tempDir } from './support.js';

/*
 * Consent, concurrent medications, titration and maintenance in the research export: their columns, and a
 * research-use withdrawal leaving the episode out of de-identified exports (counted in the manifest).
 */

const KEY = 'protocol-test-key-0123456789abcdef0123456789abcdef';

async function run(events: readonly Record<string, unknown>[], deidentified: boolean) {
  const dir = tempDir();
  const result = await exportEvents(streamOf(ndjson(events)), {
    format: 'ndjson',
    outDir: dir,
    ...(deidentified ? { deidentify: { key: KEY } } : {}),
  });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  return { dir, result, manifest, episodes: readLines(join(dir, 'episodes.ndjson')) };
}

/** A course with consent, a medication review, a titrated plan and maintenance. */
function protocolCourse(id: string) {
  const s = new Story(`ep-${id}`, `pt-synthetic-${id}`);
  s.readyToDose(COURSE);
  s.day(8)
    .add('MedicationsReviewed', {
      medications: [
        { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2, unit: 'mg' },
        { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
      ],
    })
    .add('InformedConsentRecorded', {
      scope: ['kap', 'remote-sessions', 'research-use'],
      documentVersion: 'v3',
    });
  s.dosingSession(14, SESSION).integration(15).dosingSession(24, SESSION).integration(25);
  s.day(26).add('MaintenancePlanned', { intervalDays: 45, reason: 'remission after two sessions, agreed' });
  s.dosingSession(70, SESSION).integration(71);
  return s;
}

describe('research export of consent, medications and maintenance', () => {
  it('writes the consent, medication, titration and maintenance columns', async () => {
    const { episodes, dir } = await run(protocolCourse('1').events, false);
    expect(episodes).toHaveLength(1);
    expect(episodes[0]).toMatchObject({
      consent_kap: true,
      consent_remote_sessions: true,
      consent_research_use: true,
      consent_withdrawn: null,
      medications_reviewed: true,
      medication_classes: 'antidepressant;benzodiazepine',
      benzodiazepine_diazepam_eq_mg: 20,
      medication_interactions: 1,
      titration_planned: false,
      maintenance_planned: true,
      maintenance_interval_days: 45,
      maintenance_doses: 1,
      doses: 3,
      end_state: 'maintenance',
      critical_period_chains: 1,
    });
    const sessions = readLines(join(dir, 'dosing_sessions.ndjson'));
    expect(sessions.map((x) => x.maintenance)).toEqual([false, false, true]);
    // The published table schemas allow an episode that ends in maintenance (they once left the phase out).
    for (const target of SCHEMA_TARGETS) {
      expect(failures(publishedValidator(target, 'tables/episodes.schema.json'), episodes), target).toEqual(
        [],
      );
    }
  });

  it('leaves an episode whose patient withdrew research use out of a de-identified export, and counts it', async () => {
    const kept = protocolCourse('1');
    const withdrawn = protocolCourse('2');
    withdrawn.day(90).add('ConsentWithdrawn', { scope: ['research-use'], recordedBy: 'patient' });
    const events = interleave(kept, withdrawn);
    const research = await run(events, true);
    expect(research.episodes).toHaveLength(1);
    expect(research.manifest.input).toMatchObject({ episodes: 1, episodesConsentWithdrawn: 1 });
    expect(readFileSync(join(research.dir, 'assessments.ndjson'), 'utf8')).not.toContain('pt-synthetic');
    // Every row of the research export belongs to the one episode kept.
    const ids = new Set(readLines(join(research.dir, 'assessments.ndjson')).map((r) => r.episode_id));
    expect([...ids]).toEqual([research.episodes[0]!.episode_id]);
    // The clinic's own (identified) export keeps it, marked.
    const clinic = await run(events, false);
    expect(clinic.episodes.map((e) => [e.episode_id, e.consent_withdrawn, e.consent_research_use])).toEqual([
      ['ep-1', null, true],
      ['ep-2', 'research-use', false],
    ]);
    expect(clinic.manifest.input.episodesConsentWithdrawn).toBe(0);
  });

  it('exports the titration step and the reason of a departing dose (free text only when asked)', async () => {
    const s = new Story('ep-t', 'pt-synthetic-t');
    s.readyToDose(COURSE);
    const plan = s.events.find((e) => e.type === 'TreatmentPlanCreated')!;
    plan.titration = [
      { fromSession: 1, doseMg: 150 },
      { fromSession: 2, doseMg: 300 },
    ];
    s.dosingSession(14, SESSION);
    const dose = s.events.find((e) => e.type === 'DoseAdministered')!;
    dose.reason = 'the patient asked for the full dose after discussion';
    const { dir, episodes } = await run(s.events, false);
    expect(episodes[0]?.titration_planned).toBe(true);
    const row = readLines(join(dir, 'dosing_sessions.ndjson'))[0]!;
    expect(row).toMatchObject({ planned_dose_mg: 150, dose_mg: 300 });
    expect(row.dose_departure_reason).toBeUndefined();
    const withText = tempDir();
    await exportEvents(streamOf(ndjson(s.events)), {
      format: 'ndjson',
      outDir: withText,
      includeFreeText: true,
    });
    expect(readLines(join(withText, 'dosing_sessions.ndjson'))[0]?.dose_departure_reason).toBe(
      'the patient asked for the full dose after discussion',
    );
  });
});
