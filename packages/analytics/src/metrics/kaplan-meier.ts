import { describeValue, KapkitError } from '@kapkit/core/read';
import { normalQuantile } from './normal-quantile.js';
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

/** Re-exported here, where it has been public since the first release: the normal quantile of the log-log and log intervals. */
export { normalQuantile } from './normal-quantile.js';
