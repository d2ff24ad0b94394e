import { kaplanMeier, trajectory } from '@kapkit/analytics';
import { phq9 } from '@kapkit/core/instruments';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { describe, expect, it } from 'vitest';
import { type CohortDataset, kaplanMeierChartConfig, trajectoryChartConfig } from '../src/index.js';

const byRole = (datasets: unknown[], role: CohortDataset['kapkitRole']) =>
  (datasets as CohortDataset[]).find((d) => d.kapkitRole === role)!;

describe('trajectoryChartConfig', () => {
  // Patient a twice in bin 0 (mean 19), b and c once; only a in bin 14–28; nobody in 28–42.
  const rows = [
    { patientId: 'a', t: 0, score: 20 },
    { patientId: 'a', t: 5, score: 18 },
    { patientId: 'b', t: 1, score: 16 },
    { patientId: 'c', t: 2, score: 12 },
    { patientId: 'a', t: 20, score: 11 },
    { patientId: 'b', t: 50, score: 8 },
    { patientId: 'c', t: 45, score: 6 },
  ];
  const bins = trajectory(rows, [0, 14, 28, 42]);
  const config = trajectoryChartConfig(bins, { instrument: phq9 });

  it('plots the cohort mean by bin', () => {
    expect(config.data.labels).toEqual([
      ['0–14 d', 'n = 3'],
      ['14–28 d', 'n = 1'],
      ['28–42 d', 'n = 0'],
      ['42+ d', 'n = 2'],
    ]);
    const mean = byRole(config.data.datasets, 'mean');
    expect(mean.data.map((p) => [p.x, p.y])).toEqual([
      [0, (19 + 16 + 12) / 3],
      [1, 11],
      [3, 7],
    ]);
    expect(config.options?.scales?.y).toMatchObject({ min: 0, max: 27 });
  });

  it('fills the confidence band between the lower and upper bounds, where n ≥ 2', () => {
    const lower = byRole(config.data.datasets, 'ci-lower');
    const upper = byRole(config.data.datasets, 'ci-upper');
    const li = config.data.datasets.indexOf(lower as never);
    expect(config.data.datasets.indexOf(upper as never)).toBe(li + 1);
    expect(upper.fill).toBe('-1'); // fill down to the dataset before it: the lower bound
    expect(lower.fill).toBe(false);
    expect(lower.data.map((p) => p.x)).toEqual([0, 3]);
    expect(lower.data.map((p) => p.y)).toEqual([bins[0]!.lower, bins[3]!.lower]);
    expect(upper.data.map((p) => p.y)).toEqual([bins[0]!.upper, bins[3]!.upper]);
    expect((byRole(config.data.datasets, 'mean').data[1] as { description: string }).description).toContain(
      'no interval: fewer than 2 patients',
    );
    expect(String(config.options?.plugins?.subtitle?.text)).toContain('Observed-case means');
  });
});

describe('kaplanMeierChartConfig', () => {
  const km = kaplanMeier([
    { time: 14, event: true },
    { time: 14, event: false },
    { time: 28, event: true },
    { time: 35, event: false },
    { time: 42, event: true },
    { time: 56, event: false },
  ]);
  const config = kaplanMeierChartConfig(km);

  it('draws S(t) as steps from (0, 1) through every curve time', () => {
    const s = byRole(config.data.datasets, 'survival');
    expect(s.stepped).toBe('before'); // hold the previous value until the next time, then drop
    expect(s.data.map((p) => [p.x, p.y])).toEqual([[0, 1], ...km.curve.map((r) => [r.time, r.survival])]);
    expect(s.data[1]!.y).toBeCloseTo(5 / 6, 12);
    expect(s.data[2]!.y).toBeCloseTo((5 / 6) * (3 / 4), 12); // 4 at risk at day 28
    expect(config.options?.scales?.x).toMatchObject({ type: 'linear', min: 0, max: 56 });
    expect(config.options?.scales?.y).toMatchObject({ min: 0, max: 1 });
  });

  it('shades the log confidence band and marks censoring times', () => {
    const lower = byRole(config.data.datasets, 'ci-lower');
    const upper = byRole(config.data.datasets, 'ci-upper');
    expect(upper.fill).toBe('-1');
    expect(lower.stepped).toBe('before');
    expect(lower.data.slice(1).map((p) => p.y)).toEqual(km.curve.map((r) => r.lower));
    expect(upper.data.slice(1).map((p) => p.y)).toEqual(km.curve.map((r) => r.upper));
    const censored = byRole(config.data.datasets, 'censored');
    expect(censored.pointStyle).toBe('cross');
    expect(censored.showLine).toBe(false);
    expect(censored.data.map((p) => p.x)).toEqual([14, 35, 56]);
    expect(censored.data.map((p) => p.y)).toEqual(
      [14, 35, 56].map((t) => km.curve.find((r) => r.time === t)!.survival),
    );
  });

  it('marks S = 0.5 and the median when reached, and accepts a bare curve', () => {
    const a = config.options!.plugins!.annotation!.annotations as Record<
      string,
      Extract<AnnotationOptions, { type: 'line' }>
    >;
    expect(a.half).toMatchObject({ yMin: 0.5, yMax: 0.5 });
    expect(km.median).toBe(42);
    expect(a.median).toMatchObject({ xMin: 42, xMax: 42 });
    const bare = kaplanMeierChartConfig(km.curve);
    expect(
      (bare.options!.plugins!.annotation!.annotations as Record<string, unknown>).median,
    ).toBeUndefined();
    expect(byRole(bare.data.datasets, 'survival').data).toEqual(
      byRole(config.data.datasets, 'survival').data,
    );
  });

  it('leaves the band open where S reaches 0 (no interval)', () => {
    const all = kaplanMeier([
      { time: 7, event: true },
      { time: 14, event: true },
    ]);
    const c = kaplanMeierChartConfig(all);
    expect(byRole(c.data.datasets, 'ci-lower').data.at(-1)!.y).toBeNull();
    expect(byRole(c.data.datasets, 'survival').data.at(-1)!.y).toBe(0);
  });
});
