import { createInstrumentRegistry, type InstrumentRegistry, normalizeInstrumentId } from '@kapkit/core/read';
import { clinicalCutoffs } from './metrics/clinical-significance.js';
import { type EffectSizes, pairedEffectSizes } from './metrics/effect-size.js';
import { DEFAULT_SINCE_DOSE_BINS, type KapAnalysis, kapAnalysis } from './metrics/kap.js';
import { kaplanMeier } from './metrics/kaplan-meier.js';
import { byMedicationClass, type MedicationClassAnalysis } from './metrics/medication.js';
import { fitLinearMixedModelColumns, type MixedModelColumns } from './metrics/mixed-model.js';
import type { Direction, PatientOutcome, PatientOutcomeOptions } from './metrics/patient.js';
import { outcomeOfSortedDays } from './metrics/patient-sorted.js';
import { type Proportion, wilson } from './metrics/proportion.js';
import { fixedPointChange, jacobsonTruax, reliableChangePoints, sdiff } from './metrics/reliable-change.js';
import { finiteOrNull, type MeanInterval, mean, meanInterval, sd } from './metrics/stats.js';
import { DEFAULT_DAY_BINS, type TrajectoryBin } from './metrics/trajectory.js';
import { trajectoryOfColumns } from './metrics/trajectory-columns.js';
import { notDefinedText, outcomeDefinitionOf } from './outcome-defaults.js';
import type { OutcomeRecord, PatientCourse } from './records.js';

/** Options of {@link analyzeOutcomes}. */
export interface AnalyzeOptions {
  /** Instruments to analyse (ids, case-insensitive); default: every instrument present. */
  readonly instruments?: readonly string[];
  /** Reliability r for Jacobson–Truax, per instrument (default: the instrument definition's). */
  readonly rciReliability?: Readonly<Record<string, number>>;
  /** SD of baseline scores for Jacobson–Truax: `'sample'` (default) or a published value per instrument. */
  readonly rciSd?: 'sample' | Readonly<Record<string, number>>;
  /** Edges of the trajectory bins, in days since baseline. */
  readonly bins?: readonly number[];
  /** Edges of the days-since-last-dose bins. */
  readonly sinceDoseBins?: readonly number[];
  /** Critical-period facts per patient (from an event log), for the KAP-specific analysis. */
  readonly courses?: ReadonlyMap<string, PatientCourse>;
  /** Count remission only when baseline ≥ this (e.g. 10 as in Hull et al. 2022). */
  readonly remissionRequiresBaselineAtLeast?: number | null;
  /** Fit the linear mixed model (default true). */
  readonly mixedModel?: boolean;
  /** Include the per-patient rows in the report. */
  readonly includePatients?: boolean;
  readonly registry?: InstrumentRegistry;
}

export interface KaplanMeierSummary {
  readonly n: number;
  readonly events: number;
  readonly median: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  readonly curve: readonly {
    readonly time: number;
    readonly nRisk: number;
    readonly nEvent: number;
    readonly nCensor: number;
    readonly survival: number;
    readonly lower: number | null;
    readonly upper: number | null;
  }[];
}

export interface MixedModelSummary {
  readonly intercept: number;
  readonly slope: number;
  readonly interceptSE: number;
  readonly slopeSE: number;
  readonly sdIntercept: number;
  readonly sdSlope: number;
  readonly corr: number | null;
  readonly sdResidual: number;
  readonly remlCriterion: number;
  readonly nObs: number;
  readonly nGroups: number;
  readonly converged: boolean;
}

/** The analysis of one instrument. */
export interface InstrumentReport {
  readonly instrument: string;
  readonly name: string;
  readonly direction: Direction;
  /** Patients with at least one assessment. */
  readonly patients: number;
  /** Patients with a follow-up after baseline (the denominator of change metrics). */
  readonly evaluable: number;
  readonly baseline: { readonly mean: number | null; readonly sd: number | null };
  readonly latest: { readonly mean: number | null; readonly sd: number | null };
  /** Mean change (latest − baseline) with its t 95% CI. */
  readonly change: MeanInterval;
  readonly responders: number;
  readonly responseRate: Proportion & { readonly definition: string };
  readonly remitters: number;
  readonly remissionRate: (Proportion & { readonly definition: string }) | null;
  readonly reliableChange: {
    readonly method: 'jacobson-truax';
    readonly reliability: number | null;
    readonly reliabilitySource: string;
    readonly sd: number | null;
    readonly sdSource: 'sample' | 'user';
    readonly sdiff: number | null;
    readonly pointsNeeded: number | null;
    readonly improved: number;
    readonly deteriorated: number;
    readonly improvedRate: Proportion;
    readonly deterioratedRate: Proportion;
    readonly fixedPoint: null | {
      readonly points: number;
      readonly source: string;
      readonly improved: number;
      readonly deteriorated: number;
    };
  };
  readonly clinicalSignificance: null | {
    readonly a: number;
    readonly b: number | null;
    readonly c: number | null;
    readonly normsSource: string | null;
    /** Reliably improved and below cut-off c (or a without norms). */
    readonly recovered: number;
    readonly recoveredRate: Proportion;
  };
  /** Effect sizes of improvement (positive = better), labelled. */
  readonly effectSize: EffectSizes & { readonly label: string };
  readonly slopes: { readonly n: number; readonly mean: number | null; readonly sd: number | null };
  readonly timeToResponse: KaplanMeierSummary;
  readonly trajectory: readonly TrajectoryBin[];
  readonly mixedModel: MixedModelSummary | null;
  readonly mixedModelNote: string | null;
  readonly kap: KapAnalysis | null;
  /**
   * Response, remission and change with and without each concurrent-medication class (observational), when
   * `courses` carry medication classes; null otherwise.
   */
  readonly byMedicationClass: MedicationClassAnalysis | null;
  readonly patientRows?: readonly PatientOutcome[];
}

/** A cohort analysis: one report per instrument. */
export interface AnalysisReport {
  readonly records: number;
  readonly instruments: Readonly<Record<string, InstrumentReport>>;
  readonly notes: readonly string[];
}

/** Records by canonical instrument id, in input order (the input itself when there is one instrument). */
function byInstrumentId(records: readonly OutcomeRecord[]): Map<string, readonly OutcomeRecord[]> {
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
interface InstrumentColumns {
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

function instrumentColumns(rows: readonly OutcomeRecord[]): InstrumentColumns {
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
  // Counting sort by patient (stable: input order within a patient), then by day within each patient.
  const count = patientIds.length;
  const start = new Int32Array(count + 1);
  for (let i = 0; i < n; i++) start[patient[i]! + 1]!++;
  for (let p = 0; p < count; p++) start[p + 1]! += start[p]!;
  const fill = start.slice(0, count);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fill[patient[i]!]!++] = i;
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
function patientOutcomes(
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
function rowsSinceBaseline(
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

function analyzeInstrument(
  id: string,
  rows: readonly OutcomeRecord[],
  options: AnalyzeOptions,
  registry: InstrumentRegistry,
): InstrumentReport {
  const definition = registry.find(id);
  const direction: Direction = definition?.direction ?? 'higher-is-worse';
  const worse = direction === 'higher-is-worse';
  const def = outcomeDefinitionOf(id, registry);
  const columns = instrumentColumns(rows);
  const outcomes = patientOutcomes(rows, columns, {
    direction,
    responseFraction: def.responseFraction,
    remissionBelow: def.remissionBelow,
    remissionRequiresBaselineAtLeast: options.remissionRequiresBaselineAtLeast ?? null,
  });
  const all = [...outcomes.values()];
  const ev = all.filter((o) => o.evaluable);
  const baselines = ev.map((o) => o.baseline);
  const latests = ev.map((o) => o.latest!);

  // Response: evaluable patients with baseline > 0 on a measure where higher is worse.
  const canRespond = ev.filter((o) => o.response !== null);
  const responders = canRespond.filter((o) => o.response).length;
  const remissionEligible = ev.filter((o) => o.remission !== null);
  const remitters = remissionEligible.filter((o) => o.remission).length;

  // Reliable change (Jacobson & Truax 1991).
  const r = options.rciReliability?.[id] ?? definition?.change?.reliability?.value ?? null;
  const userSd = options.rciSd !== undefined && options.rciSd !== 'sample' ? options.rciSd[id] : undefined;
  const s1 = userSd ?? finiteOrNull(sd(baselines));
  let improved = 0;
  let deteriorated = 0;
  if (r !== null && s1 !== null && s1 > 0) {
    for (const o of ev) {
      const c = jacobsonTruax(o.baseline, o.latest!, { sd: s1, reliability: r }, direction).class;
      if (c === 'improved') improved++;
      else if (c === 'deteriorated') deteriorated++;
    }
  }
  const fixed = definition?.change?.fixedPoints;
  let fixedPoint: InstrumentReport['reliableChange']['fixedPoint'] = null;
  if (fixed) {
    let fi = 0;
    let fd = 0;
    for (const o of ev) {
      const c = fixedPointChange(o.baseline, o.latest!, fixed.value, direction);
      if (c === 'improved') fi++;
      else if (c === 'deteriorated') fd++;
    }
    fixedPoint = { points: fixed.value, source: fixed.source, improved: fi, deteriorated: fd };
  }

  // Clinically significant change: cut-off c with general-population norms (a without them).
  let clinicalSignificance: InstrumentReport['clinicalSignificance'] = null;
  if (worse && s1 !== null && ev.length >= 2 && r !== null && s1 > 0) {
    const norms = definition?.change?.norms;
    const cut = clinicalCutoffs(
      { mean: mean(baselines), sd: s1 },
      norms ? { mean: norms.mean, sd: norms.sd } : undefined,
    );
    const threshold = cut.c ?? cut.a;
    let recovered = 0;
    for (const o of ev) {
      const reliable =
        jacobsonTruax(o.baseline, o.latest!, { sd: s1, reliability: r }, direction).class === 'improved';
      if (reliable && o.latest! < threshold) recovered++;
    }
    clinicalSignificance = {
      ...cut,
      normsSource: norms?.source ?? null,
      recovered,
      recoveredRate: wilson(recovered, ev.length),
    };
  }

  const before = worse ? baselines : latests;
  const after = worse ? latests : baselines;
  const km = kaplanMeier(
    canRespond.map((o) => ({
      time: o.firstResponseDay ?? o.followUpDays!,
      event: o.firstResponseDay !== null,
    })),
  );
  const sinceBaseline = rowsSinceBaseline(columns, outcomes);
  let mixedModel: MixedModelSummary | null = null;
  let mixedModelNote: string | null = null;
  if (options.mixedModel !== false) {
    try {
      const fit = fitLinearMixedModelColumns(sinceBaseline.model);
      mixedModel = {
        intercept: fit.intercept,
        slope: fit.slope,
        interceptSE: fit.interceptSE,
        slopeSE: fit.slopeSE,
        sdIntercept: fit.sdIntercept,
        sdSlope: fit.sdSlope,
        corr: fit.corr,
        sdResidual: fit.sdResidual,
        remlCriterion: fit.remlCriterion,
        nObs: fit.nObs,
        nGroups: fit.nGroups,
        converged: fit.converged,
      };
      if (!fit.converged) mixedModelNote = 'The optimiser did not converge: interpret with care.';
    } catch (e) {
      mixedModelNote = `Mixed model not estimable: ${(e as Error).message}`;
    }
  }
  const slopes = all.map((o) => o.trend.slope).filter((s): s is number => s !== null);
  const effect = pairedEffectSizes(before, after);
  return {
    instrument: id,
    name: definition?.name ?? id,
    direction,
    patients: all.length,
    evaluable: ev.length,
    baseline: { mean: finiteOrNull(mean(baselines)), sd: finiteOrNull(sd(baselines)) },
    latest: { mean: finiteOrNull(mean(latests)), sd: finiteOrNull(sd(latests)) },
    change: meanInterval(ev.map((o) => o.change!)),
    responders,
    responseRate: {
      ...wilson(responders, canRespond.length),
      definition:
        def.responseFraction === null
          ? notDefinedText(definition?.name ?? id, 'response')
          : `latest ≤ ${def.responseFraction * 100}% of baseline (baseline > 0); source: ${def.responseSource}`,
    },
    remitters,
    remissionRate:
      def.remissionBelow === null
        ? null
        : {
            ...wilson(remitters, remissionEligible.length),
            definition: `latest < ${def.remissionBelow}${options.remissionRequiresBaselineAtLeast != null ? ` and baseline ≥ ${options.remissionRequiresBaselineAtLeast}` : ''}; source: ${def.remissionSource}`,
          },
    reliableChange: {
      method: 'jacobson-truax',
      reliability: r,
      reliabilitySource:
        options.rciReliability?.[id] !== undefined
          ? 'user'
          : (definition?.change?.reliability?.source ?? 'none'),
      sd: s1,
      sdSource: userSd !== undefined ? 'user' : 'sample',
      sdiff: r !== null && s1 !== null ? sdiff({ sd: s1, reliability: r }) : null,
      pointsNeeded: r !== null && s1 !== null ? reliableChangePoints({ sd: s1, reliability: r }) : null,
      improved,
      deteriorated,
      improvedRate: wilson(improved, ev.length),
      deterioratedRate: wilson(deteriorated, ev.length),
      fixedPoint,
    },
    clinicalSignificance,
    effectSize: {
      ...effect,
      label: worse
        ? 'improvement = baseline − latest (positive = better)'
        : 'improvement = latest − baseline (positive = better)',
    },
    slopes: { n: slopes.length, mean: finiteOrNull(mean(slopes)), sd: finiteOrNull(sd(slopes)) },
    timeToResponse: {
      n: km.n,
      events: km.events,
      median: km.median,
      lower: km.medianLower,
      upper: km.medianUpper,
      curve: km.curve.map((p) => ({
        time: p.time,
        nRisk: p.nRisk,
        nEvent: p.nEvent,
        nCensor: p.nCensor,
        survival: p.survival,
        lower: finiteOrNull(p.lower ?? Number.NaN),
        upper: finiteOrNull(p.upper ?? Number.NaN),
      })),
    },
    trajectory: trajectoryOfColumns(
      sinceBaseline.patient,
      sinceBaseline.model.x,
      sinceBaseline.model.y,
      columns.patientIds.length,
      options.bins ?? DEFAULT_DAY_BINS,
    ),
    mixedModel,
    mixedModelNote,
    kap:
      rows.some((x) => x.doseNumber != null || x.inCriticalPeriod != null) || options.courses
        ? kapAnalysis(
            rows,
            outcomes,
            options.courses ?? new Map(),
            options.sinceDoseBins ?? DEFAULT_SINCE_DOSE_BINS,
          )
        : null,
    byMedicationClass: options.courses
      ? byMedicationClass(outcomes, options.courses, def.remissionBelow !== null)
      : null,
    ...(options.includePatients ? { patientRows: all } : {}),
  };
}

/**
 * Analyse outcome records: per instrument, baseline and latest, change with CI, response and remission with
 * Wilson CIs, reliable and clinically significant change, effect sizes, time to first response (Kaplan–Meier),
 * trajectory by time bin, a linear mixed model, and KAP-specific views when dose information is present.
 *
 * @example
 * ```ts
 * const report = analyzeOutcomes(records, { rciSd: 'sample' });
 * report.instruments.phq9?.responseRate.rate; // 0.61
 * ```
 */
export function analyzeOutcomes(
  records: readonly OutcomeRecord[],
  options: AnalyzeOptions = {},
): AnalysisReport {
  const registry = options.registry ?? createInstrumentRegistry();
  const wanted = options.instruments?.map(normalizeInstrumentId);
  const byInstrument = byInstrumentId(records);
  const instruments: Record<string, InstrumentReport> = {};
  const notes: string[] = [
    'Observed-case summaries (baseline/latest means, trajectory bins) are biased when patients drop out for reasons related to their scores; the mixed model uses every available assessment.',
  ];
  const order = registry.ids();
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  for (const id of [...byInstrument.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
    if (wanted && !wanted.includes(id)) continue;
    instruments[id] = analyzeInstrument(id, byInstrument.get(id)!, options, registry);
  }
  for (const id of wanted ?? []) if (!instruments[id]) notes.push(`No records for instrument "${id}".`);
  return { records: records.length, instruments, notes };
}
