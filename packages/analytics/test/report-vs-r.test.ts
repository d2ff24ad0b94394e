import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { columnarOutcomes, toColumns } from '../src/columnar.js';
import type { OutcomeRecord } from '../src/records.js';
import { analyzeOutcomes } from '../src/report.js';

// Fixtures: synthetic cohort and R 4.2.2 reference values (scripts/reference/*.R).
const dir = join(import.meta.dirname, 'fixtures');
// biome-ignore lint/suspicious/noExplicitAny: the reference JSON is checked field by field below
const ref: any = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));

function loadCohort(): OutcomeRecord[] {
  const [header, ...lines] = readFileSync(join(dir, 'cohort.csv'), 'utf8').trim().split('\n');
  const cols = header!.split(',');
  return lines.map((line) => {
    const v = line.split(',');
    const get = (c: string) => v[cols.indexOf(c)]!;
    const fd = get('first_dose_day');
    return {
      patientId: get('patient_id'),
      instrument: get('instrument'),
      day: Number(get('day')),
      score: Number(get('score')),
      firstDoseDay: fd === '' || fd === 'NA' ? null : Number(fd),
    };
  });
}

const records = loadCohort();
const report = analyzeOutcomes(records, { includePatients: true, remissionRequiresBaselineAtLeast: null });
const strict = analyzeOutcomes(records, { remissionRequiresBaselineAtLeast: 10, mixedModel: false });

function close(actual: number | null | undefined, expected: number | null | undefined, tol = 1e-9): void {
  if (expected === null || expected === undefined || (expected as unknown) === 'NA') {
    expect(actual ?? null).toBeNull();
    return;
  }
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
}

describe.each(['phq9', 'gad7'])('%s metrics agree with the R reference', (id) => {
  const r = ref.instruments[id];
  const mine = report.instruments[id]!;

  it('per patient: baseline, latest, change, response, remission, first response, OLS slope', () => {
    const rows = new Map(mine.patientRows!.map((p) => [p.patientId, p]));
    expect(rows.size).toBe(r.patients.length);
    for (const p of r.patients) {
      const m = rows.get(p.patient_id)!;
      expect(m.baselineDay).toBe(p.baselineDay);
      expect(m.baseline).toBe(p.baselineScore);
      expect(m.evaluable).toBe(p.evaluable);
      close(m.latest, p.latestScore);
      close(m.change, p.change);
      close(m.percentChange, p.pctChange);
      close(m.improvement, p.improvement);
      expect(m.response).toBe(p.evaluable && p.baselineScore > 0 ? p.response : null);
      expect(m.remission).toBe(p.evaluable ? p.remission : null);
      close(m.firstResponseDay, p.firstResponseDay);
      close(m.trend.slope, p.olsSlope);
      close(m.trend.slopeSE, p.olsSlopeSE);
    }
  });

  it('cohort: counts with Wilson intervals, means, change CI', () => {
    const c = r.cohort;
    expect(mine.patients).toBe(c.nPatients);
    expect(mine.evaluable).toBe(c.nEvaluable);
    expect(mine.responders).toBe(c.responders.count);
    expect(mine.responseRate.of).toBe(c.responders.n);
    close(mine.responseRate.lower, c.responders.lower);
    close(mine.responseRate.upper, c.responders.upper);
    expect(mine.remitters).toBe(c.remitters.count);
    close(mine.remissionRate?.lower, c.remitters.lower);
    close(mine.remissionRate?.upper, c.remitters.upper);
    expect(strict.instruments[id]!.remitters).toBe(c.remittersStrict.count);
    close(mine.baseline.mean, c.baseline.mean);
    close(mine.baseline.sd, c.baseline.sd);
    close(mine.latest.mean, c.latest.mean);
    close(mine.latest.sd, c.latest.sd);
    close(mine.change.mean, c.change.mean);
    close(mine.change.lower, c.change.lower);
    close(mine.change.upper, c.change.upper);
  });

  it('reliable and clinically significant change', () => {
    const c = r.cohort;
    close(mine.reliableChange.sd, c.reliableChange.s1);
    expect(mine.reliableChange.reliability).toBe(c.reliableChange.r);
    close(mine.reliableChange.sdiff, c.reliableChange.sdiff);
    close(mine.reliableChange.pointsNeeded, c.reliableChange.pointsNeeded);
    expect(mine.reliableChange.improved).toBe(c.jtImproved.count);
    expect(mine.reliableChange.deteriorated).toBe(c.jtDeteriorated.count);
    expect(mine.reliableChange.fixedPoint?.improved).toBe(c.fixedImproved.count);
    expect(mine.reliableChange.fixedPoint?.deteriorated).toBe(c.fixedDeteriorated.count);
    close(mine.clinicalSignificance?.a, c.clinicalSignificance.a);
    close(mine.clinicalSignificance?.b, c.clinicalSignificance.b);
    close(mine.clinicalSignificance?.c, c.clinicalSignificance.c);
    expect(mine.clinicalSignificance?.recovered).toBe(c.recovered.count);
  });

  it('effect sizes d_z, d_av and g_av', () => {
    close(mine.effectSize.dz, r.cohort.effectSizes.dz);
    close(mine.effectSize.dav, r.cohort.effectSizes.dav);
    close(mine.effectSize.gav, r.cohort.effectSizes.gav);
  });

  it('trajectory bins with t intervals', () => {
    expect(mine.trajectory.map((b) => b.bin)).toEqual(r.trajectory.map((b: { from: number }) => b.from));
    mine.trajectory.forEach((b, k) => {
      const e = r.trajectory[k];
      expect(b.n).toBe(e.n);
      close(b.mean, e.mean);
      close(b.lower, e.lower);
      close(b.upper, e.upper);
    });
  });

  it('time to first response (Kaplan–Meier) in the report', () => {
    const km = r.kaplanMeier;
    expect(mine.timeToResponse.curve.length).toBe(km.curve.length);
    close(mine.timeToResponse.median, km.median);
    close(mine.timeToResponse.lower, km.medianLower);
    close(mine.timeToResponse.upper, km.medianUpper);
    expect(mine.timeToResponse.events).toBe(km.events);
  });

  it('mixed model in the report (REML; fixed effects to 1e-4, SDs to 1e-3)', () => {
    const mm = r.mixedModel;
    close(mine.mixedModel?.intercept, mm.intercept, 1e-4);
    close(mine.mixedModel?.slope, mm.slope, 1e-4);
    close(mine.mixedModel?.sdIntercept, mm.sdIntercept, 1e-3);
    close(mine.mixedModel?.sdResidual, mm.sdResidual, 1e-3);
    close(mine.mixedModel?.remlCriterion, mm.remlCriterion, 1e-4);
  });

  it('columnar path gives the same cohort numbers', () => {
    const cols = toColumns(records.filter((x) => x.instrument === id));
    const out = columnarOutcomes(cols).cohort;
    expect(out.evaluable).toBe(r.cohort.nEvaluable);
    expect(out.responders).toBe(r.cohort.responders.count);
    expect(out.remitters).toBe(r.cohort.remitters.count);
    close(out.baselineMean, r.cohort.baseline.mean);
    close(out.latestSd, r.cohort.latest.sd);
    close(out.changeMean, r.cohort.change.mean);
  });
});
