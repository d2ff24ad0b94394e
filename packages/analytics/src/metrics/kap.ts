import type { OutcomeRecord, PatientCourse } from '../records.js';
import type { PatientOutcome } from './patient.js';
import { type MeanInterval, mean, meanInterval } from './stats.js';
import { trajectory } from './trajectory.js';

/** Default bins of days since the last dose: same day, 1–2, 3–6, 7–13, 14–20, 21–27, 28+ days. */
export const DEFAULT_SINCE_DOSE_BINS: readonly number[] = [0, 1, 3, 7, 14, 21, 28];

/** Pearson correlation with its n; null when undefined (n < 3 or no variance). */
export interface Correlation {
  readonly n: number;
  readonly r: number | null;
}

export function pearson(xs: readonly number[], ys: readonly number[]): Correlation {
  const n = xs.length;
  if (n < 3) return { n, r: null };
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return { n, r: sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null };
}

/** KAP-specific views of one instrument's outcomes. */
export interface KapAnalysis {
  /** Change from baseline by days since the last dose (how benefit holds between doses). */
  readonly bySinceLastDose: readonly (MeanInterval & {
    readonly bin: number;
    readonly upperEdge: number | null;
  })[];
  /** Change from baseline by number of doses given so far. */
  readonly byDoseNumber: readonly (MeanInterval & { readonly doseNumber: number })[];
  /** Change from baseline inside vs outside critical periods, and the paired within-patient difference. */
  readonly criticalPeriods: {
    readonly inside: MeanInterval;
    readonly outside: MeanInterval;
    /** Per patient with both: mean change inside − mean change outside. */
    readonly pairedDifference: MeanInterval;
  };
  /** Whether courses with more critical-period coverage and longer chains improve more. */
  readonly coursesVsOutcome: {
    readonly coverageVsImprovement: Correlation;
    readonly longestChainVsImprovement: Correlation;
  };
}

/**
 * Scores by days since the last dose, by dose number, inside vs outside critical periods; and per-patient
 * critical-period coverage and longest overlap chain against improvement. Uses change from each patient's
 * baseline, so differences between patients' levels do not confound the comparison. Observational: these
 * associations are not causal effects of dosing schedules.
 */
export function kapAnalysis(
  records: readonly OutcomeRecord[],
  outcomes: ReadonlyMap<string, PatientOutcome>,
  courses: ReadonlyMap<string, PatientCourse>,
  sinceDoseBins: readonly number[] = DEFAULT_SINCE_DOSE_BINS,
): KapAnalysis {
  const since: { patientId: string; t: number; score: number }[] = [];
  const byDose = new Map<number, Map<string, { sum: number; n: number }>>();
  const inside = new Map<string, { sum: number; n: number }>();
  const outside = new Map<string, { sum: number; n: number }>();
  const add = (m: Map<string, { sum: number; n: number }>, id: string, v: number) => {
    const c = m.get(id);
    if (c) {
      c.sum += v;
      c.n++;
    } else m.set(id, { sum: v, n: 1 });
  };
  for (const r of records) {
    const o = outcomes.get(r.patientId);
    if (!o || r.day <= o.baselineDay) continue;
    const change = r.score - o.baseline;
    if (r.daysSinceLastDose != null)
      since.push({ patientId: r.patientId, t: r.daysSinceLastDose, score: change });
    if (r.doseNumber != null && r.doseNumber > 0) {
      let m = byDose.get(r.doseNumber);
      if (!m) {
        m = new Map();
        byDose.set(r.doseNumber, m);
      }
      add(m, r.patientId, change);
    }
    if (r.inCriticalPeriod === true) add(inside, r.patientId, change);
    else if (r.inCriticalPeriod === false) add(outside, r.patientId, change);
  }
  const means = (m: Map<string, { sum: number; n: number }>) => [...m.values()].map((c) => c.sum / c.n);
  const paired: number[] = [];
  for (const [id, c] of inside) {
    const o = outside.get(id);
    if (o) paired.push(c.sum / c.n - o.sum / o.n);
  }
  const cov: number[] = [];
  const chain: number[] = [];
  const impCov: number[] = [];
  const impChain: number[] = [];
  for (const [id, course] of courses) {
    const imp = outcomes.get(id)?.improvement;
    if (imp == null) continue;
    if (course.coverage !== null) {
      cov.push(course.coverage);
      impCov.push(imp);
    }
    chain.push(course.longestChain);
    impChain.push(imp);
  }
  return {
    bySinceLastDose: trajectory(since, sinceDoseBins),
    byDoseNumber: [...byDose.keys()]
      .sort((a, b) => a - b)
      .map((k) => ({ doseNumber: k, ...meanInterval(means(byDose.get(k)!)) })),
    criticalPeriods: {
      inside: meanInterval(means(inside)),
      outside: meanInterval(means(outside)),
      pairedDifference: meanInterval(paired),
    },
    coursesVsOutcome: {
      coverageVsImprovement: pearson(cov, impCov),
      longestChainVsImprovement: pearson(chain, impChain),
    },
  };
}
