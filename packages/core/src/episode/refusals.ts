import type { ValidationIssue } from '../errors.js';

// Every export of this module is public: `@kapkit/core` re-exports it whole (index.ts).

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
