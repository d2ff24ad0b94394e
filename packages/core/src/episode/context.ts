import type { ScoreStatus } from '../instruments/scoring.js';
import type { EpisodeEvent } from './events.js';
import { defaultMonitoringPlan, type EpisodePolicy, resolvePolicy } from './policy.js';

/** A measure of the monitoring plan, with defaults applied. */
export interface MonitoredMeasure {
  readonly instrument: string;
  readonly baseline: boolean;
  readonly beforeEachDoseWithinDays?: number;
  readonly everyDays?: number;
}

export interface VitalsReading {
  readonly at: string;
  readonly systolic: number;
  readonly diastolic: number;
  readonly heartRate?: number;
  readonly spo2?: number;
  /** Above the policy's hold threshold (pre-dose readings only). */
  readonly aboveHold: boolean;
}

export interface AdministeredDose {
  readonly eventId: string;
  readonly at: string;
  readonly kind: 'full' | 'half' | 'booster';
  readonly doseMg: number;
  readonly route: string;
  readonly formulation: string;
  readonly unitsUsed: number;
  readonly vitalsOverride: boolean;
}

/** One dosing session as the episode knows it. */
export interface DosingSessionRecord {
  readonly sessionId: string;
  readonly scheduledFor: string;
  readonly mode: 'in-person' | 'telehealth';
  readonly status: 'scheduled' | 'dosed' | 'completed' | 'aborted';
  /** 1-based number among sessions in which a dose was given; null until dosed. */
  readonly doseNumber: number | null;
  readonly preVitals: readonly VitalsReading[];
  readonly otherVitals: readonly (VitalsReading & { readonly phase: 'during' | 'post' })[];
  readonly doses: readonly AdministeredDose[];
  readonly adverseEvents: readonly string[];
  readonly abortReason: string | null;
  readonly endedAt: string | null;
}

/** A safety flag raised by an assessment, with its review status. */
export interface EpisodeSafetyFlag {
  readonly assessmentEventId: string;
  readonly at: string;
  readonly instrument: string;
  readonly rule: string;
  readonly kind: 'positive' | 'unanswered';
  readonly item: number;
  readonly value: number | null;
  readonly message: string;
  readonly reviewed: null | { readonly at: string; readonly outcome: string };
}

/** A scored assessment as the episode keeps it. */
export interface EpisodeAssessment {
  readonly eventId: string;
  readonly at: string;
  readonly instrument: string;
  readonly responses: readonly (number | null)[];
  readonly status: ScoreStatus;
  readonly total: number | null;
  readonly severity: string | null;
  readonly context: string | null;
}

/**
 * Everything an episode knows, folded from its events. Plain JSON (no Maps, Sets or Dates), so snapshots
 * persist as they are.
 */
export interface EpisodeContext {
  readonly episodeId: string | null;
  readonly patientId: string | null;
  readonly openedAt: string | null;
  readonly lastEventAt: string | null;
  /** Epoch ms of the last accepted event; null before the first (JSON-safe, unlike -Infinity). */
  readonly lastEventMs: number | null;
  readonly eventIds: readonly string[];
  readonly synthetic: boolean;
  readonly policy: EpisodePolicy;
  readonly fit: 'good-fit' | 'not-a-fit' | 'needs-more-discussion' | null;
  readonly evaluation: {
    readonly scheduledFor: string | null;
    readonly completedAt: string | null;
    readonly eligible: boolean | null;
    readonly contraindications: readonly string[];
  };
  readonly plan: null | {
    readonly createdAt: string;
    readonly plannedDosingSessions: number;
    readonly monitoring: readonly MonitoredMeasure[];
  };
  readonly prescription: null | {
    readonly at: string;
    readonly route: string;
    readonly formulation: string;
    readonly doseMg: number;
  };
  readonly dosesAuthorized: number;
  readonly dosesDelivered: number;
  readonly unitsUsed: number;
  /** A medical follow-up happened since the last prescription or refill. */
  readonly followUpSinceAuthorization: boolean;
  readonly trained: boolean;
  readonly preparationSessions: number;
  readonly integrationSessions: number;
  readonly integrationsSinceLastDosing: number;
  readonly sessions: readonly DosingSessionRecord[];
  readonly currentSessionId: string | null;
  readonly assessments: readonly EpisodeAssessment[];
  readonly safetyFlags: readonly EpisodeSafetyFlag[];
  readonly adverseEvents: readonly {
    readonly at: string;
    readonly code: string;
    readonly severity: string;
    readonly sessionId: string | null;
  }[];
  readonly followUps: readonly string[];
  readonly paused: null | { readonly at: string; readonly reason: string };
  readonly closed: null | {
    readonly kind: 'completed' | 'discontinued';
    readonly at: string;
    readonly reason: string | null;
  };
}

/** The context of an episode before its first event. */
export function emptyContext(policy?: Partial<EpisodePolicy>): EpisodeContext {
  return {
    episodeId: null,
    patientId: null,
    openedAt: null,
    lastEventAt: null,
    lastEventMs: null,
    eventIds: [],
    synthetic: false,
    policy: resolvePolicy(policy),
    fit: null,
    evaluation: { scheduledFor: null, completedAt: null, eligible: null, contraindications: [] },
    plan: null,
    prescription: null,
    dosesAuthorized: 0,
    dosesDelivered: 0,
    unitsUsed: 0,
    followUpSinceAuthorization: false,
    trained: false,
    preparationSessions: 0,
    integrationSessions: 0,
    integrationsSinceLastDosing: 0,
    sessions: [],
    currentSessionId: null,
    assessments: [],
    safetyFlags: [],
    adverseEvents: [],
    followUps: [],
    paused: null,
    closed: null,
  };
}

/**
 * Units of the supply a dose uses: as recorded, else 1 for a full dose and 0.5 for a half dose or booster
 * (kapkit default; record `unitsUsed` whenever the formulation makes it different).
 */
export function unitsOf(e: {
  readonly kind: 'full' | 'half' | 'booster';
  readonly unitsUsed?: number | undefined;
}): number {
  return e.unitsUsed ?? (e.kind === 'full' ? 1 : 0.5);
}

/** The booked session with this id that has not started or ended (none in progress), if any. */
export function bookedSession(c: EpisodeContext, sessionId: string): DosingSessionRecord | undefined {
  return c.sessions.find(
    (s) =>
      s.sessionId === sessionId &&
      s.status === 'scheduled' &&
      s.preVitals.length === 0 &&
      s.doses.length === 0,
  );
}

/** Doses on hand: delivered minus used. */
export function dosesOnHand(c: EpisodeContext): number {
  return c.dosesDelivered - c.unitsUsed;
}

/** The session currently in progress, if any. */
export function currentSession(c: EpisodeContext): DosingSessionRecord | undefined {
  return c.currentSessionId === null ? undefined : c.sessions.find((s) => s.sessionId === c.currentSessionId);
}

/** Sessions in which a dose was given, in order. */
export function dosedSessions(c: EpisodeContext): DosingSessionRecord[] {
  return c.sessions.filter((s) => s.doseNumber !== null);
}

function updateSession(
  c: EpisodeContext,
  sessionId: string,
  update: (s: DosingSessionRecord) => DosingSessionRecord,
): readonly DosingSessionRecord[] {
  return c.sessions.map((s) => (s.sessionId === sessionId ? update(s) : s));
}

/** Assessment scoring is injected, so the reducer stays free of registry look-ups. */
export type AssessmentScorer = (event: Extract<EpisodeEvent, { type: 'AssessmentRecorded' }>) => {
  readonly instrument: string;
  readonly status: ScoreStatus;
  readonly total: number | null;
  readonly severity: string | null;
  readonly safetyFlags: readonly {
    readonly rule: string;
    readonly kind: 'positive' | 'unanswered';
    readonly item: number;
    readonly value: number | null;
    readonly message: string;
  }[];
};

/**
 * Apply one (already accepted) event to the context. Pure; never validates: the episode machine decides
 * whether an event is allowed, this only records what it means. Also the engine of the read-side projection.
 */
export function evolve(c: EpisodeContext, e: EpisodeEvent, score: AssessmentScorer): EpisodeContext {
  const base: EpisodeContext = {
    ...c,
    lastEventAt: e.at,
    lastEventMs: Date.parse(e.at),
    eventIds: [...c.eventIds, e.id],
    synthetic: c.synthetic || e.synthetic === true,
  };
  switch (e.type) {
    case 'EpisodeOpened':
      return {
        ...base,
        episodeId: e.episodeId,
        patientId: e.patientId,
        openedAt: e.at,
        policy: resolvePolicy(e.policy ?? {}, c.policy),
      };
    case 'FitAssessed':
      return { ...base, fit: e.outcome };
    case 'MedicalEvaluationScheduled':
      return { ...base, evaluation: { ...c.evaluation, scheduledFor: e.scheduledFor } };
    case 'MedicalEvaluationCompleted':
      return {
        ...base,
        evaluation: {
          ...c.evaluation,
          completedAt: e.at,
          eligible: e.eligible,
          contraindications: e.contraindications,
        },
      };
    case 'TreatmentPlanCreated': {
      const policy = resolvePolicy(
        { criticalPeriodDays: e.criticalPeriodDays, followUpIntervalDays: e.followUpIntervalDays },
        c.policy,
      );
      return {
        ...base,
        policy,
        plan: {
          createdAt: e.at,
          plannedDosingSessions: e.plannedDosingSessions,
          monitoring: e.monitoring.measures.map((m) => ({ ...m, baseline: m.baseline ?? true })),
        },
      };
    }
    case 'PrescriptionIssued':
      return {
        ...base,
        prescription: { at: e.at, route: e.route, formulation: e.formulation, doseMg: e.doseMg },
        dosesAuthorized: c.dosesAuthorized + e.dosesAuthorized,
        followUpSinceAuthorization: false,
      };
    case 'RefillIssued':
      return {
        ...base,
        dosesAuthorized: c.dosesAuthorized + e.dosesAuthorized,
        followUpSinceAuthorization: false,
      };
    case 'MedicationDelivered':
      return { ...base, dosesDelivered: c.dosesDelivered + e.doses };
    case 'SelfAdministrationTrained':
      return { ...base, trained: c.trained || (e.vitalsTrained && e.selfAdministrationTrained) };
    case 'PreparationSessionCompleted':
      return { ...base, preparationSessions: c.preparationSessions + 1 };
    case 'IntegrationSessionCompleted':
      return {
        ...base,
        integrationSessions: c.integrationSessions + 1,
        integrationsSinceLastDosing: c.integrationsSinceLastDosing + 1,
      };
    case 'DosingSessionScheduled':
      // Booking does not start the session: the first pre-dose vitals (or the dose) of that session do.
      return {
        ...base,
        sessions: [
          ...c.sessions,
          {
            sessionId: e.sessionId,
            scheduledFor: e.scheduledFor,
            mode: e.mode,
            status: 'scheduled',
            doseNumber: null,
            preVitals: [],
            otherVitals: [],
            doses: [],
            adverseEvents: [],
            abortReason: null,
            endedAt: null,
          },
        ],
      };
    case 'VitalsRecorded': {
      const aboveHold =
        e.phase === 'pre' &&
        (e.systolic > c.policy.holdSystolicAbove || e.diastolic > c.policy.holdDiastolicAbove);
      const reading: VitalsReading = {
        at: e.at,
        systolic: e.systolic,
        diastolic: e.diastolic,
        aboveHold,
        ...(e.heartRate !== undefined ? { heartRate: e.heartRate } : {}),
        ...(e.spo2 !== undefined ? { spo2: e.spo2 } : {}),
      };
      return {
        ...base,
        currentSessionId: e.sessionId,
        sessions: updateSession(c, e.sessionId, (s) =>
          e.phase === 'pre'
            ? { ...s, preVitals: [...s.preVitals, reading] }
            : { ...s, otherVitals: [...s.otherVitals, { ...reading, phase: e.phase as 'during' | 'post' }] },
        ),
      };
    }
    case 'DoseAdministered': {
      const dose: AdministeredDose = {
        eventId: e.id,
        at: e.at,
        kind: e.kind,
        doseMg: e.doseMg,
        route: e.route,
        formulation: e.formulation,
        unitsUsed: unitsOf(e),
        vitalsOverride: e.vitalsOverride !== undefined,
      };
      const firstInSession = (c.sessions.find((s) => s.sessionId === e.sessionId)?.doses.length ?? 0) === 0;
      const doseNumber = firstInSession ? dosedSessions(c).length + 1 : null;
      return {
        ...base,
        currentSessionId: e.sessionId,
        unitsUsed: c.unitsUsed + unitsOf(e),
        integrationsSinceLastDosing: firstInSession ? 0 : c.integrationsSinceLastDosing,
        sessions: updateSession(c, e.sessionId, (s) => ({
          ...s,
          status: 'dosed',
          doseNumber: s.doseNumber ?? doseNumber,
          doses: [...s.doses, dose],
        })),
      };
    }
    case 'AdverseEventReported':
      return {
        ...base,
        adverseEvents: [
          ...c.adverseEvents,
          { at: e.at, code: e.code, severity: e.severity, sessionId: e.sessionId ?? null },
        ],
        sessions:
          e.sessionId === undefined
            ? c.sessions
            : updateSession(c, e.sessionId, (s) => ({ ...s, adverseEvents: [...s.adverseEvents, e.code] })),
      };
    case 'DosingSessionCompleted':
      return {
        ...base,
        currentSessionId: null,
        sessions: updateSession(c, e.sessionId, (s) => ({ ...s, status: 'completed', endedAt: e.at })),
      };
    case 'DosingSessionAborted':
      // Aborting the session in progress ends it; aborting a booked session that never started cancels it.
      return {
        ...base,
        currentSessionId: c.currentSessionId === e.sessionId ? null : c.currentSessionId,
        sessions: updateSession(c, e.sessionId, (s) => ({
          ...s,
          status: 'aborted',
          abortReason: e.reason,
          endedAt: e.at,
        })),
      };
    case 'AssessmentRecorded': {
      const scored = score(e);
      const assessment: EpisodeAssessment = {
        eventId: e.id,
        at: e.at,
        instrument: scored.instrument,
        responses: e.responses,
        status: scored.status,
        total: scored.total,
        severity: scored.severity,
        context: e.context ?? null,
      };
      const flags: EpisodeSafetyFlag[] = scored.safetyFlags.map((f) => ({
        assessmentEventId: e.id,
        at: e.at,
        instrument: scored.instrument,
        rule: f.rule,
        kind: f.kind,
        item: f.item,
        value: f.value,
        message: f.message,
        reviewed: null,
      }));
      return {
        ...base,
        assessments: [...c.assessments, assessment],
        safetyFlags: flags.length ? [...c.safetyFlags, ...flags] : c.safetyFlags,
      };
    }
    case 'SafetyFlagReviewed':
      return {
        ...base,
        safetyFlags: c.safetyFlags.map((f) =>
          f.assessmentEventId === e.assessmentEventId && f.rule === e.rule
            ? { ...f, reviewed: { at: e.at, outcome: e.outcome } }
            : f,
        ),
      };
    case 'MedicalFollowUpCompleted':
      return { ...base, followUps: [...c.followUps, e.at], followUpSinceAuthorization: true };
    case 'EpisodePaused':
      return { ...base, paused: { at: e.at, reason: e.reason } };
    case 'EpisodeResumed':
      return { ...base, paused: null };
    case 'EpisodeCompleted':
      return { ...base, closed: { kind: 'completed', at: e.at, reason: null } };
    case 'EpisodeDiscontinued':
      return {
        ...base,
        currentSessionId: null,
        closed: { kind: 'discontinued', at: e.at, reason: e.reason },
      };
  }
}

/** The monitoring plan in force: the treatment plan's, else kapkit's default. */
export function monitoringOf(c: EpisodeContext): readonly MonitoredMeasure[] {
  return c.plan?.monitoring ?? defaultMonitoringPlan.measures;
}
