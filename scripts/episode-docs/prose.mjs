// Part of scripts/gen-episode-docs.mjs: the prose about each phase, guard, root-level event, status field, alert and refusal; generation fails when the code has one this does not describe.
import { core, dash, num } from './env.mjs';

// ---------------------------------------------------------------------------------------------------------
// Prose that the code cannot carry, checked against the code by `sameSet`

export const PHASES = {
  'not-opened': 'No event yet: the episode is opened by `EpisodeOpened`.',
  'fit-discussion':
    'The therapist and the patient discuss intentions, concerns and whether KAP is a fit. A good-fit assessment moves the episode on to the medical evaluation; other outcomes keep it here.',
  'medical-evaluation':
    'The medical evaluation is to be scheduled or has been scheduled; its result decides eligibility.',
  ineligible:
    'The medical evaluation found the patient not eligible (with the contraindications recorded). The evaluation can be scheduled again, or the episode discontinued.',
  planning:
    'Eligible; the treatment plan (with its outcome-monitoring plan) and the prescription are not both in place yet.',
  preparation:
    'Plan and prescription in place, no dose given yet: medication delivery, training in vitals and self-administration, preparation sessions, booking the first dosing session.',
  'dosing-session':
    'A dosing session is in progress: started by its first pre-dose vitals (or its dose), and not yet completed or aborted. Booking a session does not start it.',
  'dosing-course':
    'At least one dose was given, no session in progress: integration sessions, booking and further dosing sessions, follow-ups, refills and re-evaluations.',
  maintenance:
    'The medical team planned maintenance (`MaintenancePlanned`) after the initial course (or before its planned sessions are done, with a reason): further dosing sessions every `intervalDays`, under the same gates as the initial course, and reported apart from it. No session is in progress (one in progress is `dosing-session`).',
  paused:
    'Treatment is paused until it resumes where it left off. Assessments, adverse events, safety-flag and adverse-event reviews, voids, consents, consent withdrawals and medication reviews are still recorded, and, once the patient was found eligible, medical follow-ups, refills and deliveries; nothing else.',
  completed:
    'The course ended: as planned, or short of the plan with a recorded reason. Only adverse events, reviews, voids and consent withdrawals are still recorded (see [Closed is not final](#closed-is-not-final)).',
  discontinued:
    'The course ended early (patient choice, ineligibility, adverse event, …). Only adverse events, reviews, voids and consent withdrawals are still recorded.',
};

export const GUARDS = {
  allowed:
    'the data rules of `checkEvent` (packages/core/src/episode/rules.ts): the event is accepted only if no rule refuses it',
  openedAndAllowed:
    'the episode has been opened and no rule of `checkEvent` refuses the event. It guards the root-level transitions, which every state takes once the episode is open, paused and closed ones included',
  goodFit: 'the fit assessment says `good-fit`',
  eligible:
    'the medical evaluation found the patient eligible and no rule of `checkEvent` refuses it (eligibility despite an absolute contraindication needs a `contraindicationOverride` with a reason). The next branch is guarded by `allowed`, not taken otherwise: an evaluation that says eligible but is refused by a rule is refused with that rule’s code (`contraindicated`, for example) instead of being read as not eligible',
  pausedInTreatment:
    'the medical evaluation found the patient eligible and no rule of `checkEvent` refuses the event (medical follow-ups, refills and deliveries go on while treatment is paused)',
};

/** The root-level transitions: events every state takes once the episode is open. */
export const ROOT_EVENTS = {
  AdverseEventReported:
    'late reports happen, so an adverse event is accepted in every phase, closed episodes included; a report naming a session the episode does not know is kept and flagged (`unknownSession`), never refused for it',
  AdverseEventReviewed:
    'a clinician reviews an adverse event (refused `unknown-adverse-event` if the episode has no such report)',
  SafetyFlagReviewed:
    'a clinician follows up a safety flag (refused `unknown-safety-flag` if the episode has no such flag)',
  EventVoided:
    'a clinician marks an earlier event as entered in error (see [Entered in error](#entered-in-error))',
  ConsentWithdrawn:
    'a patient may withdraw consent at any time, after the course too (research use), so a withdrawal is accepted in every phase once the episode is open, closed episodes included, and recorded by the patient or a clinician; a scope never consented to may be withdrawn too (a research opt-out). See [Informed consent](#informed-consent)',
};

export const STATUS_FIELDS = {
  asOf: 'The instant the status is for, as given.',
  phase: 'The phase of the episode (see Phases).',
  synthetic: 'True when any event of the episode was marked synthetic (demo data).',
  dosesGiven: 'Dosing sessions in which a dose was given.',
  plannedDosingSessions: 'Dosing sessions in the treatment plan, or null before a plan.',
  dosesOnHand: 'Doses delivered minus units used.',
  dosesAuthorized: 'Doses authorised by the prescription and refills.',
  lowMedication:
    'Fewer doses on hand than `lowSupplyDoses` while the episode is active, prescribed and the planned course is not done.',
  followUp:
    'After the first dose: the last follow-up, when the next one is due (first dose or last follow-up + `followUpIntervalDays`), whether it is overdue and by how many days; null before any dose.',
  measures:
    'For each measure of the monitoring plan and each rule that applies (baseline, before the next dosing session, periodic): last taken, due date and status (`not-due`, `due`, `overdue`, or `missed` for a baseline the first dose went ahead without).',
  safetyFlags: 'Every safety flag raised in the episode (reviewed or not), oldest first.',
  unreviewedSafetyFlags: 'Positive safety flags without a recorded review.',
  criticalPeriods: 'Critical periods of the initial course.',
  vitalsHold:
    'A dosing session is in progress without a dose and its last pre-dose reading is beyond a hold threshold (blood pressure, heart rate or SpO₂).',
  unreviewedAdverseEvents:
    'Adverse events that need a review (severe, serious, suicidal ideation) or are moderate, not yet reviewed.',
  treatmentStopped:
    'The treatment stop in force, if any: the event that decided it, when, and whether a follow-up or a re-evaluation.',
  outcomes:
    'For each outcome measure with a response definition: baseline, latest, response, reliable deterioration, most severe band.',
  consent:
    'Informed consent as of now: whether the policy requires it, the scopes in force (given and not withdrawn), the scopes withdrawn, the latest consent recorded.',
  medications:
    'Concurrent medications from the latest review: its date, the classes, the total benzodiazepine dose in mg diazepam-equivalent a day, and the findings (see [Concurrent medications](#concurrent-medications)).',
  maintenance:
    'The maintenance phase, reported apart from the initial course (null when none is planned): plan date, interval, maintenance sessions dosed, the last dose, when the next is due and its status, and the critical periods of the maintenance doses alone.',
  alerts: 'Alerts for the people caring for the patient (see below).',
};

/** What the doc comment of a status field leaves out, written after it. */
export const STATUS_MORE = {
  criticalPeriods:
    'The window length in days, the windows open at `asOf` (maintenance windows included), the full analysis (windows, overlaps, chains, coverage, gaps) of the initial course’s doses given by `asOf`, and the deadline of the next dose that keeps the chain unbroken (`nextDoseBefore`, `nextDoseLatestDay`; null when the episode is not active, before the first dose, when the planned course is done, or once maintenance is planned).',
  consent:
    '`required` (the policy `requireInformedConsent`), `inForce` (scopes given and not withdrawn), `withdrawn` (every scope the patient withdrew, consented to or not, even when consented to again since), `latest` (the latest consent recorded).',
  medications:
    '`reviewedAt`, `classes`, `diazepamEquivalentMgPerDay` (total over the benzodiazepines that can be converted; null when none can) and `findings`, each raising a `medication-interaction` alert (see [Concurrent medications](#concurrent-medications)).',
  maintenance:
    '`plannedAt`, `intervalDays`, `sessions` (maintenance sessions dosed), `lastDoseAt`, `nextDueAt` (the last maintenance dose, or the plan, + `intervalDays`), `status` (`not-due`, `due`, or `overdue` once more than `measureGraceDays` late; `not-due` while the episode is not active) and the `criticalPeriods` of the maintenance doses alone.',
};

const phq9 = core.phq9;
const phq9Response = phq9.outcomes?.response?.fraction;
const phq9Reliable = phq9.change?.fixedPoints?.value;
const phq9Severe = phq9.bands?.[phq9.bands.length - 1];

/** When each alert is raised and when it clears (severities are observed by replaying episodes). */
export const ALERTS = {
  'safety-flag':
    'Raised for each positive safety item of an accepted assessment (PHQ-9 item 9 > 0: thoughts of being better off dead or of self-harm), patient-reported ones marked so. Cleared by a clinician’s `SafetyFlagReviewed`. Until then, doses are refused (`safety-review-required`).',
  'safety-item-unanswered':
    'Raised for each safety item left blank in an accepted assessment (an assessment with every item blank is refused). Cleared by a clinician’s `SafetyFlagReviewed` for that rule; it does not block doses.',
  'adverse-event':
    'An adverse event not yet reviewed: urgent when severe, serious or `suicidal-ideation` (those also block doses until reviewed), warning when moderate, none when mild. Raised in every phase, closed episodes included; the message says so when the report names a session the episode does not know. Cleared by a clinician’s `AdverseEventReviewed`.',
  'late-entry':
    'A positive safety flag, an adverse event that needs a review, or a treatment stop is dated before a dose but was recorded after it: the dose went ahead because nobody knew, and had it been known it would have been refused. One alert per such dose; it stays until the signal is reviewed or the stop is lifted.',
  'treatment-stopped':
    'While a treatment stop is in force (`MedicalFollowUpCompleted { continueTreatment: false }`, or a re-evaluation during treatment that finds the patient not eligible). Cleared by a new prescription, an eligible re-evaluation or a follow-up that continues treatment.',
  'vitals-hold':
    'A dosing session is in progress without a dose and its last pre-dose reading is beyond a hold threshold (blood pressure, heart rate or SpO₂). Cleared by a reading within the thresholds, by the dose (with the medical team’s override), or by ending the session.',
  'vitals-alert':
    'One per reading (pre, during or post-dose) of the latest dosing session with vitals that is beyond an alert threshold (`alertSystolicAbove`, `alertDiastolicAbove`, `alertHeartRateAbove`, `alertSpo2Below`). It stands until a later session records vitals.',
  'follow-up-overdue':
    'After the first dose, the next medical follow-up (first dose or last follow-up + `followUpIntervalDays`) is past due. Kept while the episode is paused (medical monitoring goes on); cleared by a follow-up, or when the episode closes.',
  'measure-due':
    'A measure of the monitoring plan is due: a baseline before the first dose, one within `beforeEachDoseWithinDays` before the next booked dosing session, or a periodic one `everyDays` after the last. Only while the episode is active (not paused or closed); cleared by taking the measure.',
  'measure-overdue':
    'The booked dosing session’s time has passed without the measure, or a periodic measure is more than `measureGraceDays` late. Only while the episode is active.',
  'no-response': `An outcome measure with a response definition shows no response (PHQ-9: a reduction of at least ${num(phq9Response * 100)} % from baseline) at a score taken at or after dose number \`noResponseAfterDoses\`. Not raised in closed episodes.`,
  'reliable-deterioration': `The latest score is worse than the baseline (the last score at or before the first dose) by at least the instrument’s reliable-change threshold (PHQ-9: ${phq9Reliable} points). Not raised in closed episodes.`,
  'severe-symptoms': `The latest score is in the instrument’s most severe band (PHQ-9: ${phq9Severe.label.toLowerCase()}, ${phq9Severe.min}–${phq9Severe.max}). Not raised in closed episodes.`,
  'critical-period-chain-ending':
    'The last critical period closes within `chainWarningDays` while the episode is active and the planned course is not done: the next dose must come by the day shown to keep the chain unbroken.',
  'critical-period-chain-broken':
    'The last critical period has closed without a new dose while the planned course is not done; the next dose starts a new chain.',
  'low-medication':
    'Fewer doses on hand than `lowSupplyDoses` while the episode is active, prescribed and the planned course is not done (or maintenance is planned): arrange a follow-up and a refill.',
  'consent-missing':
    'The policy requires informed consent (`requireInformedConsent`) and no consent to KAP is in force while the episode is in planning, preparation, its dosing course or maintenance (not during a session in progress, not while paused or closed); the message says whether consent was never recorded or withdrawn. Cleared by `InformedConsentRecorded` with scope `kap`. A missing consent to remote sessions raises no alert: the telehealth dose is refused `consent-required`.',
  'medication-interaction':
    'One per finding in the latest medication review (see [Concurrent medications](#concurrent-medications)): a benzodiazepine above `benzodiazepineAlertAboveMgDiazepam` mg diazepam-equivalent a day or whose equivalent cannot be worked out, and every medication of an interaction class, with its source. Not raised in closed episodes; cleared by a review that no longer lists it. It never blocks a dose: the medical team decides.',
  'maintenance-session-due':
    'Maintenance is planned and its next session is due: `intervalDays` after the last maintenance dose (or after the plan, before any), info when due, warning when overdue by more than `measureGraceDays`. Only while the episode is active and no session is in progress; cleared by the next maintenance dose.',
};

/**
 * Every refusal code, grouped by what refuses it, with when it is given. The sentence of each code comes from
 * `refusalCodes`; the notes add what it does not say.
 */
export const REFUSALS = [
  {
    title: 'Envelope: checked first, in every phase',
    codes: {
      'invalid-event':
        'The schema refuses it (the problems are in `issues`): a missing or wrong field, an unknown `type`, or a schema version other than 1 (upcast) or 2.',
      'wrong-episode': dash,
      'wrong-patient': dash,
      'duplicate-event-id':
        'Also for the id of a voided event: ids are never reused. A retry of a write that was stored is refused with this code, so writes are idempotent.',
      'not-permitted':
        'The permission table does not let `recordedBy` record this event type. Also a vitals-hold override whose `clinicianRole` is not `medical`.',
      'future-event':
        '`at` later than `recordedAt` + `clockToleranceMinutes`, or `at` or `recordedAt` later than the checking clock (`decide(state, e, { now })`) + the tolerance. Scheduling fields (`scheduledFor`) may lie in the future.',
      'already-opened': 'A second `EpisodeOpened`.',
    },
  },
  {
    title: 'Clinical time and corrections',
    codes: {
      'out-of-order':
        'A late entry (dated before the latest accepted event) that the history in clinical order is not valid with: the message and `invalidates` name the first later event it would invalidate. A late entry that is itself refused where its time puts it gets that refusal’s own code instead. (The sentence in the Meaning column is out of date: an event dated before the last accepted one is accepted when the history stays valid with it.)',
      'unknown-event': '`EventVoided` names no accepted event of the episode, or one already voided.',
      'cannot-void':
        '`EventVoided` names the `EpisodeOpened` (discontinue the episode instead) or another void (record the event again under a new id).',
      'void-would-invalidate':
        'The episode without the voided event is not valid: `invalidates` names the first later event that depends on it. Void that one first.',
    },
  },
  {
    title: 'Phase: the current state does not take this event type',
    codes: {
      'episode-not-opened': dash,
      'episode-closed':
        'Anything but adverse events, reviews, voids and consent withdrawals in a completed or discontinued episode (a new consent or a medication review included). (The sentence in the Meaning column is out of date: those are still recorded.)',
      'episode-paused': dash,
      'not-paused': '`EpisodeResumed` when the episode is not paused.',
      'not-allowed-in-phase':
        'Any other event the current phase does not take (e.g. `EpisodePaused` while paused).',
      'fit-not-established': 'Scheduling or completing the medical evaluation before a good-fit assessment.',
      'evaluation-not-scheduled':
        'Completing the medical evaluation before it was scheduled, or a `MedicationsReviewed` before the medical evaluation was scheduled (medications are reviewed at or after it).',
      'not-eligible':
        'Treatment events (plan, prescription, supply, training, sessions, follow-ups, refills, maintenance, completion) before the patient was found eligible.',
    },
  },
  {
    title: 'Treatment, supply and sessions',
    codes: {
      'no-treatment-plan': 'A prescription or a first dose without a treatment plan.',
      'no-prescription': 'A delivery, a refill or a dose without a prescription.',
      'supply-exceeds-authorized': dash,
      'refill-requires-follow-up':
        'A refill, or any prescription after the first, without a medical follow-up since the last prescription or refill (policy `refillRequiresFollowUp`).',
      'no-medication-on-hand':
        'Fewer doses on hand than the units the dose uses (its mg over the prescribed mg).',
      'training-required': dash,
      'preparation-required': dash,
      'integration-required': dash,
      'follow-up-overdue':
        'Only when the policy `refuseDoseWhenFollowUpOverdue` is on (off by default: an alert instead).',
      'no-dose-to-integrate': dash,
      'session-in-progress':
        'An in-session event naming another session while one is in progress, or an event that cannot happen during a session (a preparation session, say).',
      'no-session-in-progress': 'An in-session event naming a session that has not started or has ended.',
      'unknown-session':
        'An in-session event or an integration session naming a session that was never booked (one that names another session while one is in progress is refused `session-in-progress`).',
      'duplicate-session': dash,
      'pre-dose-vitals-required':
        'The first dose of a session without pre-dose vitals known when it was recorded (policy `requirePreDoseVitals`).',
      'vitals-hold':
        'The first dose of a session whose last pre-dose reading is beyond a hold threshold: blood pressure, heart rate or SpO₂ (the sentence in the Meaning column names only blood pressure), and no `vitalsOverride`.',
      'booster-without-dose': dash,
      'session-already-dosed': dash,
      'vitals-before-dose': dash,
      'session-not-dosed': dash,
      'post-dose-vitals-required': dash,
      'no-doses-given':
        'Completing the episode without any dose (discontinue it instead), or planning maintenance (`MaintenancePlanned`) before any dose of the initial course.',
    },
  },
  {
    title: 'Safety layer',
    codes: {
      'safety-review-required':
        'Any dose (boosters included) while a positive safety flag or a severe, serious or `suicidal-ideation` adverse event known when the dose was recorded has no review (policy `requireSafetyReviewBeforeDose`).',
      'treatment-stopped':
        'A dose, a booking or a refill while a treatment stop known when it was recorded is in force. A follow-up that continues treatment also lifts it.',
      contraindicated:
        'An eligible evaluation listing one of the policy `absoluteContraindications` without a meaningful `contraindicationOverride.reason`.',
      'reason-required':
        'A reason missing or shorter than `minReasonLength` letters or digits: completing a session within `observationMinutes` of its last dose or with the last post-dose blood pressure above the hold threshold, completing the episode short of its planned dosing sessions, a vitals-hold override, a session’s first dose whose mg departs from the treatment plan’s titration step, or planning maintenance before the planned dosing sessions of the initial course are done.',
      'dose-mismatch':
        'Route or formulation other than the prescription’s; a full dose above the prescribed mg, a half dose above half of it, a booster above `maxBoosterFraction` of it; more than `maxBoostersPerSession` boosters; a `unitsUsed` that does not follow from the mg.',
      'dosing-too-soon':
        'The first dose of a session less than `minHoursBetweenDosingSessions` after the first dose of the previous dosed session.',
      'chaperone-required':
        'Booking a telehealth dosing session without `chaperone: true`, or dosing in one (policy `requireChaperoneForRemoteDosing`).',
      'consent-required':
        'Any dose (boosters included) without consent to KAP in force, or a dose in a telehealth session without consent to remote sessions in force (policy `requireInformedConsent`). A withdrawal counts from when it was recorded: one recorded after the dose does not count against it. Booking is not refused: the gate is the dose.',
    },
  },
  {
    title: 'Assessments and reviews',
    codes: {
      'unknown-instrument': dash,
      'invalid-assessment': 'Also an assessment with every item unanswered (an empty form is not a measure).',
      'unknown-safety-flag': dash,
      'unknown-adverse-event': dash,
    },
  },
];
