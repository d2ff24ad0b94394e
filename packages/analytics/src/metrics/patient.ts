import type { OutcomeRecord } from '../records.js';
import type { OlsFit } from './ols.js';
import { outcomeOfSortedDays } from './patient-sorted.js';

/** Direction of a measure: for `higher-is-worse` (PHQ-9), improvement = baseline − latest. */
export type Direction = 'higher-is-worse' | 'higher-is-better';

/** Per-patient outcome on one instrument. */
export interface PatientOutcome {
  readonly patientId: string;
  readonly instrument: string;
  readonly assessments: number;
  readonly baselineDay: number;
  readonly baseline: number;
  /** At least one assessment after the baseline day. */
  readonly evaluable: boolean;
  readonly latestDay: number | null;
  readonly latest: number | null;
  /** latest − baseline. */
  readonly change: number | null;
  /** 100 · change / baseline; null when baseline is 0. */
  readonly percentChange: number | null;
  /** Change in the better direction (positive = better). */
  readonly improvement: number | null;
  /** Latest ≤ fraction · baseline (baseline > 0, measures where higher is worse). */
  readonly response: boolean | null;
  /** Days from baseline to the first follow-up meeting the response criterion. */
  readonly firstResponseDay: number | null;
  /** Days from baseline to the latest assessment. */
  readonly followUpDays: number | null;
  readonly remission: boolean | null;
  /** OLS slope of score on day over all the patient's assessments (points per day). */
  readonly trend: OlsFit;
}

export interface PatientOutcomeOptions {
  readonly direction: Direction;
  /** Response fraction of baseline; null when response is not defined for the instrument. */
  readonly responseFraction: number | null;
  readonly remissionBelow: number | null;
  /** Count remission only when baseline ≥ this (e.g. 10, Hull et al. 2022). */
  readonly remissionRequiresBaselineAtLeast?: number | null;
}

/** Sort rows by day, keeping input order for ties (stable). */
export function sortByDay<T extends { readonly day: number }>(rows: readonly T[]): T[] {
  return rows
    .map((r, i) => [r, i] as const)
    .sort((a, b) => a[0].day - b[0].day || a[1] - b[1])
    .map(([r]) => r);
}

/**
 * Baseline, latest, change, response, remission and trend of one patient on one instrument.
 * Baseline = the last assessment on or before the first dose; without dose information (or none before it),
 * the first assessment. Latest = the last assessment after the baseline day.
 */
export function patientOutcome(rowsIn: readonly OutcomeRecord[], o: PatientOutcomeOptions): PatientOutcome {
  const rows = sortByDay(rowsIn);
  const first = rows[0];
  if (!first) throw new RangeError('patientOutcome: no assessments');
  const firstDose =
    rows.find((r) => r.firstDoseDay !== undefined && r.firstDoseDay !== null)?.firstDoseDay ?? null;
  return outcomeOfSortedDays(
    first.patientId,
    first.instrument,
    Float64Array.from(rows, (r) => r.day),
    Float64Array.from(rows, (r) => r.score),
    firstDose,
    o,
  );
}
