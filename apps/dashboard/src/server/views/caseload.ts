/** The caseload's rows: one per patient's latest episode, from `statusAt` and `episodeOutcomes`. */

import { episodeOutcomes, type InstrumentOutcome } from '@kapkit/analytics';
import { type EpisodeContext, type EpisodeState, statusAt } from '@kapkit/core';
import type { InstrumentRegistry } from '@kapkit/core/instruments';
import type { StoredSafetySignal } from '@kapkit/store';
import type { CaseloadRow, ScoreSummary } from '../../shared/api.js';
import { SEVERITY_RANK, signalAlerts, sortAlerts } from './alerts.js';

function bandLabel(registry: InstrumentRegistry, instrument: string, severity: string | null): string | null {
  if (severity === null) return null;
  return registry.find(instrument)?.bands?.find((b) => b.id === severity)?.label ?? severity;
}

/** Per-instrument outcome of one episode (baseline, change, response, remission): `episodeOutcomes`'. */
function outcomesByInstrument(
  context: EpisodeContext,
  registry: InstrumentRegistry,
): Map<string, InstrumentOutcome> {
  return new Map(episodeOutcomes(context, { registry }).instruments.map((i) => [i.instrument, i]));
}

function scoreSummary(
  context: EpisodeContext,
  instrument: string,
  outcome: InstrumentOutcome | undefined,
  registry: InstrumentRegistry,
): ScoreSummary | null {
  const scored = context.assessments.filter((a) => a.instrument === instrument && a.total !== null);
  const last = scored[scored.length - 1];
  if (!last || last.total === null) return null;
  const summary = outcome?.outcome ?? null;
  const improvement = summary?.improvement ?? null;
  return {
    instrument,
    at: last.at,
    total: last.total,
    severity: last.severity,
    severityLabel: bandLabel(registry, instrument, last.severity),
    baseline: outcome?.baseline?.score ?? null,
    baselineAt: outcome?.baseline?.at ?? null,
    change: summary?.change ?? null,
    percentChange: summary?.percentChange ?? null,
    trend: improvement === null ? null : improvement > 0 ? 'better' : improvement < 0 ? 'worse' : 'unchanged',
  };
}

/** The latest PHQ-9 and GAD-7 of an episode with their trend: they change only with the episode's events. */
export interface CaseloadScores {
  readonly phq9: ScoreSummary | null;
  readonly gad7: ScoreSummary | null;
}

/** The caseload's scores of one folded episode (independent of the time of the request). */
export function caseloadScores(context: EpisodeContext, registry: InstrumentRegistry): CaseloadScores {
  const outcomes = outcomesByInstrument(context, registry);
  return {
    phq9: scoreSummary(context, 'phq9', outcomes.get('phq9'), registry),
    gad7: scoreSummary(context, 'gad7', outcomes.get('gad7'), registry),
  };
}

/**
 * One caseload row: phase, latest PHQ-9/GAD-7 with trend (`scores`, from `caseloadScores`), doses on hand and
 * alerts, as of `asOf`.
 */
export function caseloadRow(
  state: EpisodeState,
  asOf: string,
  scores: CaseloadScores,
  signals: readonly StoredSafetySignal[] = [],
): CaseloadRow {
  const c = state.context;
  const status = statusAt(state, asOf);
  return {
    patientId: c.patientId ?? '',
    episodeId: c.episodeId ?? '',
    synthetic: c.synthetic,
    phase: status.phase,
    openedAt: c.openedAt,
    lastEventAt: c.lastEventAt,
    phq9: scores.phq9,
    gad7: scores.gad7,
    dosesGiven: status.dosesGiven,
    plannedDosingSessions: status.plannedDosingSessions,
    dosesOnHand: status.dosesOnHand,
    nextDoseLatestDay: status.criticalPeriods.nextDoseLatestDay,
    followUpDueAt: status.followUp?.dueAt ?? null,
    alerts: sortAlerts([...signalAlerts(signals), ...status.alerts]),
  };
}

/** Caseload order: urgent alerts first, then warnings, then active before closed, then by patient id. */
export function sortCaseload(rows: CaseloadRow[]): CaseloadRow[] {
  const worst = (r: CaseloadRow) => Math.min(3, ...r.alerts.map((a) => SEVERITY_RANK[a.severity] ?? 3));
  const closed = (r: CaseloadRow) => (r.phase === 'completed' || r.phase === 'discontinued' ? 1 : 0);
  return rows.sort(
    (a, b) => worst(a) - worst(b) || closed(a) - closed(b) || a.patientId.localeCompare(b.patientId),
  );
}
