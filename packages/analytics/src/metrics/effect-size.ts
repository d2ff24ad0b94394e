import { mean, sd } from './stats.js';

/** Standardised mean change, labelled by its formula. */
export interface EffectSizes {
  readonly n: number;
  /** d_z = mean(diff) / sd(diff). */
  readonly dz: number | null;
  /** d_av = mean(diff) / ((sd1 + sd2) / 2). */
  readonly dav: number | null;
  /** g_av = d_av · J, Hedges' correction J = 1 − 3/(4·df − 1), df = n − 1. */
  readonly gav: number | null;
}

/**
 * Paired effect sizes of improvement (`before − after` for measures where higher is worse, so a positive value
 * means improvement).
 */
// Lakens 2013, Front Psychol 4:863
export function pairedEffectSizes(before: ArrayLike<number>, after: ArrayLike<number>): EffectSizes {
  const n = before.length;
  if (n < 2) return { n, dz: null, dav: null, gav: null };
  const diff = new Float64Array(n);
  for (let i = 0; i < n; i++) diff[i] = before[i]! - after[i]!;
  const md = mean(diff);
  const sdd = sd(diff);
  const avg = (sd(before) + sd(after)) / 2;
  const dz = sdd > 0 ? md / sdd : null;
  const dav = avg > 0 ? md / avg : null;
  const df = n - 1;
  const j = 1 - 3 / (4 * df - 1);
  return { n, dz, dav, gav: dav === null ? null : dav * j };
}
