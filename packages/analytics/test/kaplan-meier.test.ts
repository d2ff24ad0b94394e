import { readFileSync } from 'node:fs';
import { KapkitError } from '@kapkit/core';
import { describe, expect, it } from 'vitest';
import { kaplanMeier, normalQuantile } from '../src/metrics/kaplan-meier.js';

// Reference values from R (scripts/reference/analytics-reference.R): NA is null, Inf/NaN are strings.
type RNum = number | string | null;
interface RCurvePoint {
  time: number;
  nRisk: number;
  nEvent: number;
  nCensor: number;
  survival: number;
  stdErr: RNum;
  stdErrSurvival: RNum;
  lower: RNum;
  upper: RNum;
}
interface RKaplanMeier {
  file?: string;
  confLevel: number;
  input: { time: number; event: boolean; patient_id?: string }[];
  n: number;
  events: number;
  curve: RCurvePoint[];
  median: RNum;
  medianLower: RNum;
  medianUpper: RNum;
  printTable: { median: RNum; lower: RNum; upper: RNum };
}
interface Reference {
  meta: { qnorm: { p: number; q: number }[] };
  instruments: Record<'phq9' | 'gad7', { kaplanMeier: RKaplanMeier }>;
  edgeCases: Record<
    'kmTies' | 'kmTiesConf90' | 'kmAllCensored' | 'kmFlatHalf' | 'kmFlatHalfEnd' | 'kmToZero',
    RKaplanMeier
  >;
}

const ref = JSON.parse(
  readFileSync(new URL('./fixtures/reference.json', import.meta.url), 'utf8'),
) as Reference;

/** R value → JS: null stays null (NA), 'Inf' → Infinity, 'NaN' → NaN. */
function fromR(v: RNum): number | null {
  if (v === null || typeof v === 'number') return v;
  if (v === 'Inf') return Number.POSITIVE_INFINITY;
  if (v === '-Inf') return Number.NEGATIVE_INFINITY;
  if (v === 'NaN') return Number.NaN;
  throw new Error(`unexpected value ${v}`);
}

/** Small CSV (header + numeric columns) from the fixtures folder. */
function readCsv(name: string): Record<string, number>[] {
  const [header, ...lines] = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');
  const cols = header!.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(cols.map((c, i) => [c, Number(cells[i])]));
  });
}

const ABS = 1e-9;

function expectMatchesR(r: RKaplanMeier, observations: { time: number; event: boolean }[]) {
  const km = kaplanMeier(observations, { confLevel: r.confLevel });
  expect(km.n).toBe(r.n);
  expect(km.events).toBe(r.events);
  expect(km.curve).toHaveLength(r.curve.length);
  r.curve.forEach((row, i) => {
    const p = km.curve[i]!;
    expect(p.time).toBe(row.time);
    expect(p.nRisk).toBe(row.nRisk);
    expect(p.nEvent).toBe(row.nEvent);
    expect(p.nCensor).toBe(row.nCensor);
    expect(Math.abs(p.survival - row.survival)).toBeLessThanOrEqual(ABS);
    const se = fromR(row.stdErr)!;
    if (Number.isFinite(se)) expect(Math.abs(p.stdErr - se)).toBeLessThanOrEqual(ABS);
    else expect(p.stdErr).toBe(se);
    for (const key of ['lower', 'upper'] as const) {
      const want = fromR(row[key]);
      if (want === null) expect(p[key]).toBeNull();
      else expect(Math.abs(p[key]! - want)).toBeLessThanOrEqual(ABS);
    }
  });
  expect(km.median).toBe(fromR(r.median));
  expect(km.medianLower).toBe(fromR(r.medianLower));
  expect(km.medianUpper).toBe(fromR(r.medianUpper));
  return km;
}

describe('kaplanMeier: time to first response on the synthetic cohort, against survfit', () => {
  for (const instrument of ['phq9', 'gad7'] as const) {
    it(`reproduces survfit's curve, Greenwood SE, log CI and quantile() median for ${instrument}`, () => {
      const r = ref.instruments[instrument].kaplanMeier;
      const km = expectMatchesR(
        r,
        r.input.map(({ time, event }) => ({ time, event })),
      );
      expect(km.median).not.toBeNull();
    });
  }

  it('does not depend on the order of the observations', () => {
    const input = ref.instruments.phq9.kaplanMeier.input.map(({ time, event }) => ({ time, event }));
    const a = kaplanMeier(input);
    const b = kaplanMeier([...input].reverse());
    expect(b).toEqual(a);
  });
});

describe('kaplanMeier: edge cases, against survfit', () => {
  it('counts tied events and a censoring at the same time in one row, censored still at risk', () => {
    const r = ref.edgeCases.kmTies;
    const km = expectMatchesR(
      r,
      readCsv('km-ties.csv').map((d) => ({ time: d.time!, event: d.status === 1 })),
    );
    expect(km.curve[0]).toMatchObject({ time: 7, nRisk: 15, nEvent: 2, nCensor: 1 });
  });

  it('uses the requested confidence level (conf.int = 0.9)', () => {
    const r = ref.edgeCases.kmTiesConf90;
    expectMatchesR(
      r,
      readCsv(r.file!).map((d) => ({ time: d.time!, event: d.status === 1 })),
    );
  });

  it('leaves the median and both of its limits null when nobody has the event', () => {
    const r = ref.edgeCases.kmAllCensored;
    const km = expectMatchesR(
      r,
      readCsv(r.file!).map((d) => ({ time: d.time!, event: d.status === 1 })),
    );
    expect(km.median).toBeNull();
    expect(km.medianLower).toBeNull();
    expect(km.medianUpper).toBeNull();
    for (const p of km.curve) expect([p.survival, p.stdErr, p.lower, p.upper]).toEqual([1, 0, 1, 1]);
  });

  it('takes the midpoint of an interval where S(t) is exactly 0.5, as quantile.survfit does', () => {
    const r = ref.edgeCases.kmFlatHalf;
    const km = expectMatchesR(
      r,
      readCsv(r.file!).map((d) => ({ time: d.time!, event: d.status === 1 })),
    );
    // S = 0.5 on [14, 28): median (14 + 28) / 2
    expect(km.median).toBe(21);
  });

  it('takes the midpoint to the last time when S(t) stays at 0.5 to the end (quantile(), not print())', () => {
    const r = ref.edgeCases.kmFlatHalfEnd;
    const km = expectMatchesR(
      r,
      readCsv(r.file!).map((d) => ({ time: d.time!, event: d.status === 1 })),
    );
    expect(km.median).toBe(30);
    // print(fit) / summary(fit)$table reports 20 here: survmean() has its own rule.
    expect(fromR(r.printTable.median)).toBe(20);
  });

  it('reports an infinite log-scale SE and null limits once S(t) reaches 0, as survfit does', () => {
    const r = ref.edgeCases.kmToZero;
    const km = expectMatchesR(
      r,
      readCsv(r.file!).map((d) => ({ time: d.time!, event: d.status === 1 })),
    );
    const last = km.curve[km.curve.length - 1]!;
    expect(last).toMatchObject({ survival: 0, stdErr: Number.POSITIVE_INFINITY, lower: null, upper: null });
  });

  it('returns an empty curve and no median for no observations', () => {
    const km = kaplanMeier([]);
    expect(km).toMatchObject({
      n: 0,
      events: 0,
      curve: [],
      median: null,
      medianLower: null,
      medianUpper: null,
    });
  });

  it('starts at S = 1 with zero SE when the first time is a censoring', () => {
    const km = kaplanMeier([
      { time: 3, event: false },
      { time: 5, event: true },
      { time: 9, event: true },
    ]);
    expect(km.curve[0]).toEqual({
      time: 3,
      nRisk: 3,
      nEvent: 0,
      nCensor: 1,
      survival: 1,
      stdErr: 0,
      lower: 1,
      upper: 1,
    });
    expect(km.curve[1]!.survival).toBe(0.5);
    expect(km.median).toBe(7); // flat at 0.5 on [5, 9)
  });
});

describe('kaplanMeier: input checks', () => {
  it.each([
    [{ time: -1, event: true }, 'time'],
    [{ time: Number.NaN, event: true }, 'time'],
    [{ time: Number.POSITIVE_INFINITY, event: false }, 'time'],
    [{ time: 3, event: 1 as unknown as boolean }, 'event'],
  ])('rejects %o with a typed error naming the field', (bad, field) => {
    const run = () => kaplanMeier([{ time: 1, event: true }, bad]);
    expect(run).toThrow(KapkitError);
    expect(run).toThrow(`observations[1].${field}`);
    try {
      run();
    } catch (e) {
      expect((e as KapkitError).code).toBe('invalid-survival-data');
    }
  });

  it('rejects a confidence level outside (0, 1)', () => {
    expect(() => kaplanMeier([{ time: 1, event: true }], { confLevel: 95 })).toThrow(/confLevel/);
  });
});

describe('normalQuantile', () => {
  it("matches R's qnorm (AS 241)", () => {
    for (const { p, q } of ref.meta.qnorm) {
      expect(Math.abs(normalQuantile(p) - q)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(q)));
    }
    expect(Math.abs(normalQuantile(0.975) - 1.959963984540054)).toBeLessThanOrEqual(4.5e-16);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(2)).toBeNaN();
  });
});
