/**
 * Student t distribution: upper tail, density and quantile, in double precision, without dependencies.
 *
 * The tail is a regularized incomplete beta function, P(T > t) = I_x(ν/2, 1/2) / 2 with x = ν/(ν + t²)
 * (Abramowitz & Stegun 1964, 26.7.1 and 26.5.27), evaluated by its continued fraction (A&S 26.5.8) with the
 * modified Lentz method (Press et al., Numerical Recipes 3rd ed., §6.4). The quantile inverts it by Newton's
 * method from below, which converges monotonically because the tail is convex and the central probability
 * concave in t > 0. For ν ≥ 1e4 (where the continued fraction cancels) the quantile is the Cornish–Fisher
 * expansion instead. Checked against 50-digit references (test/fixtures/t-quantile.json) to 1e-12.
 */

import { normalQuantileUpper } from './normal-quantile.js';

const LN_SQRT_2PI = 0.9189385332046728; // ln √(2π)
const STIRLING_MIN = 15;
// Stirling series for ln Γ: B_2k / (2k (2k − 1)), k = 1..8 (A&S 6.1.40)
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400];

/** ln Γ(z) − [(z − ½) ln z − z + ln √(2π)] for z ≥ 15 (A&S 6.1.40; the next term is below 1e-19). */
function stirlingCorrection(z: number): number {
  const z2 = 1 / (z * z);
  let sum = 0;
  for (let k = STIRLING.length - 1; k >= 0; k--) sum = sum * z2 + STIRLING[k]!;
  return sum / z;
}

/** ln Γ(z) for z > 0: the Stirling series after shifting z to at least 15 with Γ(z + 1) = z Γ(z). */
export function lnGamma(z: number): number {
  let shift = 0;
  let product = 1;
  while (z < STIRLING_MIN) {
    product *= z;
    z += 1;
    shift++;
  }
  const stirling = (z - 0.5) * Math.log(z) - z + LN_SQRT_2PI + stirlingCorrection(z);
  return shift === 0 ? stirling : stirling - Math.log(product);
}

/**
 * ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). When the larger argument is large, ln Γ(big) − ln Γ(big + small)
 * is taken from the Stirling series in one piece (no cancellation of two large logarithms).
 */
export function lnBeta(a: number, b: number): number {
  const big = Math.max(a, b);
  const small = Math.min(a, b);
  if (big < STIRLING_MIN) return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
  const ratio =
    -(big - 0.5) * Math.log1p(small / big) -
    small * Math.log(big + small) +
    small +
    stirlingCorrection(big) -
    stirlingCorrection(big + small);
  return lnGamma(small) + ratio;
}

const TINY = 1e-300;
const CF_EPS = 1e-16;
const CF_MAX = 100_000;

/** Continued fraction of I_x(a, b) (A&S 26.5.8), modified Lentz; converges fast for x < (a + 1)/(a + b + 2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= CF_MAX; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < CF_EPS) return h;
  }
  return h;
}

/**
 * The regularized incomplete beta function I_x(a, b) and its complement 1 − I_x(a, b), each computed
 * directly where it is the smaller, given x and y = 1 − x (passed separately so that neither loses digits),
 * and ln x, ln y. `lnLower` is ln I_x(a, b), kept in logarithms so that tails below 1e-308 do not underflow.
 */
function incompleteBetaPair(
  a: number,
  b: number,
  x: number,
  y: number,
  lnX: number,
  lnY: number,
): { lower: number; upper: number; lnLower: number } {
  const lnFront = a * lnX + b * lnY - lnBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) {
    const lnLower = lnFront + Math.log(betaContinuedFraction(a, b, x)) - Math.log(a);
    const lower = Math.exp(lnLower);
    return { lower, upper: 1 - lower, lnLower };
  }
  const upper = (Math.exp(lnFront) * betaContinuedFraction(b, a, y)) / b;
  return { lower: 1 - upper, upper, lnLower: Math.log1p(-upper) };
}

/** P(T > t) and P(|T| < t) for t > 0, with the logarithms of the tail and of the density at t. */
function studentTAt(
  t: number,
  df: number,
): { tail: number; lnTail: number; central: number; lnDensity: number } {
  const lnS = 2 * Math.log(t) - Math.log(df); // s = t²/ν, in logarithms: t² overflows beyond 1.3e154
  const s = Math.exp(lnS);
  const ln1pS = lnS > 36 ? lnS + Math.log1p(Math.exp(-lnS)) : Math.log1p(s); // ln(1 + s)
  const lnX = -ln1pS; // x = ν/(ν + t²)
  const lnY = lnS - ln1pS; // y = t²/(ν + t²)
  const x = Math.exp(lnX);
  const y = lnS > 36 ? -Math.expm1(lnX) : s / (1 + s);
  const { lower, upper, lnLower } = incompleteBetaPair(df / 2, 0.5, x, y, lnX, lnY);
  // f(t) = (1 + t²/ν)^(−(ν+1)/2) / (√ν B(1/2, ν/2)) (A&S 26.7.1)
  const lnDensity = -((df + 1) / 2) * ln1pS - 0.5 * Math.log(df) - lnBeta(0.5, df / 2);
  return { tail: lower / 2, lnTail: lnLower - Math.LN2, central: upper, lnDensity };
}

/**
 * Upper tail P(T > t) of Student's t with `df` degrees of freedom, for finite df > 0 (R's
 * `pt(t, df, lower.tail = FALSE)`). Its relative error grows as about ν/t² ulps (the continued fraction
 * cancels when ν is large and t moderate): below 1e-12 for ν ≤ 1e4.
 */
export function studentTUpperTail(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0) || !Number.isFinite(df)) return Number.NaN;
  if (t === 0) return 0.5;
  if (t === Number.POSITIVE_INFINITY) return 0;
  if (t === Number.NEGATIVE_INFINITY) return 1;
  const at = studentTAt(Math.abs(t), df);
  return t > 0 ? at.tail : 1 - at.tail;
}

/**
 * The p-quantile of Student's t distribution with `df` degrees of freedom (R's `qt(p, df)`), for any
 * df > 0 (not only whole numbers) and p in [0, 1]; NaN outside them, ±Infinity at p = 0 and 1.
 *
 * @example
 * studentTQuantile(0.975, 10); // 2.2281388519862735, the multiplier of a 95% t interval with n = 11
 */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || Number.isNaN(df) || p < 0 || p > 1 || !(df > 0)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  const upper = p > 0.5;
  const tailP = upper ? 1 - p : p; // exact for p in [0.5, 1] (Sterbenz)
  if (df === Number.POSITIVE_INFINITY) {
    const z = normalQuantileUpper(tailP);
    return upper ? z : -z;
  }
  const t =
    df >= 1e4 && tailP >= 1e-20
      ? cornishFisher(tailP, df)
      : tailP > 0.25
        ? solveCentral(1 - 2 * tailP, df)
        : solveTail(tailP, df);
  return upper ? t : -t;
}

const MAX_NEWTON = 2000;

/** t > 0 with P(|T| < t) = c, for c ≤ 0.5: Newton from t = 0 on a concave increasing function. */
function solveCentral(c: number, df: number): number {
  let t = 0;
  let density = Math.exp(-0.5 * Math.log(df) - lnBeta(0.5, df / 2)); // f(0)
  let central = 0;
  for (let i = 0; i < MAX_NEWTON; i++) {
    const step = (c - central) / (2 * density);
    if (!(step > 0)) break;
    const next = t + step;
    if (next === t) break;
    t = next;
    if (step <= t * 2e-16) break;
    const at = studentTAt(t, df);
    central = at.central;
    density = Math.exp(at.lnDensity);
  }
  return t;
}

/** t > 0 with P(T > t) = q, for q ≤ 0.25: Newton from below on a convex decreasing function, in logarithms. */
function solveTail(q: number, df: number): number {
  const lnQ = Math.log(q);
  // Start below the root: a first guess, halved until its tail is at least q.
  let t = Math.max(normalQuantileUpper(q), 1);
  let at = studentTAt(t, df);
  while (at.lnTail < lnQ) {
    t *= 0.5;
    at = studentTAt(t, df);
  }
  for (let i = 0; i < MAX_NEWTON; i++) {
    // (tail − q) / density, without forming either when they are below the double range
    const step = -Math.exp(at.lnTail - at.lnDensity) * Math.expm1(lnQ - at.lnTail);
    if (!(step > 0) || !Number.isFinite(step)) break;
    const next = t + step;
    if (next === t) break;
    t = next;
    if (step <= t * 2e-16) break;
    at = studentTAt(t, df);
  }
  return t;
}

/**
 * For df ≥ 1e4 and tails down to 1e-20, the Cornish–Fisher expansion of t in 1/ν from the normal quantile z
 * (A&S 26.7.5, terms to ν⁻⁴; the first omitted term is below 1e-17 there). The continued fraction loses
 * digits to cancellation when ν is that large and t moderate.
 */
function cornishFisher(q: number, df: number): number {
  const z = normalQuantileUpper(q);
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96;
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384;
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160;
  return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
}
