import { describeValue, KapkitError } from '@kapkit/core/read';
import { Z_95 } from './stats.js';

/** One right-censored observation: time from baseline (e.g. days) and whether the event (response) occurred. */
export interface KaplanMeierObservation {
  /** Time from the origin, finite and ≥ 0 (days since baseline in kapkit). */
  readonly time: number;
  /** `true` when the event happened at `time`, `false` when the observation was censored there. */
  readonly event: boolean;
}

export interface KaplanMeierOptions {
  /** Two-sided confidence level of the pointwise interval and of the median's interval; default 0.95. */
  readonly confLevel?: number;
}

/** The estimate at one distinct observed time (event or censoring), as a row of R's `survfit`. */
export interface KaplanMeierPoint {
  readonly time: number;
  /** Number still under observation just before `time` (censored at `time` count as at risk). */
  readonly nRisk: number;
  readonly nEvent: number;
  readonly nCensor: number;
  /** Kaplan–Meier S(t), a step function continuous from the right. */
  readonly survival: number;
  /**
   * Greenwood standard error of log S(t) (= of the cumulative hazard), as `survfit`'s `fit$std.err`;
   * `Infinity` once S(t) = 0. The standard error of S itself is `survival · stdErr`
   * (`summary(fit)$std.err`).
   */
  readonly stdErr: number;
  /** 'log' interval S·exp(−z·se); null when S = 0 (R's NA). */
  readonly lower: number | null;
  /** 'log' interval min(1, S·exp(z·se)); null when S = 0 (R's NA). */
  readonly upper: number | null;
}

export interface KaplanMeierResult {
  /** Number of observations. */
  readonly n: number;
  /** Number of events. */
  readonly events: number;
  readonly confLevel: number;
  /** One row per distinct time, ascending. Before the first time, S = 1. */
  readonly curve: readonly KaplanMeierPoint[];
  /** Median time to event (R's `quantile(fit, 0.5)`); null when not reached. */
  readonly median: number | null;
  /** Lower confidence limit of the median: where the lower pointwise limit reaches 0.5; null if never. */
  readonly medianLower: number | null;
  /** Upper confidence limit of the median: where the upper pointwise limit reaches 0.5; null if never. */
  readonly medianUpper: number | null;
}

/** survival:::quantile.survfit's default tolerance, sqrt(.Machine$double.eps). */
const QUANTILE_TOLERANCE = Math.sqrt(Number.EPSILON);

/**
 * Kaplan–Meier estimate of the survival function (here: the probability of not yet having responded) with
 * Greenwood standard errors, a 'log' pointwise confidence interval and the median with its confidence
 * interval, reproducing R's `survfit(Surv(time, status) ~ 1, conf.type = "log")` and
 * `quantile(fit, 0.5)` (survival 3.5).
 *
 * @example
 * const km = kaplanMeier([
 *   { time: 14, event: true },
 *   { time: 28, event: false },
 *   { time: 28, event: true },
 * ]);
 * km.curve[0]; // { time: 14, nRisk: 3, nEvent: 1, nCensor: 0, survival: 0.666…, … }
 * km.median;   // 28
 * @throws {KapkitError} code `invalid-survival-data` for a time that is not a finite number ≥ 0, an event
 *   that is not a boolean, or a confidence level outside (0, 1).
 */
// Kaplan & Meier 1958, J Am Stat Assoc 53:457 (product-limit estimator)
// Greenwood 1926, Reports on Public Health and Medical Subjects 33 (variance)
// R survival `survfit`, conf.type = "log" (Therneau, survival package 3.5)
export function kaplanMeier(
  observations: readonly KaplanMeierObservation[],
  options: KaplanMeierOptions = {},
): KaplanMeierResult {
  const confLevel = options.confLevel ?? 0.95;
  if (!(typeof confLevel === 'number' && confLevel > 0 && confLevel < 1)) {
    throw new KapkitError(
      'invalid-survival-data',
      `Invalid confLevel: expected a number between 0 and 1 (exclusive), e.g. 0.95, got ${describeValue(confLevel)}.`,
    );
  }
  const n = observations.length;
  const times = new Float64Array(n);
  const order: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const o = observations[i]!;
    const t = o?.time;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
      throw new KapkitError(
        'invalid-survival-data',
        `Invalid observations[${i}].time: expected a finite number ≥ 0 (time since baseline), got ${describeValue(t)}.`,
      );
    }
    if (typeof o.event !== 'boolean') {
      throw new KapkitError(
        'invalid-survival-data',
        `Invalid observations[${i}].event: expected true (event) or false (censored), got ${describeValue(o.event)}.`,
      );
    }
    times[i] = t;
    order[i] = i;
  }
  order.sort((a, b) => times[a]! - times[b]!);

  // R: zval <- qnorm(1 - (1 - conf.int) / 2). R's qnorm(0.975) is used as is for 0.95: AS 241 here can
  // differ from R's in the last bit, since Math.log is not the C library's log.
  const z = confLevel === 0.95 ? Z_95 : normalQuantile(1 - (1 - confLevel) / 2);
  const curve: KaplanMeierPoint[] = [];
  let atRisk = n;
  let survival = 1;
  let cumHazardVar = 0;
  let events = 0;
  for (let k = 0; k < n; ) {
    const time = times[order[k]!]!;
    let nEvent = 0;
    let nCensor = 0;
    while (k < n && times[order[k]!] === time) {
      if (observations[order[k]!]!.event) nEvent++;
      else nCensor++;
      k++;
    }
    if (nEvent > 0) {
      // Kaplan & Meier 1958: S(t) = Π (1 − d_i / n_i)
      survival *= (atRisk - nEvent) / atRisk;
      // Greenwood 1926 on the log scale: Var(log S) = Σ d_i / (n_i (n_i − d_i)); infinite once n_i = d_i
      cumHazardVar += nEvent / (atRisk * (atRisk - nEvent));
    }
    const stdErr = Math.sqrt(cumHazardVar);
    let lower: number | null = null;
    let upper: number | null = null;
    if (survival > 0) {
      // survival:::survfit_confint, conf.type = "log": exp(log(S) ∓ z·se), upper capped at 1
      lower = Math.exp(Math.log(survival) - z * stdErr);
      upper = Math.min(Math.exp(Math.log(survival) + z * stdErr), 1);
    }
    curve.push({ time, nRisk: atRisk, nEvent, nCensor, survival, stdErr, lower, upper });
    events += nEvent;
    atRisk -= nEvent + nCensor;
  }

  const ts = curve.map((p) => p.time);
  return {
    n,
    events,
    confLevel,
    curve,
    median: survivalQuantile(
      ts,
      curve.map((p) => p.survival),
      0.5,
    ),
    medianLower: survivalQuantile(
      ts,
      curve.map((p) => p.lower),
      0.5,
    ),
    medianUpper: survivalQuantile(
      ts,
      curve.map((p) => p.upper),
      0.5,
    ),
  };
}

/**
 * The p-quantile of the time to event from a survival curve (S or one of its confidence limits), with the
 * conventions of survival:::quantile.survfit (its helpers doquant and findq, survival 3.5):
 * the first time at which 1 − S(t) ≥ p; when the curve is flat at exactly 1 − p (within a tolerance of
 * sqrt(machine epsilon)) over an interval, the midpoint of that interval; when it is flat at 1 − p up to the
 * last observed time, the midpoint between where the flat starts and that last time. Curve values that are
 * null (R's NA) are skipped. Null when the curve never reaches 1 − p.
 */
// R survival: quantile.survfit -> doquant -> findq(c(0, time), c(0, 1 - surv), p, tolerance)
function survivalQuantile(
  times: readonly number[],
  curve: readonly (number | null)[],
  p: number,
): number | null {
  if (times.length === 0) return null;
  // x <- c(firstx, time); y <- c(0, 1 - surv): firstx is 0 for survfit without start.time.
  const xAll = [0, ...times];
  const yAll: (number | null)[] = [0, ...curve.map((s) => (s === null ? null : 1 - s))];
  // if (max(y, na.rm = TRUE) < min(p)) return(NA)
  let maxY = Number.NEGATIVE_INFINITY;
  for (const y of yAll) if (y !== null && y > maxY) maxY = y;
  if (maxY < p) return null;
  const xmax = xAll[xAll.length - 1]!;
  // Drop duplicated y values (censoring rows), keeping the first; duplicated() treats NA as equal to NA.
  const x: number[] = [];
  const y: (number | null)[] = [];
  const seen = new Set<number | null>();
  for (let i = 0; i < yAll.length; i++) {
    const v = yAll[i]!;
    if (seen.has(v)) continue;
    seen.add(v);
    x.push(xAll[i]!);
    y.push(v);
  }
  // indx1 <- approx(y + tol, 1:n, p, method = "constant", f = 1)$y; indx2 likewise with y - tol
  const indx1 = approxConstantRight(y, QUANTILE_TOLERANCE, p);
  const indx2 = approxConstantRight(y, -QUANTILE_TOLERANCE, p);
  let quant = indx1 === null || indx2 === null ? null : (x[indx1]! + x[indx2]!) / 2;
  const last = y[y.length - 1]!;
  if (last !== null && Math.abs(p - last) < QUANTILE_TOLERANCE && indx1 !== null) {
    quant = (x[indx1]! + xmax) / 2;
  }
  return quant;
}

/**
 * R's `approx(v + shift, seq_along(v), xout = p, method = "constant", f = 1)$y` as 0-based index: the
 * index of the right-hand knot of the interval holding p, the knot itself when p equals one, null outside
 * the range. NA values (null) are dropped and the knots sorted first, as approx's regularize.values does.
 */
function approxConstantRight(values: readonly (number | null)[], shift: number, p: number): number | null {
  const knots: { v: number; i: number }[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) knots.push({ v: v + shift, i });
  }
  knots.sort((a, b) => a.v - b.v);
  const m = knots.length;
  if (m === 0 || p < knots[0]!.v || p > knots[m - 1]!.v) return null;
  let lo = 0;
  let hi = m - 1;
  // R's approx1(): bisection keeping knots[lo].v <= p <= knots[hi].v
  while (lo < hi - 1) {
    const mid = (lo + hi) >> 1;
    if (p < knots[mid]!.v) hi = mid;
    else lo = mid;
  }
  if (p === knots[hi]!.v) return knots[hi]!.i;
  if (p === knots[lo]!.v) return knots[lo]!.i;
  return knots[hi]!.i;
}

/**
 * Quantile of the standard normal distribution (as R's `qnorm(p)`), by Wichura's algorithm AS 241
 * (PPND16): within a few units in the last place of R (`normalQuantile(0.975)` = 1.9599639845400536,
 * R 1.959963984540054), since Math.log and the C library's log may round differently.
 */
// Wichura 1988, Applied Statistics 37:477 (AS 241), as in R's nmath/qnorm.c; the coefficients are qnorm.c's,
// written as the shortest decimals of the same doubles.
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((r * 2509.0809287301227 + 33430.57558358813) * r + 67265.7709270087) * r + 45921.95393154987) *
          r +
          13731.69376550946) *
          r +
          1971.5909503065513) *
          r +
          133.14166789178438) *
          r +
          3.3871328727963665)) /
      (((((((r * 5226.495278852546 + 28729.085735721943) * r + 39307.89580009271) * r + 21213.794301586597) *
        r +
        5394.196021424751) *
        r +
        687.1870074920579) *
        r +
        42.31333070160091) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((r * 0.0007745450142783414 + 0.022723844989269184) * r + 0.2417807251774506) * r +
        1.2704582524523684) *
        r +
        3.6478483247632045) *
        r +
        5.769497221460691) *
        r +
        4.630337846156546) *
        r +
        1.4234371107496835) /
      (((((((r * 1.0507500716444169e-9 + 0.0005475938084995345) * r + 0.015198666563616457) * r +
        0.14810397642748008) *
        r +
        0.6897673349851) *
        r +
        1.6763848301838038) *
        r +
        2.053191626637759) *
        r +
        1);
  } else {
    r -= 5;
    val =
      (((((((r * 2.0103343992922881e-7 + 0.000027115555687434876) * r + 0.0012426609473880784) * r +
        0.026532189526576124) *
        r +
        0.29656057182850487) *
        r +
        1.7848265399172913) *
        r +
        5.463784911164114) *
        r +
        6.657904643501103) /
      (((((((r * 2.0442631033899397e-15 + 1.421511758316446e-7) * r + 0.000018463183175100548) * r +
        0.0007868691311456133) *
        r +
        0.014875361290850615) *
        r +
        0.1369298809227358) *
        r +
        0.599832206555888) *
        r +
        1);
  }
  return q < 0 ? -val : val;
}
