/**
 * The patient page's view of one episode. Every number comes from @kapkit/core (`statusAt`, the folded episode
 * context) or @kapkit/analytics, never recomputed by hand.
 */

import { outcomeChartData } from '@kapkit/charts';
import {
  type EpisodeContext,
  type EpisodeEvent,
  type EpisodeState,
  type EpisodeStatus,
  phaseOf,
  statusAt,
} from '@kapkit/core';
import type { InstrumentRegistry } from '@kapkit/core/instruments';
import { dosedSessions, plannedDoseFor } from '@kapkit/core/read';
import type { StoredSafetySignal } from '@kapkit/store';
import type { DoseView, EpisodeView, VitalsView } from '../../shared/api.js';
import { signalAlerts, sortAlerts } from './alerts.js';
import { pick } from './pick.js';
import { timelineOf } from './timeline.js';

type Session = EpisodeContext['sessions'][number];
type Window = EpisodeStatus['criticalPeriods']['analysis']['windows'][number];

/** One vitals reading of a session as the vitals chart and table show it. */
function vitalsOf(
  s: Session,
  v: Session['otherVitals'][number] | Session['preVitals'][number],
  phase: VitalsView['phase'],
  aboveHold: boolean,
): VitalsView {
  return {
    sessionId: s.sessionId,
    doseNumber: s.doseNumber,
    at: v.at,
    phase,
    systolic: v.systolic,
    diastolic: v.diastolic,
    heartRate: v.heartRate ?? null,
    spo2: v.spo2 ?? null,
    aboveHold,
  };
}

/** The doses given (first dose of each dosed session, with its critical window's end) and every vitals reading. */
function dosesAndVitals(
  c: EpisodeContext,
  windows: readonly Window[],
): { doses: DoseView[]; vitals: VitalsView[] } {
  const doses: DoseView[] = [];
  const vitals: VitalsView[] = [];
  for (const s of c.sessions) {
    for (const v of s.preVitals) vitals.push(vitalsOf(s, v, 'pre', v.aboveHold));
    for (const v of s.otherVitals) vitals.push(vitalsOf(s, v, v.phase, false));
    const first = s.doses[0];
    if (first && s.doseNumber !== null) {
      doses.push({
        sessionId: s.sessionId,
        doseNumber: s.doseNumber,
        at: first.at,
        kind: first.kind,
        doseMg: first.doseMg,
        route: first.route,
        vitalsOverride: first.vitalsOverride,
        windowEnd: windows.find((w) => w.sessionId === s.sessionId)?.end ?? null,
      });
    }
  }
  vitals.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  doses.sort((a, b) => a.doseNumber - b.doseNumber);
  return { doses, vitals };
}

/** Doses, follow-up, measures due and critical periods, as of the status's time. */
function scheduleView(
  status: EpisodeStatus,
  c: EpisodeContext,
  windows: readonly Window[],
): Pick<
  EpisodeView,
  | 'dosesGiven'
  | 'plannedDosingSessions'
  | 'dosesOnHand'
  | 'dosesAuthorized'
  | 'followUp'
  | 'measures'
  | 'criticalPeriods'
> {
  return {
    ...pick(status, 'dosesGiven', 'plannedDosingSessions', 'dosesOnHand', 'dosesAuthorized'),
    followUp: status.followUp ? pick(status.followUp, 'lastAt', 'dueAt', 'overdue') : null,
    measures: status.measures.map((m) => pick(m, 'instrument', 'rule', 'dueAt', 'status')),
    criticalPeriods: {
      ...pick(status.criticalPeriods, 'windowDays', 'nextDoseBefore', 'nextDoseLatestDay'),
      coverage: status.criticalPeriods.analysis.coverage?.fraction ?? null,
      windows: windows.map((w) => ({
        doseNumber: c.sessions.find((x) => x.sessionId === w.sessionId)?.doseNumber ?? w.doseNumber,
        start: w.start,
        end: w.end,
      })),
    },
  };
}

/** Informed consent in force and the latest medication review. */
function consentAndMedications(
  status: EpisodeStatus,
  c: EpisodeContext,
): Pick<EpisodeView, 'consent' | 'medications'> {
  return {
    consent: {
      ...pick(status.consent, 'required', 'inForce', 'withdrawn'),
      documentVersion: status.consent.latest?.documentVersion ?? null,
      recordedAt: status.consent.latest?.at ?? null,
    },
    medications: {
      reviewedAt: status.medications.reviewedAt,
      list: (c.medications?.list ?? []).map((m) => ({
        name: m.name,
        class: m.class,
        dailyDose: m.dailyDose ?? null,
        unit: m.unit ?? (m.dailyDose === undefined ? null : 'mg'),
      })),
      diazepamEquivalentMgPerDay: status.medications.diazepamEquivalentMgPerDay,
      findings: status.medications.findings.map((f) => f.message),
    },
  };
}

/** The plan the dosing form needs: titration, maintenance, prescription, the open session and the hold policy. */
function treatmentView(
  status: EpisodeStatus,
  c: EpisodeContext,
): Pick<
  EpisodeView,
  | 'titration'
  | 'nextPlannedDoseMg'
  | 'maintenance'
  | 'prescription'
  | 'currentSessionId'
  | 'vitalsHold'
  | 'policy'
> {
  return {
    titration: c.plan?.titration ?? null,
    nextPlannedDoseMg: plannedDoseFor(c, dosedSessions(c).length + 1),
    maintenance: status.maintenance
      ? pick(status.maintenance, 'intervalDays', 'sessions', 'lastDoseAt', 'nextDueAt', 'status')
      : null,
    prescription: c.prescription ? pick(c.prescription, 'route', 'formulation', 'doseMg') : null,
    currentSessionId: c.currentSessionId,
    vitalsHold: status.vitalsHold,
    policy: pick(c.policy, 'holdSystolicAbove', 'holdDiastolicAbove', 'criticalPeriodDays'),
  };
}

/** Alerts, kept safety signals of refused submissions, and the flags and adverse events awaiting review. */
function safetyView(
  status: EpisodeStatus,
  c: EpisodeContext,
  signals: readonly StoredSafetySignal[],
): Pick<
  EpisodeView,
  'alerts' | 'safetySignals' | 'unreviewedSafetyFlags' | 'unreviewedAdverseEvents' | 'treatmentStopped'
> {
  return {
    alerts: sortAlerts([...signalAlerts(signals), ...status.alerts]),
    safetySignals: signals.map((s) => ({
      ...pick(s, 'id', 'eventType', 'eventAt', 'refusalCode', 'recordedAt', 'recordedBy'),
      signals: s.signals.map((f) => pick(f, 'rule', 'value', 'message')),
      review: s.review ? pick(s.review, 'outcome', 'reviewedBy', 'at') : null,
    })),
    unreviewedSafetyFlags: status.unreviewedSafetyFlags.map((f) =>
      pick(f, 'assessmentEventId', 'rule', 'instrument', 'item', 'value', 'at', 'kind'),
    ),
    unreviewedAdverseEvents: status.unreviewedAdverseEvents.map((a) =>
      pick(a, 'eventId', 'at', 'code', 'severity', 'sessionId', 'unknownSession', 'recordedBy'),
    ),
    treatmentStopped: c.treatmentStopped ? pick(c.treatmentStopped, 'at', 'by') : null,
  };
}

/** Everything the patient page shows about one episode, as of `asOf`. */
export function episodeView(
  state: EpisodeState,
  version: number,
  events: readonly EpisodeEvent[],
  asOf: string,
  registry: InstrumentRegistry,
  reliableChangeSd?: Readonly<Record<string, number>>,
  signals: readonly StoredSafetySignal[] = [],
): EpisodeView {
  const c = state.context;
  const status: EpisodeStatus = statusAt(state, asOf);
  // The initial course's windows, then the maintenance sessions' (reported apart by statusAt).
  const windows = [
    ...status.criticalPeriods.analysis.windows,
    ...(status.maintenance?.criticalPeriods.windows ?? []),
  ];
  const { doses, vitals } = dosesAndVitals(c, windows);
  return {
    episodeId: c.episodeId ?? '',
    patientId: c.patientId ?? '',
    version,
    synthetic: c.synthetic,
    phase: status.phase,
    openedAt: c.openedAt,
    closed: c.closed,
    paused: c.paused,
    ...scheduleView(status, c, windows),
    ...consentAndMedications(status, c),
    ...treatmentView(status, c),
    ...safetyView(status, c, signals),
    doses,
    vitals,
    timeline: timelineOf(events, c),
    chart: outcomeChartData({
      context: c,
      asOf,
      registry,
      ...(reliableChangeSd ? { reliableChange: { sd: reliableChangeSd } } : {}),
    }),
    assessments: c.assessments.map((a) =>
      pick(a, 'eventId', 'at', 'instrument', 'responses', 'context', 'recordedBy'),
    ),
    latestAssessments: latestPerInstrument(c),
    context: { ...c, assessments: [], history: [] },
  };
}

function latestPerInstrument(c: EpisodeContext) {
  const latest = new Map<string, EpisodeContext['assessments'][number]>();
  for (const a of c.assessments) latest.set(a.instrument, a);
  return [...latest.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** The phase of an episode, for the episode list of a patient. */
export function phaseOfState(state: EpisodeState): string {
  return phaseOf(state);
}
