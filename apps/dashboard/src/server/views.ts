/**
 * Pure projections from episode state (and its events) to what the dashboard shows. No I/O: the routes in
 * `app.ts` load the data from the store and hand it here. Every number comes from @kapkit/core (`statusAt`,
 * the folded episode context) or @kapkit/analytics, never recomputed by hand.
 */

import {
  type AnalysisReport,
  analyzeOutcomes,
  episodeOutcomes,
  type InstrumentOutcome,
  recordsFromEpisodes,
} from '@kapkit/analytics';
import { outcomeChartData } from '@kapkit/charts';
import {
  dosedSessions,
  type EpisodeContext,
  type EpisodeEvent,
  type EpisodeState,
  type EpisodeStatus,
  type InstrumentRegistry,
  phaseOf,
  plannedDoseFor,
  statusAt,
} from '@kapkit/core';
import type { StoredSafetySignal } from '@kapkit/store';
import type {
  Alert,
  CaseloadRow,
  CohortInstrument,
  DoseView,
  EpisodeView,
  ScoreSummary,
  TimelineEntry,
  VitalsView,
} from '../shared/api.js';

const SEVERITY_RANK: Record<string, number> = { urgent: 0, warning: 1, info: 2 };

/** Alerts, most severe first (stable within a severity). */
function sortAlerts(alerts: readonly Alert[]): Alert[] {
  return alerts
    .map((a, i) => [a, i] as const)
    .sort((x, y) => (SEVERITY_RANK[x[0].severity] ?? 3) - (SEVERITY_RANK[y[0].severity] ?? 3) || x[1] - y[1])
    .map(([a]) => ({ code: a.code, severity: a.severity, message: a.message }));
}

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

/** One caseload row: phase, latest PHQ-9/GAD-7 with trend, doses on hand and alerts, as of `asOf`. */
/**
 * Urgent alerts for the safety signals the store kept from refused submissions (a positive item 9 in a record
 * that could not be stored, …) that no clinician has reviewed yet.
 */
function signalAlerts(signals: readonly StoredSafetySignal[]): Alert[] {
  return signals
    .filter((s) => s.review === null)
    .map((s) => ({
      code: 'safety-signal-refused',
      severity: 'urgent' as const,
      message: `A ${s.eventType ?? 'record'}${s.eventAt ? ` of ${s.eventAt.slice(0, 10)}` : ''} was refused (${s.refusalCode}) but carried ${s.signals.map((f) => `${f.rule} (${f.value})`).join(', ')}: the signal is kept until a clinician reviews it.`,
    }));
}

export function caseloadRow(
  state: EpisodeState,
  asOf: string,
  registry: InstrumentRegistry,
  signals: readonly StoredSafetySignal[] = [],
): CaseloadRow {
  const c = state.context;
  const status = statusAt(state, asOf);
  const outcomes = outcomesByInstrument(c, registry);
  return {
    patientId: c.patientId ?? '',
    episodeId: c.episodeId ?? '',
    synthetic: c.synthetic,
    phase: status.phase,
    openedAt: c.openedAt,
    lastEventAt: c.lastEventAt,
    phq9: scoreSummary(c, 'phq9', outcomes.get('phq9'), registry),
    gad7: scoreSummary(c, 'gad7', outcomes.get('gad7'), registry),
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

function mmHg(v: { systolic: number; diastolic: number }): string {
  return `${v.systolic}/${v.diastolic} mmHg`;
}

/**
 * The session timeline: every step of the course except assessments (they are in the assessment table), a
 * dosing session as one entry with its vitals and dose.
 */
function timelineOf(events: readonly EpisodeEvent[], context: EpisodeContext): TimelineEntry[] {
  const entries = timelineEntries(events, context);
  // Every entry knows its event: voided ones are struck through, late ones say when they were written.
  const voided = new Map<string, { at: string; reason: string }>();
  for (const e of events) {
    if (e.type === 'EventVoided') voided.set(e.voidedEventId, { at: e.at, reason: e.reason });
  }
  const byId = new Map(events.map((e) => [e.id, e]));
  return entries
    .map((x) => {
      const e = byId.get(x.eventId)!;
      const late = Date.parse(e.recordedAt) - Date.parse(e.at) > LATE_ENTRY_MS;
      const v = voided.get(x.eventId);
      return {
        ...x,
        recordedAt: e.recordedAt,
        recordedBy: e.recordedBy,
        late,
        voided: v ? { at: v.at, reason: v.reason } : null,
        voidable: !v && e.type !== 'EpisodeOpened' && e.type !== 'EventVoided',
      };
    })
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** An entry written more than a day after it happened is shown as a late entry. kapkit display default. */
const LATE_ENTRY_MS = 24 * 3_600_000;

type BareEntry = Omit<TimelineEntry, 'recordedAt' | 'recordedBy' | 'late' | 'voided' | 'voidable'>;

/** A timeline entry's kind, title and detail. */
type EntryText = Pick<BareEntry, 'kind' | 'title' | 'detail'>;

/** What an entry may look up besides its event. */
interface TimelineSources {
  readonly events: readonly EpisodeEvent[];
  readonly context: EpisodeContext;
  readonly sessions: ReadonlyMap<string, EpisodeContext['sessions'][number]>;
}

/** A dosing session's entry, on its completion or abort. */
function dosingEntry(
  e: Extract<EpisodeEvent, { type: 'DosingSessionCompleted' | 'DosingSessionAborted' }>,
  src: TimelineSources,
): EntryText {
  const s = src.sessions.get(e.sessionId);
  const dose = s?.doses[0];
  const pre = s?.preVitals[s.preVitals.length - 1];
  const post = s?.otherVitals.filter((v) => v.phase === 'post').at(-1);
  const parts = [
    dose ? `${dose.kind} dose ${dose.doseMg} mg ${dose.route}` : 'no dose',
    s && s.doses.length > 1 ? `+ ${s.doses.length - 1} booster(s)` : '',
    pre ? `pre ${mmHg(pre)}${pre.aboveHold ? ' (above hold)' : ''}` : '',
    dose?.vitalsOverride ? 'hold overridden by a clinician' : '',
    post ? `post ${mmHg(post)}` : '',
    e.type === 'DosingSessionCompleted' && e.durationMinutes ? `${e.durationMinutes} min` : '',
    e.type === 'DosingSessionAborted' ? `aborted: ${e.reason.replaceAll('-', ' ')}` : '',
    s ? s.mode : '',
  ].filter(Boolean);
  return {
    kind: 'dosing',
    title: s?.doseNumber ? `Dosing session ${s.doseNumber}` : 'Dosing session (no dose)',
    detail: parts.join('; '),
  };
}

/** How each event type reads on the timeline (types not listed are not shown). */
const timelineText: {
  readonly [T in EpisodeEvent['type']]?: (
    e: Extract<EpisodeEvent, { type: T }>,
    src: TimelineSources,
  ) => EntryText;
} = {
  EpisodeOpened: (e) => ({
    kind: 'course',
    title: 'Episode opened',
    detail: e.referral ? `Referral: ${e.referral}` : '',
  }),
  FitAssessed: (e) => ({
    kind: 'course',
    title: 'Fit discussion',
    detail: e.outcome.replaceAll('-', ' '),
  }),
  MedicalEvaluationScheduled: (e) => ({
    kind: 'medical',
    title: 'Medical evaluation booked',
    detail: `${e.mode}, for ${e.scheduledFor.slice(0, 10)}`,
  }),
  MedicalEvaluationCompleted: (e) => ({
    kind: 'medical',
    title: 'Medical evaluation',
    detail: `${e.eligible ? 'eligible' : 'not eligible'}${e.contraindications.length ? `; recorded: ${e.contraindications.join(', ')}` : ''}`,
  }),
  TreatmentPlanCreated: (e) => ({
    kind: 'course',
    title: 'Treatment plan',
    detail: `${e.plannedDosingSessions} dosing sessions; monitoring ${e.monitoring.measures.map((m) => m.instrument).join(', ')}`,
  }),
  PrescriptionIssued: (e) => ({
    kind: 'medication',
    title: 'Prescription',
    detail: `${e.doseMg} mg ${e.route} (${e.formulation}), ${e.dosesAuthorized} doses authorised`,
  }),
  MedicationDelivered: (e) => ({
    kind: 'medication',
    title: 'Medication delivered',
    detail: `${e.doses} dose(s)`,
  }),
  RefillIssued: (e) => ({
    kind: 'medication',
    title: 'Refill',
    detail: `${e.dosesAuthorized} dose(s) authorised`,
  }),
  SelfAdministrationTrained: (e) => ({
    kind: 'medical',
    title: 'Training',
    detail: `vitals ${e.vitalsTrained ? 'trained' : 'not trained'}, self-administration ${e.selfAdministrationTrained ? 'trained' : 'not trained'}`,
  }),
  PreparationSessionCompleted: (e) => ({
    kind: 'preparation',
    title: 'Preparation session',
    detail: `${e.mode}${e.intentionsSet ? ', intentions set' : ''}`,
  }),
  IntegrationSessionCompleted: (e) => ({ kind: 'integration', title: 'Integration session', detail: e.mode }),
  DosingSessionCompleted: dosingEntry,
  DosingSessionAborted: dosingEntry,
  AdverseEventReported: (e) => ({
    kind: 'adverse-event',
    title: 'Adverse event',
    detail: `${e.code.replaceAll('-', ' ')} (${e.severity})`,
  }),
  MedicalFollowUpCompleted: (e) => ({
    kind: 'medical',
    title: 'Medical follow-up',
    detail: e.continueTreatment ? 'continue treatment' : 'do not continue',
  }),
  AssessmentRecorded: (e, src) => {
    const a = src.context.assessments.find((x) => x.eventId === e.id);
    return {
      kind: 'assessment',
      title: `${e.instrument.toUpperCase()} ${e.recordedBy === 'patient' ? '(patient-reported)' : ''}`.trim(),
      detail: a
        ? `total ${a.total === null ? 'not scorable' : Number(a.total.toFixed(2))}${a.severity ? ` (${a.severity.replaceAll('-', ' ')})` : ''}${e.context ? `; ${e.context}` : ''}`
        : 'entered in error',
    };
  },
  AdverseEventReviewed: (e) => ({
    kind: 'safety',
    title: 'Adverse event reviewed',
    detail: e.outcome.replaceAll('-', ' '),
  }),
  EventVoided: (e, src) => {
    const target = src.events.find((x) => x.id === e.voidedEventId);
    return {
      kind: 'correction',
      title: 'Entered in error',
      detail: `${target ? target.type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : 'an event'} of ${target ? target.at.slice(0, 10) : '?'} voided: ${e.reason}`,
    };
  },
  SafetyFlagReviewed: (e) => ({
    kind: 'safety',
    title: 'Safety flag reviewed',
    detail: `${e.rule}: ${e.outcome.replaceAll('-', ' ')}`,
  }),
  InformedConsentRecorded: (e) => ({
    kind: 'course',
    title: 'Informed consent',
    detail: `${e.scope.map((x) => x.replaceAll('-', ' ')).join(', ')}; ${e.documentVersion}`,
  }),
  ConsentWithdrawn: (e) => ({
    kind: 'course',
    title: `Consent withdrawn${e.recordedBy === 'patient' ? ' (by the patient)' : ''}`,
    detail: e.scope.map((x) => x.replaceAll('-', ' ')).join(', '),
  }),
  MedicationsReviewed: (e) => ({
    kind: 'medical',
    title: 'Medications reviewed',
    detail: e.medications.length
      ? e.medications
          .map(
            (m) =>
              `${m.name}${m.dailyDose !== undefined ? ` ${m.dailyDose} ${m.unit ?? 'mg'}/day` : ''} (${m.class})`,
          )
          .join('; ')
      : 'none',
  }),
  MaintenancePlanned: (e) => ({
    kind: 'medical',
    title: 'Maintenance planned',
    detail: `every ${e.intervalDays} days${e.reason ? `; ${e.reason}` : ''}`,
  }),
  EpisodePaused: (e) => ({ kind: 'course', title: 'Paused', detail: e.reason.replaceAll('-', ' ') }),
  EpisodeResumed: (_e) => ({ kind: 'course', title: 'Resumed', detail: '' }),
  EpisodeCompleted: (_e) => ({ kind: 'course', title: 'Course completed', detail: '' }),
  EpisodeDiscontinued: (e) => ({
    kind: 'course',
    title: 'Course discontinued',
    detail: e.reason.replaceAll('-', ' '),
  }),
};

function timelineEntries(events: readonly EpisodeEvent[], context: EpisodeContext): BareEntry[] {
  const src: TimelineSources = {
    events,
    context,
    sessions: new Map(context.sessions.map((s) => [s.sessionId, s])),
  };
  const out: BareEntry[] = [];
  for (const e of events) {
    const text = timelineText[e.type] as ((e: EpisodeEvent, src: TimelineSources) => EntryText) | undefined;
    if (text) out.push({ at: e.at, ...text(e, src), eventId: e.id, type: e.type });
  }
  return out;
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
  const analysis = status.criticalPeriods.analysis;
  // The initial course's windows, then the maintenance sessions' (reported apart by statusAt).
  const windows = [...analysis.windows, ...(status.maintenance?.criticalPeriods.windows ?? [])];
  const doses: DoseView[] = [];
  const vitals: VitalsView[] = [];
  for (const s of c.sessions) {
    for (const v of s.preVitals) {
      vitals.push({
        sessionId: s.sessionId,
        doseNumber: s.doseNumber,
        at: v.at,
        phase: 'pre',
        systolic: v.systolic,
        diastolic: v.diastolic,
        heartRate: v.heartRate ?? null,
        spo2: v.spo2 ?? null,
        aboveHold: v.aboveHold,
      });
    }
    for (const v of s.otherVitals) {
      vitals.push({
        sessionId: s.sessionId,
        doseNumber: s.doseNumber,
        at: v.at,
        phase: v.phase,
        systolic: v.systolic,
        diastolic: v.diastolic,
        heartRate: v.heartRate ?? null,
        spo2: v.spo2 ?? null,
        aboveHold: false,
      });
    }
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
  return {
    episodeId: c.episodeId ?? '',
    patientId: c.patientId ?? '',
    version,
    synthetic: c.synthetic,
    phase: status.phase,
    openedAt: c.openedAt,
    closed: c.closed,
    paused: c.paused,
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
      coverage: analysis.coverage?.fraction ?? null,
      windows: windows.map((w) => ({
        doseNumber: c.sessions.find((x) => x.sessionId === w.sessionId)?.doseNumber ?? w.doseNumber,
        start: w.start,
        end: w.end,
      })),
    },
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
    alerts: sortAlerts([...signalAlerts(signals), ...status.alerts]),
    safetySignals: signals.map((s) => ({
      id: s.id,
      eventType: s.eventType,
      eventAt: s.eventAt,
      refusalCode: s.refusalCode,
      recordedAt: s.recordedAt,
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

/** Weeks per day, for slopes shown per week. */
const DAYS_PER_WEEK = 7;

/** The cohort page: analyzeOutcomes over every episode, reduced to what the page shows. */
export function cohortInstruments(
  contexts: readonly EpisodeContext[],
  registry: InstrumentRegistry,
): { report: AnalysisReport; instruments: CohortInstrument[] } {
  const { records, courses } = recordsFromEpisodes(contexts);
  const report = analyzeOutcomes(records, { courses, registry });
  const instruments: CohortInstrument[] = Object.values(report.instruments)
    .filter((r) => registry.find(r.instrument)?.purpose !== 'session')
    .map((r) => {
      return {
        instrument: r.instrument,
        name: r.name,
        patients: r.patients,
        evaluable: r.evaluable,
        baseline: r.baseline,
        latest: r.latest,
        change: { n: r.change.n, mean: r.change.mean, lower: r.change.lower, upper: r.change.upper },
        response: { ...r.responseRate },
        remission: r.remissionRate ? { ...r.remissionRate } : null,
        reliableImprovement: {
          count: r.reliableChange.improvedRate.count,
          of: r.reliableChange.improvedRate.of,
          rate: r.reliableChange.improvedRate.rate,
          pointsNeeded: r.reliableChange.pointsNeeded,
        },
        reliableDeterioration: {
          count: r.reliableChange.deterioratedRate.count,
          of: r.reliableChange.deterioratedRate.of,
          rate: r.reliableChange.deterioratedRate.rate,
        },
        effectSize: {
          label: r.effectSize.label,
          n: r.effectSize.n,
          dz: r.effectSize.dz,
          gav: r.effectSize.gav,
        },
        mixedModel: r.mixedModel
          ? {
              slopePerWeek: r.mixedModel.slope * DAYS_PER_WEEK,
              slopePerWeekSE: r.mixedModel.slopeSE * DAYS_PER_WEEK,
              converged: r.mixedModel.converged,
            }
          : null,
        trajectory: r.trajectory,
        timeToResponse: r.timeToResponse,
      };
    });
  return { report, instruments };
}
