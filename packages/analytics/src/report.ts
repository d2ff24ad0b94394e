import { createInstrumentRegistry, type InstrumentRegistry, normalizeInstrumentId } from '@kapkit/core/read';
import { clinicalCutoffs } from './metrics/clinical-significance.js';
import { type EffectSizes, pairedEffectSizes } from './metrics/effect-size.js';
import { DEFAULT_SINCE_DOSE_BINS, type KapAnalysis, kapAnalysis } from './metrics/kap.js';
import { kaplanMeier } from './metrics/kaplan-meier.js';
import { byMedicationClass, type MedicationClassAnalysis } from './metrics/medication.js';
import { fitLinearMixedModel } from './metrics/mixed-model.js';
import { type Direction, type PatientOutcome, patientOutcome } from './metrics/patient.js';
import { type Proportion, wilson } from './metrics/proportion.js';
import { fixedPointChange, jacobsonTruax, reliableChangePoints, sdiff } from './metrics/reliable-change.js';
import { finiteOrNull, type MeanInterval, mean, meanInterval, sd } from './metrics/stats.js';
import { DEFAULT_DAY_BINS, type TrajectoryBin, trajectory } from './metrics/trajectory.js';
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

function groupBy<T>(rows: readonly T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
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
  const outcomes = new Map<string, PatientOutcome>();
  for (const [pid, list] of groupBy(rows, (r) => r.patientId)) {
    outcomes.set(
      pid,
      patientOutcome(list, {
        direction,
        responseFraction: def.responseFraction,
        remissionBelow: def.remissionBelow,
        remissionRequiresBaselineAtLeast: options.remissionRequiresBaselineAtLeast ?? null,
      }),
    );
  }
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
  const sinceBaseline = rows.flatMap((row) => {
    const o = outcomes.get(row.patientId)!;
    return row.day >= o.baselineDay
      ? [{ patientId: row.patientId, t: row.day - o.baselineDay, score: row.score }]
      : [];
  });

  let mixedModel: MixedModelSummary | null = null;
  let mixedModelNote: string | null = null;
  if (options.mixedModel !== false) {
    try {
      const fit = fitLinearMixedModel(sinceBaseline.map((x) => ({ group: x.patientId, x: x.t, y: x.score })));
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
    trajectory: trajectory(sinceBaseline, options.bins ?? DEFAULT_DAY_BINS),
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
  const byInstrument = groupBy(records, (r) => normalizeInstrumentId(r.instrument));
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
