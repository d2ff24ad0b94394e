import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitLinearMixedModel } from '../src/metrics/mixed-model.js';
import { patientOutcome } from '../src/metrics/patient.js';
import { trajectory } from '../src/metrics/trajectory.js';
import type { OutcomeRecord } from '../src/records.js';
import { analyzeOutcomes } from '../src/report.js';

// analyzeOutcomes works over columns (typed arrays) inside; these tests hold it to the definitions written over
// record objects: patientOutcome per patient, trajectory and the mixed model over the rows since baseline.

const rowArb = fc.record({
  patient: fc.integer({ min: 0, max: 9 }),
  // Whole and half days, so ties (same day, input order decides) are frequent.
  day: fc.integer({ min: -20, max: 200 }).map((d) => d / 2),
  score: fc.integer({ min: 0, max: 27 }),
  instrument: fc.constantFrom('phq9', 'PHQ-9', 'gad7'),
});

function toRecords(
  rows: { patient: number; day: number; score: number; instrument: string }[],
  doses: (number | null)[],
): OutcomeRecord[] {
  return rows.map((r) => {
    const dose = doses[r.patient];
    return {
      patientId: `p${r.patient}`,
      instrument: r.instrument,
      day: r.day,
      score: r.score,
      // Some rows of a patient carry the first dose day, some do not (the first one that does counts).
      ...(dose === undefined || (r.day * 2) % 3 === 0 ? {} : { firstDoseDay: dose }),
    };
  });
}

function checkAgainstObjectDefinitions(records: OutcomeRecord[]): void {
  const report = analyzeOutcomes(records, { includePatients: true });
  for (const [id, mine] of Object.entries(report.instruments)) {
    const rows = records.filter((r) => r.instrument.toLowerCase().replace('-', '') === id);
    const ids = [...new Set(rows.map((r) => r.patientId))];
    const expected = ids.map((pid) =>
      patientOutcome(
        rows.filter((r) => r.patientId === pid),
        { direction: 'higher-is-worse', responseFraction: 0.5, remissionBelow: 5 },
      ),
    );
    expect(mine.patientRows).toEqual(expected);
    const baselineDay = new Map(expected.map((o) => [o.patientId, o.baselineDay]));
    const since = rows
      .filter((r) => r.day >= baselineDay.get(r.patientId)!)
      .map((r) => ({ patientId: r.patientId, t: r.day - baselineDay.get(r.patientId)!, score: r.score }));
    expect(mine.trajectory).toEqual(trajectory(since));
    let fit: ReturnType<typeof fitLinearMixedModel> | null = null;
    try {
      fit = fitLinearMixedModel(since.map((r) => ({ group: r.patientId, x: r.t, y: r.score })));
    } catch {
      fit = null;
    }
    if (fit === null) expect(mine.mixedModel).toBeNull();
    else {
      expect(mine.mixedModel).toMatchObject({
        intercept: fit.intercept,
        slope: fit.slope,
        sdIntercept: fit.sdIntercept,
        sdSlope: fit.sdSlope,
        remlCriterion: fit.remlCriterion,
        nObs: fit.nObs,
        nGroups: fit.nGroups,
      });
    }
  }
}

describe('analyzeOutcomes over columns agrees with the definitions over record objects', () => {
  it('per patient, trajectory and mixed model, rows in any order with tied days', () => {
    fc.assert(
      fc.property(
        fc.array(rowArb, { minLength: 1, maxLength: 120 }),
        fc.array(fc.option(fc.integer({ min: -5, max: 30 }), { nil: null }), {
          minLength: 10,
          maxLength: 10,
        }),
        (rows, doses) => checkAgainstObjectDefinitions(toRecords(rows, doses)),
      ),
      { numRuns: 150 },
    );
  });

  it('sorts long courses (more than 32 assessments of one patient) the same way', () => {
    const records: OutcomeRecord[] = [];
    for (let k = 0; k < 90; k++) {
      // Days out of order, each day twice with different scores: input order decides between them.
      const day = (k * 37) % 45;
      records.push({ patientId: 'long', instrument: 'phq9', day, score: (k * 7) % 28, firstDoseDay: 4 });
      records.push({ patientId: `short${k % 6}`, instrument: 'phq9', day: k % 9, score: (k * 5) % 28 });
    }
    checkAgainstObjectDefinitions(records);
  });
});
