/** Least-squares line through (x, y) points. */
export interface OlsFit {
  readonly n: number;
  readonly intercept: number | null;
  readonly slope: number | null;
  /** Standard error of the slope; null when n ≤ 2 (no residual degrees of freedom). */
  readonly slopeSE: number | null;
}

/**
 * Ordinary least squares of y on x (as R's `lm(y ~ x)`): slope and its standard error. Needs at least two
 * distinct x values; otherwise slope is null.
 */
export function ols(xs: ArrayLike<number>, ys: ArrayLike<number>): OlsFit {
  const n = xs.length;
  if (n < 2) return { n, intercept: null, slope: null, slopeSE: null };
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    sxx += dx * dx;
    sxy += dx * (ys[i]! - my);
  }
  if (sxx === 0) return { n, intercept: null, slope: null, slopeSE: null };
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  if (n <= 2) return { n, intercept, slope, slopeSE: null };
  let rss = 0;
  for (let i = 0; i < n; i++) {
    const r = ys[i]! - intercept - slope * xs[i]!;
    rss += r * r;
  }
  return { n, intercept, slope, slopeSE: Math.sqrt(rss / (n - 2) / sxx) };
}
