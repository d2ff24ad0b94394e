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
    dosesGiven: status.dosesGiven,
    plannedDosingSessions: status.plannedDosingSessions,
    dosesOnHand: status.dosesOnHand,
    dosesAuthorized: status.dosesAuthorized,
    followUp: status.followUp
      ? { lastAt: status.followUp.lastAt, dueAt: status.followUp.dueAt, overdue: status.followUp.overdue }
      : null,
    measures: status.measures.map((m) => ({
      instrument: m.instrument,
      rule: m.rule,
      dueAt: m.dueAt,
      status: m.status,
    })),
    criticalPeriods: {
      windowDays: status.criticalPeriods.windowDays,
      nextDoseBefore: status.criticalPeriods.nextDoseBefore,
      nextDoseLatestDay: status.criticalPeriods.nextDoseLatestDay,
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
      required: status.consent.required,
      inForce: status.consent.inForce,
      withdrawn: status.consent.withdrawn,
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
      ? {
          intervalDays: status.maintenance.intervalDays,
          sessions: status.maintenance.sessions,
          lastDoseAt: status.maintenance.lastDoseAt,
          nextDueAt: status.maintenance.nextDueAt,
          status: status.maintenance.status,
        }
      : null,
    prescription: c.prescription
      ? {
          route: c.prescription.route,
          formulation: c.prescription.formulation,
          doseMg: c.prescription.doseMg,
        }
      : null,
    currentSessionId: c.currentSessionId,
    vitalsHold: status.vitalsHold,
    policy: {
      holdSystolicAbove: c.policy.holdSystolicAbove,
      holdDiastolicAbove: c.policy.holdDiastolicAbove,
      criticalPeriodDays: c.policy.criticalPeriodDays,
    },
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
      id: s.id,
      eventType: s.eventType,
      eventAt: s.eventAt,
      refusalCode: s.refusalCode,
      recordedAt: s.recordedAt,
      recordedBy: s.recordedBy,
      signals: s.signals.map((f) => ({ rule: f.rule, value: f.value, message: f.message })),
      review: s.review
        ? { outcome: s.review.outcome, reviewedBy: s.review.reviewedBy, at: s.review.at }
        : null,
    })),
    unreviewedSafetyFlags: status.unreviewedSafetyFlags.map((f) => ({
      assessmentEventId: f.assessmentEventId,
      rule: f.rule,
      instrument: f.instrument,
      item: f.item,
      value: f.value,
      at: f.at,
      kind: f.kind,
    })),
    unreviewedAdverseEvents: status.unreviewedAdverseEvents.map((a) => ({
      eventId: a.eventId,
      at: a.at,
      code: a.code,
      severity: a.severity,
      sessionId: a.sessionId,
      unknownSession: a.unknownSession,
      recordedBy: a.recordedBy,
    })),
    treatmentStopped: c.treatmentStopped ? { at: c.treatmentStopped.at, by: c.treatmentStopped.by } : null,
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
    assessments: c.assessments.map((a) => ({
      eventId: a.eventId,
      at: a.at,
      instrument: a.instrument,
      responses: a.responses,
      context: a.context,
      recordedBy: a.recordedBy,
    })),
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
