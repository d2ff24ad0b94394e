import type { ValidationIssue } from '../errors.js';
import type { InstrumentRegistry } from '../instruments/registry.js';
import {
  type SafetyFlag,
  type ScoreResult,
  safeScoreResponse,
  scoreResponse,
} from '../instruments/scoring.js';
import {
  type AssessmentScorer,
  bookedSession,
  currentSession,
  type DosingSessionRecord,
  dosedSessions,
  dosesOnHand,
  type EpisodeContext,
  unitsOf,
} from './context.js';
import { DAY_MS } from './critical-periods.js';
import type { EpisodeEvent } from './events.js';

/** Every reason the episode machine can refuse an event. Stable: callers may switch on them. */
export const refusalCodes = {
  'invalid-event': 'The event does not match its schema.',
  'wrong-episode': 'The event belongs to another episode.',
  'wrong-patient': 'The event names another patient than the one the episode was opened for.',
  'duplicate-event-id': 'An event with this id was already accepted.',
  'out-of-order': 'The event is timestamped before the last accepted event.',
  'episode-not-opened': 'The episode has not been opened yet (EpisodeOpened first).',
  'already-opened': 'The episode is already open.',
  'episode-closed': 'The episode is completed or discontinued; nothing more can be recorded.',
  'episode-paused': 'The episode is paused; resume it first.',
  'fit-not-established': 'The medical evaluation needs a good-fit assessment first.',
  'evaluation-not-scheduled': 'The medical evaluation was not scheduled.',
  'not-eligible': 'The medical evaluation has not found the patient eligible.',
  'no-treatment-plan': 'There is no treatment plan with an outcome-monitoring plan.',
  'no-prescription': 'No ketamine prescription has been issued.',
  'supply-exceeds-authorized': 'More medication would be delivered than has been prescribed.',
  'no-medication-on-hand': 'Not enough medication on hand for this dose.',
  'training-required': 'The patient has not been trained in vitals and self-administration.',
  'preparation-required': 'No preparation session before the first dose.',
  'integration-required': 'Not enough integration sessions since the last dosing session.',
  'session-in-progress': 'A dosing session is in progress; complete or abort it first.',
  'no-session-in-progress': 'No dosing session is in progress.',
  'unknown-session': 'The event refers to a dosing session that is not the one in progress.',
  'duplicate-session': 'A dosing session with this id already exists.',
  'pre-dose-vitals-required': 'No pre-dose vitals were recorded in this session.',
  'vitals-hold':
    'Pre-dose blood pressure is above the hold threshold and no clinician override was recorded.',
  'booster-without-dose': 'A booster needs a dose earlier in the same session.',
  'session-already-dosed': 'This session already had its dose; only a booster may follow.',
  'vitals-before-dose': 'During/post-dose vitals before any dose in the session.',
  'session-not-dosed': 'A session without a dose cannot be completed; abort it instead.',
  'post-dose-vitals-required': 'No post-dose vitals were recorded before completing the session.',
  'follow-up-overdue': 'The medical follow-up is overdue and the policy refuses doses until it happens.',
  'refill-requires-follow-up': 'A refill needs a medical follow-up since the last prescription or refill.',
  'unknown-instrument': 'The assessment names an instrument that is not registered.',
  'invalid-assessment': 'The assessment responses do not match the instrument.',
  'no-dose-to-integrate': 'No dosing session has taken place yet.',
  'unknown-safety-flag': 'No such safety flag on this episode.',
  'no-doses-given': 'An episode without any dose cannot be completed; discontinue it instead.',
  'not-paused': 'The episode is not paused.',
  'not-allowed-in-phase': 'This event is not allowed in the current phase of the episode.',
} as const;

export type RefusalCode = keyof typeof refusalCodes;

/** Why an event was refused: a stable code, a sentence for humans, and the event itself. */
export interface Refusal {
  readonly code: RefusalCode;
  readonly message: string;
  readonly event: unknown;
  /** Schema problems, for `invalid-event` and `invalid-assessment`. */
  readonly issues?: readonly ValidationIssue[];
  /** Safety flags found in a refused assessment: a refused record never hides a positive safety item. */
  readonly safetyFlags?: readonly SafetyFlag[];
}

export function refusal(
  code: RefusalCode,
  message: string,
  event: unknown,
  extra: Partial<Refusal> = {},
): Refusal {
  return { code, message, event, ...extra };
}

/**
 * Scores computed while checking AssessmentRecorded events, keyed by the event object, so the reducer does not
 * score the same responses a second time. Weak: entries go with their events.
 */
export const acceptedScores = new WeakMap<object, ScoreResult>();

/** A scorer for AssessmentRecorded events, backed by a registry. */
export function assessmentScorer(registry: InstrumentRegistry): AssessmentScorer {
  return (e) => {
    const definition = registry.get(e.instrument);
    const cached = acceptedScores.get(e);
    const r =
      cached && cached.instrument === definition.id
        ? cached
        : scoreResponse(definition, { responses: e.responses, supplementary: e.supplementary });
    return {
      instrument: definition.id,
      status: r.status,
      total: r.total,
      severity: r.severity,
      safetyFlags: r.safetyFlags,
    };
  };
}

/** What the rules need besides the context. */
export interface RuleEnvironment {
  readonly registry: InstrumentRegistry;
}

/** When the next medical follow-up is due (after the first dose), or null before any dose. */
export function followUpDueMs(c: EpisodeContext): number | null {
  const first = dosedSessions(c)[0]?.doses[0]?.at;
  if (first === undefined) return null;
  const firstMs = Date.parse(first);
  let last = firstMs;
  for (const f of c.followUps) {
    const ms = Date.parse(f);
    if (ms > last) last = ms;
  }
  return last + c.policy.followUpIntervalDays * DAY_MS;
}

/**
 * The session an in-session event refers to: the one in progress, or (when none is) a booked session that
 * has not started, which the event starts. Undefined otherwise.
 */
function sessionOf(c: EpisodeContext, sessionId: string): DosingSessionRecord | undefined {
  if (c.currentSessionId !== null) return c.currentSessionId === sessionId ? currentSession(c) : undefined;
  return bookedSession(c, sessionId);
}

function unknownSession(c: EpisodeContext, e: EpisodeEvent, sessionId: string): Refusal {
  if (c.currentSessionId !== null && c.currentSessionId !== sessionId) {
    return refusal(
      'session-in-progress',
      `${e.type} refers to session "${sessionId}" while session "${c.currentSessionId}" is in progress; complete or abort it first.`,
      e,
    );
  }
  const known = c.sessions.find((x) => x.sessionId === sessionId);
  if (known) {
    return refusal(
      'no-session-in-progress',
      `${e.type} refers to session "${sessionId}", which is ${known.status === 'scheduled' ? 'not in progress' : `already ${known.status}`}.`,
      e,
    );
  }
  return refusal(
    'unknown-session',
    `${e.type} refers to session "${sessionId}", which was never scheduled.`,
    e,
  );
}

function checkFirstDose(
  c: EpisodeContext,
  session: DosingSessionRecord,
  e: Extract<EpisodeEvent, { type: 'DoseAdministered' }>,
): Refusal | null {
  const p = c.policy;
  const previous = dosedSessions(c);
  if (c.plan === null)
    return refusal('no-treatment-plan', 'Dose refused: no treatment plan has been created.', e);
  if (c.prescription === null)
    return refusal('no-prescription', 'Dose refused: no prescription has been issued.', e);
  if (p.requireTrainingBeforeFirstDose && !c.trained) {
    return refusal(
      'training-required',
      'Dose refused: the patient has not been trained to take vitals and self-administer (SelfAdministrationTrained).',
      e,
    );
  }
  if (previous.length === 0 && p.requirePreparationBeforeFirstDose && c.preparationSessions === 0) {
    return refusal(
      'preparation-required',
      'Dose refused: no preparation session before the first dosing session.',
      e,
    );
  }
  if (previous.length > 0 && c.integrationsSinceLastDosing < p.minIntegrationSessionsBetweenDoses) {
    return refusal(
      'integration-required',
      `Dose refused: ${c.integrationsSinceLastDosing} integration session(s) since the last dosing session; the policy requires ${p.minIntegrationSessionsBetweenDoses}.`,
      e,
    );
  }
  if (p.requirePreDoseVitals && session.preVitals.length === 0) {
    return refusal(
      'pre-dose-vitals-required',
      'Dose refused: no pre-dose vitals recorded in this session.',
      e,
    );
  }
  const last = session.preVitals[session.preVitals.length - 1];
  if (last?.aboveHold && e.vitalsOverride === undefined) {
    return refusal(
      'vitals-hold',
      `Dose refused: pre-dose blood pressure ${last.systolic}/${last.diastolic} mmHg is above the hold threshold ${p.holdSystolicAbove}/${p.holdDiastolicAbove}; re-measure, or record a clinician override with a reason.`,
      e,
    );
  }
  if (p.refuseDoseWhenFollowUpOverdue) {
    const due = followUpDueMs(c);
    if (due !== null && Date.parse(e.at) > due) {
      return refusal('follow-up-overdue', 'Dose refused: the medical follow-up is overdue (policy).', e);
    }
  }
  return null;
}

/**
 * Data rules for an event in a phase where its type is allowed: returns the refusal, or null when the event
 * may be applied. The machine's guards call this; `decide` calls it to say why.
 */
export function checkEvent(c: EpisodeContext, e: EpisodeEvent, env: RuleEnvironment): Refusal | null {
  switch (e.type) {
    case 'MedicalEvaluationCompleted':
      if (c.evaluation.scheduledFor === null) {
        return refusal(
          'evaluation-not-scheduled',
          'The medical evaluation was completed without being scheduled.',
          e,
        );
      }
      return null;
    case 'PrescriptionIssued':
      if (c.plan === null) {
        return refusal(
          'no-treatment-plan',
          'Prescription refused: create the treatment plan (with monitoring) first.',
          e,
        );
      }
      return null;
    case 'MedicationDelivered':
      if (c.prescription === null) return refusal('no-prescription', 'Delivery refused: no prescription.', e);
      if (c.dosesDelivered + e.doses > c.dosesAuthorized) {
        return refusal(
          'supply-exceeds-authorized',
          `Delivery refused: ${c.dosesDelivered} delivered + ${e.doses} would exceed the ${c.dosesAuthorized} doses authorised.`,
          e,
        );
      }
      return null;
    case 'RefillIssued':
      if (c.prescription === null)
        return refusal('no-prescription', 'Refill refused: no prescription to refill.', e);
      if (c.policy.refillRequiresFollowUp && !c.followUpSinceAuthorization) {
        return refusal(
          'refill-requires-follow-up',
          'Refill refused: no medical follow-up since the last prescription or refill.',
          e,
        );
      }
      return null;
    case 'DosingSessionScheduled':
      if (c.sessions.some((s) => s.sessionId === e.sessionId)) {
        return refusal('duplicate-session', `A dosing session "${e.sessionId}" already exists.`, e);
      }
      return null;
    case 'VitalsRecorded': {
      const s = sessionOf(c, e.sessionId);
      if (!s) return unknownSession(c, e, e.sessionId);
      if (e.phase !== 'pre' && s.doses.length === 0) {
        return refusal('vitals-before-dose', `${e.phase} vitals recorded before any dose in the session.`, e);
      }
      return null;
    }
    case 'DoseAdministered': {
      const s = sessionOf(c, e.sessionId);
      if (!s) return unknownSession(c, e, e.sessionId);
      if (e.kind === 'booster' && s.doses.length === 0) {
        return refusal(
          'booster-without-dose',
          'A booster needs a full or half dose earlier in the same session.',
          e,
        );
      }
      if (e.kind !== 'booster' && s.doses.length > 0) {
        return refusal(
          'session-already-dosed',
          'This session already had its dose; record a booster instead.',
          e,
        );
      }
      if (dosesOnHand(c) < unitsOf(e)) {
        return refusal(
          'no-medication-on-hand',
          `Dose refused: ${dosesOnHand(c)} dose(s) on hand, ${unitsOf(e)} needed.`,
          e,
        );
      }
      return s.doses.length === 0 ? checkFirstDose(c, s, e) : null;
    }
    case 'DosingSessionCompleted': {
      const s = currentSession(c);
      if (!s || s.sessionId !== e.sessionId) return unknownSession(c, e, e.sessionId);
      if (s.doses.length === 0) {
        return refusal(
          'session-not-dosed',
          'No dose was given in this session: record DosingSessionAborted.',
          e,
        );
      }
      if (c.policy.requirePostDoseVitalsToComplete && !s.otherVitals.some((v) => v.phase === 'post')) {
        return refusal(
          'post-dose-vitals-required',
          'Session not completed: no post-dose vitals recorded.',
          e,
        );
      }
      return null;
    }
    case 'DosingSessionAborted':
      return sessionOf(c, e.sessionId) ? null : unknownSession(c, e, e.sessionId);
    case 'AdverseEventReported':
      if (e.sessionId !== undefined && !c.sessions.some((s) => s.sessionId === e.sessionId)) {
        return refusal('unknown-session', `Adverse event refers to unknown session "${e.sessionId}".`, e);
      }
      return null;
    case 'IntegrationSessionCompleted':
      if (dosedSessions(c).length === 0) {
        return refusal(
          'no-dose-to-integrate',
          'Integration sessions follow a dosing session; none has taken place.',
          e,
        );
      }
      if (e.sessionId !== undefined && !c.sessions.some((s) => s.sessionId === e.sessionId)) {
        return refusal('unknown-session', `Integration refers to unknown session "${e.sessionId}".`, e);
      }
      return null;
    case 'AssessmentRecorded': {
      const definition = env.registry.find(e.instrument);
      if (!definition) {
        return refusal(
          'unknown-instrument',
          `Unknown instrument "${e.instrument}" (known: ${env.registry.ids().join(', ')}).`,
          e,
        );
      }
      const scored = safeScoreResponse(definition, {
        responses: e.responses,
        supplementary: e.supplementary,
      });
      if (scored.ok) acceptedScores.set(e, scored.value);
      if (!scored.ok) {
        const positive = scored.safetyFlags.filter((f) => f.kind === 'positive');
        return refusal(
          'invalid-assessment',
          `${definition.name} refused: ${scored.issues.map((i) => i.message).join('; ')}${positive.length ? ` — SAFETY: ${positive.map((f) => `${f.rule} (item ${f.item} = ${f.value})`).join(', ')} in the refused record; act on it` : ''}`,
          e,
          { issues: scored.issues, safetyFlags: scored.safetyFlags },
        );
      }
      return null;
    }
    case 'SafetyFlagReviewed':
      if (!c.safetyFlags.some((f) => f.assessmentEventId === e.assessmentEventId && f.rule === e.rule)) {
        return refusal(
          'unknown-safety-flag',
          `No safety flag "${e.rule}" on assessment "${e.assessmentEventId}" in this episode.`,
          e,
        );
      }
      return null;
    case 'EpisodeCompleted':
      if (dosedSessions(c).length === 0) {
        return refusal(
          'no-doses-given',
          'No dose was given: record EpisodeDiscontinued instead of EpisodeCompleted.',
          e,
        );
      }
      return null;
    default:
      return null;
  }
}

const needsEligibility = new Set<string>([
  'TreatmentPlanCreated',
  'PrescriptionIssued',
  'MedicationDelivered',
  'SelfAdministrationTrained',
  'PreparationSessionCompleted',
  'DosingSessionScheduled',
  'VitalsRecorded',
  'DoseAdministered',
  'DosingSessionCompleted',
  'DosingSessionAborted',
  'IntegrationSessionCompleted',
  'MedicalFollowUpCompleted',
  'RefillIssued',
  'EpisodeCompleted',
]);
const sessionEvents = new Set<string>([
  'VitalsRecorded',
  'DoseAdministered',
  'DosingSessionCompleted',
  'DosingSessionAborted',
]);

/**
 * Why an event type is not accepted in the machine's current phase (the machine has no transition for it).
 * `phase` is the episode phase id (see `phaseOf`).
 */
export function phaseRefusal(phase: string, e: EpisodeEvent): Refusal {
  if (phase === 'completed' || phase === 'discontinued') {
    return refusal('episode-closed', `The episode is ${phase}; ${e.type} cannot be recorded.`, e);
  }
  if (phase === 'not-opened') {
    return refusal('episode-not-opened', `${e.type} before EpisodeOpened.`, e);
  }
  if (e.type === 'EpisodeOpened') return refusal('already-opened', 'The episode is already open.', e);
  if (phase === 'paused') {
    return e.type === 'EpisodeResumed' || e.type === 'EpisodePaused'
      ? refusal('not-allowed-in-phase', `${e.type} is not allowed while paused.`, e)
      : refusal(
          'episode-paused',
          `The episode is paused; ${e.type} cannot be recorded until EpisodeResumed.`,
          e,
        );
  }
  if (e.type === 'EpisodeResumed') return refusal('not-paused', 'The episode is not paused.', e);
  if (e.type === 'MedicalEvaluationScheduled' && phase === 'fit-discussion') {
    return refusal('fit-not-established', 'Schedule the medical evaluation after a good-fit assessment.', e);
  }
  if (e.type === 'MedicalEvaluationCompleted' && phase === 'fit-discussion') {
    return refusal('fit-not-established', 'The medical evaluation needs a good-fit assessment first.', e);
  }
  if (e.type === 'MedicalEvaluationCompleted' && (phase === 'medical-evaluation' || phase === 'ineligible')) {
    return refusal(
      'evaluation-not-scheduled',
      'Schedule the medical evaluation (MedicalEvaluationScheduled) before completing it.',
      e,
    );
  }
  if (
    needsEligibility.has(e.type) &&
    (phase === 'fit-discussion' || phase === 'medical-evaluation' || phase === 'ineligible')
  ) {
    return refusal(
      'not-eligible',
      `${e.type} refused: the medical evaluation has not found the patient eligible (phase: ${phase}).`,
      e,
    );
  }
  if (phase === 'dosing-session' && !sessionEvents.has(e.type)) {
    return refusal(
      'session-in-progress',
      `${e.type} refused: a dosing session is in progress; complete or abort it first.`,
      e,
    );
  }
  if (sessionEvents.has(e.type)) {
    return refusal('no-session-in-progress', `${e.type} refused: no dosing session is in progress.`, e);
  }
  return refusal('not-allowed-in-phase', `${e.type} is not allowed in phase "${phase}".`, e);
}
