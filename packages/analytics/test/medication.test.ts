import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byMedicationClass, MEDICATION_CLASS_NOTE, welchDifference } from '../src/metrics/medication.js';
import type { OutcomeRecord, PatientCourse } from '../src/records.js';
import { analyzeOutcomes } from '../src/report.js';

/*
 * Outcomes by concurrent-medication class against R: a synthetic cohort (scripts/reference/medication-reference.R,
 * fixed seed) where patients with a benzodiazepine improve less by construction; R's t.test gives each group's
 * change interval and Welch's interval for the difference.
 */

const dir = join(__dirname, 'fixtures');
const ref = JSON.parse(readFileSync(join(dir, 'medication-reference.json'), 'utf8'));
const lines = readFileSync(join(dir, 'medication-cohort.csv'), 'utf8').trim().split('\n').slice(1);
const records: OutcomeRecord[] = [];
const courses = new Map<string, PatientCourse>();
for (const line of lines) {
  const [patientId, instrument, day, score, benzo] = line.split(',');
  records.push({ patientId: patientId!, instrument: instrument!, day: Number(day), score: Number(score) });
  courses.set(patientId!, {
    patientId: patientId!,
    doses: 6,
    coverage: null,
    longestChain: 0,
    medicationClasses: benzo === '1' ? ['antidepressant', 'benzodiazepine'] : ['antidepressant'],
  });
}

const close = (actual: number | null | undefined, expected: number) =>
  expect(Math.abs((actual ?? Number.NaN) - expected)).toBeLessThan(1e-9 * Math.max(1, Math.abs(expected)));

describe('outcomes by concurrent-medication class', () => {
  const report = analyzeOutcomes(records, { courses, mixedModel: false });
  const analysis = report.instruments.phq9!.byMedicationClass!;
  const benzo = analysis.classes.find((c) => c.class === 'benzodiazepine')!;

  it('matches R for each group: patients, responders, remitters, mean change and its t interval', () => {
    for (const [mine, theirs] of [
      [benzo.with, ref.with],
      [benzo.without, ref.without],
    ] as const) {
      expect(mine.patients).toBe(theirs.patients);
      expect(mine.responders).toBe(theirs.responders);
      expect(mine.remitters).toBe(theirs.remitters);
      close(mine.change.mean, theirs.mean);
      close(mine.change.sd, theirs.sd);
      close(mine.change.lower, theirs.lower);
      close(mine.change.upper, theirs.upper);
    }
  });

  it('matches R’s Welch interval for the difference in mean change, and finds the built-in difference', () => {
    close(benzo.changeDifference.estimate, ref.difference.estimate);
    close(benzo.changeDifference.lower, ref.difference.lower);
    close(benzo.changeDifference.upper, ref.difference.upper);
    close(benzo.changeDifference.df, ref.difference.df);
    // Less improvement with a benzodiazepine: the whole interval lies above 0 (change is latest − baseline).
    expect(benzo.changeDifference.lower!).toBeGreaterThan(0);
  });

  it('says it is observational, and compares a class every patient takes with an empty group', () => {
    expect(analysis.note).toBe(MEDICATION_CLASS_NOTE);
    expect(analysis.note).toMatch(/^Observational/);
    expect(analysis.patientsWithReview).toBe(90);
    const all = analysis.classes.find((c) => c.class === 'antidepressant')!;
    expect(all.without.patients).toBe(0);
    expect(all.changeDifference).toEqual({ estimate: null, lower: null, upper: null, df: null });
  });

  it('leaves out patients without a medication review (counted), and is null without any', () => {
    const partial = new Map(courses);
    partial.set('M001', { ...courses.get('M001')!, medicationClasses: null });
    const r = analyzeOutcomes(records, { courses: partial, mixedModel: false }).instruments.phq9!;
    expect(r.byMedicationClass?.patientsWithReview).toBe(89);
    expect(r.byMedicationClass?.patientsWithoutReview).toBe(1);
    const none = new Map([...courses].map(([k, v]) => [k, { ...v, medicationClasses: null }]));
    expect(
      analyzeOutcomes(records, { courses: none, mixedModel: false }).instruments.phq9!.byMedicationClass,
    ).toBeNull();
    expect(analyzeOutcomes(records, { mixedModel: false }).instruments.phq9!.byMedicationClass).toBeNull();
  });

  it('gives Welch’s interval by hand on a tiny case (R: t.test(c(1,2,3), c(2,4,6,8)))', () => {
    // R 4.2.2: estimate -3, conf.int -6.897975451083 0.897975451083, df 4.075471698
    const w = welchDifference([1, 2, 3], [2, 4, 6, 8]);
    expect(w.estimate).toBe(-3);
    expect(w.lower).toBeCloseTo(-6.897975451083, 10);
    expect(w.upper).toBeCloseTo(0.897975451083, 10);
    expect(w.df).toBeCloseTo(4.075471698, 8);
    expect(byMedicationClass(new Map(), new Map(), true)).toBeNull();
  });
});
