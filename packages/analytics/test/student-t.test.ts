import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lnBeta, lnGamma, studentTQuantile, studentTUpperTail } from '../src/metrics/student-t.js';
import reference from './fixtures/t-quantile.json' with { type: 'json' };

// Reference quantiles: mpmath at 50 significant digits (scripts/reference/t-quantile.py), an independent
// arbitrary-precision computation of the same quantity as R's qt(p, df).
describe('studentTQuantile agrees with 50-digit references of qt(p, df)', () => {
  const rows = reference.values.map((r) => ({
    p: r.p,
    df: r.df === 'Infinity' ? Number.POSITIVE_INFINITY : Number(r.df),
    qt: r.qt,
  }));

  it('covers heavy and light tails, fractional df and p from 1e-300 to 0.9999', () => {
    expect(rows.length).toBeGreaterThanOrEqual(250);
    expect(rows.some((r) => r.df < 1)).toBe(true);
    expect(rows.some((r) => r.p === 1e-300)).toBe(true);
  });

  it.each(rows)('qt($p, $df) to a relative error of 1e-12', ({ p, df, qt }) => {
    const got = studentTQuantile(p, df);
    expect(Math.abs(got - qt) / Math.abs(qt)).toBeLessThanOrEqual(1e-12);
  });

  it('matches the R 4.2.2 literal qt(0.975, 10) = 2.2281388519862739 to 1e-14', () => {
    expect(Math.abs(studentTQuantile(0.975, 10) - 2.2281388519862739)).toBeLessThan(1e-14);
  });
});

describe('studentTQuantile at the edges', () => {
  it('is 0 at p = 0.5, ±Infinity at p = 0 and 1, and NaN outside the domain', () => {
    expect(studentTQuantile(0.5, 3)).toBe(0);
    expect(studentTQuantile(0, 3)).toBe(Number.NEGATIVE_INFINITY);
    expect(studentTQuantile(1, 3)).toBe(Number.POSITIVE_INFINITY);
    for (const [p, df] of [
      [-0.1, 3],
      [1.1, 3],
      [0.5, 0],
      [0.5, -2],
      [Number.NaN, 3],
      [0.9, Number.NaN],
    ] as const) {
      expect(studentTQuantile(p, df)).toBeNaN();
    }
  });

  it('has the closed forms of df = 1 (Cauchy: tan(π(p − ½))) and df = 2 ((2p − 1)/√(2p(1 − p)))', () => {
    for (const p of [0.01, 0.2, 0.7, 0.95, 0.999]) {
      const cauchy = Math.tan(Math.PI * (p - 0.5));
      expect(Math.abs(studentTQuantile(p, 1) - cauchy) / Math.abs(cauchy)).toBeLessThan(1e-12);
      const two = (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
      expect(Math.abs(studentTQuantile(p, 2) - two) / Math.abs(two)).toBeLessThan(1e-12);
    }
  });

  it('is antisymmetric, increasing in p, and inverts the upper tail', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-8, max: 0.5, noNaN: true }),
        fc.double({ min: 0.2, max: 1e6, noNaN: true }),
        (q, df) => {
          const p = 1 - q; // in [0.5, 1): 1 − p is exact
          const t = studentTQuantile(p, df);
          expect(Math.abs(studentTQuantile(1 - p, df) + t)).toBeLessThanOrEqual(1e-13 * Math.abs(t));
          expect(studentTQuantile(Math.min(p + 1e-9, 1 - 1e-12), df)).toBeGreaterThanOrEqual(t);
          // The tail's continued fraction loses about ν/t² ulps, so the round trip is checked up to ν = 1e4
          // (above 1e5 the quantile uses the Cornish–Fisher expansion, checked against the references).
          if (df > 1e4) return;
          const tail = studentTUpperTail(t, df);
          expect(Math.abs(tail - (1 - p))).toBeLessThanOrEqual(1e-12 * (1 - p));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the gamma and beta functions behind it', () => {
  it('ln Γ at integers and halves equals the factorial and Γ(½) = √π', () => {
    expect(Math.abs(lnGamma(1))).toBeLessThan(1e-14);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 14);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    // ln Γ(101) = ln(100!) = 363.73937555556347 (A&S table 6.1 / mpmath)
    expect(Math.abs(lnGamma(101) - 363.73937555556347)).toBeLessThan(1e-12);
  });

  it('ln B(a, ½) keeps its digits for large a (no cancellation of two large ln Γ)', () => {
    // ln B(5e6, 1/2) = -7.140109267274487 (mpmath, 50 digits)
    expect(Math.abs(lnBeta(5e6, 0.5) - -7.140109267274487)).toBeLessThan(1e-12);
  });
});
