import { Z_95 } from './stats.js';

/** A count out of a denominator, with its Wilson score interval. */
export interface Proportion {
  readonly count: number;
  readonly of: number;
  /** count / of; null when `of` is 0. */
  readonly rate: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
}

/**
 * Wilson score interval for a binomial proportion, without continuity correction (as R's
 * `prop.test(x, n, correct = FALSE)$conf.int`).
 */
// Wilson 1927, J Am Stat Assoc 22:209; Newcombe 1998, Stat Med 17:857 (method 3)
export function wilson(count: number, of: number, z = Z_95): Proportion {
  if (of === 0) return { count, of, rate: null, lower: null, upper: null };
  const p = count / of;
  const z2 = z * z;
  const centre = p + z2 / (2 * of);
  const half = z * Math.sqrt((p * (1 - p)) / of + z2 / (4 * of * of));
  const denom = 1 + z2 / of;
  return { count, of, rate: p, lower: (centre - half) / denom, upper: (centre + half) / denom };
}
