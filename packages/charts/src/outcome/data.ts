import { type EpisodeOutcomes, episodeOutcomes, type InstrumentOutcome } from '@kapkit/analytics';
import {
  createInstrumentRegistry,
  type InstrumentDefinition,
  type InstrumentRegistry,
} from '@kapkit/core/instruments';
import type { EpisodeAssessment, EpisodeContext } from '@kapkit/core/read';
import { DAY_MS, offsetOf } from '@kapkit/core/time';
import { formatDays, formatScore, localDateTime } from '../format.js';
import { bandTints, seriesColor } from '../palette.js';
import { describeRow } from './describe.js';
import type {
  OutcomeChartBand,
  OutcomeChartData,
  OutcomeChartDose,
  OutcomeChartInput,
  OutcomeChartInstrument,
  OutcomeChartRow,
  OutcomeChartWindow,
  OutcomeSafetyFlag,
  OutcomeXAxis,
} from './types.js';

let defaultRegistry: InstrumentRegistry | undefined;
function builtins(): InstrumentRegistry {
  defaultRegistry ??= createInstrumentRegistry();
  return defaultRegistry;
}

const DEFAULT_INSTRUMENTS = ['phq9', 'gad7'];

/** What the chart shows of a dosing session with a dose (beyond its critical period). */
interface Dose {
  readonly doseNumber: number;
  readonly sessionId: string;
  readonly at: string;
  readonly ms: number;
  readonly kind: 'full' | 'half' | 'booster';
  readonly doseMg: number;
  readonly boostersMg: number[];
  readonly plannedDoseMg: number | null;
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
      maintenance: s.maintenance === true,
    });
  }
  return doses.sort((a, b) => a.ms - b.ms);
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
function bandBoxes(def: InstrumentDefinition): OutcomeChartBand[] {
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

/** The chart's view of one instrument: its definitions and outcome from `episodeOutcomes`, its panel. */
function chartInstrument(d: InstrumentDefinition, o: InstrumentOutcome, i: number): OutcomeChartInstrument {
  const rc = o.reliableChange;
  const summary = o.outcome;
  return {
    id: d.id,
    name: d.name,
    direction: d.direction,
    range: d.range,
    color: seriesColor(i),
    scaleId: `y-${d.id}`,
    bands: bandBoxes(d),
    bandsSource: d.bandsSource ?? null,
    baseline:
      o.baseline === null
        ? null
        : { eventId: o.baseline.eventId, at: o.baseline.at, total: o.baseline.score },
    responseThreshold: o.responseThreshold,
    responseFraction: o.response?.fraction ?? null,
    responseSource: o.response?.source ?? null,
    remissionBelow: o.remission?.below ?? null,
    remissionSource: o.remission?.source ?? null,
    reliableChange:
      rc === null
        ? null
        : {
            reliability: rc.reliability,
            reliabilitySource: rc.reliabilitySource,
            sd: rc.sd,
            sdSource: rc.sdSource,
            critical: rc.critical,
            pointsNeeded: rc.pointsNeeded,
          },
    notDefined: o.notDefined,
    outcome:
      summary === null
        ? null
        : {
            evaluable: summary.evaluable,
            latest: summary.latest,
            response: summary.response,
            remission: summary.remission,
            firstResponseDay: summary.firstResponseDay,
          },
  };
}

/** The doses as the chart shows them: dose steps, the plan's dose and a sentence each. */
function chartDoses(
  doses: readonly Dose[],
  xOf: (ms: number) => number,
  criticalPeriodDays: number,
): OutcomeChartDose[] {
  return doses.map((d, i) => {
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
      } on ${localDateTime(d.at)}; opens a critical period of ${formatDays(criticalPeriodDays)} d`,
    };
  });
}

/**
 * The numbers the outcome chart shows: one row per assessment (with severity, dose number, reliable change
 * and safety flag), the doses, the critical-period windows with their overlaps and gaps, each instrument's
 * bands and response and remission thresholds. Every outcome (baseline, response, remission, reliable change,
 * critical-period position) is `episodeOutcomes`' from `@kapkit/analytics`; this only lays it out. Render
 * `rows` as a table next to the chart so that everyone, including people using screen readers, gets the same
 * numbers.
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

  const visible = c.assessments.filter((a) => Date.parse(a.at) <= asOfMs);
  const defs = chooseInstruments(input, registry, visible);
  const primary = defs[0]!;
  const outcomes: EpisodeOutcomes = episodeOutcomes(c, {
    registry,
    instruments: defs.map((d) => d.id),
    ...(asOf === null ? {} : { asOf }),
    ...(input.reliableChange ? { reliableChange: input.reliableChange } : {}),
  });
  const doses = dosesOf(c, asOfMs);
  const analysis = outcomes.criticalPeriods;
  const byInstrument = new Map(outcomes.instruments.map((o) => [o.instrument, o]));

  // Origin of `day` and of the days axis.
  const primaryBaseline = byInstrument.get(primary.id)?.baseline ?? null;
  let origin: OutcomeChartData['origin'];
  if (primaryBaseline) origin = { kind: 'baseline', at: primaryBaseline.at };
  else if (doses[0]) origin = { kind: 'first-dose', at: doses[0].at };
  else if (c.openedAt !== null) origin = { kind: 'opened', at: c.openedAt };
  else origin = { kind: 'none', at: null };
  const originMs = origin.at === null ? 0 : Date.parse(origin.at);
  const dayOf = (ms: number) => (ms - originMs) / DAY_MS;
  const xOf = (ms: number) => (xAxis === 'time' ? ms : dayOf(ms));

  const instruments = defs.map((d, i) => chartInstrument(d, byInstrument.get(d.id)!, i));
  const byId = new Map(instruments.map((i) => [i.id, i]));

  // Rows: every assessment of a charted instrument, and any other assessment with a safety flag.
  const rows: OutcomeChartRow[] = [];
  for (const a of outcomes.assessments) {
    const inst = byId.get(a.instrument);
    const flag = flagOf(c, a.eventId, asOfMs);
    if (inst === undefined && flag === null) continue;
    const def = registry.get(a.instrument);
    const recorded = c.assessments.find((x) => x.eventId === a.eventId)!;
    const ms = Date.parse(a.at);
    const charted = inst !== undefined;
    const severityLabel =
      recorded.severity === null
        ? null
        : (def.bands?.find((b) => b.id === recorded.severity)?.label ?? recorded.severity);
    const row: Omit<OutcomeChartRow, 'description'> = {
      instrument: def.id,
      instrumentName: def.name,
      eventId: a.eventId,
      at: a.at,
      x: xOf(ms),
      day: dayOf(ms),
      total: a.score,
      severity: recorded.severity,
      severityLabel,
      baseline: charted && a.isBaseline,
      change: charted ? a.change : null,
      doseNumber: a.criticalPeriod.doseNumber,
      daysSinceLastDose: a.criticalPeriod.daysSinceLastDose,
      inCriticalPeriod: a.criticalPeriod.inside,
      reliableChange: charted ? a.reliableChange : null,
      rci: charted ? a.rci : null,
      response: charted ? a.response : null,
      remission: charted ? a.remission : null,
      safetyFlag: flag,
      charted,
    };
    rows.push({ ...row, description: describeRow(row, charted ? a.baseline : null) });
  }

  const doseRows = chartDoses(doses, xOf, c.policy.criticalPeriodDays);
  const todayMs = input.asOf === undefined ? null : Date.parse(input.asOf);
  const windows: OutcomeChartWindow[] = analysis.windows.map((w) => ({
    doseNumber: w.doseNumber,
    start: w.start,
    end: w.end,
    xMin: xOf(w.startMs),
    xMax: xOf(w.endMs),
    drawnXMax: xOf(todayMs === null ? w.endMs : Math.max(w.startMs, Math.min(w.endMs, todayMs))),
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

  return {
    episodeId: c.episodeId,
    patientId: c.patientId,
    synthetic: c.synthetic,
    asOf,
    xAxis,
    origin,
    primary: primary.id,
    instruments,
    bands: instruments[0]!.bands,
    bandsSource: primary.bandsSource ?? null,
    today: input.asOf === undefined || todayMs === null ? null : { at: input.asOf, x: xOf(todayMs) },
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
    y: { min: Math.min(...defs.map((d) => d.range.min)), max: Math.max(...defs.map((d) => d.range.max)) },
  };
}
