import {
  analyzeCriticalPeriods,
  type CriticalPeriodAnalysis,
  createInstrumentRegistry,
  DAY_MS,
  type EpisodeAssessment,
  type EpisodeContext,
  type InstrumentDefinition,
  type InstrumentRegistry,
  locateInCriticalPeriods,
  normalizeInstrumentId,
  offsetOf,
  windowMsFromDays,
} from '@kapkit/core/read';
import { type PatientOutcome, patientOutcome } from './metrics/patient.js';
import {
  fixedPointChange,
  jacobsonTruax,
  type ReliableChangeClass,
  reliableChangePoints,
} from './metrics/reliable-change.js';
import type { OutcomeRecord } from './records.js';

/** Options of {@link episodeOutcomes}. */
export interface EpisodeOutcomeOptions {
  /** Where instrument ids are looked up; default: the built-in instruments. */
  readonly registry?: InstrumentRegistry;
  /**
   * Instruments to report even without assessments (ids, case-insensitive); every instrument the episode has
   * is reported anyway.
   */
  readonly instruments?: readonly string[];
  /**
   * The episode as of this instant (ISO 8601 with offset): later assessments and doses are left out. Default:
   * every assessment and dose.
   */
  readonly asOf?: string;
  /**
   * Jacobson–Truax parameters per instrument id, overriding the definition's: reliability r (default
   * `change.reliability`) and s1, the SD of pre-treatment scores (default `change.norms.sd`, the
   * general-population SD; pass your clinical cohort's baseline SD when you have one).
   */
  readonly reliableChange?: {
    readonly sd?: Readonly<Record<string, number>>;
    readonly reliability?: Readonly<Record<string, number>>;
  };
  /** Count remission only when the baseline is at least this (e.g. 10, Hull et al. 2022). Default: no such rule. */
  readonly remissionRequiresBaselineAtLeast?: number | null;
}

/** A dose that opened a critical period (the first dose of a dosing session). */
export interface OutcomeDose {
  readonly doseNumber: number;
  readonly sessionId: string;
  readonly at: string;
}

/** Where an assessment falls relative to the doses and their critical periods. */
export interface CriticalPeriodPosition {
  /** Doses given at or before the assessment (0 before the first dose). */
  readonly doseNumber: number;
  /** Dose numbers whose critical-period window contains the assessment, in order. */
  readonly windows: readonly number[];
  /** Inside at least one window; null when the episode has no doses (as of `asOf`). */
  readonly inside: boolean | null;
  /** Elapsed days since the last dose at or before the assessment; null before the first dose. */
  readonly daysSinceLastDose: number | null;
}

/** One assessment with its outcome against its instrument's baseline and its critical-period position. */
export interface AssessmentOutcome {
  readonly eventId: string;
  /** Canonical instrument id. */
  readonly instrument: string;
  readonly at: string;
  /** Days since the episode opened (the first assessment's time when the opening is unknown). */
  readonly day: number;
  /** Total score, exact; null when the assessment was not scorable. */
  readonly score: number | null;
  /** This is the instrument's baseline assessment. */
  readonly isBaseline: boolean;
  /** The instrument's baseline total, or null when it has no scored assessment. */
  readonly baseline: number | null;
  /** score − baseline, for a scored assessment at or after the baseline; null otherwise. */
  readonly change: number | null;
  /** 100 · change / baseline; null when the change is null or the baseline is 0. */
  readonly percentChange: number | null;
  /**
   * Score ≤ response fraction × baseline, for a scored assessment after the baseline with a baseline above 0;
   * null otherwise, and when the instrument defines no response.
   */
  readonly response: boolean | null;
  /** Score below the remission threshold, after the baseline; null otherwise or when not defined. */
  readonly remission: boolean | null;
  /**
   * Jacobson–Truax class against the baseline: `baseline` for the baseline itself; null before the baseline,
   * for an unscorable assessment, or when reliable change is not defined (or r or s1 is missing).
   */
  readonly reliableChange: ReliableChangeClass | 'baseline' | null;
  /** Reliable change index (change / Sdiff), or null. */
  readonly rci: number | null;
  /** Fixed-point reliable change against the baseline (`change.fixedPoints`), after the baseline; or null. */
  readonly fixedPointChange: ReliableChangeClass | null;
  readonly criticalPeriod: CriticalPeriodPosition;
}

/** The Jacobson–Truax parameters in use for one instrument. */
export interface ReliableChangeParams {
  /** |RCI| beyond this is reliable (outcomes.reliableChange.critical). */
  readonly critical: number;
  readonly criticalSource: string;
  readonly reliability: number;
  /** `given` (an option) or the definition's source. */
  readonly reliabilitySource: string;
  readonly sd: number;
  /** `given` (an option) or `general-population norms: <source>`. */
  readonly sdSource: string;
  /** Points of change needed for reliable change: critical · Sdiff. */
  readonly pointsNeeded: number;
}

/** One instrument's definitions in use and the episode's outcome on it. */
export interface InstrumentOutcome {
  readonly instrument: string;
  readonly name: string;
  readonly direction: 'higher-is-worse' | 'higher-is-better';
  readonly range: { readonly min: number; readonly max: number };
  /** Response as the definition states it, or null (not defined). */
  readonly response: { readonly fraction: number; readonly source: string } | null;
  /** Remission as the definition states it, or null (not defined). */
  readonly remission: { readonly below: number; readonly source: string } | null;
  /** Jacobson–Truax parameters, or null when not defined (or r or s1 is missing). */
  readonly reliableChange: ReliableChangeParams | null;
  /** Fixed-point reliable change (`change.fixedPoints`), or null. */
  readonly fixedPoints: { readonly points: number; readonly source: string } | null;
  /** What this instrument leaves undefined, in words (empty when everything is defined). */
  readonly notDefined: readonly string[];
  readonly baseline: null | { readonly eventId: string; readonly at: string; readonly score: number };
  /** fraction × baseline: the response line; null without a baseline above 0 or a response definition. */
  readonly responseThreshold: number | null;
  /**
   * The episode's outcome on this instrument by `patientOutcome` (days since the episode opened; latest = the
   * last assessment after the baseline day), or null without scored assessments.
   */
  readonly outcome: PatientOutcome | null;
  /** The latest assessment's outcome (`outcome.latest`'s row), or null when not evaluable. */
  readonly latest: AssessmentOutcome | null;
}

/** The result of {@link episodeOutcomes}. */
export interface EpisodeOutcomes {
  /** The `asOf` option, or null (every event counted). */
  readonly asOf: string | null;
  /** Day 0 of `day`: the episode's opening, else the first assessment, else null. */
  readonly origin: string | null;
  readonly criticalPeriodDays: number;
  /** Doses as of `asOf`, in time order. */
  readonly doses: readonly OutcomeDose[];
  /** Critical periods of those doses (windows, overlaps, chains, gaps). */
  readonly criticalPeriods: CriticalPeriodAnalysis;
  /** One entry per instrument, in order of first assessment, then the requested ones without assessments. */
  readonly instruments: readonly InstrumentOutcome[];
  /** Every assessment as of `asOf`, in time order (ties in recording order). */
  readonly assessments: readonly AssessmentOutcome[];
}

/** Stable sort by time. */
function byTime<T extends { readonly at: string }>(list: readonly T[]): T[] {
  return list
    .map((v, i) => ({ v, i, ms: Date.parse(v.at) }))
    .sort((a, b) => a.ms - b.ms || a.i - b.i)
    .map((e) => e.v);
}

function dosesOf(c: EpisodeContext, asOfMs: number): OutcomeDose[] {
  const doses: (OutcomeDose & { ms: number })[] = [];
  for (const s of c.sessions) {
    const first = s.doses[0];
    if (s.doseNumber === null || first === undefined) continue;
    const ms = Date.parse(first.at);
    if (ms > asOfMs) continue;
    doses.push({ doseNumber: s.doseNumber, sessionId: s.sessionId, at: first.at, ms });
  }
  return doses.sort((a, b) => a.ms - b.ms).map(({ ms: _ms, ...d }) => d);
}

/**
 * The baseline (docs/methods.md): the last scored assessment at or before the first dose; without one (or
 * without doses), the first scored assessment.
 */
function baselineOf(
  scored: readonly EpisodeAssessment[],
  firstDoseMs: number | null,
): EpisodeAssessment | null {
  let base: EpisodeAssessment | null = scored[0] ?? null;
  if (firstDoseMs !== null) {
    for (const a of scored) if (Date.parse(a.at) <= firstDoseMs) base = a;
  }
  return base;
}

function reliableChangeParams(
  d: InstrumentDefinition | undefined,
  id: string,
  given: EpisodeOutcomeOptions['reliableChange'],
): ReliableChangeParams | null {
  const rc = d?.outcomes?.reliableChange;
  if (rc === undefined) return null;
  const r = given?.reliability?.[id] ?? d?.change?.reliability?.value;
  const sd = given?.sd?.[id] ?? d?.change?.norms?.sd;
  if (r === undefined || sd === undefined || !(sd > 0) || !(r < 1)) return null;
  // Jacobson & Truax 1991: points = critical · √2 · s1 · √(1 − r)
  return {
    critical: rc.critical,
    criticalSource: rc.source,
    reliability: r,
    reliabilitySource:
      given?.reliability?.[id] !== undefined ? 'given' : (d?.change?.reliability?.source ?? ''),
    sd,
    sdSource:
      given?.sd?.[id] !== undefined ? 'given' : `general-population norms: ${d?.change?.norms?.source ?? ''}`,
    pointsNeeded: reliableChangePoints({ sd, reliability: r, critical: rc.critical }),
  };
}

function notDefinedOf(
  name: string,
  d: InstrumentDefinition | undefined,
  rc: ReliableChangeParams | null,
): string[] {
  if (d === undefined)
    return [
      `${name} is not a registered instrument: response, remission and reliable change are not defined`,
    ];
  const out: string[] = [];
  if (d.outcomes?.response === undefined)
    out.push(`response is not defined for ${name} (no outcomes.response)`);
  if (d.outcomes?.remission === undefined)
    out.push(`remission is not defined for ${name} (no outcomes.remission)`);
  if (d.outcomes?.reliableChange === undefined) {
    out.push(`reliable change is not defined for ${name} (no outcomes.reliableChange)`);
  } else if (rc === null) {
    out.push(`reliable change needs r and s1 for ${name} (change.reliability and change.norms.sd, or given)`);
  }
  return out;
}

/**
 * Every assessment of an episode with its outcome, from the definitions its instrument carries
 * (`InstrumentDefinition.outcomes` and `change`): the instrument's baseline, change and percent change,
 * response, remission, reliable change (Jacobson–Truax and fixed-point: improved, deteriorated or no reliable
 * change) and where it falls among the critical periods (the windows it is inside, days since the last dose).
 * Per instrument: the definitions in use (or what is not defined), the baseline, the response line and the
 * episode's outcome (`patientOutcome`). Charts, export rows and the dashboard present this result.
 *
 * Baseline: the last scored assessment at or before the first dose, else the first scored assessment
 * (docs/methods.md). Response and reliable change apply to scored assessments at or after the baseline's time
 * (other than the baseline itself).
 *
 * @example
 * ```ts
 * const { state } = replay(events);
 * const o = episodeOutcomes(state.context, { asOf: '2026-05-01T09:00:00-04:00' });
 * o.assessments.map((a) => [a.instrument, a.score, a.change, a.response, a.reliableChange, a.criticalPeriod.inside]);
 * // [['phq9', 18, 0, null, 'baseline', false], ['phq9', 8, -10, true, 'improved', true], …]
 * o.instruments[0]?.notDefined; // [] for the PHQ-9
 * ```
 * @throws {UnknownInstrumentError} for a requested instrument id the registry does not know.
 * @throws {InvalidTimestampError} when `asOf` is not an ISO 8601 date-time with an offset.
 */
export function episodeOutcomes(
  context: EpisodeContext,
  options: EpisodeOutcomeOptions = {},
): EpisodeOutcomes {
  const c = context;
  const registry = options.registry ?? builtins();
  if (options.asOf !== undefined) offsetOf(options.asOf); // validates
  const asOfMs = options.asOf === undefined ? Number.POSITIVE_INFINITY : Date.parse(options.asOf);
  const assessments = byTime(c.assessments.filter((a) => Date.parse(a.at) <= asOfMs));
  const doses = dosesOf(c, asOfMs);
  const analysis = analyzeCriticalPeriods(doses, { windowMs: windowMsFromDays(c.policy.criticalPeriodDays) });
  const firstDoseMs = doses[0] === undefined ? null : Date.parse(doses[0].at);
  const origin = c.openedAt ?? assessments[0]?.at ?? null;
  const originMs = origin === null ? 0 : Date.parse(origin);
  const dayOf = (ms: number) => (ms - originMs) / DAY_MS;

  const ids: string[] = [];
  for (const a of assessments) if (!ids.includes(a.instrument)) ids.push(a.instrument);
  for (const id of options.instruments ?? []) {
    const canonical = registry.get(id).id;
    if (!ids.includes(canonical)) ids.push(canonical);
  }

  const instruments = new Map<string, Omit<InstrumentOutcome, 'latest'>>();
  for (const id of ids) {
    instruments.set(id, instrumentOutcome(id, registry.find(id), assessments, firstDoseMs, dayOf, options));
  }

  const rows = assessments.map((a) =>
    assessmentOutcome(a, instruments.get(a.instrument)!, analysis, dayOf, options),
  );
  const list: InstrumentOutcome[] = [...instruments.values()].map((inst) => {
    const o = inst.outcome;
    const latest =
      o === null || o.latestDay === null
        ? null
        : ([...rows]
            .reverse()
            .find((r) => r.instrument === inst.instrument && r.score !== null && r.day === o.latestDay) ??
          null);
    return { ...inst, latest };
  });
  return {
    asOf: options.asOf ?? null,
    origin,
    criticalPeriodDays: c.policy.criticalPeriodDays,
    doses,
    criticalPeriods: analysis,
    instruments: list,
    assessments: rows,
  };
}

function instrumentOutcome(
  id: string,
  d: InstrumentDefinition | undefined,
  assessments: readonly EpisodeAssessment[],
  firstDoseMs: number | null,
  dayOf: (ms: number) => number,
  options: EpisodeOutcomeOptions,
): Omit<InstrumentOutcome, 'latest'> {
  const name = d?.name ?? id;
  const direction = d?.direction ?? 'higher-is-worse';
  const scored = assessments.filter((a) => a.instrument === id && a.total !== null);
  const base = baselineOf(scored, firstDoseMs);
  const response = d?.outcomes?.response ?? null;
  const remission = d?.outcomes?.remission ?? null;
  const rc = reliableChangeParams(d, id, options.reliableChange);
  const fixed = d?.change?.fixedPoints;
  const records: OutcomeRecord[] = scored.map((a) => ({
    patientId: '-',
    instrument: id,
    day: dayOf(Date.parse(a.at)),
    score: a.total!,
    firstDoseDay: firstDoseMs === null ? null : dayOf(firstDoseMs),
  }));
  return {
    instrument: id,
    name,
    direction,
    range: d?.range ?? { min: 0, max: Math.max(0, ...scored.map((a) => a.total!)) },
    response: response === null ? null : { fraction: response.fraction, source: response.source },
    remission: remission === null ? null : { below: remission.below, source: remission.source },
    reliableChange: rc,
    fixedPoints: fixed === undefined ? null : { points: fixed.value, source: fixed.source },
    notDefined: notDefinedOf(name, d, rc),
    baseline: base === null ? null : { eventId: base.eventId, at: base.at, score: base.total! },
    responseThreshold:
      base !== null && response !== null && direction === 'higher-is-worse' && base.total! > 0
        ? response.fraction * base.total!
        : null,
    outcome:
      records.length === 0
        ? null
        : patientOutcome(records, {
            direction,
            responseFraction: response?.fraction ?? null,
            remissionBelow: remission?.below ?? null,
            remissionRequiresBaselineAtLeast: options.remissionRequiresBaselineAtLeast ?? null,
          }),
  };
}

function assessmentOutcome(
  a: EpisodeAssessment,
  inst: Omit<InstrumentOutcome, 'latest'>,
  analysis: CriticalPeriodAnalysis,
  dayOf: (ms: number) => number,
  options: EpisodeOutcomeOptions,
): AssessmentOutcome {
  const ms = Date.parse(a.at);
  const where = locateInCriticalPeriods(analysis, a.at);
  const base = inst.baseline;
  const isBaseline = base !== null && base.eventId === a.eventId;
  const score = a.total;
  const after = base !== null && score !== null && !isBaseline && ms >= Date.parse(base.at);
  const change = base !== null && score !== null && (isBaseline || after) ? score - base.score : null;
  let reliableChange: AssessmentOutcome['reliableChange'] = null;
  let rci: number | null = null;
  if (isBaseline) reliableChange = 'baseline';
  else if (after && inst.reliableChange !== null) {
    const p = inst.reliableChange;
    const jt = jacobsonTruax(
      base.score,
      score,
      { sd: p.sd, reliability: p.reliability, critical: p.critical },
      inst.direction,
    );
    reliableChange = jt.class;
    rci = jt.rci;
  }
  const minBaseline = options.remissionRequiresBaselineAtLeast ?? null;
  return {
    eventId: a.eventId,
    instrument: a.instrument,
    at: a.at,
    day: dayOf(ms),
    score,
    isBaseline,
    baseline: base?.score ?? null,
    change,
    percentChange: change === null || base === null || base.score === 0 ? null : (100 * change) / base.score,
    response: after && inst.responseThreshold !== null ? score <= inst.responseThreshold : null,
    remission:
      after && inst.remission !== null
        ? score < inst.remission.below && (minBaseline === null || base.score >= minBaseline)
        : null,
    reliableChange,
    rci,
    fixedPointChange:
      after && inst.fixedPoints !== null
        ? fixedPointChange(base.score, score, inst.fixedPoints.points, inst.direction)
        : null,
    criticalPeriod: {
      doseNumber: where.doseNumber ?? 0,
      windows: where.windows,
      inside: analysis.windows.length === 0 ? null : where.inside,
      daysSinceLastDose: where.daysSinceLastDose,
    },
  };
}

let defaultRegistry: InstrumentRegistry | undefined;
function builtins(): InstrumentRegistry {
  defaultRegistry ??= createInstrumentRegistry();
  return defaultRegistry;
}

/** The entry of `outcomes` for an instrument id (case-insensitive, hyphens ignored), or undefined. */
export function instrumentOutcomeOf(outcomes: EpisodeOutcomes, id: string): InstrumentOutcome | undefined {
  const key = normalizeInstrumentId(id);
  return outcomes.instruments.find((i) => i.instrument === key);
}
