import type { ValidationIssue } from '../errors.js';
import type { InstrumentRegistry } from '../instruments/registry.js';
import { type ScoreResult, safeScoreResponse, safetyFlagsOf, scoreResponse } from '../instruments/scoring.js';
import {
  type AssessmentScorer,
  adverseEventNeedsReview,
  bookedSession,
  consentInForce,
  currentSession,
  type DosingSessionRecord,
  dosedSessions,
  dosesOnHand,
  type EpisodeContext,
  plannedDoseFor,
  type TreatmentStop,
  unitsOf,
  type VitalsReading,
  vitalSignNames,
  vitalSignsBeyond,
} from './context.js';
import { DAY_MS } from './critical-periods.js';
import { recordedAtMs as eventRecordedAtMs } from './event-time.js';
import type { EpisodeEvent } from './events.js';
import type { EpisodePolicy } from './policy.js';

/** Every reason the episode machine can refuse an event. Stable: callers may switch on them. */
export const refusalCodes = {
  'invalid-event': 'The event does not match its schema.',
  'wrong-episode': 'The event belongs to another episode.',
  'wrong-patient': 'The event names another patient than the one the episode was opened for.',
  'duplicate-event-id': 'An event with this id was already accepted.',
  'out-of-order':
    'The event is dated before accepted events, and the history ordered by clinical time would not be valid with it.',
  'episode-not-opened': 'The episode has not been opened yet (EpisodeOpened first).',
  'already-opened': 'The episode is already open.',
  'episode-closed':
    'The episode is completed or discontinued; only adverse events, reviews and voids can still be recorded.',
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
  'unknown-session': 'The event refers to a dosing session that was never scheduled.',
  'duplicate-session': 'A dosing session with this id already exists.',
  'pre-dose-vitals-required': 'No pre-dose vitals were recorded in this session.',
  'vitals-hold':
    'Pre-dose blood pressure, heart rate or SpO₂ is beyond the hold threshold and the medical team recorded no override.',
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
  'not-permitted': 'The role that recorded the event may not record this event type (permission table).',
  'future-event':
    'The event is dated later than when it was recorded (or than the clock checking it), beyond the clock tolerance.',
  'safety-review-required':
    'A positive safety flag or a severe, serious or suicidal-ideation adverse event has not been reviewed by a clinician.',
  'treatment-stopped':
    'The medical team stopped treatment; a new prescription, an eligible re-evaluation or a follow-up that continues treatment is needed first.',
  contraindicated:
    'Eligible despite an absolute contraindication: the medical team must record an override with a reason.',
  'reason-required':
    'This needs a recorded reason (and the one given is missing or too short to say anything).',
  'dose-mismatch': 'The dose does not match the active prescription or the dose policy.',
  'dosing-too-soon': 'Dosing sessions must be further apart (policy).',
  'chaperone-required': 'A telehealth dosing session needs a chaperone physically present.',
  'unknown-adverse-event': 'No such adverse event in this episode.',
  'unknown-event': 'No accepted event with this id in the episode (or it was already voided).',
  'cannot-void': 'This event cannot be voided.',
  'void-would-invalidate':
    'Voiding the event would invalidate a later accepted event that depends on it; void that one first.',
  'consent-required':
    'No informed consent to KAP in force (or, for a remote dosing session, no consent to remote sessions): record InformedConsentRecorded first (policy).',
} as const;

export type RefusalCode = keyof typeof refusalCodes;

/**
 * A safety signal carried by an event: a safety rule of an assessment's instrument (e.g. PHQ-9 item 9 > 0), a
 * severe, serious or suicidal-ideation adverse event, or vitals beyond the alert thresholds.
 */
export interface SafetySignal {
  /** The rule, e.g. `phq9-item9-positive`, `adverse-event-serious`, `vitals-systolic-alert`. */
  readonly rule: string;
  /** `positive`: the signal is present; `unanswered`: a safety item was left blank (assessments only). */
  readonly kind: 'positive' | 'unanswered';
  /** The answer, severity or reading that raised it. */
  readonly value: number | string | null;
  readonly message: string;
  /** What kind of record carried it. */
  readonly origin: 'assessment' | 'adverse-event' | 'vitals';
  readonly instrument?: string;
  /** 1-based item number (assessments). */
  readonly item?: number;
  readonly itemId?: string;
  /** Where the rule comes from (assessments: the instrument's safety rule source). */
  readonly source?: string;
}

/** The later accepted event that a late entry or a void would invalidate, and why. */
export interface Invalidated {
  readonly eventId: string;
  readonly type: string;
  readonly at: string;
  readonly code: RefusalCode;
  readonly message: string;
}

/** Why an event was refused: a stable code, a sentence for humans, and the event itself. */
export interface Refusal {
  readonly code: RefusalCode;
  readonly message: string;
  readonly event: unknown;
  /** Schema problems, for `invalid-event` and `invalid-assessment`. */
  readonly issues?: readonly ValidationIssue[];
  /**
   * Safety signals the refused event carries, whatever the refusal code: a refused record never hides a
   * positive safety item, a serious adverse event or an alarming reading.
   */
  readonly safetyFlags?: readonly SafetySignal[];
  /** `out-of-order`, `void-would-invalidate`: the first later event that would no longer be valid. */
  readonly invalidates?: Invalidated;
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
 * An assessment with the score worked out when it was checked, as `decide` hands it to the machine: the guard
 * does not check it again and the reducer does not score it a second time. The score is a non-enumerable
 * property of a copy of the event, so the event kept in the history is equal (and serialises equal) to the one
 * recorded. An event sent to the machine without it (e.g. by `createActor(episodeMachine).send(e)`) is checked
 * and scored as usual.
 */
export type ScoredAssessment = Extract<EpisodeEvent, { type: 'AssessmentRecorded' }> & {
  readonly scored?: ScoreResult;
};

/** A copy of an assessment carrying its score (see {@link ScoredAssessment}). */
export function withScore(
  e: Extract<EpisodeEvent, { type: 'AssessmentRecorded' }>,
  scored: ScoreResult,
): ScoredAssessment {
  return Object.defineProperty({ ...e }, 'scored', { value: scored, enumerable: false });
}

/** A scorer for AssessmentRecorded events, backed by a registry (it uses the score an event carries). */
export function assessmentScorer(registry: InstrumentRegistry): AssessmentScorer {
  return (e) => {
    const definition = registry.get(e.instrument);
    const carried = (e as ScoredAssessment).scored;
    const r =
      carried && carried.instrument === definition.id
        ? carried
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
 * Whether a reason says something: at least `policy.minReasonLength` letters or digits (kapkit default 10), so
 * that "ok." or "n/a" is not a reason.
 */
export function isMeaningfulReason(reason: string | undefined, minLength: number): boolean {
  if (reason === undefined) return false;
  const letters = reason.match(/[\p{L}\p{N}]/gu);
  return (letters?.length ?? 0) >= minLength;
}

/**
 * Whether a fact recorded at `factRecordedAt` was known when the event recorded at `eventRecordedAtMs` was
 * written. Gates (safety review, treatment stop, vitals hold) judge a decision by what was known when it was
 * recorded, so a late entry does not retroactively refuse a dose that went ahead; `statusAt` raises a
 * `late-entry` alert for it instead.
 */
function knownAt(factRecordedAt: string, eventRecordedAtMs: number): boolean {
  return Date.parse(factRecordedAt) <= eventRecordedAtMs;
}

/**
 * Positive safety flags and adverse events needing review, unreviewed as known at `recordedAtMs`. Any review
 * known then counts: a second review entered later does not hide the first (the context keeps the latest only).
 */
export function unreviewedSafetySignals(c: EpisodeContext, recordedAtMs = Number.POSITIVE_INFINITY) {
  const known = (h: EpisodeEvent) => knownAt(h.recordedAt, recordedAtMs);
  const flagReviewed = (f: { assessmentEventId: string; rule: string }) =>
    c.history.some(
      (h) =>
        h.type === 'SafetyFlagReviewed' &&
        h.assessmentEventId === f.assessmentEventId &&
        h.rule === f.rule &&
        known(h),
    );
  const adverseReviewed = (a: { eventId: string }) =>
    c.history.some((h) => h.type === 'AdverseEventReviewed' && h.adverseEventId === a.eventId && known(h));
  return {
    flags: c.safetyFlags.filter(
      (f) => f.kind === 'positive' && knownAt(f.recordedAt, recordedAtMs) && !flagReviewed(f),
    ),
    adverseEvents: c.adverseEvents.filter(
      (a) => a.needsReview && knownAt(a.recordedAt, recordedAtMs) && !adverseReviewed(a),
    ),
  };
}

/**
 * The treatment stop in force as known at `recordedAtMs`: the last stop or lift (a follow-up, a prescription, a
 * re-evaluation) among the events known then, in clinical order. A stop or lift entered later neither counts nor
 * hides an earlier one (the context's `treatmentStopped` is the last one, known or not).
 */
function knownStop(c: EpisodeContext, recordedAtMs: number): TreatmentStop | null {
  let eligible = false;
  let stop: TreatmentStop | null = null;
  for (const h of c.history) {
    // Only these three types start or lift a stop (skipping the rest early keeps the scan cheap).
    if (
      h.type !== 'MedicalEvaluationCompleted' &&
      h.type !== 'PrescriptionIssued' &&
      h.type !== 'MedicalFollowUpCompleted'
    ) {
      continue;
    }
    const known = eventRecordedAtMs(h) <= recordedAtMs;
    const fact = { eventId: h.id, at: h.at, recordedAt: h.recordedAt };
    if (h.type === 'MedicalEvaluationCompleted') {
      // The first eligible evaluation starts treatment; later ones are re-evaluations.
      if (eligible && known) stop = h.eligible ? null : { ...fact, by: 'evaluation' };
      else if (!eligible && h.eligible && known) stop = null;
      eligible ||= h.eligible;
    } else if (h.type === 'PrescriptionIssued') {
      if (known) stop = null;
    } else if (h.type === 'MedicalFollowUpCompleted') {
      if (known) stop = h.continueTreatment ? null : { ...fact, by: 'follow-up' };
    }
  }
  return stop;
}

function stoppedRefusal(c: EpisodeContext, e: EpisodeEvent, recordedAtMs: number): Refusal | null {
  const stop = knownStop(c, recordedAtMs);
  if (!stop) return null;
  return refusal(
    'treatment-stopped',
    `${e.type} refused: the medical team stopped treatment on ${stop.at.slice(0, 10)} (${stop.by === 'follow-up' ? 'a follow-up decided not to continue' : 'a re-evaluation found the patient not eligible'}); a new medical evaluation, prescription or follow-up that continues treatment comes first.`,
    e,
  );
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

type DoseEvent = Extract<EpisodeEvent, { type: 'DoseAdministered' }>;

/** The dose checked against the active prescription and the dose policy (`dose-mismatch`), or null. */
function checkDoseAgainstPrescription(
  c: EpisodeContext,
  session: DosingSessionRecord,
  e: DoseEvent,
): Refusal | null {
  const rx = c.prescription;
  if (rx === null) return refusal('no-prescription', 'Dose refused: no prescription has been issued.', e);
  const p = c.policy;
  if (e.route !== rx.route || e.formulation !== rx.formulation) {
    return refusal(
      'dose-mismatch',
      `Dose refused: ${e.route} ${e.formulation} does not match the prescription (${rx.route} ${rx.formulation}).`,
      e,
    );
  }
  const limit =
    e.kind === 'full' ? rx.doseMg : e.kind === 'half' ? rx.doseMg / 2 : rx.doseMg * p.maxBoosterFraction;
  if (e.doseMg > limit + 1e-9) {
    const what =
      e.kind === 'full'
        ? `the prescribed ${rx.doseMg} mg`
        : e.kind === 'half'
          ? `half of the prescribed ${rx.doseMg} mg (${limit} mg)`
          : `${p.maxBoosterFraction * 100} % of the prescribed ${rx.doseMg} mg (${limit} mg, booster policy)`;
    return refusal('dose-mismatch', `Dose refused: a ${e.kind} dose of ${e.doseMg} mg exceeds ${what}.`, e);
  }
  if (e.kind === 'booster') {
    const boosters = session.doses.filter((d) => d.kind === 'booster').length;
    if (boosters >= p.maxBoostersPerSession) {
      return refusal(
        'dose-mismatch',
        `Dose refused: ${boosters} booster(s) already given in this session; the policy allows ${p.maxBoostersPerSession}.`,
        e,
      );
    }
  }
  const units = unitsOf(e, rx.doseMg);
  if (e.unitsUsed !== undefined && Math.abs(e.unitsUsed - units) > 1e-6) {
    return refusal(
      'dose-mismatch',
      `Dose refused: unitsUsed ${e.unitsUsed} does not match ${e.doseMg} mg of a ${rx.doseMg} mg prescription (${Number(units.toFixed(4))} unit(s)); leave unitsUsed out, it follows from the mg.`,
      e,
    );
  }
  return null;
}

/** Gates before any dose (first or booster): treatment stopped, unreviewed safety signals. */
function checkDoseGates(
  c: EpisodeContext,
  session: DosingSessionRecord,
  e: DoseEvent,
  recordedAtMs: number,
): Refusal | null {
  const stopped = stoppedRefusal(c, e, recordedAtMs);
  if (stopped) return stopped;
  if (c.policy.requireInformedConsent) {
    const missing = !consentInForce(c, 'kap', recordedAtMs)
      ? 'kap'
      : session.mode === 'telehealth' && !consentInForce(c, 'remote-sessions', recordedAtMs)
        ? 'remote-sessions'
        : null;
    if (missing !== null) {
      const withdrawn = c.consents.some((x) => x.scope === missing && x.withdrawn !== null);
      return refusal(
        'consent-required',
        missing === 'kap'
          ? `Dose refused: ${withdrawn ? 'the patient withdrew consent to KAP' : 'no informed consent to KAP is recorded'}; record InformedConsentRecorded (scope kap) first.`
          : `Dose refused: session "${session.sessionId}" is a remote (telehealth) session and ${withdrawn ? 'the patient withdrew consent to remote sessions' : 'no consent to remote sessions is recorded'}; record InformedConsentRecorded (scope remote-sessions) first.`,
        e,
      );
    }
  }
  if (c.policy.requireSafetyReviewBeforeDose) {
    const { flags, adverseEvents } = unreviewedSafetySignals(c, recordedAtMs);
    if (flags.length > 0 || adverseEvents.length > 0) {
      const what = [
        ...flags.map(
          (f) =>
            `${f.instrument.toUpperCase()} item ${f.item} = ${f.value} on ${f.at.slice(0, 10)} (${f.rule})`,
        ),
        ...adverseEvents.map((a) => `${a.severity} adverse event "${a.code}" on ${a.at.slice(0, 10)}`),
      ];
      return refusal(
        'safety-review-required',
        `Dose refused: unreviewed safety signal(s): ${what.join('; ')}. A clinician records the review (SafetyFlagReviewed / AdverseEventReviewed) first.`,
        e,
      );
    }
  }
  return null;
}

function checkFirstDose(
  c: EpisodeContext,
  session: DosingSessionRecord,
  e: DoseEvent,
  recordedAtMs: number,
): Refusal | null {
  const p = c.policy;
  const previous = dosedSessions(c);
  if (c.plan === null)
    return refusal('no-treatment-plan', 'Dose refused: no treatment plan has been created.', e);
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
  const lastSessionDose = previous[previous.length - 1]?.doses[0];
  if (lastSessionDose) {
    const hours = (Date.parse(e.at) - Date.parse(lastSessionDose.at)) / 3_600_000;
    if (hours < p.minHoursBetweenDosingSessions) {
      return refusal(
        'dosing-too-soon',
        `Dose refused: the last dosing session's dose was ${Number(hours.toFixed(1))} h earlier (${lastSessionDose.at}); the policy requires ${p.minHoursBetweenDosingSessions} h between dosing sessions.`,
        e,
      );
    }
  }
  if (p.requireChaperoneForRemoteDosing && session.mode === 'telehealth' && !session.chaperone) {
    return refusal(
      'chaperone-required',
      `Dose refused: session "${session.sessionId}" is a telehealth session without a chaperone physically present (policy).`,
      e,
    );
  }
  const known = session.preVitals.filter((v) => knownAt(v.recordedAt, recordedAtMs));
  if (p.requirePreDoseVitals && known.length === 0) {
    return refusal(
      'pre-dose-vitals-required',
      'Dose refused: no pre-dose vitals recorded in this session.',
      e,
    );
  }
  const last = known[known.length - 1];
  if (last?.aboveHold) {
    const o = e.vitalsOverride;
    if (o === undefined) {
      return refusal(
        'vitals-hold',
        `Dose refused: pre-dose ${readingText(last)}: ${last.holdSigns.map((sign) => vitalSignNames[sign]).join(', ')} beyond the hold threshold (BP ${p.holdSystolicAbove}/${p.holdDiastolicAbove} mmHg, heart rate ${p.holdHeartRateAbove}/min, SpO₂ below ${p.holdSpo2Below} %); re-measure, or the medical team records an override with a reason.`,
        e,
      );
    }
    if (o.clinicianRole !== 'medical') {
      return refusal(
        'not-permitted',
        `Dose refused: a vitals-hold override is the medical team's decision, not the ${o.clinicianRole}'s.`,
        e,
      );
    }
    if (e.recordedBy !== 'medical' && e.recordedBy !== 'therapist') {
      return refusal(
        'not-permitted',
        `Dose refused: a dose with a vitals-hold override is recorded by a clinician (the medical team's decision, relayed by the therapist), not by the ${e.recordedBy}.`,
        e,
      );
    }
    if (!isMeaningfulReason(o.reason, p.minReasonLength)) {
      return refusal(
        'reason-required',
        `Dose refused: the override reason "${o.reason}" is too short to say why (at least ${p.minReasonLength} letters or digits).`,
        e,
      );
    }
  }
  if (p.refuseDoseWhenFollowUpOverdue) {
    const due = followUpDueMs(c);
    if (due !== null && Date.parse(e.at) > due) {
      return refusal('follow-up-overdue', 'Dose refused: the medical follow-up is overdue (policy).', e);
    }
  }
  return null;
}

/** A reading in words: `BP 150/95 mmHg, heart rate 72/min, SpO₂ 97 %`. */
export function readingText(v: Pick<VitalsReading, 'systolic' | 'diastolic' | 'heartRate' | 'spo2'>): string {
  const parts = [`BP ${v.systolic}/${v.diastolic} mmHg`];
  if (v.heartRate !== undefined) parts.push(`heart rate ${v.heartRate}/min`);
  if (v.spo2 !== undefined) parts.push(`SpO₂ ${v.spo2} %`);
  return parts.join(', ');
}

function checkDose(c: EpisodeContext, e: DoseEvent, recordedAtMs: number): Refusal | null {
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
  const gate = checkDoseGates(c, s, e, recordedAtMs);
  if (gate) return gate;
  const mismatch = checkDoseAgainstPrescription(c, s, e);
  if (mismatch) return mismatch;
  if (e.kind !== 'booster') {
    const planned = plannedDoseFor(c, dosedSessions(c).length + 1);
    if (
      planned !== null &&
      Math.abs(e.doseMg - planned) > 1e-9 &&
      !isMeaningfulReason(e.reason, c.policy.minReasonLength)
    ) {
      return refusal(
        'reason-required',
        `Dose refused: ${e.doseMg} mg departs from the treatment plan's titration step for dosing session ${dosedSessions(c).length + 1} (${planned} mg); record why (reason)${e.reason === undefined ? '' : ` (the one given, "${e.reason}", is too short to say why)`}.`,
        e,
      );
    }
  }
  const units = unitsOf(e, c.prescription?.doseMg);
  if (dosesOnHand(c) + 1e-9 < units) {
    return refusal(
      'no-medication-on-hand',
      `Dose refused: ${Number(dosesOnHand(c).toFixed(4))} dose(s) on hand, ${Number(units.toFixed(4))} needed.`,
      e,
    );
  }
  return s.doses.length === 0 ? checkFirstDose(c, s, e, recordedAtMs) : null;
}

function checkSessionCompleted(
  c: EpisodeContext,
  e: Extract<EpisodeEvent, { type: 'DosingSessionCompleted' }>,
): Refusal | null {
  const s = currentSession(c);
  if (!s || s.sessionId !== e.sessionId) return unknownSession(c, e, e.sessionId);
  if (s.doses.length === 0) {
    return refusal('session-not-dosed', 'No dose was given in this session: record DosingSessionAborted.', e);
  }
  const p = c.policy;
  const post = s.otherVitals.filter((v) => v.phase === 'post');
  if (p.requirePostDoseVitalsToComplete && post.length === 0) {
    return refusal('post-dose-vitals-required', 'Session not completed: no post-dose vitals recorded.', e);
  }
  if (isMeaningfulReason(e.reason, p.minReasonLength)) return null;
  const lastDose = s.doses[s.doses.length - 1]!;
  const minutes = (Date.parse(e.at) - Date.parse(lastDose.at)) / 60_000;
  if (minutes < p.observationMinutes) {
    return refusal(
      'reason-required',
      `Session completed ${Math.round(minutes)} min after the last dose, before the ${p.observationMinutes}-minute observation time: record a reason${e.reason === undefined ? '' : ` (the one given, "${e.reason}", is too short to say why)`}.`,
      e,
    );
  }
  const lastPost = post[post.length - 1];
  if (lastPost && (lastPost.systolic > p.holdSystolicAbove || lastPost.diastolic > p.holdDiastolicAbove)) {
    return refusal(
      'reason-required',
      `Session completed with the last post-dose BP ${lastPost.systolic}/${lastPost.diastolic} mmHg still above ${p.holdSystolicAbove}/${p.holdDiastolicAbove}: record a reason${e.reason === undefined ? '' : ` (the one given, "${e.reason}", is too short to say why)`}.`,
      e,
    );
  }
  return null;
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

/**
 * Data rules for an event in a phase where its type is allowed: returns the refusal, or null when the event
 * may be applied. The machine's guards call this; `decide` calls it to say why.
 */
export function checkEvent(c: EpisodeContext, e: EpisodeEvent, env: RuleEnvironment): Refusal | null {
  const recordedAtMs = Date.parse(e.recordedAt);
  switch (e.type) {
    case 'MedicalEvaluationCompleted':
      return checkEvaluation(c, e);
    case 'TreatmentPlanCreated': {
      const steps = e.titration;
      if (
        steps &&
        (steps[0]!.fromSession !== 1 ||
          steps.some((x, i) => i > 0 && x.fromSession <= steps[i - 1]!.fromSession))
      ) {
        const message = `titration: the first step starts at session 1 and each later step at a later session (got ${steps.map((x) => x.fromSession).join(', ')})`;
        return refusal('invalid-event', `Invalid event: ${message}`, e, {
          issues: [
            {
              path: ['titration'],
              code: 'invalid-type',
              expected: 'steps from session 1, in increasing fromSession order',
              received: steps.map((x) => x.fromSession).join(', '),
              message,
            },
          ],
        });
      }
      return null;
    }
    case 'PrescriptionIssued':
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
      {
        const stopped = stoppedRefusal(c, e, recordedAtMs);
        if (stopped) return stopped;
      }
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
      {
        const stopped = stoppedRefusal(c, e, recordedAtMs);
        if (stopped) return stopped;
      }
      if (c.policy.requireChaperoneForRemoteDosing && e.mode === 'telehealth' && e.chaperone !== true) {
        return refusal(
          'chaperone-required',
          'A telehealth dosing session needs a chaperone physically present for the whole session (set chaperone: true once one is arranged).',
          e,
        );
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
    case 'DoseAdministered':
      return checkDose(c, e, recordedAtMs);
    case 'DosingSessionCompleted':
      return checkSessionCompleted(c, e);
    case 'DosingSessionAborted':
      return sessionOf(c, e.sessionId) ? null : unknownSession(c, e, e.sessionId);
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
    case 'AssessmentRecorded':
      return checkAssessment(e, env);
    case 'SafetyFlagReviewed':
      if (!c.safetyFlags.some((f) => f.assessmentEventId === e.assessmentEventId && f.rule === e.rule)) {
        return refusal(
          'unknown-safety-flag',
          `No safety flag "${e.rule}" on assessment "${e.assessmentEventId}" in this episode.`,
          e,
        );
      }
      return null;
    case 'AdverseEventReviewed':
      if (!c.adverseEvents.some((a) => a.eventId === e.adverseEventId)) {
        return refusal('unknown-adverse-event', `No adverse event "${e.adverseEventId}" in this episode.`, e);
      }
      return null;
    case 'MedicationsReviewed':
      if (c.evaluation.scheduledFor === null && c.evaluation.completedAt === null) {
        return refusal(
          'evaluation-not-scheduled',
          'Medications are reviewed at or after the medical evaluation: schedule it first.',
          e,
        );
      }
      return null;
    case 'MaintenancePlanned': {
      const dosed = dosedSessions(c).length;
      const planned = c.plan?.plannedDosingSessions ?? 0;
      if (dosed === 0) {
        return refusal(
          'no-doses-given',
          'Maintenance follows an initial course of dosing sessions; no dose has been given.',
          e,
        );
      }
      if (dosed < planned && !isMeaningfulReason(e.reason, c.policy.minReasonLength)) {
        return refusal(
          'reason-required',
          `Planning maintenance after ${dosed} of ${planned} planned dosing sessions of the initial course needs a reason${e.reason === undefined ? '' : ' (the one given is too short to say why)'}.`,
          e,
        );
      }
      return null;
    }
    case 'EpisodeCompleted': {
      const dosed = dosedSessions(c).length;
      if (dosed === 0) {
        return refusal(
          'no-doses-given',
          'No dose was given: record EpisodeDiscontinued instead of EpisodeCompleted.',
          e,
        );
      }
      const planned = c.plan?.plannedDosingSessions ?? 0;
      if (dosed < planned && !isMeaningfulReason(e.reason, c.policy.minReasonLength)) {
        return refusal(
          'reason-required',
          `Completing after ${dosed} of ${planned} planned dosing sessions needs a reason${e.reason === undefined ? '' : ` (the one given is too short to say why)`}.`,
          e,
        );
      }
      return null;
    }
    default:
      return null;
  }
}

/**
 * Safety signals an event carries, read from the raw input so that they survive any refusal (schema errors
 * included): the instrument's safety rules for assessments, adverse events that are severe, serious or
 * suicidal ideation, and vitals beyond the alert thresholds of `policy`.
 */
export function safetySignalsOf(
  input: unknown,
  registry: InstrumentRegistry,
  policy: EpisodePolicy,
): SafetySignal[] {
  if (typeof input !== 'object' || input === null) return [];
  const r = input as Record<string, unknown>;
  if (r.type === 'AssessmentRecorded' && typeof r.instrument === 'string') {
    const definition = registry.find(r.instrument);
    if (!definition) return [];
    return safetyFlagsOf(definition, r.responses).map((f) => ({ ...f, origin: 'assessment' as const }));
  }
  if (r.type === 'AdverseEventReported' && typeof r.severity === 'string' && typeof r.code === 'string') {
    if (!adverseEventNeedsReview(r.code, r.severity)) return [];
    const rule =
      r.code === 'suicidal-ideation' ? 'adverse-event-suicidal-ideation' : `adverse-event-${r.severity}`;
    return [
      {
        rule,
        kind: 'positive',
        value: r.code === 'suicidal-ideation' ? r.code : r.severity,
        message: `${r.severity} adverse event "${r.code}": a clinician reviews it before the next dose.`,
        origin: 'adverse-event',
      },
    ];
  }
  if (r.type === 'VitalsRecorded' && typeof r.systolic === 'number' && typeof r.diastolic === 'number') {
    const reading = {
      systolic: r.systolic,
      diastolic: r.diastolic,
      ...(typeof r.heartRate === 'number' ? { heartRate: r.heartRate } : {}),
      ...(typeof r.spo2 === 'number' ? { spo2: r.spo2 } : {}),
    };
    return vitalSignsBeyond(reading, policy, 'alert').map((sign) => ({
      rule: `vitals-${sign}-alert`,
      kind: 'positive' as const,
      value:
        sign === 'systolic'
          ? reading.systolic
          : sign === 'diastolic'
            ? reading.diastolic
            : sign === 'heart-rate'
              ? (reading.heartRate ?? null)
              : (reading.spo2 ?? null),
      message: `${vitalSignNames[sign]} beyond the alert threshold.`,
      origin: 'vitals' as const,
    }));
  }
  return [];
}

/** A sentence naming the positive signals of a refused event, appended to its refusal message. */
export function safetyText(signals: readonly SafetySignal[]): string {
  const positive = signals.filter((f) => f.kind === 'positive');
  if (positive.length === 0) return '';
  return ` — SAFETY: ${positive
    .map((f) => (f.item !== undefined ? `${f.rule} (item ${f.item} = ${f.value})` : `${f.rule} (${f.value})`))
    .join(', ')} in the refused record; act on it`;
}
