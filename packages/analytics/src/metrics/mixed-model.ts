import { describeValue, KapkitError } from '@kapkit/core/read';
import { appearanceIndex } from './grouping.js';
import { minimise } from './nelder-mead.js';

/** One observation of a two-level model: the group (patient), the covariate (days since baseline), the outcome. */
export interface MixedModelRow {
  readonly group: string | number;
  readonly x: number;
  readonly y: number;
}

/** REML fit of `y ~ x + (x | group)`, with the quantities lme4 reports. */
export interface MixedModelFit {
  /** Fixed intercept β₀ (mean outcome at x = 0). */
  readonly intercept: number;
  /** Fixed slope β₁ (mean change in y per unit of x). */
  readonly slope: number;
  /** Standard errors of β₀ and β₁: sqrt(diag(vcov)) with vcov = σ² (Xᵀ V⁻¹ X)⁻¹ (as lme4's `vcov`). */
  readonly interceptSE: number;
  readonly slopeSE: number;
  /** Standard deviation of the random intercepts, σ·|θ₁|. */
  readonly sdIntercept: number;
  /** Standard deviation of the random slopes, σ·sqrt(θ₂² + θ₃²). */
  readonly sdSlope: number;
  /** Correlation of random intercept and slope; null when either SD is 0 (R reports NaN). */
  readonly corr: number | null;
  /** Residual standard deviation σ (lme4's `sigma(fit)`). */
  readonly sdResidual: number;
  /** REML criterion, −2 × restricted log-likelihood (lme4's `REMLcrit(fit)`). */
  readonly remlCriterion: number;
  /** Relative covariance factor Λ = [[θ₁, 0], [θ₂, θ₃]] in lme4's order (`getME(fit, "theta")`), θ₁, θ₃ ≥ 0. */
  readonly theta: readonly [number, number, number];
  /**
   * θ₁ or θ₃ is (below 1e-4 from) 0: a random-effect SD or the 2×2 covariance is on the boundary, as
   * lme4's `isSingular(fit)` with its default tolerance.
   */
  readonly singular: boolean;
  readonly nObs: number;
  readonly nGroups: number;
  /** The optimiser stopped on its tolerances in every run, not on the iteration limit. */
  readonly converged: boolean;
  /** Nelder–Mead iterations over all restarts. */
  readonly iterations: number;
  /** REML criterion evaluations. */
  readonly evaluations: number;
}

/** Why a mixed model could not be fitted. */
export type ModelNotEstimableReason =
  | 'invalid-row'
  | 'too-few-groups'
  | 'too-few-observations'
  | 'no-variance-in-x'
  | 'zero-residual-variance';

/** The data cannot identify the model (e.g. one patient only, or x constant). */
export class ModelNotEstimableError extends KapkitError {
  readonly reason: ModelNotEstimableReason;
  constructor(reason: ModelNotEstimableReason, message: string) {
    super('model-not-estimable', message);
    this.name = 'ModelNotEstimableError';
    this.reason = reason;
  }
}

/**
 * Per-group sufficient statistics of the 2×2 problem (Z = X = [1, x]): for group i, at `sums[6i …]`, the sums
 * of 1, x, x², y, xy and y² (interleaved, so one pass of the optimiser reads memory in order).
 */
interface GroupStats {
  readonly count: number;
  readonly sums: Float64Array;
  readonly nObs: number;
}

interface Evaluation {
  readonly criterion: number;
  readonly beta0: number;
  readonly beta1: number;
  /** (Xᵀ V⁻¹ X)⁻¹ σ⁻² entries */
  readonly g00: number;
  readonly g11: number;
  readonly r2: number;
}

const P = 2; // fixed effects: intercept, slope

/**
 * Linear mixed model `y ~ x + (x | group)` (random intercept and slope per group, correlated) by REML, as
 * `lme4::lmer(y ~ x + (x | group), REML = TRUE)`. The REML criterion is profiled over the relative
 * covariance factor θ and minimised by Nelder–Mead with restarts; the boundary θ₁ = 0 or θ₃ = 0 (a singular
 * fit) is checked explicitly.
 *
 * @example
 * const fit = fitLinearMixedModel(rows.map((r) => ({ group: r.patientId, x: r.daysSinceBaseline, y: r.score })));
 * fit.slope;   // mean change in score per day
 * fit.sdSlope; // between-patient SD of that change
 * @throws {ModelNotEstimableError} code `model-not-estimable`: a row with a non-finite x or y, fewer than 2
 *   groups, no more observations than random effects (2 per group, as lme4 refuses), x without variance, or
 *   groups that each lie exactly on a line.
 */
// Laird & Ware 1982, Biometrics 38:963 (model); Bates, Mächler, Bolker & Walker 2015, J Stat Softw 67(1)
// (profiled REML criterion in θ, lme4)
export function fitLinearMixedModel(rows: readonly MixedModelRow[]): MixedModelFit {
  return fitColumns(mixedModelColumns(rows));
}

/**
 * The rows of `y ~ x + (x | group)` as columns: row `i` is (group[i], x[i], y[i]), with dense group indices
 * 0 ≤ group[i] < groupCount. For cohorts of millions of assessments, where one object per row costs more
 * than the fit.
 */
export interface MixedModelColumns {
  readonly group: Int32Array;
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** Number of groups; every index below it should have at least one row. */
  readonly groupCount: number;
}

/**
 * {@link fitLinearMixedModel} over columns (no per-row objects): the same fit, to the last bit, as the rows
 * `{ group, x, y }` with groups numbered in order of first appearance.
 *
 * @example
 * const fit = fitLinearMixedModelColumns({
 *   group: Int32Array.of(0, 0, 0, 1, 1, 1),
 *   x: Float64Array.of(0, 7, 14, 0, 7, 14),
 *   y: Float64Array.of(20, 15, 11, 18, 16, 13),
 *   groupCount: 2,
 * });
 * @throws {ModelNotEstimableError} as {@link fitLinearMixedModel}; `invalid-row` names `group[i]`, `x[i]` or
 *   `y[i]` when a value is out of range or not finite.
 */
export function fitLinearMixedModelColumns(columns: MixedModelColumns): MixedModelFit {
  const { group, x, y, groupCount } = columns;
  const n = group.length;
  if (x.length !== n || y.length !== n) {
    throw new ModelNotEstimableError(
      'invalid-row',
      `Invalid columns: group, x and y must have the same length, got ${n}, ${x.length} and ${y.length}.`,
    );
  }
  if (!Number.isInteger(groupCount) || groupCount < 0) {
    throw new ModelNotEstimableError(
      'invalid-row',
      `Invalid groupCount: expected a non-negative integer, got ${describeValue(groupCount)}.`,
    );
  }
  const seen = new Uint8Array(groupCount);
  for (let i = 0; i < n; i++) {
    const g = group[i]!;
    if (g < 0 || g >= groupCount) {
      throw new ModelNotEstimableError(
        'invalid-row',
        `Invalid group[${i}]: expected an index from 0 to ${groupCount - 1}, got ${g}.`,
      );
    }
    if (!Number.isFinite(x[i]!)) {
      throw new ModelNotEstimableError(
        'invalid-row',
        `Invalid x[${i}]: expected a finite number, got ${x[i]}.`,
      );
    }
    if (!Number.isFinite(y[i]!)) {
      throw new ModelNotEstimableError(
        'invalid-row',
        `Invalid y[${i}]: expected a finite number, got ${y[i]}.`,
      );
    }
    seen[g] = 1;
  }
  const empty = seen.indexOf(0);
  if (empty >= 0) {
    throw new ModelNotEstimableError(
      'invalid-row',
      `Invalid group: index ${empty} has no rows (groupCount is ${groupCount}; number the groups densely).`,
    );
  }
  return fitColumns(columns);
}

function fitColumns(columns: MixedModelColumns): MixedModelFit {
  const raw = groupStatistics(columns, 0, 1);
  const { xScale, yShift } = scaling(columns);
  const stats = groupStatistics(columns, yShift, xScale);
  // As lme4's check.nobs.vs.nRE: with no more observations than random effects (2 per group), the
  // random-effect variances and the residual variance cannot be told apart.
  if (raw.nObs <= 2 * raw.count) {
    throw new ModelNotEstimableError(
      'too-few-observations',
      `A random intercept and slope per group need more observations (${raw.nObs}) than random effects (2 × ${raw.count} groups).`,
    );
  }
  if (exactWithinGroups(stats)) {
    throw new ModelNotEstimableError(
      'zero-residual-variance',
      'Every group lies exactly on its own line: the residual variance is 0 and the REML criterion is unbounded.',
    );
  }
  const f = (u: readonly number[]): number => evaluate(stats, u[0]!, u[1]!, u[2]!)?.criterion ?? Infinity;

  // lme4 starts at θ = (1, 0, 1); in the scaled problem (x / sd(x)) that is a sensible start too.
  let best = minimise(f, [1, 0, 1]);
  let iterations = best.iterations;
  let evaluations = best.evaluations;
  let converged = best.converged;

  // Boundary candidates: θ₁ = 0, θ₃ = 0, or both. Nelder–Mead in the unconstrained u-space only approaches
  // them, so fit each with the coordinate held at 0 and keep it when it is at least as good.
  const candidates: { fix: readonly number[]; start: readonly number[] }[] = [];
  const [u1, u2, u3] = best.x as [number, number, number];
  const small = 1e-3;
  if (Math.abs(u3) < small) candidates.push({ fix: [2], start: [u1, u2, 0] });
  if (Math.abs(u1) < small) candidates.push({ fix: [0], start: [0, u2, u3] });
  if (Math.abs(u1) < small && Math.abs(u3) < small) candidates.push({ fix: [0, 2], start: [0, u2, 0] });
  for (const c of candidates) {
    const free = [0, 1, 2].filter((i) => !c.fix.includes(i));
    const expand = (v: readonly number[]): number[] => {
      const u = [...c.start];
      free.forEach((i, k) => {
        u[i] = v[k]!;
      });
      for (const i of c.fix) u[i] = 0;
      return u;
    };
    const r = minimise(
      (v) => f(expand(v)),
      free.map((i) => c.start[i]!),
    );
    iterations += r.iterations;
    evaluations += r.evaluations;
    if (r.value <= best.value + 1e-9) {
      best = { ...r, x: expand(r.x) };
      converged = r.converged;
    }
  }

  // Back to lme4's canonical θ on the original x scale: Λ Λᵀ is unchanged by flipping the sign of a column
  // of Λ, so θ₁, θ₃ ≥ 0; the slope row of Λ scales by 1 / xScale.
  let [t1, t2, t3] = best.x as [number, number, number];
  if (t1 < 0) {
    t1 = -t1;
    t2 = -t2;
  }
  t3 = Math.abs(t3);
  const theta: [number, number, number] = [t1, t2 / xScale, t3 / xScale];
  const e = evaluate(raw, theta[0], theta[1], theta[2]);
  if (e === null || !(e.r2 > 0)) {
    throw new ModelNotEstimableError(
      'zero-residual-variance',
      'The model fits the data exactly (no residual variance): the REML criterion is unbounded.',
    );
  }
  const sigma2 = e.r2 / (raw.nObs - P);
  const sigma = Math.sqrt(sigma2);
  const sdIntercept = sigma * theta[0];
  const sdSlope = sigma * Math.hypot(theta[1], theta[2]);
  const corrDenominator = theta[0] * Math.hypot(theta[1], theta[2]);
  const corr = corrDenominator > 0 ? (theta[0] * theta[1]) / corrDenominator : null;
  return {
    intercept: e.beta0,
    slope: e.beta1,
    interceptSE: Math.sqrt(sigma2 * e.g00),
    slopeSE: Math.sqrt(sigma2 * e.g11),
    sdIntercept,
    sdSlope,
    corr,
    sdResidual: sigma,
    remlCriterion: e.criterion,
    theta,
    // lme4's isSingular(): a θ with lower bound 0 below 1e-4
    singular: theta[0] < 1e-4 || theta[2] < 1e-4,
    nObs: raw.nObs,
    nGroups: raw.count,
    converged,
    iterations,
    evaluations,
  };
}

/**
 * The profiled REML criterion of `y ~ x + (x | group)` at a given θ (lme4's `devfun(theta)` for an lmer
 * fit with REML = TRUE), e.g. to check a fit against another program's θ.
 *
 * @example
 * mixedModelRemlCriterion(rows, [2.18, -0.0038, 0.013]); // ≈ REMLcrit of the lmer fit with that θ
 * @throws {ModelNotEstimableError} as {@link fitLinearMixedModel}.
 */
// Bates et al. 2015, J Stat Softw 67(1), eq. 42
export function mixedModelRemlCriterion(
  rows: readonly MixedModelRow[],
  theta: readonly [number, number, number],
): number {
  const e = evaluate(groupStatistics(mixedModelColumns(rows), 0, 1), theta[0], theta[1], theta[2]);
  return e === null ? Number.NaN : e.criterion;
}

/** y is fitted exactly (to 1e-10 of its total sum of squares) by a separate least-squares line per group. */
function exactWithinGroups(s: GroupStats): boolean {
  let rss = 0;
  let tss = 0;
  const v = s.sums;
  for (let i = 0, o = 0; i < s.count; i++, o += 6) {
    const n = v[o]!;
    const sx = v[o + 1]!;
    const sy = v[o + 3]!;
    const sxx = v[o + 2]! - (sx * sx) / n;
    const sxy = v[o + 4]! - (sx * sy) / n;
    const syy = v[o + 5]! - (sy * sy) / n;
    rss += sxx > 1e-12 * v[o + 2]! ? syy - (sxy * sxy) / sxx : syy;
    tss += v[o + 5]!;
  }
  return tss === 0 || rss <= 1e-10 * tss;
}

function scaling(c: MixedModelColumns): { xScale: number; yShift: number } {
  const n = c.x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += c.x[i]!;
    my += c.y[i]!;
  }
  mx /= n;
  my /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (c.x[i]! - mx) ** 2;
  // x is only rescaled, never centred (centring would change what the random intercept means); y is centred,
  // which changes β₀ only, to keep the sums of squares small.
  return { xScale: Math.sqrt(ss / n), yShift: my };
}

/** Validates the rows and numbers their groups in order of first appearance. */
function mixedModelColumns(rows: readonly MixedModelRow[]): MixedModelColumns {
  const index = new Map<string | number, number>();
  const n = rows.length;
  const group = new Int32Array(n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r === null || typeof r !== 'object') {
      throw new ModelNotEstimableError(
        'invalid-row',
        `Invalid rows[${i}]: expected { group, x, y }, got ${describeValue(r)}.`,
      );
    }
    if (typeof r.group !== 'string' && typeof r.group !== 'number') {
      throw new ModelNotEstimableError(
        'invalid-row',
        `Invalid rows[${i}].group: expected a string or number, got ${describeValue(r.group)}.`,
      );
    }
    for (const key of ['x', 'y'] as const) {
      if (typeof r[key] !== 'number' || !Number.isFinite(r[key])) {
        throw new ModelNotEstimableError(
          'invalid-row',
          `Invalid rows[${i}].${key}: expected a finite number, got ${describeValue(r[key])}.`,
        );
      }
    }
    group[i] = appearanceIndex(index, r.group);
    x[i] = r.x;
    y[i] = r.y;
  }
  return { group, x, y, groupCount: index.size };
}

/** Sums, per group, 1, x, x², y, xy, y² of x / xScale and y − yShift. */
function groupStatistics(c: MixedModelColumns, yShift: number, xScale: number): GroupStats {
  const { group, groupCount: count } = c;
  const rows = group.length;
  if (count < 2) {
    throw new ModelNotEstimableError(
      'too-few-groups',
      `A random intercept and slope need at least 2 groups (patients), got ${count}.`,
    );
  }
  let xMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rows; i++) {
    const v = c.x[i]!;
    if (v < xMin) xMin = v;
    if (v > xMax) xMax = v;
  }
  if (!(xMax > xMin)) {
    throw new ModelNotEstimableError(
      'no-variance-in-x',
      `x has no variance (every row has x = ${xMin}): the slope is not estimable.`,
    );
  }
  const sums = new Float64Array(6 * count);
  for (let i = 0; i < rows; i++) {
    const o = 6 * group[i]!;
    const x = c.x[i]! / xScale;
    const y = c.y[i]! - yShift;
    sums[o]! += 1;
    sums[o + 1]! += x;
    sums[o + 2]! += x * x;
    sums[o + 3]! += y;
    sums[o + 4]! += x * y;
    sums[o + 5]! += y * y;
  }
  return { count, sums, nObs: rows };
}

/**
 * Profiled REML criterion at Λ = [[l11, 0], [l21, l22]], by per-group 2×2 algebra (Woodbury identity):
 * with A = ZᵢᵀZᵢ, B = AΛ, M = I + ΛᵀAΛ,
 *   XᵢᵀVᵢ⁻¹Xᵢ = A − B M⁻¹ Bᵀ,  XᵢᵀVᵢ⁻¹yᵢ = c − B M⁻¹ Λᵀc,  yᵢᵀVᵢ⁻¹yᵢ = yᵀy − cᵀΛ M⁻¹ Λᵀc   (V in units of σ²),
 * β̂ = G⁻¹h, r² = q − hᵀβ̂, and
 *   −2 ℓ_R = log|G| + Σ log|M| + (n − p)(1 + log(2π r² / (n − p))).
 * The criterion depends on Λ only through ΛΛᵀ, so signs of the columns of Λ do not matter.
 */
// Bates et al. 2015, J Stat Softw 67(1), eqs. 34 and 42; Woodbury 1950
function evaluate(s: GroupStats, l11: number, l21: number, l22: number): Evaluation | null {
  let g00 = 0;
  let g01 = 0;
  let g11 = 0;
  let h0 = 0;
  let h1 = 0;
  let q = 0;
  let logDetL = 0;
  // Σ log|Mᵢ| as the log of running products (|Mᵢ| ≥ 1), one logarithm per many groups instead of one each.
  let detProduct = 1;
  const v = s.sums;
  for (let i = 0, o = 0; i < s.count; i++, o += 6) {
    const a00 = v[o]!;
    const a01 = v[o + 1]!;
    const a11 = v[o + 2]!;
    const c0 = v[o + 3]!;
    const c1 = v[o + 4]!;
    // B = A Λ
    const b00 = a00 * l11 + a01 * l21;
    const b01 = a01 * l22;
    const b10 = a01 * l11 + a11 * l21;
    const b11 = a11 * l22;
    // M = I + Λᵀ B
    const m00 = 1 + l11 * b00 + l21 * b10;
    const m01 = l11 * b01 + l21 * b11;
    const m11 = 1 + l22 * b11;
    const det = m00 * m11 - m01 * m01;
    const product = detProduct * det;
    if (product > 1e100 || !(product >= 1e-100)) {
      logDetL += Math.log(detProduct) + Math.log(det);
      detProduct = 1;
    } else detProduct = product;
    const inv = 1 / det;
    const i00 = m11 * inv;
    const i01 = -m01 * inv;
    const i11 = m00 * inv;
    // B M⁻¹
    const k00 = b00 * i00 + b01 * i01;
    const k01 = b00 * i01 + b01 * i11;
    const k10 = b10 * i00 + b11 * i01;
    const k11 = b10 * i01 + b11 * i11;
    // Λᵀ c
    const e0 = l11 * c0 + l21 * c1;
    const e1 = l22 * c1;
    g00 += a00 - (k00 * b00 + k01 * b01);
    g01 += a01 - (k00 * b10 + k01 * b11);
    g11 += a11 - (k10 * b10 + k11 * b11);
    h0 += c0 - (k00 * e0 + k01 * e1);
    h1 += c1 - (k10 * e0 + k11 * e1);
    q += v[o + 5]! - (e0 * (i00 * e0 + i01 * e1) + e1 * (i01 * e0 + i11 * e1));
  }
  logDetL += Math.log(detProduct);
  const detG = g00 * g11 - g01 * g01;
  if (!(detG > 0)) return null;
  const beta0 = (g11 * h0 - g01 * h1) / detG;
  const beta1 = (g00 * h1 - g01 * h0) / detG;
  const r2 = q - (h0 * beta0 + h1 * beta1);
  const df = s.nObs - P;
  const criterion = Math.log(detG) + logDetL + df * (1 + Math.log((2 * Math.PI * r2) / df));
  if (!Number.isFinite(criterion)) return null;
  return { criterion, beta0, beta1, g00: g11 / detG, g11: g00 / detG, r2 };
}
