import { phq9 } from '@kapkit/core/instruments';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnarOutcomes, toColumns } from '../src/columnar.js';
import { patientOutcome } from '../src/metrics/patient.js';
import type { OutcomeRecord } from '../src/records.js';

const rowArb = fc.record({
  patient: fc.integer({ min: 0, max: 7 }),
  day: fc.integer({ min: -14, max: 120 }),
  score: fc.integer({ min: 0, max: 27 }),
});

function records(
  rows: { patient: number; day: number; score: number }[],
  doses: Map<number, number | null>,
): OutcomeRecord[] {
  return rows.map((r) => ({
    patientId: `p${r.patient}`,
    instrument: 'phq9',
    day: r.day,
    score: r.score,
    firstDoseDay: doses.get(r.patient) ?? null,
  }));
}

function same(a: number, b: number | null | undefined): void {
  if (b === null || b === undefined) expect(a).toBeNaN();
  else expect(a).toBeCloseTo(b, 9);
}

describe('columnar path', () => {
  it('gives the same per-patient results as the object path, rows in any order', () => {
    fc.assert(
      fc.property(
        fc.array(rowArb, { minLength: 1, maxLength: 60 }),
        fc.array(fc.option(fc.integer({ min: -5, max: 30 }), { nil: null }), { minLength: 8, maxLength: 8 }),
        (rows, doseDays) => {
          const doses = new Map(doseDays.map((d, i) => [i, d] as const));
          const recs = records(rows, doses);
          const cols = toColumns(recs);
          const out = columnarOutcomes(cols);
          cols.patientIds.forEach((id, p) => {
            const o = patientOutcome(
              recs.filter((r) => r.patientId === id),
              { direction: 'higher-is-worse', responseFraction: 0.5, remissionBelow: 5 },
            );
            same(out.baseline[p]!, o.baseline);
            same(out.baselineDay[p]!, o.baselineDay);
            same(out.latest[p]!, o.latest);
            same(out.change[p]!, o.change);
            same(out.firstResponseDay[p]!, o.firstResponseDay);
            same(out.slope[p]!, o.trend.slope);
            same(out.slopeSE[p]!, o.trend.slopeSE);
            expect(out.response[p]).toBe(o.response === null ? -1 : o.response ? 1 : 0);
            expect(out.remission[p]).toBe(o.remission === null ? -1 : o.remission ? 1 : 0);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('uses the last assessment on or before the first dose as baseline', () => {
    const recs: OutcomeRecord[] = [
      { patientId: 'a', instrument: 'phq9', day: 10, score: 8, firstDoseDay: 3 },
      { patientId: 'a', instrument: 'phq9', day: -10, score: 20 },
      { patientId: 'a', instrument: 'phq9', day: 2, score: 18 },
      { patientId: 'a', instrument: 'phq9', day: 30, score: 9 },
    ];
    const out = columnarOutcomes(toColumns(recs));
    expect(out.baseline[0]).toBe(18);
    expect(out.latest[0]).toBe(9);
    expect(out.response[0]).toBe(1);
    expect(out.firstResponseDay[0]).toBe(8);
    expect(out.cohort).toMatchObject({ patients: 1, evaluable: 1, responders: 1, remitters: 0 });
  });

  it('leaves a patient with only a baseline out of change metrics', () => {
    const out = columnarOutcomes(toColumns([{ patientId: 'b', day: 0, score: 12 }]));
    expect(out.cohort.evaluable).toBe(0);
    expect(out.response[0]).toBe(-1);
    expect(out.latest[0]).toBeNaN();
  });

  it('takes its default response and remission from the PHQ-9 definition, and skips response when told it is not defined', () => {
    const recs: OutcomeRecord[] = [
      { patientId: 'a', instrument: 'phq9', day: 0, score: 20 },
      { patientId: 'a', instrument: 'phq9', day: 30, score: 4 },
    ];
    const cols = toColumns(recs);
    const byDefault = columnarOutcomes(cols);
    const explicit = columnarOutcomes(cols, {
      responseFraction: phq9.outcomes!.response!.fraction,
      remissionBelow: phq9.outcomes!.remission!.below,
    });
    expect(byDefault.cohort).toEqual(explicit.cohort);
    expect(byDefault.cohort).toMatchObject({ responders: 1, remitters: 1 });
    const none = columnarOutcomes(cols, { responseFraction: null, remissionBelow: null });
    expect(none.response[0]).toBe(-1);
    expect(none.remission[0]).toBe(-1);
    expect(none.firstResponseDay[0]).toBeNaN();
    expect(none.cohort).toMatchObject({ responders: 0, remitters: 0 });
  });
});
