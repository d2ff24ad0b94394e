/**
 * Columnar path for large cohorts: the per-patient metrics of `patientOutcome` computed over typed arrays,
 * rows in any order, with no per-row objects. Same definitions as the object path (tested to agree).
 */

import { rowsByPatient } from './metrics/grouping.js';
import { outcomeDefinitionOf } from './outcome-defaults.js';

/** One instrument's assessments as columns. Row `i` is (patient[i], day[i], score[i]). */
export interface OutcomeColumns {
  /** Dense patient index, 0 ≤ patient[i] < patientCount. */
  readonly patient: Int32Array;
  readonly day: Float64Array;
  readonly score: Float64Array;
  readonly patientCount: number;
  /** Per patient: day of the first dose, NaN when unknown. */
  readonly firstDoseDay?: Float64Array;
}

/** Per-patient results as columns (NaN where undefined) and cohort aggregates. */
export interface ColumnarOutcomes {
  readonly patientCount: number;
  readonly assessments: Int32Array;
  readonly baselineDay: Float64Array;
  readonly baseline: Float64Array;
  readonly latestDay: Float64Array;
  readonly latest: Float64Array;
  readonly change: Float64Array;
  /** 1 responder, 0 not, -1 undefined (not evaluable or baseline 0). */
  readonly response: Int8Array;
  /** 1 remission, 0 not, -1 undefined. */
  readonly remission: Int8Array;
  readonly firstResponseDay: Float64Array;
  readonly slope: Float64Array;
  readonly slopeSE: Float64Array;
  readonly cohort: {
    readonly patients: number;
    readonly evaluable: number;
    readonly baselineMean: number;
    readonly baselineSd: number;
    readonly latestMean: number;
    readonly latestSd: number;
    readonly changeMean: number;
    readonly changeSd: number;
    readonly responders: number;
    readonly responseDenominator: number;
    readonly remitters: number;
    readonly remissionDenominator: number;
    readonly slopeMean: number;
    readonly slopes: number;
  };
}

export interface ColumnarOptions {
  /**
   * Response when latest ≤ fraction × baseline (higher-is-worse measures). Default: the PHQ-9 definition's
   * (`phq9.outcomes.response`, with its source); null to skip.
   */
  readonly responseFraction?: number | null;
  /** Remission when latest < this; null to skip. Default: the PHQ-9 definition's (`phq9.outcomes.remission`). */
  readonly remissionBelow?: number | null;
}

/** The columnar path's defaults: the PHQ-9's own outcome definitions (sourced in the instrument). */
const PHQ9_OUTCOMES = outcomeDefinitionOf('phq9');

function meanSd(values: Float64Array, mask: Uint8Array): [number, number, number] {
  let n = 0;
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    if (mask[i]) {
      s += values[i]!;
      n++;
    }
  }
  if (n === 0) return [0, Number.NaN, Number.NaN];
  const m = s / n;
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    if (mask[i]) {
      const d = values[i]! - m;
      ss += d * d;
    }
  }
  return [n, m, n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN];
}

/**
 * Per-patient baseline, latest, change, response, remission, first response day and OLS slope, plus cohort
 * aggregates, for one instrument whose higher scores are worse. O(rows + patients); rows need not be sorted.
 */
export function columnarOutcomes(cols: OutcomeColumns, options: ColumnarOptions = {}): ColumnarOutcomes {
  const { patient, day, score, patientCount: P } = cols;
  const fraction =
    options.responseFraction === undefined ? PHQ9_OUTCOMES.responseFraction : options.responseFraction;
  const remissionBelow =
    options.remissionBelow === undefined ? PHQ9_OUTCOMES.remissionBelow : options.remissionBelow;
  const { start, order } = rowsByPatient(patient, P);

  const assessments = new Int32Array(P);
  const baselineDay = new Float64Array(P).fill(Number.NaN);
  const baseline = new Float64Array(P).fill(Number.NaN);
  const latestDay = new Float64Array(P).fill(Number.NaN);
  const latest = new Float64Array(P).fill(Number.NaN);
  const change = new Float64Array(P).fill(Number.NaN);
  const response = new Int8Array(P).fill(-1);
  const remission = new Int8Array(P).fill(-1);
  const firstResponseDay = new Float64Array(P).fill(Number.NaN);
  const slope = new Float64Array(P).fill(Number.NaN);
  const slopeSE = new Float64Array(P).fill(Number.NaN);
  const evaluable = new Uint8Array(P);
  const hasSlope = new Uint8Array(P);
  const firstDose = cols.firstDoseDay;

  for (let p = 0; p < P; p++) {
    const a = start[p]!;
    const b = start[p + 1]!;
    const n = b - a;
    assessments[p] = n;
    if (n === 0) continue;
    const fd = firstDose ? firstDose[p]! : Number.NaN;
    // First row (min day, earliest in input order), last row on or before the first dose, last row overall.
    let firstI = -1;
    let preI = -1;
    let lastI = -1;
    let sx = 0;
    let sy = 0;
    for (let k = a; k < b; k++) {
      const i = order[k]!;
      const d = day[i]!;
      if (firstI < 0 || d < day[firstI]!) firstI = i;
      if (d <= fd && (preI < 0 || d >= day[preI]!)) preI = i;
      if (lastI < 0 || d >= day[lastI]!) lastI = i;
      sx += d;
      sy += score[i]!;
    }
    const baseI = preI >= 0 ? preI : firstI;
    const bDay = day[baseI]!;
    const bScore = score[baseI]!;
    baselineDay[p] = bDay;
    baseline[p] = bScore;
    // OLS slope over all rows (centred sums, as the object path).
    const mx = sx / n;
    const my = sy / n;
    let sxx = 0;
    let sxy = 0;
    let minFollow = Number.POSITIVE_INFINITY;
    // No response definition: no score meets the threshold.
    const threshold = fraction === null ? Number.NEGATIVE_INFINITY : fraction * bScore;
    for (let k = a; k < b; k++) {
      const i = order[k]!;
      const dx = day[i]! - mx;
      sxx += dx * dx;
      sxy += dx * (score[i]! - my);
      if (day[i]! > bDay && bScore > 0 && score[i]! <= threshold && day[i]! < minFollow) minFollow = day[i]!;
    }
    if (n >= 2 && sxx > 0) {
      const s = sxy / sxx;
      slope[p] = s;
      hasSlope[p] = 1;
      if (n > 2) {
        const intercept = my - s * mx;
        let rss = 0;
        for (let k = a; k < b; k++) {
          const i = order[k]!;
          const r = score[i]! - intercept - s * day[i]!;
          rss += r * r;
        }
        slopeSE[p] = Math.sqrt(rss / (n - 2) / sxx);
      }
    }
    const lDay = day[lastI]!;
    if (lDay > bDay) {
      evaluable[p] = 1;
      const l = score[lastI]!;
      latestDay[p] = lDay;
      latest[p] = l;
      change[p] = l - bScore;
      if (fraction !== null && bScore > 0) response[p] = l <= threshold ? 1 : 0;
      if (remissionBelow !== null) remission[p] = l < remissionBelow ? 1 : 0;
      if (minFollow !== Number.POSITIVE_INFINITY) firstResponseDay[p] = minFollow - bDay;
    }
  }
  const [ev, bMean, bSd] = meanSd(baseline, evaluable);
  const [, lMean, lSd] = meanSd(latest, evaluable);
  const [, cMean, cSd] = meanSd(change, evaluable);
  const [nSlopes, sMean] = meanSd(slope, hasSlope);
  let responders = 0;
  let responseDenominator = 0;
  let remitters = 0;
  let remissionDenominator = 0;
  let patients = 0;
  for (let p = 0; p < P; p++) {
    if (assessments[p]! > 0) patients++;
    if (response[p]! >= 0) {
      responseDenominator++;
      responders += response[p]!;
    }
    if (remission[p]! >= 0) {
      remissionDenominator++;
      remitters += remission[p]!;
    }
  }
  return {
    patientCount: P,
    assessments,
    baselineDay,
    baseline,
    latestDay,
    latest,
    change,
    response,
    remission,
    firstResponseDay,
    slope,
    slopeSE,
    cohort: {
      patients,
      evaluable: ev,
      baselineMean: bMean,
      baselineSd: bSd,
      latestMean: lMean,
      latestSd: lSd,
      changeMean: cMean,
      changeSd: cSd,
      responders,
      responseDenominator,
      remitters,
      remissionDenominator,
      slopeMean: sMean,
      slopes: nSlopes,
    },
  };
}

/**
 * Build columns from records: assigns dense patient indices in order of first appearance.
 */
export function toColumns(
  records: readonly {
    readonly patientId: string;
    readonly day: number;
    readonly score: number;
    readonly firstDoseDay?: number | null;
  }[],
): OutcomeColumns & { readonly patientIds: string[] } {
  const index = new Map<string, number>();
  const patientIds: string[] = [];
  const n = records.length;
  const patient = new Int32Array(n);
  const day = new Float64Array(n);
  const score = new Float64Array(n);
  const firstDoseList: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    let p = index.get(r.patientId);
    if (p === undefined) {
      p = patientIds.length;
      index.set(r.patientId, p);
      patientIds.push(r.patientId);
      firstDoseList.push(Number.NaN);
    }
    if (r.firstDoseDay !== undefined && r.firstDoseDay !== null && Number.isNaN(firstDoseList[p]!)) {
      firstDoseList[p] = r.firstDoseDay;
    }
    patient[i] = p;
    day[i] = r.day;
    score[i] = r.score;
  }
  return {
    patient,
    day,
    score,
    patientCount: patientIds.length,
    firstDoseDay: Float64Array.from(firstDoseList),
    patientIds,
  };
}
