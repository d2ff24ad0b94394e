import {
  createInstrumentRegistry,
  type InstrumentDefinition,
  type InstrumentRegistry,
  normalizeInstrumentId,
} from '@kapkit/core/read';
import {
  byInstrumentId,
  instrumentColumns,
  patientOutcomes,
  rowsSinceBaseline,
} from './instrument-columns.js';
import { clinicalCutoffs } from './metrics/clinical-significance.js';
import { type EffectSizes, pairedEffectSizes } from './metrics/effect-size.js';
import { DEFAULT_SINCE_DOSE_BINS, type KapAnalysis, kapAnalysis } from './metrics/kap.js';
import { type KaplanMeierPoint, kaplanMeier } from './metrics/kaplan-meier.js';
import { byMedicationClass, type MedicationClassAnalysis } from './metrics/medication.js';
import {
  fitLinearMixedModelColumns,
  type MixedModelColumns,
  type MixedModelFit,
} from './metrics/mixed-model.js';
import type { Direction, PatientOutcome } from './metrics/patient.js';
import { type Proportion, wilson } from './metrics/proportion.js';
import {
  DEFAULT_RCI_CRITICAL,
  DEFAULT_RCI_CRITICAL_SOURCE,
  fixedPointChange,
  type JacobsonTruaxParams,
  jacobsonTruax,
  reliableChangePoints,
  sdiff,
} from './metrics/reliable-change.js';
import { finiteOrNull, type MeanInterval, mean, meanInterval, sd } from './metrics/stats.js';
import { DEFAULT_DAY_BINS, type TrajectoryBin } from './metrics/trajectory.js';
import { trajectoryOfColumns } from './metrics/trajectory-columns.js';
import { notDefinedText, type OutcomeDefinition, outcomeDefinitionOf } from './outcome-defaults.js';
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
  /** The curve's rows, as {@link kaplanMeier}'s without the standard error. */
  readonly curve: readonly Omit<KaplanMeierPoint, 'stdErr'>[];
}

/** The mixed-model quantities a report carries (those of {@link MixedModelFit} that lme4's summary prints). */
export type MixedModelSummary = Pick<
  MixedModelFit,
  | 'intercept'
  | 'slope'
  | 'interceptSE'
  | 'slopeSE'
  | 'sdIntercept'
  | 'sdSlope'
  | 'corr'
  | 'sdResidual'
  | 'remlCriterion'
  | 'nObs'
  | 'nGroups'
  | 'converged'
>;

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
    /** |RCI| beyond this is reliable change: the instrument definition's, or 1.96 (Jacobson & Truax 1991). */
    readonly critical: number;
    /** Where `critical` comes from: the definition's `outcomes.reliableChange.source`, or the default's. */
    readonly criticalSource: string;
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

/** The Jacobson–Truax parameters of one instrument, and where each came from. */
interface ReliableChangeInputs {
  /** Reliability r: the user's (`rciReliability`) or the definition's; null when neither gives one. */
  readonly r: number | null;
  /** SD of baseline scores s1: the user's (`rciSd`) or the sample's. */
  readonly s1: number | null;
  readonly userSd: number | undefined;
  /**
   * |RCI| beyond this is reliable: the definition's `outcomes.reliableChange.critical`, or 1.96 (Jacobson &
   * Truax 1991, as `jacobsonTruax`'s default) when the definition states none.
   */
  readonly critical: number | undefined;
  /** Where the critical value comes from: the definition's `outcomes.reliableChange.source`, or the default's. */
  readonly criticalSource: string;
}

function reliableChangeInputs(
  id: string,
  definition: InstrumentDefinition | undefined,
  baselines: readonly number[],
  options: AnalyzeOptions,
): ReliableChangeInputs {
  const userSd = options.rciSd !== undefined && options.rciSd !== 'sample' ? options.rciSd[id] : undefined;
  return {
    r: options.rciReliability?.[id] ?? definition?.change?.reliability?.value ?? null,
    s1: userSd ?? finiteOrNull(sd(baselines)),
    userSd,
    critical: definition?.outcomes?.reliableChange?.critical,
    criticalSource: definition?.outcomes?.reliableChange?.source ?? DEFAULT_RCI_CRITICAL_SOURCE,
  };
}

/** The Jacobson–Truax parameters when r and a positive s1 are known; null otherwise. */
function jacobsonTruaxParams(rc: ReliableChangeInputs): JacobsonTruaxParams | null {
  if (rc.r === null || rc.s1 === null || !(rc.s1 > 0)) return null;
  return { sd: rc.s1, reliability: rc.r, critical: rc.critical };
}

/** Patients reliably improved and deteriorated, by the RCI and by the fixed-point rule. */
// Jacobson & Truax 1991, J Consult Clin Psychol 59:12
function reliableChangeOf(
  id: string,
  ev: readonly PatientOutcome[],
  rc: ReliableChangeInputs,
  definition: InstrumentDefinition | undefined,
  direction: Direction,
  options: AnalyzeOptions,
): InstrumentReport['reliableChange'] {
  const params = jacobsonTruaxParams(rc);
  let improved = 0;
  let deteriorated = 0;
  if (params !== null) {
    for (const o of ev) {
      const c = jacobsonTruax(o.baseline, o.latest!, params, direction).class;
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
  const { r, s1 } = rc;
  const known = r !== null && s1 !== null ? { sd: s1, reliability: r, critical: rc.critical } : null;
  return {
    method: 'jacobson-truax',
    reliability: r,
    reliabilitySource:
      options.rciReliability?.[id] !== undefined
        ? 'user'
        : (definition?.change?.reliability?.source ?? 'none'),
    sd: s1,
    sdSource: rc.userSd !== undefined ? 'user' : 'sample',
    sdiff: known ? sdiff(known) : null,
    critical: rc.critical ?? DEFAULT_RCI_CRITICAL,
    criticalSource: rc.criticalSource,
    pointsNeeded: known ? reliableChangePoints(known) : null,
    improved,
    deteriorated,
    improvedRate: wilson(improved, ev.length),
    deterioratedRate: wilson(deteriorated, ev.length),
    fixedPoint,
  };
}

/** Clinically significant change: reliably improved and past cut-off c with general-population norms (a without). */
// Jacobson & Truax 1991, J Consult Clin Psychol 59:12
function clinicalSignificanceOf(
  ev: readonly PatientOutcome[],
  baselines: readonly number[],
  rc: ReliableChangeInputs,
  definition: InstrumentDefinition | undefined,
  direction: Direction,
): InstrumentReport['clinicalSignificance'] {
  const params = jacobsonTruaxParams(rc);
  if (direction !== 'higher-is-worse' || params === null || ev.length < 2) return null;
  const norms = definition?.change?.norms;
  const cut = clinicalCutoffs(
    { mean: mean(baselines), sd: params.sd },
    norms ? { mean: norms.mean, sd: norms.sd } : undefined,
  );
  const threshold = cut.c ?? cut.a;
  let recovered = 0;
  for (const o of ev) {
    const reliable = jacobsonTruax(o.baseline, o.latest!, params, direction).class === 'improved';
    if (reliable && o.latest! < threshold) recovered++;
  }
  return {
    ...cut,
    normsSource: norms?.source ?? null,
    recovered,
    recoveredRate: wilson(recovered, ev.length),
  };
}

/** Time to first response (Kaplan–Meier), censored at the last follow-up of patients who did not respond. */
function timeToResponseOf(canRespond: readonly PatientOutcome[]): KaplanMeierSummary {
  const km = kaplanMeier(
    canRespond.map((o) => ({
      time: o.firstResponseDay ?? o.followUpDays!,
      event: o.firstResponseDay !== null,
    })),
  );
  return {
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
  };
}

/** The keys of {@link MixedModelSummary}, in the order a report lists them. */
const MIXED_MODEL_SUMMARY_KEYS = [
  'intercept',
  'slope',
  'interceptSE',
  'slopeSE',
  'sdIntercept',
  'sdSlope',
  'corr',
  'sdResidual',
  'remlCriterion',
  'nObs',
  'nGroups',
  'converged',
] as const satisfies readonly (keyof MixedModelSummary)[];

/** The linear mixed model over every assessment since baseline, or why it has none. */
function mixedModelOf(
  model: MixedModelColumns,
  options: AnalyzeOptions,
): Pick<InstrumentReport, 'mixedModel' | 'mixedModelNote'> {
  if (options.mixedModel === false) return { mixedModel: null, mixedModelNote: null };
  try {
    const fit = fitLinearMixedModelColumns(model);
    const mixedModel = Object.fromEntries(
      MIXED_MODEL_SUMMARY_KEYS.map((k) => [k, fit[k]]),
    ) as unknown as MixedModelSummary;
    const mixedModelNote = fit.converged ? null : 'The optimiser did not converge: interpret with care.';
    return { mixedModel, mixedModelNote };
  } catch (e) {
    return { mixedModel: null, mixedModelNote: `Mixed model not estimable: ${(e as Error).message}` };
  }
}

/** Response and remission rates with the words of their definitions. */
function responseAndRemissionOf(
  id: string,
  ev: readonly PatientOutcome[],
  definition: InstrumentDefinition | undefined,
  def: OutcomeDefinition,
  options: AnalyzeOptions,
): Pick<InstrumentReport, 'responders' | 'responseRate' | 'remitters' | 'remissionRate'> {
  // Response: evaluable patients with baseline > 0 on a measure where higher is worse.
  const canRespond = ev.filter((o) => o.response !== null);
  const responders = canRespond.filter((o) => o.response).length;
  const remissionEligible = ev.filter((o) => o.remission !== null);
  const remitters = remissionEligible.filter((o) => o.remission).length;
  const atLeast = options.remissionRequiresBaselineAtLeast;
  return {
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
            definition: `latest < ${def.remissionBelow}${atLeast != null ? ` and baseline ≥ ${atLeast}` : ''}; source: ${def.remissionSource}`,
          },
  };
}

/** The KAP-specific views, when the records or the courses carry dose information. */
function kapOf(
  rows: readonly OutcomeRecord[],
  outcomes: ReadonlyMap<string, PatientOutcome>,
  options: AnalyzeOptions,
): KapAnalysis | null {
  const hasDoses = rows.some((x) => x.doseNumber != null || x.inCriticalPeriod != null);
  if (!hasDoses && !options.courses) return null;
  return kapAnalysis(
    rows,
    outcomes,
    options.courses ?? new Map(),
    options.sinceDoseBins ?? DEFAULT_SINCE_DOSE_BINS,
  );
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
  const rc = reliableChangeInputs(id, definition, baselines, options);
  const sinceBaseline = rowsSinceBaseline(columns, outcomes);
  const slopes = all.map((o) => o.trend.slope).filter((s): s is number => s !== null);
  const effect = pairedEffectSizes(worse ? baselines : latests, worse ? latests : baselines);
  return {
    instrument: id,
    name: definition?.name ?? id,
    direction,
    patients: all.length,
    evaluable: ev.length,
    baseline: { mean: finiteOrNull(mean(baselines)), sd: finiteOrNull(sd(baselines)) },
    latest: { mean: finiteOrNull(mean(latests)), sd: finiteOrNull(sd(latests)) },
    change: meanInterval(ev.map((o) => o.change!)),
    ...responseAndRemissionOf(id, ev, definition, def, options),
    reliableChange: reliableChangeOf(id, ev, rc, definition, direction, options),
    clinicalSignificance: clinicalSignificanceOf(ev, baselines, rc, definition, direction),
    effectSize: {
      ...effect,
      label: worse
        ? 'improvement = baseline − latest (positive = better)'
        : 'improvement = latest − baseline (positive = better)',
    },
    slopes: { n: slopes.length, mean: finiteOrNull(mean(slopes)), sd: finiteOrNull(sd(slopes)) },
    timeToResponse: timeToResponseOf(ev.filter((o) => o.response !== null)),
    trajectory: trajectoryOfColumns(
      sinceBaseline.patient,
      sinceBaseline.model.x,
      sinceBaseline.model.y,
      columns.patientIds.length,
      options.bins ?? DEFAULT_DAY_BINS,
    ),
    ...mixedModelOf(sinceBaseline.model, options),
    kap: kapOf(rows, outcomes, options),
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
