import { readFileSync } from 'node:fs';
import { KapkitError } from '@kapkit/core';
import { describe, expect, it } from 'vitest';
import {
  fitLinearMixedModel,
  fitLinearMixedModelColumns,
  type MixedModelFit,
  type MixedModelRow,
  ModelNotEstimableError,
  mixedModelRemlCriterion,
} from '../src/metrics/mixed-model.js';

// Reference values from R (scripts/reference/analytics-reference.R, lme4 1.1-31).
interface RFit {
  intercept: number;
  slope: number;
  interceptSE: number;
  slopeSE: number;
  sdIntercept: number;
  sdSlope: number;
  corr: number | null;
  sdResidual: number;
  remlCriterion: number;
  theta: [number, number, number];
  singular: boolean;
}
interface RMixedModel extends RFit {
  file?: string;
  nObs: number;
  nGroups: number;
  lme4Default: RFit & { warnings: string[] };
}
interface Reference {
  instruments: Record<
    'phq9' | 'gad7',
    { patients: { patient_id: string; baselineDay: number }[]; mixedModel: RMixedModel }
  >;
  edgeCases: Record<'lmmTiny' | 'lmmSingular', RMixedModel>;
}

const ref = JSON.parse(
  readFileSync(new URL('./fixtures/reference.json', import.meta.url), 'utf8'),
) as Reference;

function fixture(name: string): string[][] {
  const lines = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');
  return lines.slice(1).map((l) => l.split(','));
}

/** Rows of the cohort on one instrument from the baseline on: x = day − baseline day (baseline from R). */
function cohortRows(instrument: 'phq9' | 'gad7'): MixedModelRow[] {
  const baselineDay = new Map(ref.instruments[instrument].patients.map((p) => [p.patient_id, p.baselineDay]));
  // patient_id,instrument,day,score,first_dose_day
  return fixture('cohort.csv')
    .filter((c) => c[1] === instrument)
    .map((c) => ({ group: c[0]!, x: Number(c[2]) - baselineDay.get(c[0]!)!, y: Number(c[3]) }))
    .filter((r) => r.x >= 0);
}

function smallRows(name: string): MixedModelRow[] {
  return fixture(name).map((c) => ({ group: c[0]!, x: Number(c[1]), y: Number(c[2]) }));
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** Tolerances: fixed effects 1e-4 (relative, or absolute when |R| < 1), SDs/corr/sigma and SEs 1e-3 relative. */
function expectMatchesR(fit: MixedModelFit, r: RMixedModel) {
  expect(fit.nObs).toBe(r.nObs);
  expect(fit.nGroups).toBe(r.nGroups);
  for (const k of ['intercept', 'slope'] as const) {
    expect(Math.abs(fit[k] - r[k]) / Math.max(1, Math.abs(r[k]))).toBeLessThan(1e-4);
  }
  for (const k of ['interceptSE', 'slopeSE', 'sdIntercept', 'sdSlope', 'sdResidual'] as const) {
    expect(rel(fit[k], r[k])).toBeLessThan(1e-3);
  }
  if (r.corr === null) expect(fit.corr).toBeNull();
  else expect(Math.abs(fit.corr! - r.corr)).toBeLessThan(1e-3);
  expect(rel(fit.remlCriterion, r.remlCriterion)).toBeLessThan(1e-4);
  // Never worse than R's optimum: a weaker optimiser or a poor start fails here.
  expect(fit.remlCriterion).toBeLessThanOrEqual(r.remlCriterion + 1e-6);
  expect(fit.singular).toBe(r.singular);
  expect(fit.converged).toBe(true);
}

describe('fitLinearMixedModel: score ~ days + (days | patient) on the synthetic cohort, against lme4', () => {
  for (const instrument of ['phq9', 'gad7'] as const) {
    it(`matches lmer(REML = TRUE) at the optimum for ${instrument}`, () => {
      const r = ref.instruments[instrument].mixedModel;
      const fit = fitLinearMixedModel(cohortRows(instrument));
      expectMatchesR(fit, r);
      for (let i = 0; i < 3; i++) expect(rel(fit.theta[i]!, r.theta[i]!)).toBeLessThan(1e-3);
    });

    it(`computes lme4's REML criterion at lme4's θ exactly for ${instrument}`, () => {
      const r = ref.instruments[instrument].mixedModel;
      const rows = cohortRows(instrument);
      expect(rel(mixedModelRemlCriterion(rows, r.theta), r.remlCriterion)).toBeLessThan(1e-10);
      const d = r.lme4Default;
      expect(rel(mixedModelRemlCriterion(rows, d.theta), d.remlCriterion)).toBeLessThan(1e-10);
    });
  }

  it("gets further than lmer's default optimiser, which stops short with x in days", () => {
    const r = ref.instruments.phq9.mixedModel;
    expect(r.lme4Default.warnings.join(' ')).toMatch(/failed to converge/);
    const fit = fitLinearMixedModel(cohortRows('phq9'));
    expect(fit.remlCriterion).toBeLessThan(r.lme4Default.remlCriterion - 10);
  });

  it('does not depend on row order or on how groups are labelled', () => {
    const rows = cohortRows('gad7');
    const a = fitLinearMixedModel(rows);
    const ids = new Map<string | number, number>();
    const b = fitLinearMixedModel(
      [...rows].reverse().map((r) => {
        if (!ids.has(r.group)) ids.set(r.group, ids.size);
        return { ...r, group: ids.get(r.group)! };
      }),
    );
    expect(rel(b.remlCriterion, a.remlCriterion)).toBeLessThan(1e-12);
    expect(rel(b.slope, a.slope)).toBeLessThan(1e-6);
    expect(rel(b.sdSlope, a.sdSlope)).toBeLessThan(1e-4);
  });
});

describe('fitLinearMixedModel: small data sets, against lme4', () => {
  it('fits a tiny balanced design (6 patients × 4 visits)', () => {
    const r = ref.edgeCases.lmmTiny;
    const fit = fitLinearMixedModel(smallRows(r.file!));
    expectMatchesR(fit, r);
    for (let i = 0; i < 3; i++) expect(rel(fit.theta[i]!, r.theta[i]!)).toBeLessThan(1e-3);
  });

  it('puts θ₃ on the boundary 0 for a singular fit: slopes perfectly correlated with intercepts', () => {
    const r = ref.edgeCases.lmmSingular;
    expect(r.singular).toBe(true);
    expect(r.theta[2]).toBe(0);
    const fit = fitLinearMixedModel(smallRows(r.file!));
    expectMatchesR(fit, r);
    expect(fit.theta[2]).toBe(0);
    expect(fit.singular).toBe(true);
    expect(fit.corr).toBe(1);
  });

  it('reports a null correlation (R: NaN) when both random-effect SDs are 0', () => {
    // No between-patient variation at all: lmer (bobyqa, rhoend 1e-12) gives θ = (0, 2.5e-10, 0),
    // REMLcrit 15.6780215179517, fixef (9.975, −0.095), sigma² 0.11225 and a NaN correlation.
    const noise = [0.3, -0.2, 0.1, -0.4, 0.5, -0.1, 0.2, -0.3, 0.4, 0.1, -0.5, 0.2];
    const rows: MixedModelRow[] = [];
    [0, 1, 2, 3].forEach((g) => {
      [0, 10, 20].forEach((x, xi) => {
        rows.push({ group: g, x, y: 10 - 0.1 * x + noise[g * 3 + xi]! });
      });
    });
    const fit = fitLinearMixedModel(rows);
    expect(fit.remlCriterion).toBeLessThanOrEqual(15.6780215179517 + 1e-6);
    expect(rel(fit.remlCriterion, 15.6780215179517)).toBeLessThan(1e-9);
    expect(fit.intercept).toBeCloseTo(9.975, 9);
    expect(fit.slope).toBeCloseTo(-0.095, 9);
    expect(rel(fit.sdResidual, Math.sqrt(0.11225))).toBeLessThan(1e-6);
    expect(fit.theta[0]).toBe(0);
    expect(fit.sdIntercept).toBe(0);
    expect(fit.sdSlope).toBeLessThan(1e-6);
    expect(fit.corr).toBeNull();
    expect(fit.singular).toBe(true);
  });
});

describe('fitLinearMixedModel: just identifiable', () => {
  it('fits 5 patients with 11 observations (one more than the random effects) as lme4 does', () => {
    // lmer: REMLcrit 33.6053649598085, θ = (4.835266, −0.3767578, 5.024785e-05), a boundary fit.
    const ys = [10, 8, 12, 9, 15, 11, 9, 9, 13, 10];
    const rows: MixedModelRow[] = ys.map((y, i) => ({
      group: Math.floor(i / 2) + 1,
      x: i % 2 === 0 ? 0 : 7,
      y,
    }));
    rows.push({ group: 1, x: 14, y: 7 });
    const fit = fitLinearMixedModel(rows);
    expect(fit.remlCriterion).toBeLessThanOrEqual(33.6053649598085 + 1e-6);
    expect(rel(fit.remlCriterion, 33.6053649598085)).toBeLessThan(1e-8);
    expect(rel(fit.theta[0], 4.835266)).toBeLessThan(1e-4);
    expect(rel(fit.theta[1], -0.3767578)).toBeLessThan(1e-4);
    expect(fit.theta[2]).toBeLessThan(1e-4);
    expect(fit.singular).toBe(true);
  });
});

describe('fitLinearMixedModel: data that cannot identify the model', () => {
  const cases: [string, MixedModelRow[], string][] = [
    [
      'one group',
      [
        { group: 'a', x: 0, y: 1 },
        { group: 'a', x: 1, y: 2 },
        { group: 'a', x: 2, y: 2 },
      ],
      'too-few-groups',
    ],
    ['no rows', [], 'too-few-groups'],
    [
      'x constant',
      [
        { group: 'a', x: 5, y: 1 },
        { group: 'b', x: 5, y: 2 },
        { group: 'c', x: 5, y: 4 },
      ],
      'no-variance-in-x',
    ],
    [
      'two observations',
      [
        { group: 'a', x: 0, y: 1 },
        { group: 'b', x: 1, y: 2 },
      ],
      'too-few-observations',
    ],
    [
      'no more observations than random effects (lme4 refuses too)',
      [0, 1, 2, 3, 4].flatMap((g) => [
        { group: g, x: 0, y: 10 + g },
        { group: g, x: 7, y: 8 + g / 2 },
      ]),
      'too-few-observations',
    ],
    [
      'every group exactly on a line',
      ['a', 'b', 'c'].flatMap((g, gi) => [0, 7, 14].map((x) => ({ group: g, x, y: 10 + gi - 0.5 * x }))),
      'zero-residual-variance',
    ],
    [
      'a non-finite y',
      [
        { group: 'a', x: 0, y: 1 },
        { group: 'b', x: 1, y: Number.NaN },
      ],
      'invalid-row',
    ],
  ];
  it.each(cases)('throws ModelNotEstimableError for %s', (_, rows, reason) => {
    expect(() => fitLinearMixedModel(rows)).toThrow(ModelNotEstimableError);
    try {
      fitLinearMixedModel(rows);
    } catch (e) {
      expect(e).toBeInstanceOf(KapkitError);
      expect((e as ModelNotEstimableError).code).toBe('model-not-estimable');
      expect((e as ModelNotEstimableError).reason).toBe(reason);
    }
  });
});

describe('fitLinearMixedModelColumns: the same model over typed arrays', () => {
  /** The rows as columns, groups numbered in order of first appearance. */
  function columnsOf(rows: readonly MixedModelRow[]) {
    const ids = new Map<string | number, number>();
    const group = Int32Array.from(rows, (r) => {
      if (!ids.has(r.group)) ids.set(r.group, ids.size);
      return ids.get(r.group)!;
    });
    return {
      group,
      x: Float64Array.from(rows, (r) => r.x),
      y: Float64Array.from(rows, (r) => r.y),
      groupCount: ids.size,
    };
  }

  it('gives the fit of the rows to the last bit, and matches lme4', () => {
    for (const instrument of ['phq9', 'gad7'] as const) {
      const rows = cohortRows(instrument);
      const fromColumns = fitLinearMixedModelColumns(columnsOf(rows));
      expect(fromColumns).toEqual(fitLinearMixedModel(rows));
      expectMatchesR(fromColumns, ref.instruments[instrument].mixedModel);
    }
  });

  it('names the column and index of a bad value', () => {
    const rows = cohortRows('gad7');
    const c = columnsOf(rows);
    const bad = (
      change: (x: Float64Array, y: Float64Array, g: Int32Array) => void,
      groupCount = c.groupCount,
    ) => {
      const x = c.x.slice();
      const y = c.y.slice();
      const group = c.group.slice();
      change(x, y, group);
      try {
        fitLinearMixedModelColumns({ group, x, y, groupCount });
      } catch (e) {
        expect(e).toBeInstanceOf(ModelNotEstimableError);
        expect((e as ModelNotEstimableError).reason).toBe('invalid-row');
        return (e as Error).message;
      }
      throw new Error('expected a ModelNotEstimableError');
    };
    expect(bad((x) => (x[7] = Number.POSITIVE_INFINITY))).toBe(
      'Invalid x[7]: expected a finite number, got Infinity.',
    );
    expect(bad((_, y) => (y[3] = Number.NaN))).toBe('Invalid y[3]: expected a finite number, got NaN.');
    expect(bad((_, __, g) => (g[5] = c.groupCount))).toBe(
      `Invalid group[5]: expected an index from 0 to ${c.groupCount - 1}, got ${c.groupCount}.`,
    );
    expect(bad(() => {}, c.groupCount + 1)).toMatch(/^Invalid group: index \d+ has no rows/);
    expect(() =>
      fitLinearMixedModelColumns({ group: c.group, x: c.x.subarray(1), y: c.y, groupCount: c.groupCount }),
    ).toThrow(/same length/);
  });
});
