import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clinicalCutoffs } from '../src/metrics/clinical-significance.js';
import { pairedEffectSizes } from '../src/metrics/effect-size.js';
import { ols } from '../src/metrics/ols.js';
import { wilson } from '../src/metrics/proportion.js';
import {
  fixedPointChange,
  jacobsonTruax,
  reliableChangePoints,
  sdiff,
} from '../src/metrics/reliable-change.js';
import { meanInterval, qt } from '../src/metrics/stats.js';

// Reference values from R 4.2.2 (printed with options(digits = 17)); the calls are quoted in each test.
describe('statistical primitives agree with R', () => {
  it('Wilson interval equals prop.test(37, 60, correct = FALSE)', () => {
    const w = wilson(37, 60);
    expect(w.lower).toBeCloseTo(0.49017595824099941, 12);
    expect(w.upper).toBeCloseTo(0.72911727625917966, 12);
    expect(w.rate).toBe(37 / 60);
  });

  it('Wilson interval at 0 and n of n stays inside [0, 1] as prop.test does', () => {
    expect(wilson(0, 12).lower).toBeCloseTo(0, 15);
    expect(wilson(0, 12).upper).toBeCloseTo(0.24249400665524079, 12);
    expect(wilson(12, 12).lower).toBeCloseTo(0.75750599334475921, 12);
    expect(wilson(12, 12).upper).toBeCloseTo(1, 12);
    expect(wilson(0, 0)).toEqual({ count: 0, of: 0, rate: null, lower: null, upper: null });
  });

  it('t interval of a mean equals t.test(x)$conf.int', () => {
    const m = meanInterval([-8, -3, -12, 0, -5, -9, 2, -7]);
    expect(m.lower).toBeCloseTo(-9.1903365992568826, 12);
    expect(m.upper).toBeCloseTo(-1.3096634007431176, 12);
    expect(meanInterval([3]).lower).toBeNull();
  });

  it('t quantile equals qt(0.975, 10)', () => {
    expect(qt(0.975, 10)).toBeCloseTo(2.2281388519862739, 13);
  });

  it('OLS slope and its SE equal lm(y ~ x)', () => {
    const f = ols([0, 7, 14, 28, 35], [18, 15, 13, 9, 10]);
    expect(f.slope).toBeCloseTo(-0.24086378737541522, 12);
    expect(f.slopeSE).toBeCloseTo(0.044932454548545608, 12);
  });

  it('OLS needs two distinct days and has no SE with two points', () => {
    expect(ols([3, 3], [1, 2]).slope).toBeNull();
    expect(ols([0, 7], [10, 3]).slope).toBe(-1);
    expect(ols([0, 7], [10, 3]).slopeSE).toBeNull();
  });

  it('paired effect sizes equal the Lakens 2013 formulas computed in R', () => {
    const e = pairedEffectSizes([18, 15, 21, 12, 16, 19], [9, 10, 14, 11, 6, 12]);
    expect(e.dz).toBeCloseTo(2.0253250967617062, 12);
    expect(e.dav).toBeCloseTo(2.1955597638430397, 12);
    expect(e.gav).toBeCloseTo(1.8488924327099281, 12);
  });
});

describe('reliable change (Jacobson & Truax 1991)', () => {
  const p = { sd: 5.6, reliability: 0.89 };

  it('computes Sdiff = √2·s1·√(1 − r) and the points needed', () => {
    expect(sdiff(p)).toBeCloseTo(Math.SQRT2 * 5.6 * Math.sqrt(0.11), 14);
    expect(reliableChangePoints(p)).toBeCloseTo(1.96 * Math.SQRT2 * 5.6 * Math.sqrt(0.11), 14);
  });

  it('classifies a drop larger than the points needed as improvement on a higher-is-worse measure', () => {
    const need = reliableChangePoints(p); // ≈ 5.15
    expect(jacobsonTruax(20, 20 - Math.ceil(need), p).class).toBe('improved');
    expect(jacobsonTruax(20, 20 - Math.floor(need), p).class).toBe('no-reliable-change');
    expect(jacobsonTruax(10, 10 + Math.ceil(need), p).class).toBe('deteriorated');
  });

  it('reverses the direction for higher-is-better measures', () => {
    expect(jacobsonTruax(10, 20, p, 'higher-is-better').class).toBe('improved');
  });

  it('uses fixed points inclusively (PHQ-9: 6 points)', () => {
    expect(fixedPointChange(15, 9, 6)).toBe('improved');
    expect(fixedPointChange(15, 10, 6)).toBe('no-reliable-change');
    expect(fixedPointChange(9, 15, 6)).toBe('deteriorated');
  });
});

describe('clinically significant change cut-offs', () => {
  it('computes a, b and c from the clinical sample and general-population norms', () => {
    const cut = clinicalCutoffs({ mean: 16, sd: 5 }, { mean: 2.91, sd: 3.52 });
    expect(cut.a).toBe(6);
    expect(cut.b).toBeCloseTo(2.91 + 7.04, 12);
    expect(cut.c).toBeCloseTo((3.52 * 16 + 5 * 2.91) / (3.52 + 5), 12);
  });

  it('c lies between the two means', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 5, max: 27, noNaN: true }),
        fc.double({ min: 0.5, max: 8, noNaN: true }),
        fc.double({ min: 0, max: 4, noNaN: true }),
        fc.double({ min: 0.5, max: 8, noNaN: true }),
        (m1, s1, m0, s0) => {
          const { c } = clinicalCutoffs({ mean: m1, sd: s1 }, { mean: m0, sd: s0 });
          expect(c!).toBeGreaterThanOrEqual(Math.min(m0, m1) - 1e-9);
          expect(c!).toBeLessThanOrEqual(Math.max(m0, m1) + 1e-9);
        },
      ),
    );
  });
});
