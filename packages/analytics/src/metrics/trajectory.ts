import { appearanceIndex } from './grouping.js';
import type { MeanInterval } from './stats.js';
import { trajectoryOfColumns } from './trajectory-columns.js';

/** One bin of a cohort trajectory. */
export interface TrajectoryBin extends MeanInterval {
  /** Lower edge of the bin (inclusive); the bin runs to the next edge (exclusive), the last one to +∞. */
  readonly bin: number;
  readonly upperEdge: number | null;
}

/** Default bins of days since baseline: 0, 2, 4, 6, 8, 12, 16 and 24 weeks. */
export const DEFAULT_DAY_BINS: readonly number[] = [0, 14, 28, 42, 56, 84, 112, 168];

/**
 * Mean score by time bin with t-based 95% CIs. Each patient contributes one value per bin: the mean of their
 * scores in it, so frequent assessors do not weigh more. Observed-case means are biased under dropout (the
 * patients still assessed late are not a random subset): report with the mixed model alongside.
 */
export function trajectory(
  rows: readonly { readonly patientId: string; readonly t: number; readonly score: number }[],
  edges: readonly number[] = DEFAULT_DAY_BINS,
): TrajectoryBin[] {
  const index = new Map<string, number>();
  const n = rows.length;
  const patient = new Int32Array(n);
  const t = new Float64Array(n);
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    patient[i] = appearanceIndex(index, r.patientId);
    t[i] = r.t;
    score[i] = r.score;
  }
  return trajectoryOfColumns(patient, t, score, index.size, edges);
}
