import { type MeanInterval, meanInterval } from './stats.js';

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
  const sorted = [...edges].sort((a, b) => a - b);
  const perBin = sorted.map(() => new Map<string, { sum: number; n: number }>());
  for (const r of rows) {
    if (r.t < sorted[0]!) continue;
    let k = sorted.length - 1;
    while (k > 0 && r.t < sorted[k]!) k--;
    const m = perBin[k]!;
    const cell = m.get(r.patientId);
    if (cell) {
      cell.sum += r.score;
      cell.n++;
    } else m.set(r.patientId, { sum: r.score, n: 1 });
  }
  return sorted.map((edge, k) => {
    const values = [...perBin[k]!.values()].map((c) => c.sum / c.n);
    return { bin: edge, upperEdge: sorted[k + 1] ?? null, ...meanInterval(values) };
  });
}
