import type { InstrumentRegistry } from '../instruments/registry.js';
import {
  compileInstrument,
  computeRule,
  isValidResponses,
  isValidSupplementary,
  type RuleOutput,
  type ScoreResult,
  type ScoreStatus,
  STATUS_CODES,
  STATUS_NOT_SCORABLE,
  safeScoreResponse,
  safetyFlagsOf,
  scoreResponse,
} from '../instruments/scoring.js';
import { type AssessmentScorer, dosedSessions, type EpisodeContext } from './context.js';
import {
  checkDose,
  checkSessionCompleted,
  isMeaningfulReason,
  sessionOf,
  stoppedRefusal,
  unknownSession,
} from './dose-rules.js';
import { instantMs } from './event-time.js';
import type { EpisodeEvent } from './events.js';
import { type Refusal, refusal } from './refusals.js';

export { followUpDueMs, readingText } from './dose-rules.js';
export { type Refusal, type RefusalCode, refusal, refusalCodes, type SafetySignal } from './refusals.js';
export { safetySignalsOf, safetyText } from './safety-signals.js';

/**
 * An assessment with the score worked out when it was checked: the guard does not check it again and the
 * reducer does not score it a second time. The score is a non-enumerable property, so the event is equal (and
 * serialises equal) to the one recorded. `decide` hands the machine the score it worked out without copying the
 * event; an event sent to the machine without a score (e.g. by `createActor(episodeMachine).send(e)`) is checked
 * and scored as usual.
 */
export type ScoredAssessment = Extract<EpisodeEvent, { type: 'AssessmentRecorded' }> & {
  readonly scored?: ScoreResult;
};

/** A copy of an assessment carrying its score (see {@link ScoredAssessment}), for callers that send events to the machine themselves. */
export function withScore(
  e: Extract<EpisodeEvent, { type: 'AssessmentRecorded' }>,
  scored: ScoreResult,
): ScoredAssessment {
  return Object.defineProperty({ ...e }, 'scored', { value: scored, enumerable: false });
}

/**
 * `e` carrying its score, for `decide`: set on `e` itself when `decide` owns it (the parser made it), so no
 * copy is paid per assessment; on a copy (as {@link withScore}) when `e` is the caller's own object.
 */
export function carryingScore(
  e: Extract<EpisodeEvent, { type: 'AssessmentRecorded' }>,
  input: unknown,
  scored: ScoreResult,
): ScoredAssessment {
  if (e === input || !Object.isExtensible(e)) return withScore(e, scored);
  return Object.defineProperty(e, 'scored', { value: scored, enumerable: false });
}

/** A scorer for AssessmentRecorded events, backed by a registry (it uses the score an event carries). */
export function assessmentScorer(registry: InstrumentRegistry): AssessmentScorer {
  const out: RuleOutput = { status: 0, value: 0, missingUnits: 0 };
  return (e) => {
    const definition = registry.get(e.instrument);
    const carried = (e as ScoredAssessment).scored;
    if (carried && carried.instrument === definition.id) return keptScore(carried);
    const c = compileInstrument(definition);
    if (!isValidSupplementary(definition, e.supplementary) || !isValidResponses(c, e.responses)) {
      return keptScore(scoreResponse(definition, { responses: e.responses, supplementary: e.supplementary }));
    }
    // The part of `scoreResponse` an episode keeps (status, total, band, safety flags), worked out the same way
    // without building the rest of the result (cut-offs, extra scores, missing items): most of the cost of
    // folding an assessment that was accepted before (the read side's case).
    computeRule(c.total, e.responses, out);
    const total = out.status === STATUS_NOT_SCORABLE ? null : out.value;
    let severity: string | null = null;
    if (total !== null && definition.bands) {
      for (let b = c.bandMins.length - 1; b >= 0; b--) {
        if (total >= c.bandMins[b]!) {
          severity = definition.bands[b]!.id;
          break;
        }
      }
    }
    return {
      instrument: definition.id,
      status: STATUS_CODES[out.status] as ScoreStatus,
      total,
      severity,
      safetyFlags: safetyFlagsOf(definition, e.responses),
    };
  };
}

function keptScore(r: ScoreResult): ReturnType<AssessmentScorer> {
  return {
    instrument: r.instrument,
    status: r.status,
    total: r.total,
    severity: r.severity,
    safetyFlags: r.safetyFlags,
  };
}

/** What the rules need besides the context. */
export interface RuleEnvironment {
  readonly registry: InstrumentRegistry;
}

function checkEvaluation(
  c: EpisodeContext,
  e: Extract<EpisodeEvent, { type: 'MedicalEvaluationCompleted' }>,
): Refusal | null {
  const reevaluation = c.evaluation.eligible === true;
  if (!reevaluation && c.evaluation.scheduledFor === null) {
    return refusal(
      'evaluation-not-scheduled',
      'The medical evaluation was completed without being scheduled.',
      e,
    );
  }
  if (e.eligible) {
    const absolute = e.contraindications.filter((x) => c.policy.absoluteContraindications.includes(x));
    if (
      absolute.length > 0 &&
      !isMeaningfulReason(e.contraindicationOverride?.reason, c.policy.minReasonLength)
    ) {
      return refusal(
        'contraindicated',
        `Eligibility refused: absolute contraindication(s) ${absolute.join(', ')}; the medical team records contraindicationOverride with a reason${e.contraindicationOverride ? ` (the one given is too short to say why)` : ''}.`,
        e,
      );
    }
  }
  return null;
}

/**
 * Check an assessment on its own (known instrument, valid answers, not empty): its score, or the refusal. Does
 * not depend on the episode, so `decide` works it out once, before the machine, and passes the score on.
 */
export function scoreAssessment(
  e: Extract<EpisodeEvent, { type: 'AssessmentRecorded' }>,
  env: RuleEnvironment,
): { readonly ok: true; readonly scored: ScoreResult } | { readonly ok: false; readonly refusal: Refusal } {
  const definition = env.registry.find(e.instrument);
  if (!definition) {
    return {
      ok: false,
      refusal: refusal(
        'unknown-instrument',
        `Unknown instrument "${e.instrument}" (known: ${env.registry.ids().join(', ')}).`,
        e,
      ),
    };
  }
  const scored = safeScoreResponse(definition, { responses: e.responses, supplementary: e.supplementary });
  if (!scored.ok) {
    return {
      ok: false,
      refusal: refusal(
        'invalid-assessment',
        `${definition.name} refused: ${scored.issues.map((i) => i.message).join('; ')}`,
        e,
        { issues: scored.issues },
      ),
    };
  }
  if (e.responses.every((r) => r === null)) {
    return {
      ok: false,
      refusal: refusal(
        'invalid-assessment',
        `${definition.name} refused: every item is unanswered, so there is nothing to record (an empty form does not count as a measure).`,
        e,
      ),
    };
  }
  return { ok: true, scored: scored.value };
}

function checkAssessment(e: ScoredAssessment, env: RuleEnvironment): Refusal | null {
  if (e.scored !== undefined) return null;
  const r = scoreAssessment(e, env);
  return r.ok ? null : r.refusal;
}

/** The data rule of one event type: the refusal, or null when the event may be applied. */
type EventRule<T extends EpisodeEvent['type']> = (
  c: EpisodeContext,
  e: Extract<EpisodeEvent, { type: T }>,
  env: RuleEnvironment,
  recordedAtMs: number,
) => Refusal | null;

/** The titration steps of a plan start at session 1 and go up. */
function checkTitration(e: Extract<EpisodeEvent, { type: 'TreatmentPlanCreated' }>): Refusal | null {
  const steps = e.titration;
  const ordered =
    steps === undefined ||
    (steps[0]!.fromSession === 1 &&
      steps.every((x, i) => i === 0 || x.fromSession > steps[i - 1]!.fromSession));
  if (ordered) return null;
  const got = steps.map((x) => x.fromSession).join(', ');
  const message = `titration: the first step starts at session 1 and each later step at a later session (got ${got})`;
  return refusal('invalid-event', `Invalid event: ${message}`, e, {
    issues: [
      {
        path: ['titration'],
        code: 'invalid-type',
        expected: 'steps from session 1, in increasing fromSession order',
        received: got,
        message,
      },
    ],
  });
}

/** Ending the initial course (completion or maintenance) needs a dose, and a reason when it is cut short. */
function checkCourseEnd(
  c: EpisodeContext,
  e: Extract<EpisodeEvent, { type: 'EpisodeCompleted' | 'MaintenancePlanned' }>,
): Refusal | null {
  const dosed = dosedSessions(c).length;
  const planned = c.plan?.plannedDosingSessions ?? 0;
  const completing = e.type === 'EpisodeCompleted';
  if (dosed === 0) {
    return refusal(
      'no-doses-given',
      completing
        ? 'No dose was given: record EpisodeDiscontinued instead of EpisodeCompleted.'
        : 'Maintenance follows an initial course of dosing sessions; no dose has been given.',
      e,
    );
  }
  if (dosed < planned && !isMeaningfulReason(e.reason, c.policy.minReasonLength)) {
    const what = completing ? 'Completing' : 'Planning maintenance';
    const of = completing ? '' : ' of the initial course';
    return refusal(
      'reason-required',
      `${what} after ${dosed} of ${planned} planned dosing sessions${of} needs a reason${e.reason === undefined ? '' : ' (the one given is too short to say why)'}.`,
      e,
    );
  }
  return null;
}

/**
 * The data rules, one per event type that has any (the others are accepted wherever the machine takes them).
 * The machine decides where an event type may come; these decide whether this event may.
 */
const eventRules: { readonly [T in EpisodeEvent['type']]?: EventRule<T> } = {
  MedicalEvaluationCompleted: (c, e) => checkEvaluation(c, e),
  TreatmentPlanCreated: (_c, e) => checkTitration(e),
  PrescriptionIssued: (c, e) => {
    if (c.plan === null) {
      return refusal(
        'no-treatment-plan',
        'Prescription refused: create the treatment plan (with monitoring) first.',
        e,
      );
    }
    if (c.prescriptions > 0 && c.policy.refillRequiresFollowUp && !c.followUpSinceAuthorization) {
      return refusal(
        'refill-requires-follow-up',
        'Prescription refused: a new prescription after the first needs a medical follow-up since the last prescription or refill, as a refill does.',
        e,
      );
    }
    return null;
  },
  MedicationDelivered: (c, e) => {
    if (c.prescription === null) return refusal('no-prescription', 'Delivery refused: no prescription.', e);
    if (c.dosesDelivered + e.doses <= c.dosesAuthorized) return null;
    return refusal(
      'supply-exceeds-authorized',
      `Delivery refused: ${c.dosesDelivered} delivered + ${e.doses} would exceed the ${c.dosesAuthorized} doses authorised.`,
      e,
    );
  },
  RefillIssued: (c, e, _env, recordedAtMs) => {
    if (c.prescription === null)
      return refusal('no-prescription', 'Refill refused: no prescription to refill.', e);
    const stopped = stoppedRefusal(c, e, recordedAtMs);
    if (stopped) return stopped;
    if (c.policy.refillRequiresFollowUp && !c.followUpSinceAuthorization) {
      return refusal(
        'refill-requires-follow-up',
        'Refill refused: no medical follow-up since the last prescription or refill.',
        e,
      );
    }
    return null;
  },
  DosingSessionScheduled: (c, e, _env, recordedAtMs) => {
    if (c.sessions.some((s) => s.sessionId === e.sessionId)) {
      return refusal('duplicate-session', `A dosing session "${e.sessionId}" already exists.`, e);
    }
    const stopped = stoppedRefusal(c, e, recordedAtMs);
    if (stopped) return stopped;
    if (c.policy.requireChaperoneForRemoteDosing && e.mode === 'telehealth' && e.chaperone !== true) {
      return refusal(
        'chaperone-required',
        'A telehealth dosing session needs a chaperone physically present for the whole session (set chaperone: true once one is arranged).',
        e,
      );
    }
    return null;
  },
  VitalsRecorded: (c, e) => {
    const s = sessionOf(c, e.sessionId);
    if (!s) return unknownSession(c, e, e.sessionId);
    if (e.phase !== 'pre' && s.doses.length === 0) {
      return refusal('vitals-before-dose', `${e.phase} vitals recorded before any dose in the session.`, e);
    }
    return null;
  },
  DoseAdministered: (c, e, _env, recordedAtMs) => checkDose(c, e, recordedAtMs),
  DosingSessionCompleted: (c, e) => checkSessionCompleted(c, e),
  DosingSessionAborted: (c, e) => (sessionOf(c, e.sessionId) ? null : unknownSession(c, e, e.sessionId)),
  IntegrationSessionCompleted: (c, e) => {
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
  },
  AssessmentRecorded: (_c, e, env) => checkAssessment(e, env),
  SafetyFlagReviewed: (c, e) =>
    c.safetyFlags.some((f) => f.assessmentEventId === e.assessmentEventId && f.rule === e.rule)
      ? null
      : refusal(
          'unknown-safety-flag',
          `No safety flag "${e.rule}" on assessment "${e.assessmentEventId}" in this episode.`,
          e,
        ),
  AdverseEventReviewed: (c, e) =>
    c.adverseEvents.some((a) => a.eventId === e.adverseEventId)
      ? null
      : refusal('unknown-adverse-event', `No adverse event "${e.adverseEventId}" in this episode.`, e),
  MedicationsReviewed: (c, e) =>
    c.evaluation.scheduledFor !== null || c.evaluation.completedAt !== null
      ? null
      : refusal(
          'evaluation-not-scheduled',
          'Medications are reviewed at or after the medical evaluation: schedule it first.',
          e,
        ),
  MaintenancePlanned: (c, e) => checkCourseEnd(c, e),
  EpisodeCompleted: (c, e) => checkCourseEnd(c, e),
};

/**
 * Data rules for an event in a phase where its type is allowed: returns the refusal, or null when the event
 * may be applied. The machine's guards call this; `decide` calls it to say why.
 */
export function checkEvent(c: EpisodeContext, e: EpisodeEvent, env: RuleEnvironment): Refusal | null {
  const rule = eventRules[e.type] as EventRule<EpisodeEvent['type']> | undefined;
  return rule ? rule(c, e as never, env, instantMs(e.recordedAt)) : null;
}
