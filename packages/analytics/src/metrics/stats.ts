import { studentTQuantile } from './student-t.js';

/** Standard normal quantile for a two-sided 95% interval, qnorm(0.975). */
export const Z_95 = 1.959963984540054;

/** Arithmetic mean; NaN for an empty list. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : Number.NaN;
}

/** Sample standard deviation (n − 1 denominator, as R's `sd`); NaN when n < 2. Two-pass for accuracy. */
export function sd(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - m;
    ss += d * d;
  }
  return Math.sqrt(ss / (n - 1));
}

/** Student t quantile (as R's `qt(p, df)`), to a relative error below 1e-12 (see `student-t.ts`). */
export function qt(p: number, df: number): number {
  return studentTQuantile(p, df);
}

/** A mean with its t-based confidence interval (as R's `t.test(x)$conf.int`). */
export interface MeanInterval {
  readonly n: number;
  readonly mean: number | null;
  readonly sd: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
}

/** Mean, SD and t-based CI; bounds are null when n < 2. */
export function meanInterval(xs: ArrayLike<number>, confLevel = 0.95): MeanInterval {
  const n = xs.length;
  if (n === 0) return { n, mean: null, sd: null, lower: null, upper: null };
  const m = mean(xs);
  if (n < 2) return { n, mean: m, sd: null, lower: null, upper: null };
  const s = sd(xs);
  const half = qt(1 - (1 - confLevel) / 2, n - 1) * (s / Math.sqrt(n));
  return { n, mean: m, sd: s, lower: m - half, upper: m + half };
}

/** Null for NaN/±Infinity, for JSON output. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
