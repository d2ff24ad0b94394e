import {
  jacobsonTruax,
  type OutcomeRecord,
  outcomeDefinitionOf,
  patientOutcome,
  type ReliableChangeClass,
  reliableChangePoints,
} from '@kapkit/analytics';
import {
  analyzeCriticalPeriods,
  type BandDefinition,
  type CriticalPeriodAnalysis,
  createInstrumentRegistry,
  DAY_MS,
  type EpisodeAssessment,
  type EpisodeContext,
  type InstrumentDefinition,
  type InstrumentRegistry,
  locateInCriticalPeriods,
  offsetOf,
  windowMsFromDays,
} from '@kapkit/core';
import type { ChartConfiguration, ChartDataset, LegendItem, PointStyle } from 'chart.js';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import {
  type DescribedPoint,
  describedTooltipLabel,
  formatDays,
  formatScore,
  localDate,
  localDateTime,
  signed,
} from './format.js';
import { bandTints, palette, seriesColor, withAlpha } from './palette.js';

/** How the x axis of the outcome chart shows time. */
export type OutcomeXAxis = 'time' | 'days-since-baseline';

/** Input of {@link outcomeChartConfig} and {@link outcomeChartData}. */
export interface OutcomeChartInput {
  /** The episode, e.g. `replay(events).state.context`. */
  readonly context: EpisodeContext;
  /**
   * Instruments to chart (ids, case-insensitive, hyphens ignored), the first one primary (its severity bands
   * are drawn). Default: PHQ-9 and GAD-7, those of the two that the episode has; if it has neither, every
   * instrument it has, in order of first assessment.
   */
  readonly instruments?: readonly string[];
  /** Calendar time (a chart.js `time` scale; needs the date-fns adapter) or days since baseline. Default `time`. */
  readonly xAxis?: OutcomeXAxis;
  /**
   * Show the episode as of this instant (ISO 8601 with offset): later assessments, doses and safety-flag
   * reviews are left out. Default: the episode's last event.
   */
  readonly asOf?: string;
  /** Where instrument ids are looked up; default: the built-in instruments. */
  readonly registry?: InstrumentRegistry;
  /**
   * Jacobson–Truax parameters per instrument id. Defaults: reliability r from the instrument definition
   * (`change.reliability`, e.g. PHQ-9 0.89, Kroenke et al. 2001); SD from the definition's general-population
   * norms (`change.norms.sd`, e.g. PHQ-9 3.52, Kocalevent et al. 2013). Pass the SD of baseline scores of your
   * own clinical cohort (e.g. `analyzeOutcomes(...).instruments.phq9.reliableChange.sd`) when you have one:
   * Jacobson & Truax define s1 on the pre-treatment population, and a normative SD is smaller, so it flags
   * smaller changes as reliable.
   */
  readonly reliableChange?: {
    readonly sd?: Readonly<Record<string, number>>;
    readonly reliability?: Readonly<Record<string, number>>;
  };
  /** Chart title; default names the instruments, the patient and the episode. */
  readonly title?: string;
}

/** A safety flag on a charted assessment, as of `asOf`. */
export interface OutcomeSafetyFlag {
  readonly rule: string;
  /** `positive` (e.g. PHQ-9 item 9 > 0) or `unanswered` (the safety item was left blank). */
  readonly kind: 'positive' | 'unanswered';
  readonly item: number;
  readonly value: number | null;
  /** A `SafetyFlagReviewed` event was recorded at or before `asOf`. */
  readonly reviewed: boolean;
  readonly message: string;
}

/** One assessment as the chart shows it: one row of the accessible data table. */
export interface OutcomeChartRow {
  readonly instrument: string;
  readonly instrumentName: string;
  readonly eventId: string;
  /** The assessment's timestamp, as recorded. */
  readonly at: string;
  /** Its x value on the chart: epoch ms (`time` axis) or days since baseline. */
  readonly x: number;
  /** Days since the chart's origin (the primary instrument's baseline; see {@link OutcomeChartData.origin}). */
  readonly day: number;
  /** Total score, exact (prorated totals are not rounded); null when the assessment was not scorable. */
  readonly total: number | null;
  /** Severity band id (`moderate`), or null. */
  readonly severity: string | null;
  /** Severity band label (`Moderate`), or null. */
  readonly severityLabel: string | null;
  /** This is the instrument's baseline assessment. */
  readonly baseline: boolean;
  /** Dosing sessions with a dose at or before the assessment (0 before the first dose). */
  readonly doseNumber: number;
  readonly daysSinceLastDose: number | null;
  /** Inside a critical-period window; null when there are no doses. */
  readonly inCriticalPeriod: boolean | null;
  /**
   * Jacobson–Truax class against the instrument's baseline: `baseline` for the baseline itself, null before
   * the baseline, for an unscorable assessment, or without reliability and SD.
   */
  readonly reliableChange: ReliableChangeClass | 'baseline' | null;
  /** Reliable change index (change / Sdiff), or null. */
  readonly rci: number | null;
  /** Total ≤ response fraction × baseline (after baseline, baseline > 0, higher-is-worse measures), or null. */
  readonly response: boolean | null;
  /** Total below the remission threshold (after baseline), or null when there is none. */
  readonly remission: boolean | null;
  /** The most important safety flag of the assessment (positive before unanswered), or null. */
  readonly safetyFlag: OutcomeSafetyFlag | null;
  /** False for an assessment of an instrument that is not charted, kept because it carries a safety flag. */
  readonly charted: boolean;
  /** The row in words (tooltip, table caption, screen readers). */
  readonly description: string;
}

/** One dosing session with a dose, as the chart shows it. */
export interface OutcomeChartDose {
  readonly doseNumber: number;
  readonly sessionId: string;
  /** Time of the session's first dose. */
  readonly at: string;
  readonly x: number;
  readonly kind: 'full' | 'half' | 'booster';
  readonly doseMg: number;
  /** Boosters given later in the same session, mg. */
  readonly boostersMg: readonly number[];
  /** The treatment plan's titration step for this dose, mg; null without titration. */
  readonly plannedDoseMg: number | null;
  /** A dose step: the first dose differs from the previous session's (`up` or `down`); null for the first dose or none. */
  readonly step: 'up' | 'down' | null;
  /** A maintenance session (after the initial course). */
  readonly maintenance: boolean;
  readonly description: string;
}

/** One critical-period window `[start, end)` on the chart. */
export interface OutcomeChartWindow {
  readonly doseNumber: number;
  readonly start: string;
  readonly end: string;
  readonly xMin: number;
  readonly xMax: number;
}

/** What the chart knows about one instrument. */
export interface OutcomeChartInstrument {
  readonly id: string;
  readonly name: string;
  readonly direction: 'higher-is-worse' | 'higher-is-better';
  readonly range: { readonly min: number; readonly max: number };
  readonly color: string;
  readonly baseline: null | { readonly eventId: string; readonly at: string; readonly total: number };
  /** The response line: `fraction × baseline`; null without a baseline > 0 or for higher-is-better. */
  readonly responseThreshold: number | null;
  readonly responseFraction: number;
  readonly responseSource: string;
  /** The remission line (total below it); null when the instrument has no remission threshold. */
  readonly remissionBelow: number | null;
  readonly remissionSource: string | null;
  readonly reliableChange: null | {
    readonly reliability: number;
    readonly reliabilitySource: string;
    readonly sd: number;
    readonly sdSource: string;
    /** Points of change needed for reliable change (1.96 · Sdiff). */
    readonly pointsNeeded: number;
  };
  /** The patient's outcome on this instrument (`patientOutcome`), or null without scored assessments. */
  readonly outcome: null | {
    readonly evaluable: boolean;
    readonly latest: number | null;
    readonly response: boolean | null;
    readonly remission: boolean | null;
    readonly firstResponseDay: number | null;
  };
}

/** The numbers behind the outcome chart; render it as a table for people who cannot see the chart. */
export interface OutcomeChartData {
  readonly episodeId: string | null;
  readonly patientId: string | null;
  readonly synthetic: boolean;
  /** The instant the chart is for (input `asOf`, else the last event), or null for an empty episode. */
  readonly asOf: string | null;
  readonly xAxis: OutcomeXAxis;
  /** Day 0 of `day` (and of the x axis in `days-since-baseline` mode). */
  readonly origin: {
    readonly kind: 'baseline' | 'first-dose' | 'opened' | 'none';
    readonly at: string | null;
  };
  /** The primary instrument: its bands are drawn. */
  readonly primary: string;
  readonly instruments: readonly OutcomeChartInstrument[];
  readonly bands: readonly (BandDefinition & {
    readonly yMin: number;
    readonly yMax: number;
    readonly color: string;
  })[];
  readonly bandsSource: string | null;
  readonly rows: readonly OutcomeChartRow[];
  readonly doses: readonly OutcomeChartDose[];
  readonly criticalPeriodDays: number;
  readonly windows: readonly OutcomeChartWindow[];
  /** Consecutive windows that overlap (`from` → `to`, overlap in days). */
  readonly overlaps: readonly { readonly from: number; readonly to: number; readonly days: number }[];
  /** Stretches between windows covered by none. */
  readonly gaps: readonly {
    readonly afterDose: number;
    readonly start: string;
    readonly end: string;
    readonly days: number;
  }[];
  /** Axis ranges the chart uses. */
  readonly x: { readonly min: number; readonly max: number };
  readonly y: { readonly min: number; readonly max: number };
}

/** Roles of the datasets of the outcome chart (`kapkitRole` on each dataset). */
export type OutcomeDatasetRole =
  | 'instrument'
  | 'dose'
  | 'critical-period'
  | 'reliable-improvement'
  | 'reliable-deterioration'
  | 'safety-positive'
  | 'safety-unanswered';

/** A point of the outcome chart: coordinates, the row or dose it shows, and its description. */
export interface OutcomePoint extends DescribedPoint {
  readonly eventId?: string;
  readonly instrument?: string;
}

/** A dataset of the outcome chart, tagged with its role (and instrument) so code can find it. */
export type OutcomeDataset = ChartDataset<'line', OutcomePoint[]> & {
  readonly kapkitRole: OutcomeDatasetRole;
  readonly instrument?: string;
};

/** The chart.js configuration of the outcome chart. */
export type OutcomeChartConfiguration = ChartConfiguration<'line', OutcomePoint[]>;

/** Point styles of the outcome chart: meaning is carried by shape, not colour alone. */
export const OUTCOME_POINT_STYLES = {
  instrument: ['circle', 'rect', 'rectRounded', 'star', 'cross'] as readonly PointStyle[],
  dose: 'line' as PointStyle,
  reliableImprovement: 'triangle' as PointStyle,
  /** A triangle rotated 180° (pointing down). */
  reliableDeterioration: 'triangle' as PointStyle,
  safetyPositive: 'crossRot' as PointStyle,
  safetyUnanswered: 'rectRot' as PointStyle,
} as const;

let defaultRegistry: InstrumentRegistry | undefined;
function builtins(): InstrumentRegistry {
  defaultRegistry ??= createInstrumentRegistry();
  return defaultRegistry;
}

const DEFAULT_INSTRUMENTS = ['phq9', 'gad7'];

interface Dose {
  readonly doseNumber: number;
  readonly sessionId: string;
  readonly at: string;
  readonly ms: number;
  readonly kind: 'full' | 'half' | 'booster';
  readonly doseMg: number;
  readonly boostersMg: number[];
  readonly plannedDoseMg: number | null;
  readonly reason: string | null;
  readonly maintenance: boolean;
}

function dosesOf(c: EpisodeContext, asOfMs: number): Dose[] {
  const doses: Dose[] = [];
  for (const s of c.sessions) {
    const first = s.doses[0];
    if (s.doseNumber === null || first === undefined) continue;
    const ms = Date.parse(first.at);
    if (ms > asOfMs) continue;
    doses.push({
      doseNumber: s.doseNumber,
      sessionId: s.sessionId,
      at: first.at,
      ms,
      kind: first.kind,
      doseMg: first.doseMg,
      boostersMg: s.doses
        .slice(1)
        .filter((d) => Date.parse(d.at) <= asOfMs)
        .map((d) => d.doseMg),
      plannedDoseMg: first.plannedDoseMg ?? null,
      reason: first.reason ?? null,
      maintenance: s.maintenance === true,
    });
  }
  return doses.sort((a, b) => a.ms - b.ms);
}

/** Stable sort by time. */
function byTime<T extends { readonly at: string }>(list: readonly T[]): T[] {
  return list
    .map((v, i) => ({ v, i, ms: Date.parse(v.at) }))
    .sort((a, b) => a.ms - b.ms || a.i - b.i)
    .map((e) => e.v);
}

/**
 * The baseline assessment, by the rule of docs/methods.md (as `patientOutcome`): the last scored assessment
 * at or before the first dose; without one (or without doses), the first scored assessment.
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

function chooseInstruments(
  input: OutcomeChartInput,
  registry: InstrumentRegistry,
  assessments: readonly EpisodeAssessment[],
): InstrumentDefinition[] {
  const seen = new Set<string>();
  const out: InstrumentDefinition[] = [];
  const add = (d: InstrumentDefinition) => {
    if (!seen.has(d.id)) {
      seen.add(d.id);
      out.push(d);
    }
  };
  if (input.instruments !== undefined && input.instruments.length > 0) {
    for (const id of input.instruments) add(registry.get(id));
    return out;
  }
  const present = new Set(assessments.map((a) => a.instrument));
  for (const id of DEFAULT_INSTRUMENTS) if (present.has(id)) add(registry.get(id));
  if (out.length === 0) for (const a of assessments) add(registry.get(a.instrument));
  if (out.length === 0) add(registry.get(DEFAULT_INSTRUMENTS[0]!));
  return out;
}

function flagOf(c: EpisodeContext, eventId: string, asOfMs: number): OutcomeSafetyFlag | null {
  const flags = c.safetyFlags.filter((f) => f.assessmentEventId === eventId);
  const f = flags.find((x) => x.kind === 'positive') ?? flags[0];
  if (f === undefined) return null;
  return {
    rule: f.rule,
    kind: f.kind,
    item: f.item,
    value: f.value,
    reviewed: f.reviewed !== null && Date.parse(f.reviewed.at) <= asOfMs,
    message: f.message,
  };
}

/** Bands sorted by `min`, each drawn from its `min` to the next band's `min` (the last to its `max`). */
function bandBoxes(def: InstrumentDefinition) {
  const bands = [...(def.bands ?? [])].sort((a, b) => a.min - b.min);
  let tints = bandTints(bands.length);
  if (def.direction === 'higher-is-better') tints = tints.reverse();
  return bands.map((b, i) => ({
    ...b,
    yMin: b.min,
    yMax: bands[i + 1]?.min ?? b.max,
    color: tints[i]!,
  }));
}

function describeFlag(f: OutcomeSafetyFlag, name: string): string {
  const what =
    f.kind === 'positive'
      ? `SAFETY FLAG: ${name} item ${f.item} answered ${f.value}`
      : `SAFETY ITEM UNANSWERED: ${name} item ${f.item} left blank`;
  return `${what}${f.reviewed ? ' (reviewed)' : ' (not yet reviewed)'}`;
}

/**
 * The numbers the outcome chart shows: one row per assessment (with severity, dose number, reliable change
 * and safety flag), the doses, the critical-period windows with their overlaps and gaps, the bands and the
 * response and remission thresholds. Render `rows` as a table next to the chart so that everyone, including
 * people using screen readers, gets the same numbers.
 *
 * @example
 * ```ts
 * const { state } = replay(events);
 * const data = outcomeChartData({ context: state.context, asOf: '2026-05-01T09:00:00-04:00' });
 * data.rows.map((r) => [r.instrument, localDate(r.at), r.total, r.severityLabel, r.doseNumber]);
 * // [['phq9', '2026-03-14', 16, 'Moderately severe', 0], ['phq9', '2026-03-30', 9, 'Mild', 2], …]
 * ```
 * @throws {UnknownInstrumentError} for an instrument id the registry does not know.
 * @throws {InvalidTimestampError} when `asOf` is not an ISO 8601 date-time with an offset.
 */
export function outcomeChartData(input: OutcomeChartInput): OutcomeChartData {
  const c = input.context;
  const registry = input.registry ?? builtins();
  const xAxis: OutcomeXAxis = input.xAxis ?? 'time';
  if (input.asOf !== undefined) offsetOf(input.asOf); // validates
  const asOf = input.asOf ?? c.lastEventAt;
  const asOfMs = asOf === null ? Number.POSITIVE_INFINITY : Date.parse(asOf);

  const assessments = byTime(c.assessments.filter((a) => Date.parse(a.at) <= asOfMs));
  const defs = chooseInstruments(input, registry, assessments);
  const primary = defs[0]!;
  const doses = dosesOf(c, asOfMs);
  const windowMs = windowMsFromDays(c.policy.criticalPeriodDays);
  const analysis: CriticalPeriodAnalysis = analyzeCriticalPeriods(
    doses.map((d) => ({ at: d.at, sessionId: d.sessionId })),
    { windowMs },
  );
  const firstDoseMs = doses[0]?.ms ?? null;

  // Baselines per charted instrument.
  const baselines = new Map<string, EpisodeAssessment | null>();
  for (const d of defs) {
    const scored = assessments.filter((a) => a.instrument === d.id && a.total !== null);
    baselines.set(d.id, baselineOf(scored, firstDoseMs));
  }

  // Origin of `day` and of the days axis.
  const primaryBaseline = baselines.get(primary.id) ?? null;
  let origin: OutcomeChartData['origin'];
  if (primaryBaseline) origin = { kind: 'baseline', at: primaryBaseline.at };
  else if (doses[0]) origin = { kind: 'first-dose', at: doses[0].at };
  else if (c.openedAt !== null) origin = { kind: 'opened', at: c.openedAt };
  else origin = { kind: 'none', at: null };
  const originMs = origin.at === null ? 0 : Date.parse(origin.at);
  const dayOf = (ms: number) => (ms - originMs) / DAY_MS;
  const xOf = (ms: number) => (xAxis === 'time' ? ms : dayOf(ms));

  // Instruments.
  const instruments: OutcomeChartInstrument[] = defs.map((d, i) => {
    const base = baselines.get(d.id) ?? null;
    const outcomeDef = outcomeDefinitionOf(d.id);
    const r = input.reliableChange?.reliability?.[d.id] ?? d.change?.reliability?.value;
    const sd = input.reliableChange?.sd?.[d.id] ?? d.change?.norms?.sd;
    const rSource =
      input.reliableChange?.reliability?.[d.id] !== undefined
        ? 'given'
        : (d.change?.reliability?.source ?? '');
    const sdSource =
      input.reliableChange?.sd?.[d.id] !== undefined
        ? 'given'
        : `general-population norms: ${d.change?.norms?.source ?? ''}`;
    const scored = assessments.filter((a) => a.instrument === d.id && a.total !== null);
    const records: OutcomeRecord[] = scored.map((a) => ({
      patientId: c.patientId ?? '-',
      instrument: d.id,
      day: dayOf(Date.parse(a.at)),
      score: a.total!,
      firstDoseDay: firstDoseMs === null ? null : dayOf(firstDoseMs),
    }));
    const o =
      records.length === 0
        ? null
        : patientOutcome(records, {
            direction: d.direction,
            responseFraction: outcomeDef.responseFraction,
            remissionBelow: outcomeDef.remissionBelow,
          });
    return {
      id: d.id,
      name: d.name,
      direction: d.direction,
      range: d.range,
      color: seriesColor(i),
      baseline: base === null ? null : { eventId: base.eventId, at: base.at, total: base.total! },
      responseThreshold:
        base !== null && d.direction === 'higher-is-worse' && base.total! > 0
          ? outcomeDef.responseFraction * base.total!
          : null,
      responseFraction: outcomeDef.responseFraction,
      responseSource: outcomeDef.responseSource,
      remissionBelow: outcomeDef.remissionBelow,
      remissionSource: outcomeDef.remissionSource,
      reliableChange:
        r === undefined || sd === undefined || !(sd > 0) || !(r < 1)
          ? null
          : {
              reliability: r,
              reliabilitySource: rSource,
              sd,
              sdSource,
              pointsNeeded: reliableChangePoints({ sd, reliability: r }),
            },
      outcome:
        o === null
          ? null
          : {
              evaluable: o.evaluable,
              latest: o.latest,
              response: o.response,
              remission: o.remission,
              firstResponseDay: o.firstResponseDay,
            },
    };
  });
  const byId = new Map(instruments.map((i) => [i.id, i]));

  // Rows: every assessment of a charted instrument, and any other assessment with a safety flag.
  const rows: OutcomeChartRow[] = [];
  for (const a of assessments) {
    const inst = byId.get(a.instrument);
    const flag = flagOf(c, a.eventId, asOfMs);
    if (inst === undefined && flag === null) continue;
    const def = registry.get(a.instrument);
    const ms = Date.parse(a.at);
    const where = locateInCriticalPeriods(analysis, a.at);
    const base = inst?.baseline ?? null;
    const isBaseline = base !== null && base.eventId === a.eventId;
    const after = base !== null && a.total !== null && !isBaseline && ms >= Date.parse(base.at);
    let reliableChange: OutcomeChartRow['reliableChange'] = null;
    let rci: number | null = null;
    if (isBaseline) reliableChange = 'baseline';
    else if (after && inst?.reliableChange) {
      const jt = jacobsonTruax(
        base.total,
        a.total!,
        { sd: inst.reliableChange.sd, reliability: inst.reliableChange.reliability },
        inst.direction,
      );
      reliableChange = jt.class;
      rci = jt.rci;
    }
    const response = after && inst?.responseThreshold != null ? a.total! <= inst.responseThreshold : null;
    const remission = after && inst?.remissionBelow != null ? a.total! < inst.remissionBelow : null;
    const severityLabel =
      a.severity === null ? null : (def.bands?.find((b) => b.id === a.severity)?.label ?? a.severity);
    const row: Omit<OutcomeChartRow, 'description'> = {
      instrument: def.id,
      instrumentName: def.name,
      eventId: a.eventId,
      at: a.at,
      x: xOf(ms),
      day: dayOf(ms),
      total: a.total,
      severity: a.severity,
      severityLabel,
      baseline: isBaseline,
      doseNumber: where.doseNumber ?? 0,
      daysSinceLastDose: where.daysSinceLastDose,
      inCriticalPeriod: analysis.windows.length === 0 ? null : where.inside,
      reliableChange,
      rci,
      response,
      remission,
      safetyFlag: flag,
      charted: inst !== undefined,
    };
    rows.push({ ...row, description: describeRow(row, base?.total ?? null) });
  }

  const doseRows: OutcomeChartDose[] = doses.map((d, i) => {
    const previous = doses[i - 1]?.doseMg;
    const step =
      previous === undefined || Math.abs(previous - d.doseMg) < 1e-9
        ? null
        : d.doseMg > previous
          ? 'up'
          : 'down';
    const departs = d.plannedDoseMg !== null && Math.abs(d.plannedDoseMg - d.doseMg) > 1e-9;
    return {
      doseNumber: d.doseNumber,
      sessionId: d.sessionId,
      at: d.at,
      x: xOf(d.ms),
      kind: d.kind,
      doseMg: d.doseMg,
      boostersMg: d.boostersMg,
      plannedDoseMg: d.plannedDoseMg,
      step,
      maintenance: d.maintenance,
      description: `Dose ${d.doseNumber}${d.maintenance ? ' (maintenance)' : ''}: ${d.kind} dose ${formatScore(d.doseMg)} mg${
        d.boostersMg.length ? ` + booster ${d.boostersMg.map((m) => `${formatScore(m)} mg`).join(' + ')}` : ''
      }${step ? `, a step ${step} from ${formatScore(previous!)} mg` : ''}${
        departs ? ` (plan: ${formatScore(d.plannedDoseMg!)} mg; reason recorded)` : ''
      } on ${localDateTime(d.at)}; opens a critical period of ${formatDays(c.policy.criticalPeriodDays)} d`,
    };
  });
  const windows: OutcomeChartWindow[] = analysis.windows.map((w) => ({
    doseNumber: w.doseNumber,
    start: w.start,
    end: w.end,
    xMin: xOf(w.startMs),
    xMax: xOf(w.endMs),
  }));

  // Axis ranges: every assessment and dose, every window end, and asOf; 3% padding.
  const lows: number[] = [...rows.map((r) => Date.parse(r.at)), ...doses.map((d) => d.ms)];
  const highs: number[] = [...lows, ...analysis.windows.map((w) => w.endMs)];
  if (asOf !== null) highs.push(asOfMs);
  if (lows.length === 0)
    lows.push(c.openedAt !== null ? Date.parse(c.openedAt) : Number.isFinite(asOfMs) ? asOfMs : 0);
  if (highs.length === 0) highs.push(lows[0]!);
  let lo = Math.min(...lows);
  let hi = Math.max(...highs);
  const pad = Math.max((hi - lo) * 0.03, DAY_MS / 2);
  lo -= pad;
  hi += pad;

  const bands = bandBoxes(primary);
  const yMin = Math.min(...defs.map((d) => d.range.min));
  const yMax = Math.max(...defs.map((d) => d.range.max));

  return {
    episodeId: c.episodeId,
    patientId: c.patientId,
    synthetic: c.synthetic,
    asOf,
    xAxis,
    origin,
    primary: primary.id,
    instruments,
    bands,
    bandsSource: primary.bandsSource ?? null,
    rows,
    doses: doseRows,
    criticalPeriodDays: c.policy.criticalPeriodDays,
    windows,
    overlaps: analysis.overlaps.map((o) => ({ from: o.from, to: o.to, days: o.overlapMs / DAY_MS })),
    gaps: analysis.gaps.map((g) => ({
      afterDose: g.afterDose,
      start: g.start,
      end: g.end,
      days: g.durationMs / DAY_MS,
    })),
    x: { min: xOf(lo), max: xOf(hi) },
    y: { min: yMin, max: yMax },
  };
}

function describeRow(r: Omit<OutcomeChartRow, 'description'>, baseline: number | null): string {
  const parts: string[] = [];
  const score =
    r.total === null
      ? `${r.instrumentName} not scorable (too many items unanswered)`
      : `${r.instrumentName} ${formatScore(r.total)}${r.severityLabel ? ` (${r.severityLabel.toLowerCase()})` : ''}`;
  parts.push(`${score} on ${localDate(r.at)}`);
  if (r.baseline) parts.push('baseline');
  parts.push(
    r.doseNumber === 0
      ? 'before the first dose'
      : `after dose ${r.doseNumber} (${formatDays(r.daysSinceLastDose ?? 0)} d since), ${r.inCriticalPeriod ? 'inside' : 'outside'} a critical period`,
  );
  if (r.reliableChange === 'improved' || r.reliableChange === 'deteriorated') {
    parts.push(
      `reliable ${r.reliableChange === 'improved' ? 'improvement' : 'deterioration'} vs baseline ${formatScore(baseline!)} (RCI ${signed(r.rci!)})`,
    );
  } else if (r.reliableChange === 'no-reliable-change') {
    parts.push(`no reliable change vs baseline ${formatScore(baseline!)}`);
  }
  if (r.response) parts.push('meets the response criterion');
  if (r.remission) parts.push('in remission range');
  if (r.safetyFlag) parts.push(describeFlag(r.safetyFlag, r.instrumentName));
  if (!r.charted) parts.push(`${r.instrumentName} is not charted: marker at its total`);
  return parts.join('; ');
}

const LABEL_FONT = { size: 11 } as const;
const REMISSION_LABEL_POSITIONS = ['end', 'start', 'center'] as const;

function timeUnit(spanDays: number): 'day' | 'week' | 'month' {
  return spanDays <= 21 ? 'day' : spanDays <= 150 ? 'week' : 'month';
}

/** Legend in dataset order (chart.js would sort by `order`, which here sets drawing order). */
function legendByIndex(a: LegendItem, b: LegendItem): number {
  return (a.datasetIndex ?? 0) - (b.datasetIndex ?? 0);
}

/**
 * Build the outcome chart of one episode as a chart.js configuration (pure and deterministic: the same input
 * gives an equal configuration; no DOM, no clock). It shows, on one score axis:
 *
 * - each instrument's totals (line and points; instruments differ by colour, point style and dash);
 * - the primary instrument's severity bands as labelled background boxes, each from its `min` to the next
 *   band's `min` (bands are half-open, so prorated totals fall in exactly one);
 * - each dosing session as a labelled vertical line (dose number and mg) and a legend entry;
 * - each dose's critical period `[dose, dose + W)` as a translucent box: where two windows overlap the shade
 *   is darker (alpha stacking), and gaps stay unshaded;
 * - per instrument, the response line (50% of baseline, from the baseline on) and the remission line (< 5);
 * - reliable change vs baseline (Jacobson–Truax) as triangles (▲ improvement, ▼ deterioration) and safety
 *   flags as ✕ (item answered > 0) or ◆ (safety item unanswered): distinct shapes, legend entries and
 *   tooltip sentences, never colour alone.
 *
 * Register chart.js's line controller, the time scale with `chartjs-adapter-date-fns` (for `xAxis: 'time'`),
 * the Filler, Legend, Title, SubTitle and Tooltip plugins and `chartjs-plugin-annotation` before use
 * (`@kapkit/charts/render` does this for PNGs). Time-axis tick labels are formatted by the adapter in the
 * local time zone of the renderer; the data rows keep each timestamp's own UTC offset.
 *
 * @example
 * ```ts
 * import { Chart, registerables } from 'chart.js';
 * import annotationPlugin from 'chartjs-plugin-annotation';
 * import 'chartjs-adapter-date-fns';
 * Chart.register(...registerables, annotationPlugin);
 *
 * const { state } = replay(events);
 * new Chart(canvas, outcomeChartConfig({ context: state.context, xAxis: 'days-since-baseline' }));
 * ```
 * @throws {UnknownInstrumentError} for an instrument id the registry does not know.
 * @throws {InvalidTimestampError} when `asOf` is not an ISO 8601 date-time with an offset.
 */
export function outcomeChartConfig(input: OutcomeChartInput): OutcomeChartConfiguration {
  return outcomeChart(input).config;
}

/**
 * The outcome chart's configuration and the data it shows, computed once.
 *
 * @example
 * ```ts
 * const { config, data } = outcomeChart({ context });
 * renderTable(data.rows); // the same numbers as the chart, for screen readers
 * ```
 */
export function outcomeChart(input: OutcomeChartInput): {
  readonly config: OutcomeChartConfiguration;
  readonly data: OutcomeChartData;
} {
  const data = outcomeChartData(input);
  return { config: outcomeChartConfigFromData(data, input.title), data };
}

/** Build the configuration from {@link outcomeChartData}'s result (see {@link outcomeChartConfig}). */
export function outcomeChartConfigFromData(
  data: OutcomeChartData,
  title?: string,
): OutcomeChartConfiguration {
  const datasets: OutcomeDataset[] = [];
  const instrumentNames = data.instruments.map((i) => i.name);

  data.instruments.forEach((inst, i) => {
    const points: OutcomePoint[] = data.rows
      .filter((r) => r.instrument === inst.id && r.total !== null && r.charted)
      .map((r) => ({
        x: r.x,
        y: r.total!,
        description: r.description,
        eventId: r.eventId,
        instrument: r.instrument,
      }));
    datasets.push({
      kapkitRole: 'instrument',
      instrument: inst.id,
      label: `${inst.name} total`,
      data: points,
      borderColor: inst.color,
      backgroundColor: inst.color,
      borderWidth: 2.5,
      borderDash: i === 0 ? [] : [7, 4],
      pointStyle: OUTCOME_POINT_STYLES.instrument[i % OUTCOME_POINT_STYLES.instrument.length]!,
      pointRadius: 4,
      pointHoverRadius: 6,
      tension: 0,
      order: 3,
    });
  });

  const markerY = data.y.max;
  datasets.push({
    kapkitRole: 'dose',
    label: 'Dosing session (dose number, mg)',
    data: data.doses.map((d) => ({ x: d.x, y: markerY, description: d.description })),
    showLine: false,
    pointStyle: OUTCOME_POINT_STYLES.dose,
    pointRotation: 90,
    pointRadius: 8,
    pointHoverRadius: 10,
    borderColor: palette.dose,
    backgroundColor: palette.dose,
    borderWidth: 4,
    clip: false,
    order: 2,
  });
  datasets.push({
    kapkitRole: 'critical-period',
    label: `Critical period (${formatDays(data.criticalPeriodDays)} d after each dose; darker where periods overlap)`,
    data: [],
    showLine: false,
    pointStyle: 'rect',
    backgroundColor: withAlpha(palette.criticalPeriod, 0.35),
    borderColor: palette.criticalPeriodBorder,
    borderWidth: 1,
    order: 4,
  });

  const charted = data.rows.filter((r) => r.total !== null);
  const improved = charted.filter((r) => r.reliableChange === 'improved');
  const deteriorated = charted.filter((r) => r.reliableChange === 'deteriorated');
  const toPoint = (r: OutcomeChartRow): OutcomePoint => ({
    x: r.x,
    y: r.total ?? data.y.min,
    description: r.description,
    eventId: r.eventId,
    instrument: r.instrument,
  });
  if (improved.length > 0) {
    datasets.push({
      kapkitRole: 'reliable-improvement',
      label: '▲ Reliable improvement vs baseline (Jacobson–Truax)',
      data: improved.map(toPoint),
      showLine: false,
      pointStyle: OUTCOME_POINT_STYLES.reliableImprovement,
      pointRadius: 8,
      pointHoverRadius: 10,
      backgroundColor: palette.improved,
      borderColor: '#ffffff',
      borderWidth: 1,
      order: 1,
    });
  }
  if (deteriorated.length > 0) {
    datasets.push({
      kapkitRole: 'reliable-deterioration',
      label: '▼ Reliable deterioration vs baseline (Jacobson–Truax)',
      data: deteriorated.map(toPoint),
      showLine: false,
      pointStyle: OUTCOME_POINT_STYLES.reliableDeterioration,
      pointRotation: 180,
      pointRadius: 8,
      pointHoverRadius: 10,
      backgroundColor: palette.deteriorated,
      borderColor: '#ffffff',
      borderWidth: 1,
      order: 1,
    });
  }
  const positive = data.rows.filter((r) => r.safetyFlag?.kind === 'positive');
  const unanswered = data.rows.filter((r) => r.safetyFlag?.kind === 'unanswered');
  if (positive.length > 0) {
    const items = [...new Set(positive.map((r) => `${r.instrumentName} item ${r.safetyFlag!.item}`))];
    datasets.push({
      kapkitRole: 'safety-positive',
      label: `✕ Safety flag: ${items.join(', ')} answered above 0`,
      data: positive.map(toPoint),
      showLine: false,
      pointStyle: OUTCOME_POINT_STYLES.safetyPositive,
      pointRadius: 10,
      pointHoverRadius: 12,
      backgroundColor: palette.safety,
      borderColor: palette.safety,
      borderWidth: 3.5,
      clip: false,
      order: 0,
    });
  }
  if (unanswered.length > 0) {
    datasets.push({
      kapkitRole: 'safety-unanswered',
      label: '◆ Safety item left unanswered',
      data: unanswered.map(toPoint),
      showLine: false,
      pointStyle: OUTCOME_POINT_STYLES.safetyUnanswered,
      pointRadius: 8,
      pointHoverRadius: 10,
      backgroundColor: 'rgba(255, 255, 255, 0.9)',
      borderColor: palette.safety,
      borderWidth: 2.5,
      clip: false,
      order: 0,
    });
  }

  const annotations: Record<string, AnnotationOptions> = {};
  for (const b of data.bands) {
    annotations[`band-${b.id}`] = {
      type: 'box',
      drawTime: 'beforeDatasetsDraw',
      z: 0,
      yMin: b.yMin,
      yMax: b.yMax,
      backgroundColor: b.color,
      borderWidth: 0,
      label: {
        display: true,
        content: `${b.label} (${b.min}–${b.max})`,
        position: { x: 'start', y: 'center' },
        color: palette.text,
        font: LABEL_FONT,
        padding: 3,
      },
    };
  }
  for (const w of data.windows) {
    annotations[`window-${w.doseNumber}`] = {
      type: 'box',
      drawTime: 'beforeDatasetsDraw',
      z: 1,
      xMin: w.xMin,
      xMax: w.xMax,
      backgroundColor: palette.criticalPeriod,
      borderWidth: 0,
    };
  }
  data.instruments.forEach((inst, i) => {
    if (inst.responseThreshold !== null && inst.baseline !== null) {
      const baseX = data.rows.find((r) => r.eventId === inst.baseline!.eventId)?.x;
      annotations[`response-${inst.id}`] = {
        type: 'line',
        drawTime: 'beforeDatasetsDraw',
        z: 2,
        yMin: inst.responseThreshold,
        yMax: inst.responseThreshold,
        ...(baseX === undefined ? {} : { xMin: baseX }),
        borderColor: inst.color,
        borderWidth: 1.5,
        borderDash: [8, 4],
        label: {
          display: true,
          content: `${inst.name} response ≤ ${formatScore(inst.responseThreshold)} (50% of baseline ${formatScore(inst.baseline.total)})`,
          position: 'end',
          yAdjust: -10,
          color: palette.text,
          backgroundColor: 'rgba(255, 255, 255, 0.85)',
          font: LABEL_FONT,
          padding: 3,
        },
      };
    }
    if (inst.remissionBelow !== null) {
      annotations[`remission-${inst.id}`] = {
        type: 'line',
        drawTime: 'beforeDatasetsDraw',
        z: 2,
        yMin: inst.remissionBelow,
        yMax: inst.remissionBelow,
        borderColor: inst.color,
        borderWidth: 1.5,
        borderDash: [2, 3],
        label: {
          display: true,
          content: `${inst.name} remission < ${formatScore(inst.remissionBelow)}`,
          position: REMISSION_LABEL_POSITIONS[i % REMISSION_LABEL_POSITIONS.length]!,
          yAdjust: 10,
          color: palette.text,
          backgroundColor: 'rgba(255, 255, 255, 0.85)',
          font: LABEL_FONT,
          padding: 3,
        },
      };
    }
  });
  for (const d of data.doses) {
    annotations[`dose-${d.doseNumber}`] = {
      type: 'line',
      drawTime: 'beforeDatasetsDraw',
      z: 3,
      xMin: d.x,
      xMax: d.x,
      borderColor: palette.dose,
      // A dose step (titration) is drawn heavier and labelled with its direction.
      borderWidth: d.step ? 2.5 : 1.5,
      borderDash: [4, 3],
      label: {
        display: true,
        content: [
          `${d.maintenance ? 'Maint. dose' : 'Dose'} ${d.doseNumber}`,
          `${formatScore(d.doseMg)}${d.boostersMg.map((m) => `+${formatScore(m)}`).join('')} mg${
            d.step === 'up' ? ' ▲' : d.step === 'down' ? ' ▼' : ''
          }`,
        ],
        position: 'end',
        yAdjust: 16,
        color: palette.text,
        backgroundColor: 'rgba(255, 255, 255, 0.9)',
        font: { size: 10 },
        padding: 2,
      },
    };
  }

  const spanDays = data.xAxis === 'time' ? (data.x.max - data.x.min) / DAY_MS : data.x.max - data.x.min;
  const origin = data.origin;
  const primaryName = data.instruments[0]!.name;
  const xScale =
    data.xAxis === 'time'
      ? {
          type: 'time' as const,
          min: data.x.min,
          max: data.x.max,
          time: {
            unit: timeUnit(spanDays),
            tooltipFormat: 'yyyy-MM-dd HH:mm',
            displayFormats: { day: 'MMM d', week: 'MMM d', month: 'MMM yyyy' },
          },
          title: { display: true, text: 'Date', color: palette.mutedText },
          grid: { color: palette.grid },
          ticks: { color: palette.text },
        }
      : {
          type: 'linear' as const,
          min: data.x.min,
          max: data.x.max,
          ticks: {
            stepSize: spanDays <= 91 ? 7 : spanDays <= 200 ? 14 : 28,
            includeBounds: false,
            color: palette.text,
          },
          title: {
            display: true,
            text:
              origin.kind === 'baseline'
                ? `Days since ${primaryName} baseline (${localDate(origin.at!)})`
                : origin.kind === 'first-dose'
                  ? `Days since the first dose (${localDate(origin.at!)})`
                  : origin.kind === 'opened'
                    ? `Days since the episode opened (${localDate(origin.at!)})`
                    : 'Days',
            color: palette.mutedText,
          },
          grid: { color: palette.grid },
        };

  const subtitle: string[] = [];
  if (data.synthetic) subtitle.push('SYNTHETIC DEMO DATA: not a real patient');
  subtitle.push(
    [
      data.asOf === null ? null : `As of ${localDateTime(data.asOf)}`,
      `critical period ${formatDays(data.criticalPeriodDays)} d`,
      data.bands.length
        ? `${primaryName} severity bands${data.bandsSource ? `: ${data.bandsSource}` : ''}`
        : null,
    ]
      .filter((s) => s !== null)
      .join(' · '),
  );
  const rc = rcNote(data);
  if (rc !== null) subtitle.push(rc);

  return {
    type: 'line',
    data: { datasets },
    options: {
      parsing: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: xScale,
        y: {
          type: 'linear',
          min: data.y.min,
          max: data.y.max,
          title: {
            display: true,
            text: `Total score (${data.instruments.every((i) => i.direction === 'higher-is-worse') ? 'higher = more symptoms' : 'see each measure'})`,
            color: palette.mutedText,
          },
          grid: { color: palette.grid },
          ticks: { color: palette.text },
        },
      },
      plugins: {
        title: {
          display: true,
          text:
            title ??
            `${instrumentNames.join(' and ')}: patient ${data.patientId ?? '-'}, episode ${data.episodeId ?? '-'}`,
          color: palette.text,
          font: { size: 16, weight: 'bold' },
        },
        subtitle: { display: true, text: subtitle, color: palette.mutedText, padding: { bottom: 8 } },
        legend: {
          position: 'bottom',
          labels: {
            usePointStyle: true,
            boxHeight: 10,
            sort: legendByIndex,
            color: palette.text,
            padding: 14,
          },
        },
        tooltip: { callbacks: { label: describedTooltipLabel } },
        annotation: { clip: true, annotations },
      },
    },
  };
}

function rcNote(data: OutcomeChartData): string | null {
  const notes = data.instruments
    .filter((i) => i.reliableChange !== null)
    .map((i) => {
      const rc = i.reliableChange!;
      return `${i.name} r = ${rc.reliability}, SD = ${formatScore(Number(rc.sd.toFixed(2)))} (${rc.sdSource === 'given' ? 'given' : 'population norms'}): ${formatScore(Number(rc.pointsNeeded.toFixed(2)))} points`;
    });
  return notes.length ? `Reliable change (Jacobson–Truax, 1.96 · Sdiff): ${notes.join('; ')}` : null;
}

/**
 * A one-paragraph summary of the outcome chart for `aria-label` / alt text: instruments, baseline and
 * latest scores, doses, critical-period overlaps and gaps, reliable change and safety flags.
 *
 * @example
 * ```ts
 * canvas.setAttribute('aria-label', describeOutcomeChart(outcomeChartData({ context })));
 * ```
 */
export function describeOutcomeChart(data: OutcomeChartData): string {
  const parts: string[] = [];
  if (data.synthetic) parts.push('Synthetic demo data.');
  for (const inst of data.instruments) {
    const rows = data.rows.filter((r) => r.instrument === inst.id && r.total !== null);
    if (rows.length === 0) {
      parts.push(`${inst.name}: no scored assessments.`);
      continue;
    }
    const last = rows[rows.length - 1]!;
    const base = inst.baseline;
    parts.push(
      `${inst.name}: ${rows.length} assessment(s); baseline ${base ? formatScore(base.total) : '-'}, latest ${formatScore(last.total!)}${last.severityLabel ? ` (${last.severityLabel.toLowerCase()})` : ''}${
        inst.outcome?.response ? ', response' : ''
      }${inst.outcome?.remission ? ', remission' : ''}.`,
    );
  }
  parts.push(
    `${data.doses.length} dose(s); critical period ${formatDays(data.criticalPeriodDays)} days; ${data.overlaps.length} overlap(s), ${data.gaps.length} gap(s)${
      data.gaps.length
        ? ` (${data.gaps.map((g) => `${formatDays(g.days)} d after dose ${g.afterDose}`).join(', ')})`
        : ''
    }.`,
  );
  const improved = data.rows.filter((r) => r.reliableChange === 'improved').length;
  const deteriorated = data.rows.filter((r) => r.reliableChange === 'deteriorated').length;
  parts.push(`Reliable improvement at ${improved} assessment(s), deterioration at ${deteriorated}.`);
  const flags = data.rows.filter((r) => r.safetyFlag !== null);
  parts.push(
    flags.length === 0
      ? 'No safety flags.'
      : `Safety flags: ${flags.map((r) => `${describeFlag(r.safetyFlag!, r.instrumentName)} on ${localDate(r.at)}`).join('; ')}.`,
  );
  return parts.join(' ');
}
