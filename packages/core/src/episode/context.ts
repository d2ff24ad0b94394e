import type { ScoreStatus } from '../instruments/scoring.js';
import type { ConsentScope, EpisodeEvent } from './events.js';
import { historyHasId } from './history-index.js';
import type { MedicationInput } from './medications.js';
import { defaultMonitoringPlan, type EpisodePolicy, resolvePolicy } from './policy.js';

/** A measure of the monitoring plan, with defaults applied. */
export interface MonitoredMeasure {
  readonly instrument: string;
  readonly baseline: boolean;
  readonly beforeEachDoseWithinDays?: number;
  readonly everyDays?: number;
}

/** Which vital sign crossed a threshold. */
export type VitalSign = 'systolic' | 'diastolic' | 'heart-rate' | 'spo2';

/** Vital signs in words. */
export const vitalSignNames: Readonly<Record<VitalSign, string>> = {
  systolic: 'systolic BP',
  diastolic: 'diastolic BP',
  'heart-rate': 'heart rate',
  spo2: 'SpO₂',
};

export interface VitalsReading {
  readonly eventId: string;
  readonly at: string;
  readonly recordedAt: string;
  readonly systolic: number;
  readonly diastolic: number;
  readonly heartRate?: number;
  readonly spo2?: number;
  /** Beyond the policy's pre-dose hold threshold (blood pressure, heart rate or SpO₂; pre-dose readings only). */
  readonly aboveHold: boolean;
  /** The signs beyond their hold threshold (pre-dose readings only). */
  readonly holdSigns: readonly VitalSign[];
  /** The signs beyond their alert threshold (any reading): an urgent alert. */
  readonly alertSigns: readonly VitalSign[];
}

export interface AdministeredDose {
  readonly eventId: string;
  readonly at: string;
  readonly recordedAt: string;
  readonly kind: 'full' | 'half' | 'booster';
  readonly doseMg: number;
  readonly route: string;
  readonly formulation: string;
  readonly unitsUsed: number;
  readonly vitalsOverride: boolean;
  /** The treatment plan's titration step for this session's first dose (mg), or null (no titration, or a booster). */
  readonly plannedDoseMg: number | null;
  /** Why the dose departs from its titration step. */
  readonly reason: string | null;
}

/** One dosing session as the episode knows it. */
export interface DosingSessionRecord {
  readonly sessionId: string;
  readonly scheduledFor: string;
  readonly mode: 'in-person' | 'telehealth';
  /** A chaperone is arranged (remote sessions). */
  readonly chaperone: boolean;
  readonly status: 'scheduled' | 'dosed' | 'completed' | 'aborted';
  /** 1-based number among sessions in which a dose was given; null until dosed. */
  readonly doseNumber: number | null;
  readonly preVitals: readonly VitalsReading[];
  readonly otherVitals: readonly (VitalsReading & { readonly phase: 'during' | 'post' })[];
  readonly doses: readonly AdministeredDose[];
  readonly adverseEvents: readonly string[];
  readonly abortReason: string | null;
  readonly endedAt: string | null;
  /** The reason recorded when the session was completed early or with blood pressure still above the hold. */
  readonly completionReason: string | null;
  /** Booked after maintenance was planned: a maintenance session, not one of the initial course. */
  readonly maintenance: boolean;
}

/** One consent as the episode keeps it (one record per scope of an InformedConsentRecorded). */
export interface ConsentRecord {
  readonly scope: ConsentScope;
  readonly eventId: string;
  readonly at: string;
  readonly recordedAt: string;
  readonly documentVersion: string;
  readonly withdrawn: null | { readonly eventId: string; readonly at: string; readonly recordedAt: string };
}

/** A clinician's review of a safety signal. */
export interface SafetyReview {
  readonly eventId: string;
  readonly at: string;
  readonly recordedAt: string;
  readonly outcome: string;
}

/** A safety flag raised by an assessment, with its review status. */
export interface EpisodeSafetyFlag {
  readonly assessmentEventId: string;
  readonly at: string;
  readonly recordedAt: string;
  readonly instrument: string;
  readonly rule: string;
  readonly kind: 'positive' | 'unanswered';
  readonly item: number;
  readonly value: number | null;
  readonly message: string;
  /** Recorded by the patient (self-report), not a clinician. */
  readonly patientReported: boolean;
  readonly reviewed: null | SafetyReview;
}

/** An adverse event as the episode keeps it. */
export interface EpisodeAdverseEvent {
  readonly eventId: string;
  readonly at: string;
  readonly recordedAt: string;
  readonly recordedBy: string;
  readonly code: string;
  readonly severity: string;
  readonly sessionId: string | null;
  /** The report names a session this episode does not know: kept, and flagged for a clinician. */
  readonly unknownSession: boolean;
  /** Severe, serious or suicidal ideation: reviewed by a clinician before the next dose. */
  readonly needsReview: boolean;
  readonly reviewed: null | SafetyReview;
}

/** The medical team stopped treatment (a follow-up deciding not to continue, or a re-evaluation not eligible). */
export interface TreatmentStop {
  readonly eventId: string;
  readonly at: string;
  readonly recordedAt: string;
  readonly by: 'follow-up' | 'evaluation';
}

/** A scored assessment as the episode keeps it. */
export interface EpisodeAssessment {
  readonly eventId: string;
  readonly at: string;
  readonly recordedAt: string;
  readonly recordedBy: string;
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
  /** The latest `at` among accepted events (clinical time). */
  readonly lastEventAt: string | null;
  /** Epoch ms of `lastEventAt`; null before the first event (JSON-safe, unlike -Infinity). */
  readonly lastEventMs: number | null;
  /**
   * The accepted events that are in force, in clinical order (`at`, ties in recording order); voided events
   * are not in it. A late entry or a void rebuilds the episode from it.
   */
  readonly history: readonly EpisodeEvent[];
  /** Ids of accepted events that were later voided (entered in error). */
  readonly voidedEventIds: readonly string[];
  readonly synthetic: boolean;
  readonly policy: EpisodePolicy;
  readonly fit: 'good-fit' | 'not-a-fit' | 'needs-more-discussion' | null;
  readonly evaluation: {
    readonly scheduledFor: string | null;
    readonly completedAt: string | null;
    readonly eligible: boolean | null;
    readonly contraindications: readonly string[];
    /** The reason the medical team gave for eligibility despite an absolute contraindication. */
    readonly contraindicationOverride: string | null;
  };
  readonly plan: null | {
    readonly createdAt: string;
    readonly plannedDosingSessions: number;
    readonly monitoring: readonly MonitoredMeasure[];
    /** Planned dose steps (titration), in fromSession order; null when the plan has none. */
    readonly titration: readonly { readonly fromSession: number; readonly doseMg: number }[] | null;
  };
  /** Consents given (one record per scope), with their withdrawal when withdrawn. */
  readonly consents: readonly ConsentRecord[];
  /** Every ConsentWithdrawn, including withdrawals of a scope never consented to (e.g. a research opt-out). */
  readonly withdrawals: readonly {
    readonly eventId: string;
    readonly at: string;
    readonly recordedAt: string;
    readonly scope: readonly ConsentScope[];
  }[];
  /** The latest medication review: every medication the patient takes. Null before any review. */
  readonly medications: null | {
    readonly eventId: string;
    readonly at: string;
    readonly list: readonly MedicationInput[];
  };
  /** Maintenance planned after the initial course. */
  readonly maintenance: null | {
    readonly eventId: string;
    readonly at: string;
    readonly intervalDays: number;
  };
  /** The active (latest) prescription. */
  readonly prescription: null | {
    readonly eventId: string;
    readonly at: string;
    readonly route: string;
    readonly formulation: string;
    readonly doseMg: number;
  };
  /** Prescriptions issued in the episode. */
  readonly prescriptions: number;
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
  readonly adverseEvents: readonly EpisodeAdverseEvent[];
  readonly followUps: readonly string[];
  /** Set while the medical team has stopped treatment; lifted by a new prescription, an eligible re-evaluation or a follow-up that continues treatment. */
  readonly treatmentStopped: TreatmentStop | null;
  readonly paused: null | { readonly at: string; readonly reason: string };
  readonly closed: null | {
    readonly kind: 'completed' | 'discontinued';
    readonly at: string;
    readonly reason: string | null;
  };
}

/** Ids of every accepted event of the episode, voided ones included (an id is never used twice). */
export function eventIdsOf(c: EpisodeContext): string[] {
  return [...c.history.map((e) => e.id), ...c.voidedEventIds];
}

/** Whether an event id was already accepted in the episode (voided events included). */
export function hasEventId(c: EpisodeContext, id: string): boolean {
  return c.voidedEventIds.includes(id) || historyHasId(c.history, id);
}

/** Adverse events that need a review before the next dose: severe, serious, or suicidal ideation. */
export function adverseEventNeedsReview(code: string, severity: string): boolean {
  return severity === 'severe' || severity === 'serious' || code === 'suicidal-ideation';
}

/** The context of an episode before its first event. */
export function emptyContext(policy?: Partial<EpisodePolicy>): EpisodeContext {
  return {
    episodeId: null,
    patientId: null,
    openedAt: null,
    lastEventAt: null,
    lastEventMs: null,
    history: [],
    voidedEventIds: [],
    synthetic: false,
    policy: resolvePolicy(policy),
    fit: null,
    evaluation: {
      scheduledFor: null,
      completedAt: null,
      eligible: null,
      contraindications: [],
      contraindicationOverride: null,
    },
    plan: null,
    consents: [],
    withdrawals: [],
    medications: null,
    maintenance: null,
    prescription: null,
    prescriptions: 0,
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
    treatmentStopped: null,
    paused: null,
    closed: null,
  };
}

/**
 * Units of the supply a dose uses. One unit is one prescribed dose, so with a prescription the units follow
 * from the milligrams (`doseMg / prescribed doseMg`); without one (never accepted by the machine, but a
 * read-side fold may see it), as recorded, else 1 for a full dose and 0.5 for a half dose or booster.
 */
export function unitsOf(
  e: {
    readonly kind: 'full' | 'half' | 'booster';
    readonly doseMg?: number;
    readonly unitsUsed?: number | undefined;
  },
  prescribedMg?: number | null,
): number {
  if (prescribedMg && e.doseMg !== undefined) return e.doseMg / prescribedMg;
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

/**
 * Sessions in which a dose was given, in the order of their first dose (`doseNumber`), which is not the booking
 * order when a session booked later is dosed first.
 */
export function dosedSessions(c: EpisodeContext): DosingSessionRecord[] {
  return c.sessions
    .filter((s) => s.doseNumber !== null)
    .sort((a, b) => (a.doseNumber as number) - (b.doseNumber as number));
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

/** Signs of a reading beyond the policy's hold thresholds (pre-dose) and alert thresholds (any phase). */
export function vitalSignsBeyond(
  v: {
    readonly systolic: number;
    readonly diastolic: number;
    readonly heartRate?: number;
    readonly spo2?: number;
  },
  p: EpisodePolicy,
  kind: 'hold' | 'alert',
): VitalSign[] {
  const out: VitalSign[] = [];
  const [sys, dia, hr, spo2] =
    kind === 'hold'
      ? [p.holdSystolicAbove, p.holdDiastolicAbove, p.holdHeartRateAbove, p.holdSpo2Below]
      : [p.alertSystolicAbove, p.alertDiastolicAbove, p.alertHeartRateAbove, p.alertSpo2Below];
  if (v.systolic > sys) out.push('systolic');
  if (v.diastolic > dia) out.push('diastolic');
  if (v.heartRate !== undefined && v.heartRate > hr) out.push('heart-rate');
  if (v.spo2 !== undefined && v.spo2 < spo2) out.push('spo2');
  return out;
}

function review(e: { id: string; at: string; recordedAt: string; outcome: string }): SafetyReview {
  return { eventId: e.id, at: e.at, recordedAt: e.recordedAt, outcome: e.outcome };
}

/**
 * Apply one (already accepted) event to the context, appending it to the history. Pure; never validates: the
 * episode machine decides whether an event is allowed, this only records what it means. Events come in
 * clinical order; a late entry or a void is applied by rebuilding (see {@link applyAccepted}). Also the
 * engine of the read-side projection.
 */
export function evolve(c: EpisodeContext, e: EpisodeEvent, score: AssessmentScorer): EpisodeContext {
  return evolveOwned(c, e, score, null);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Contexts and arrays that one read-side fold built itself and nothing else holds: the fold may grow them in
 * place (structural sharing without a copy per event). Null everywhere else: every step copies, so an older
 * context (the machine's state before a refused event, a snapshot) never changes.
 */
type Owned = WeakSet<object> | null;

/** `list` with `item` appended: a new array, or `list` itself grown in place when the fold owns it. */
function append<T>(list: readonly T[], owned: Owned, item: T): readonly T[] {
  if (owned?.has(list)) {
    (list as T[]).push(item);
    return list;
  }
  const out = [...list, item];
  owned?.add(out);
  return out;
}

/** `list` with `items` appended, as {@link append}. */
function appendAll<T>(list: readonly T[], owned: Owned, items: readonly T[]): readonly T[] {
  if (owned?.has(list)) {
    for (const x of items) (list as T[]).push(x);
    return list;
  }
  const out = [...list, ...items];
  owned?.add(out);
  return out;
}

/**
 * {@link evolve}, growing the context (and its arrays) in place when `owned` holds it. Gives a context equal
 * to `evolve`'s either way.
 */
function evolveOwned(
  c: EpisodeContext,
  e: EpisodeEvent,
  score: AssessmentScorer,
  owned: Owned,
  ms = Date.parse(e.at),
): EpisodeContext {
  const latest = c.lastEventMs === null || ms >= c.lastEventMs;
  // What the event changes beyond the fields every event sets, computed from `c` before anything is written.
  const changes = eventChanges(c, e, score, owned);
  const history = append(c.history, owned, e);
  if (owned?.has(c)) {
    const m = c as Mutable<EpisodeContext>;
    if (latest) {
      m.lastEventAt = e.at;
      m.lastEventMs = ms;
    }
    m.history = history;
    if (e.synthetic === true) m.synthetic = true;
    return Object.assign(m, changes);
  }
  const next: EpisodeContext = {
    ...c,
    lastEventAt: latest ? e.at : c.lastEventAt,
    lastEventMs: latest ? ms : c.lastEventMs,
    history,
    synthetic: c.synthetic || e.synthetic === true,
    ...changes,
  };
  owned?.add(next);
  return next;
}

/** The fields `e` changes, other than the last event time, the history and the synthetic flag. */
function eventChanges(
  c: EpisodeContext,
  e: EpisodeEvent,
  score: AssessmentScorer,
  owned: Owned,
): Partial<EpisodeContext> {
  return courseChanges(c, e, owned) ?? sessionChanges(c, e, owned) ?? recordChanges(c, e, score, owned) ?? {};
}

/** Opening, fit, evaluation, plan, prescription and supply, training, preparation and integration, booking. */
function courseChanges(
  c: EpisodeContext,
  e: EpisodeEvent,
  owned: Owned,
): Partial<EpisodeContext> | undefined {
  switch (e.type) {
    case 'EpisodeOpened':
      return {
        episodeId: e.episodeId,
        patientId: e.patientId,
        openedAt: e.at,
        policy: resolvePolicy(e.policy ?? {}, c.policy),
      };
    case 'FitAssessed':
      return { fit: e.outcome };
    case 'MedicalEvaluationScheduled':
      return { evaluation: { ...c.evaluation, scheduledFor: e.scheduledFor } };
    case 'MedicalEvaluationCompleted': {
      // During treatment this is a re-evaluation: eligible lifts a treatment stop, not eligible stops treatment.
      const inTreatment = c.evaluation.eligible === true;
      const stop: TreatmentStop | null =
        inTreatment && !e.eligible
          ? { eventId: e.id, at: e.at, recordedAt: e.recordedAt, by: 'evaluation' }
          : e.eligible
            ? null
            : c.treatmentStopped;
      return {
        treatmentStopped: stop,
        evaluation: {
          ...c.evaluation,
          completedAt: e.at,
          eligible: inTreatment ? true : e.eligible,
          contraindications: e.contraindications,
          contraindicationOverride: e.contraindicationOverride?.reason ?? null,
        },
      };
    }
    case 'TreatmentPlanCreated': {
      const policy = resolvePolicy(
        { criticalPeriodDays: e.criticalPeriodDays, followUpIntervalDays: e.followUpIntervalDays },
        c.policy,
      );
      return {
        policy,
        plan: {
          createdAt: e.at,
          plannedDosingSessions: e.plannedDosingSessions,
          monitoring: e.monitoring.measures.map((m) => ({ ...m, baseline: m.baseline ?? true })),
          titration: e.titration ?? null,
        },
      };
    }
    case 'PrescriptionIssued':
      return {
        prescription: {
          eventId: e.id,
          at: e.at,
          route: e.route,
          formulation: e.formulation,
          doseMg: e.doseMg,
        },
        prescriptions: c.prescriptions + 1,
        dosesAuthorized: c.dosesAuthorized + e.dosesAuthorized,
        followUpSinceAuthorization: false,
        treatmentStopped: null,
      };
    case 'RefillIssued':
      return {
        dosesAuthorized: c.dosesAuthorized + e.dosesAuthorized,
        followUpSinceAuthorization: false,
      };
    case 'MedicationDelivered':
      return { dosesDelivered: c.dosesDelivered + e.doses };
    case 'SelfAdministrationTrained':
      return { trained: c.trained || (e.vitalsTrained && e.selfAdministrationTrained) };
    case 'PreparationSessionCompleted':
      return { preparationSessions: c.preparationSessions + 1 };
    case 'IntegrationSessionCompleted':
      return {
        integrationSessions: c.integrationSessions + 1,
        integrationsSinceLastDosing: c.integrationsSinceLastDosing + 1,
      };
    case 'DosingSessionScheduled':
      // Booking does not start the session: the first pre-dose vitals (or the dose) of that session do.
      return {
        sessions: append(c.sessions, owned, {
          sessionId: e.sessionId,
          scheduledFor: e.scheduledFor,
          mode: e.mode,
          chaperone: e.chaperone === true,
          status: 'scheduled',
          doseNumber: null,
          preVitals: [],
          otherVitals: [],
          doses: [],
          adverseEvents: [],
          abortReason: null,
          endedAt: null,
          completionReason: null,
          maintenance: c.maintenance !== null,
        }),
      };
    default:
      return undefined;
  }
}

/** A dosing session under way: vitals, doses, adverse events and their review, completion or abort. */
function sessionChanges(
  c: EpisodeContext,
  e: EpisodeEvent,
  owned: Owned,
): Partial<EpisodeContext> | undefined {
  switch (e.type) {
    case 'VitalsRecorded': {
      const holdSigns = e.phase === 'pre' ? vitalSignsBeyond(e, c.policy, 'hold') : [];
      // Built key by key (a spread followed by a new key makes V8 build a slow dictionary object).
      const reading: Mutable<VitalsReading & { phase?: 'during' | 'post' }> = {
        eventId: e.id,
        at: e.at,
        recordedAt: e.recordedAt,
        systolic: e.systolic,
        diastolic: e.diastolic,
        aboveHold: holdSigns.length > 0,
        holdSigns,
        alertSigns: vitalSignsBeyond(e, c.policy, 'alert'),
      };
      if (e.heartRate !== undefined) reading.heartRate = e.heartRate;
      if (e.spo2 !== undefined) reading.spo2 = e.spo2;
      if (e.phase !== 'pre') reading.phase = e.phase;
      return {
        currentSessionId: e.sessionId,
        sessions: updateSession(c, e.sessionId, (s) =>
          e.phase === 'pre'
            ? { ...s, preVitals: [...s.preVitals, reading] }
            : {
                ...s,
                otherVitals: [
                  ...s.otherVitals,
                  reading as VitalsReading & { readonly phase: 'during' | 'post' },
                ],
              },
        ),
      };
    }
    case 'DoseAdministered': {
      const units = unitsOf(e, c.prescription?.doseMg);
      const firstInSession = (c.sessions.find((s) => s.sessionId === e.sessionId)?.doses.length ?? 0) === 0;
      const doseNumber = firstInSession ? dosedSessions(c).length + 1 : null;
      const dose: AdministeredDose = {
        eventId: e.id,
        at: e.at,
        recordedAt: e.recordedAt,
        kind: e.kind,
        doseMg: e.doseMg,
        route: e.route,
        formulation: e.formulation,
        unitsUsed: units,
        vitalsOverride: e.vitalsOverride !== undefined,
        plannedDoseMg: doseNumber !== null && e.kind !== 'booster' ? plannedDoseFor(c, doseNumber) : null,
        reason: e.reason ?? null,
      };
      return {
        currentSessionId: e.sessionId,
        unitsUsed: c.unitsUsed + units,
        integrationsSinceLastDosing: firstInSession ? 0 : c.integrationsSinceLastDosing,
        sessions: updateSession(c, e.sessionId, (s) => ({
          ...s,
          status: 'dosed',
          doseNumber: s.doseNumber ?? doseNumber,
          doses: [...s.doses, dose],
        })),
      };
    }
    case 'AdverseEventReported': {
      const known = e.sessionId === undefined || c.sessions.some((s) => s.sessionId === e.sessionId);
      return {
        adverseEvents: append(c.adverseEvents, owned, {
          eventId: e.id,
          at: e.at,
          recordedAt: e.recordedAt,
          recordedBy: e.recordedBy,
          code: e.code,
          severity: e.severity,
          sessionId: e.sessionId ?? null,
          unknownSession: !known,
          needsReview: adverseEventNeedsReview(e.code, e.severity),
          reviewed: null,
        }),
        sessions:
          e.sessionId === undefined || !known
            ? c.sessions
            : updateSession(c, e.sessionId, (s) => ({ ...s, adverseEvents: [...s.adverseEvents, e.code] })),
      };
    }
    case 'AdverseEventReviewed':
      return {
        adverseEvents: c.adverseEvents.map((a) =>
          a.eventId === e.adverseEventId ? { ...a, reviewed: review(e) } : a,
        ),
      };
    case 'DosingSessionCompleted':
      return {
        currentSessionId: null,
        sessions: updateSession(c, e.sessionId, (s) => ({
          ...s,
          status: 'completed',
          endedAt: e.at,
          completionReason: e.reason ?? null,
        })),
      };
    case 'DosingSessionAborted':
      // Aborting the session in progress ends it; aborting a booked session that never started cancels it.
      return {
        currentSessionId: c.currentSessionId === e.sessionId ? null : c.currentSessionId,
        sessions: updateSession(c, e.sessionId, (s) => ({
          ...s,
          status: 'aborted',
          abortReason: e.reason,
          endedAt: e.at,
        })),
      };
    default:
      return undefined;
  }
}

/** Assessments and their flags, follow-ups, voids, consent, medications, maintenance, pause and closing. */
function recordChanges(
  c: EpisodeContext,
  e: EpisodeEvent,
  score: AssessmentScorer,
  owned: Owned,
): Partial<EpisodeContext> | undefined {
  switch (e.type) {
    case 'AssessmentRecorded': {
      const scored = score(e);
      const assessment: EpisodeAssessment = {
        eventId: e.id,
        at: e.at,
        recordedAt: e.recordedAt,
        recordedBy: e.recordedBy,
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
        recordedAt: e.recordedAt,
        instrument: scored.instrument,
        rule: f.rule,
        kind: f.kind,
        item: f.item,
        value: f.value,
        message: f.message,
        patientReported: e.recordedBy === 'patient',
        reviewed: null,
      }));
      return {
        assessments: append(c.assessments, owned, assessment),
        safetyFlags: flags.length ? appendAll(c.safetyFlags, owned, flags) : c.safetyFlags,
      };
    }
    case 'SafetyFlagReviewed':
      return {
        safetyFlags: c.safetyFlags.map((f) =>
          f.assessmentEventId === e.assessmentEventId && f.rule === e.rule
            ? { ...f, reviewed: review(e) }
            : f,
        ),
      };
    case 'MedicalFollowUpCompleted':
      return {
        followUps: append(c.followUps, owned, e.at),
        followUpSinceAuthorization: true,
        treatmentStopped: e.continueTreatment
          ? null
          : { eventId: e.id, at: e.at, recordedAt: e.recordedAt, by: 'follow-up' },
      };
    case 'EventVoided':
      // The voided event is already out of the history: a void is applied by rebuilding without it.
      return { voidedEventIds: append(c.voidedEventIds, owned, e.voidedEventId) };
    case 'InformedConsentRecorded':
      return {
        consents: appendAll(
          c.consents,
          owned,
          [...new Set(e.scope)].map((scope) => ({
            scope,
            eventId: e.id,
            at: e.at,
            recordedAt: e.recordedAt,
            documentVersion: e.documentVersion,
            withdrawn: null,
          })),
        ),
      };
    case 'ConsentWithdrawn':
      return {
        consents: c.consents.map((x) =>
          x.withdrawn === null && e.scope.includes(x.scope)
            ? { ...x, withdrawn: { eventId: e.id, at: e.at, recordedAt: e.recordedAt } }
            : x,
        ),
        withdrawals: append(c.withdrawals, owned, {
          eventId: e.id,
          at: e.at,
          recordedAt: e.recordedAt,
          scope: e.scope,
        }),
      };
    case 'MedicationsReviewed':
      return { medications: { eventId: e.id, at: e.at, list: e.medications } };
    case 'MaintenancePlanned':
      return { maintenance: { eventId: e.id, at: e.at, intervalDays: e.intervalDays } };
    case 'EpisodePaused':
      return { paused: { at: e.at, reason: e.reason } };
    case 'EpisodeResumed':
      return { paused: null };
    case 'EpisodeCompleted':
      return { closed: { kind: 'completed', at: e.at, reason: e.reason ?? null } };
    case 'EpisodeDiscontinued':
      return {
        currentSessionId: null,
        closed: { kind: 'discontinued', at: e.at, reason: e.reason },
      };
    default:
      return undefined;
  }
}

/** Whether `e` is a late entry for `c` (dated before the latest accepted event) or a void: both rebuild. */
export function needsRebuild(c: EpisodeContext, e: EpisodeEvent): boolean {
  return e.type === 'EventVoided' || (c.lastEventMs !== null && Date.parse(e.at) < c.lastEventMs);
}

/**
 * The events an episode is rebuilt from when `e` arrives late or voids an earlier event: the history in
 * clinical order with `e` inserted after every event at or before its `at` (ties keep recording order), and
 * without the event `e` voids.
 */
export function rebuildList(c: EpisodeContext, e: EpisodeEvent): EpisodeEvent[] {
  const voided = e.type === 'EventVoided' ? e.voidedEventId : null;
  const ms = Date.parse(e.at);
  const out: EpisodeEvent[] = [];
  let inserted = false;
  for (const h of c.history) {
    if (!inserted && Date.parse(h.at) > ms) {
      out.push(e);
      inserted = true;
    }
    if (h.id !== voided) out.push(h);
  }
  if (!inserted) out.push(e);
  return out;
}

/**
 * Apply an accepted event on the read side: in order it is `evolve`; a late entry or a void rebuilds the
 * episode from `initial` over {@link rebuildList}, as the episode machine did when it accepted it, so the
 * projection and the machine agree.
 */
export function applyAccepted(
  initial: EpisodeContext,
  c: EpisodeContext,
  e: EpisodeEvent,
  score: AssessmentScorer,
  /** Internal: what the calling fold owns and may grow in place (see `projectEpisodes`); null to copy. */
  owned: WeakSet<object> | null = null,
): EpisodeContext {
  const ms = Date.parse(e.at);
  // As needsRebuild, with the time parsed once.
  if (e.type !== 'EventVoided' && !(c.lastEventMs !== null && ms < c.lastEventMs)) {
    return evolveOwned(c, e, score, owned, ms);
  }
  let out = initial;
  for (const x of rebuildList(c, e)) out = evolveOwned(out, x, score, owned);
  return out;
}

/**
 * The planned first dose (mg) of the `doseNumber`-th dosing session under the treatment plan's titration (the
 * last step at or before it), or null when the plan has no titration.
 */
export function plannedDoseFor(c: EpisodeContext, doseNumber: number): number | null {
  const steps = c.plan?.titration;
  if (!steps || steps.length === 0) return null;
  let mg: number | null = null;
  for (const step of steps) if (step.fromSession <= doseNumber) mg = step.doseMg;
  return mg;
}

/**
 * Whether consent to `scope` is in force for an event at its place in clinical order: a consent given before
 * it and not withdrawn, as known when the event was recorded at `recordedAtMs` (a withdrawal entered later
 * does not undo a dose that went ahead before anyone knew of it).
 */
export function consentInForce(
  c: EpisodeContext,
  scope: ConsentScope,
  recordedAtMs = Number.POSITIVE_INFINITY,
) {
  return c.consents.some(
    (x) => x.scope === scope && (x.withdrawn === null || Date.parse(x.withdrawn.recordedAt) > recordedAtMs),
  );
}

/** Whether the patient withdrew consent to research use of their data (at any time, in this episode). */
export function researchConsentWithdrawn(c: EpisodeContext): boolean {
  return c.withdrawals.some((w) => w.scope.includes('research-use'));
}

/** The monitoring plan in force: the treatment plan's, else kapkit's default. */
export function monitoringOf(c: EpisodeContext): readonly MonitoredMeasure[] {
  return c.plan?.monitoring ?? defaultMonitoringPlan.measures;
}
