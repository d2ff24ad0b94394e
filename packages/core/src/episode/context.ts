import type { ScoreStatus } from '../instruments/scoring.js';
import { parseInstant } from './event-time.js';
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
    (x) => x.scope === scope && (x.withdrawn === null || parseInstant(x.withdrawn.recordedAt) > recordedAtMs),
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
