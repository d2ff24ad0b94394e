import { normalizeInstrumentId } from '@kapkit/core/read';
import { rowsByPatient } from './metrics/grouping.js';
import type { MixedModelColumns } from './metrics/mixed-model.js';
import type { PatientOutcome, PatientOutcomeOptions } from './metrics/patient.js';
import { outcomeOfSortedDays } from './metrics/patient-sorted.js';
import type { OutcomeRecord } from './records.js';

/**
 * The columnar plumbing of `analyzeOutcomes`: records grouped by instrument, one instrument's rows as
 * typed columns ordered by patient and day, each patient's outcome, and the rows since each baseline.
 */

/** Records by canonical instrument id, in input order (the input itself when there is one instrument). */
export function byInstrumentId(records: readonly OutcomeRecord[]): Map<string, readonly OutcomeRecord[]> {
  const canonical = new Map<string, string>();
  const idOf = (raw: string): string => {
    let id = canonical.get(raw);
    if (id === undefined) {
      id = normalizeInstrumentId(raw);
      canonical.set(raw, id);
    }
    return id;
  };
  const ids: string[] = [];
  const n = records.length;
  let single = true;
  for (let i = 0; i < n; i++) {
    const id = idOf(records[i]!.instrument);
    if (i === 0) ids.push(id);
    else if (id !== ids[0]) {
      single = false;
      break;
    }
  }
  if (single) return new Map(n > 0 ? [[ids[0]!, records]] : []);
  const m = new Map<string, OutcomeRecord[]>();
  for (const r of records) {
    const k = idOf(r.instrument);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** One instrument's rows as columns, with the row indices ordered by patient, day and input order. */
export interface InstrumentColumns {
  /** Patient ids in order of first appearance; a row's patient is its index here. */
  readonly patientIds: readonly string[];
  readonly patient: Int32Array;
  readonly day: Float64Array;
  readonly score: Float64Array;
  /** 1 where the row gives a first dose day (`firstDoseDay`, then in `firstDose`), else 0. */
  readonly hasFirstDose: Uint8Array;
  readonly firstDose: Float64Array;
  /** Row indices by patient, then day, then input order (a stable sort by day within each patient). */
  readonly order: Int32Array;
  /** Patient p's rows are order[start[p]] … order[start[p + 1] − 1]. */
  readonly start: Int32Array;
}

export function instrumentColumns(rows: readonly OutcomeRecord[]): InstrumentColumns {
  const n = rows.length;
  const index = new Map<string, number>();
  const patientIds: string[] = [];
  const patient = new Int32Array(n);
  const day = new Float64Array(n);
  const score = new Float64Array(n);
  const hasFirstDose = new Uint8Array(n);
  const firstDose = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const f = r.firstDoseDay;
    if (f !== undefined && f !== null) {
      hasFirstDose[i] = 1;
      firstDose[i] = f;
    }
    let p = index.get(r.patientId);
    if (p === undefined) {
      p = patientIds.length;
      index.set(r.patientId, p);
      patientIds.push(r.patientId);
    }
    patient[i] = p;
    day[i] = r.day;
    score[i] = r.score;
  }
  // By patient, then by day within each patient.
  const count = patientIds.length;
  const { start, order } = rowsByPatient(patient, count);
  for (let p = 0; p < count; p++) sortByDayWithin(order, start[p]!, start[p + 1]!, day);
  return { patientIds, patient, day, score, hasFirstDose, firstDose, order, start };
}

/** Sorts order[a..b) by day, ties by row index (the order `sortByDay` keeps). */
function sortByDayWithin(order: Int32Array, a: number, b: number, day: Float64Array): void {
  const before = (i: number, j: number) => (day[i]! - day[j]! || i - j) > 0;
  if (b - a > 32) {
    const part = order.subarray(a, b);
    part.set(Array.from(part).sort((i, j) => day[i]! - day[j]! || i - j));
    return;
  }
  for (let k = a + 1; k < b; k++) {
    const v = order[k]!;
    let m = k - 1;
    while (m >= a && before(order[m]!, v)) {
      order[m + 1] = order[m]!;
      m--;
    }
    order[m + 1] = v;
  }
}

/** Each patient's outcome, in order of first appearance (as a map by patient id). */
export function patientOutcomes(
  rows: readonly OutcomeRecord[],
  c: InstrumentColumns,
  o: PatientOutcomeOptions,
): Map<string, PatientOutcome> {
  const n = c.order.length;
  const days = new Float64Array(n);
  const scores = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    days[k] = c.day[c.order[k]!]!;
    scores[k] = c.score[c.order[k]!]!;
  }
  const outcomes = new Map<string, PatientOutcome>();
  for (let p = 0; p < c.patientIds.length; p++) {
    const a = c.start[p]!;
    const b = c.start[p + 1]!;
    let firstDose: number | null = null;
    for (let k = a; k < b; k++) {
      const i = c.order[k]!;
      if (c.hasFirstDose[i]) {
        firstDose = c.firstDose[i]!;
        break;
      }
    }
    const id = c.patientIds[p]!;
    outcomes.set(
      id,
      outcomeOfSortedDays(
        id,
        rows[c.order[a]!]!.instrument,
        days.subarray(a, b),
        scores.subarray(a, b),
        firstDose,
        o,
      ),
    );
  }
  return outcomes;
}

/**
 * The rows on or after each patient's baseline day, in input order, as days since baseline: the data of the
 * trajectory (by patient index) and of the mixed model (groups numbered in order of first appearance).
 */
export function rowsSinceBaseline(
  c: InstrumentColumns,
  outcomes: ReadonlyMap<string, PatientOutcome>,
): { readonly patient: Int32Array; readonly model: MixedModelColumns } {
  const count = c.patientIds.length;
  const baselineDay = new Float64Array(count);
  for (let p = 0; p < count; p++) baselineDay[p] = outcomes.get(c.patientIds[p]!)!.baselineDay;
  const n = c.patient.length;
  let m = 0;
  for (let i = 0; i < n; i++) if (c.day[i]! >= baselineDay[c.patient[i]!]!) m++;
  const patient = new Int32Array(m);
  const group = new Int32Array(m);
  const x = new Float64Array(m);
  const y = new Float64Array(m);
  const groupOf = new Int32Array(count).fill(-1);
  let groups = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const p = c.patient[i]!;
    if (!(c.day[i]! >= baselineDay[p]!)) continue;
    if (groupOf[p]! < 0) groupOf[p] = groups++;
    patient[k] = p;
    group[k] = groupOf[p]!;
    x[k] = c.day[i]! - baselineDay[p]!;
    y[k] = c.score[i]!;
    k++;
  }
  return { patient, model: { group, x, y, groupCount: groups } };
}
