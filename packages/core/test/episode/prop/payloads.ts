import fc from 'fast-check';
import type { EventType, Role } from '../../../src/episode/events.js';
import {
  abortReasons,
  adverseEventCodes,
  contraindicationCodes,
  discontinuationReasons,
  formulations,
  pauseReasons,
  reviewOutcomes,
  routes,
} from '../../../src/episode/vocabularies.js';

/*
 * The property tests of the episode model (see ../properties.test.ts): the command type and a plausible
 * payload for each event type.
 */

export const EPISODE = 'ep-prop';
export const PATIENT = 'pt-prop-synthetic';
export const T0 = Date.parse('2026-03-02T15:00:00Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------------------
// Commands: an event to be, with placeholders resolved while folding (session ids, ids, timestamps, the
// active prescription, earlier events to review or void).

/**
 * A session reference: the current one (in progress, else the first booked one that has not started, else the
 * last booked), the one in progress only, the last booked one that has not started, a brand-new one, or a fixed
 * id that may or may not exist.
 */
export type SessionRef = '@current' | '@in-progress' | '@booked' | '@new' | 's1' | 's2' | 's3';
export type Corruption =
  | 'drop-at'
  | 'bad-at'
  | 'bad-version'
  | 'bad-type'
  | 'drop-payload'
  | 'bad-number'
  /** Dated days after the clock of whoever checks it. */
  | 'future';

export interface Command {
  readonly type: EventType;
  readonly payload: Readonly<Record<string, unknown>>;
  /**
   * Minutes after the clock, which moves on. Negative: a late entry, dated that many minutes before the clock,
   * which stays where it is.
   */
  readonly dt: number;
  /** Reuse the id of an earlier accepted event (index, modulo their number) instead of a fresh id. */
  readonly dupId: number | null;
  /** Name another episode or patient than the one opened. */
  readonly foreign: 'episode' | 'patient' | null;
  readonly corrupt: Corruption | null;
  readonly offset: 'Z' | '-05:00' | '+05:30';
  /** Event schema version: 1 (upcast by decide) or 2. */
  readonly version: 1 | 2;
  /** Who recorded it; null: left out (version 1, upcast to the primary role) or the primary role (version 2). */
  readonly role: Role | null;
  /**
   * `recordedAt`: the same as `at` (version 1: left out, so the upcast sets it), the clock (`now`; differs from
   * `at` for late entries only), or earlier than `at` beyond the clock tolerance (a future event).
   */
  readonly recorded: 'same' | 'now' | 'early';
  /** A late entry dated `-dt` minutes before the last dose in force (instead of before the clock). */
  readonly beforeLastDose?: boolean;
}

export const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
/** `arb` one time in `n`, else undefined. */
export const oneIn = <T>(n: number, arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: n - 1 }, { arbitrary: arb, weight: 1 });
/** `value` 19 times in 20, else `otherwise`. */
export const mostly = <T, U>(value: T, otherwise: fc.Arbitrary<U>, weight = 19) =>
  fc.oneof({ arbitrary: fc.constant(value), weight }, otherwise);
const sessionRef = (current: number) =>
  fc.oneof(
    { arbitrary: fc.constant<SessionRef>('@current'), weight: current },
    { arbitrary: fc.constant<SessionRef>('@booked'), weight: 1 },
    { arbitrary: pick<SessionRef>(['s1', 's2', 's3', '@new']), weight: 1 },
  );
export const vitals = (phase: fc.Arbitrary<string>, current = 8) =>
  fc.record({
    sessionId: sessionRef(current),
    phase,
    systolic: fc.oneof(
      { arbitrary: fc.integer({ min: 95, max: 138 }), weight: 9 },
      fc.integer({ min: 40, max: 300 }),
    ),
    diastolic: fc.oneof(
      { arbitrary: fc.integer({ min: 55, max: 88 }), weight: 9 },
      fc.integer({ min: 20, max: 200 }),
    ),
    // Mostly unremarkable; now and then beyond the hold (> 120/min, < 92 %) or alert thresholds (> 130, < 90).
    heartRate: fc.option(
      fc.oneof(
        { arbitrary: fc.integer({ min: 55, max: 100 }), weight: 9 },
        fc.integer({ min: 40, max: 160 }),
      ),
      { nil: undefined },
    ),
    spo2: fc.option(
      fc.oneof(
        { arbitrary: fc.integer({ min: 94, max: 100 }), weight: 9 },
        fc.integer({ min: 85, max: 100 }),
      ),
      { nil: undefined },
    ),
  });
/** `@rx`: copied from the active prescription (the mg of a full dose, half of it for a half dose or a booster). */
export const dosePayload = (kind: fc.Arbitrary<string>, current = 8) =>
  fc.record({
    sessionId: sessionRef(current),
    kind,
    doseMg: fc.oneof({ arbitrary: fc.constant('@rx'), weight: 20 }, fc.constantFrom(100, 150, 300, 450)),
    route: mostly('@rx', pick(routes), 40),
    formulation: mostly('@rx', pick(formulations), 40),
    unitsUsed: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 8 },
      fc.constant('@rx'),
      fc.constantFrom(0.5, 1, 2),
    ),
    vitalsOverride: oneIn(
      6,
      fc.record({
        clinicianRole: pick(['medical', 'therapist'] as const),
        reason: fc.constantFrom('repeat reading normal', 'ok.'),
      }),
    ),
    // Why a dose departs from the plan's titration step (a short one says nothing).
    reason: oneIn(3, fc.constantFrom('patient asked for a lower dose today', 'ok')),
  });
/** PHQ-9 answers: item 9 mostly 0 (a positive item 9 holds doses until a clinician reviews it). */
export const phq9Answers = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
    fc.oneof({ arbitrary: fc.constant(0), weight: 15 }, fc.integer({ min: 1, max: 3 })),
  )
  .map(([items, item9]) => [...items, item9]);
const phq9Responses = fc.oneof(
  { arbitrary: phq9Answers, weight: 8 },
  // Some unanswered items (prorated, or not scorable; item 9 unanswered raises a flag; all unanswered: refused).
  fc.array(fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }), { minLength: 9, maxLength: 9 }),
  // Invalid: wrong length or out-of-range answers.
  fc.array(fc.integer({ min: -1, max: 5 }), { minLength: 1, maxLength: 12 }),
);
export const MEANINGFUL = 'the patient and the team agreed, see the note';

/** A plausible payload for each event type (some with placeholders, some invalid by the rules). */
export const payloads: { [K in EventType]: fc.Arbitrary<Record<string, unknown>> } = {
  EpisodeOpened: fc.record({
    policy: oneIn(
      3,
      fc.record(
        {
          holdSystolicAbove: fc.integer({ min: 120, max: 160 }),
          holdDiastolicAbove: fc.integer({ min: 75, max: 100 }),
          minIntegrationSessionsBetweenDoses: fc.integer({ min: 0, max: 2 }),
          criticalPeriodDays: fc.constantFrom(2, 14, 21),
          followUpIntervalDays: fc.integer({ min: 2, max: 12 }),
          refuseDoseWhenFollowUpOverdue: mostly(true, fc.constant(false), 3),
        },
        { requiredKeys: [] },
      ),
    ),
    referral: fc.option(pick(['therapist', 'medical', 'self'] as const), { nil: undefined }),
  }),
  FitAssessed: fc.record({
    outcome: fc.oneof(
      { arbitrary: fc.constant('good-fit'), weight: 18 },
      pick(['not-a-fit', 'needs-more-discussion']),
    ),
  }),
  MedicalEvaluationScheduled: fc.record({
    scheduledFor: fc.constant('2026-03-09T10:00:00-05:00'),
    mode: pick(['in-person', 'telehealth'] as const),
  }),
  MedicalEvaluationCompleted: fc.record({
    eligible: fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, fc.constant(false)),
    contraindications: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 2 },
      fc.subarray([...contraindicationCodes], { maxLength: 2 }),
    ),
    contraindicationOverride: oneIn(
      3,
      fc.record({ reason: fc.constantFrom('cleared by the allergist after testing', 'ok') }),
    ),
  }),
  TreatmentPlanCreated: fc.record({
    plannedDosingSessions: fc.integer({ min: 1, max: 8 }),
    monitoring: fc.record({
      measures: fc.subarray(
        [{ instrument: 'phq9', everyDays: 28, beforeEachDoseWithinDays: 7 }, { instrument: 'GAD-7' }],
        { minLength: 1 },
      ),
    }),
    criticalPeriodDays: fc.option(fc.constantFrom(2, 14), { nil: undefined }),
    followUpIntervalDays: oneIn(4, fc.integer({ min: 5, max: 60 })),
    // Now and then a titration: half the dose first (the plan names the mg; doses departing need a reason).
    titration: oneIn(
      4,
      fc.constantFrom(
        [
          { fromSession: 1, doseMg: 75 },
          { fromSession: 2, doseMg: 150 },
        ],
        [
          { fromSession: 1, doseMg: 150 },
          { fromSession: 3, doseMg: 300 },
        ],
      ),
    ),
  }),
  PrescriptionIssued: fc.record({
    medication: fc.constant('ketamine'),
    route: mostly('sublingual', pick(routes), 4),
    formulation: mostly('sublingual-lozenge', pick(formulations), 4),
    doseMg: fc.constantFrom(150, 300),
    dosesAuthorized: fc.oneof({ arbitrary: fc.integer({ min: 2, max: 4 }), weight: 4 }, fc.constant(1)),
  }),
  MedicationDelivered: fc.record({
    doses: fc.oneof({ arbitrary: fc.constant(2), weight: 3 }, fc.integer({ min: 1, max: 4 })),
    lot: fc.option(fc.constant('LOT-1'), { nil: undefined }),
  }),
  SelfAdministrationTrained: fc.record({
    vitalsTrained: fc.oneof({ arbitrary: fc.constant(true), weight: 19 }, fc.constant(false)),
    selfAdministrationTrained: fc.oneof({ arbitrary: fc.constant(true), weight: 19 }, fc.constant(false)),
  }),
  PreparationSessionCompleted: fc.record({
    mode: pick(['in-person', 'telehealth'] as const),
    intentionsSet: fc.option(fc.boolean(), { nil: undefined }),
  }),
  // Telehealth sessions mostly with a chaperone (refused without one).
  DosingSessionScheduled: fc.oneof(
    {
      arbitrary: fc.record({
        sessionId: mostly<SessionRef, SessionRef>('@new', pick<SessionRef>(['s1', '@current']), 8),
        scheduledFor: fc.constant('2026-03-16T10:00:00-05:00'),
        mode: fc.constant('in-person'),
        chaperone: fc.option(fc.boolean(), { nil: undefined }),
      }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        sessionId: mostly<SessionRef, SessionRef>('@new', pick<SessionRef>(['s1', '@current']), 8),
        scheduledFor: fc.constant('2026-03-16T10:00:00-05:00'),
        mode: fc.constant('telehealth'),
        chaperone: mostly(true, fc.constantFrom(false, undefined), 6),
      }),
      weight: 2,
    },
  ),
  VitalsRecorded: vitals(pick(['pre', 'during', 'post'])),
  DoseAdministered: dosePayload(
    fc.oneof({ arbitrary: pick(['full', 'half']), weight: 4 }, fc.constant('booster')),
  ),
  // Mostly mild or moderate; an unknown session id is kept (and flagged), never refused.
  AdverseEventReported: fc.record({
    sessionId: fc.option(sessionRef(3), { nil: undefined }),
    code: mostly('nausea', pick(adverseEventCodes), 3),
    severity: fc.oneof(
      { arbitrary: fc.constant('mild'), weight: 8 },
      { arbitrary: fc.constant('moderate'), weight: 4 },
      pick(['severe', 'serious']),
    ),
  }),
  DosingSessionCompleted: fc.record({
    sessionId: sessionRef(8),
    durationMinutes: fc.option(fc.integer({ min: 30, max: 240 }), { nil: undefined }),
    // A reason lets a session end before the observation time (a short one does not).
    reason: oneIn(5, fc.constantFrom('ride home arrived, patient stable and alert', 'fine')),
  }),
  DosingSessionAborted: fc.record({ sessionId: sessionRef(8), reason: pick(abortReasons) }),
  IntegrationSessionCompleted: fc.record({
    mode: pick(['in-person', 'telehealth'] as const),
    sessionId: fc.option(sessionRef(3), { nil: undefined }),
  }),
  AssessmentRecorded: fc.oneof(
    { arbitrary: fc.record({ instrument: pick(['phq9', 'PHQ-9']), responses: phq9Responses }), weight: 4 },
    fc.record({
      instrument: fc.constant('gad7'),
      responses: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 7, maxLength: 7 }),
    }),
    fc.record({ instrument: fc.constant('bdi2'), responses: fc.constant([1, 2]) }),
  ),
  // Mostly continue; not continuing stops treatment until an evaluation, prescription or follow-up lifts it.
  MedicalFollowUpCompleted: fc.record({ continueTreatment: mostly(true, fc.constant(false), 6) }),
  RefillIssued: fc.record({ dosesAuthorized: fc.integer({ min: 1, max: 4 }) }),
  SafetyFlagReviewed: fc.record({
    assessmentEventId: fc.oneof({ arbitrary: fc.constant('@flagged'), weight: 6 }, fc.constant('nope')),
    rule: fc.oneof({ arbitrary: fc.constant('phq9-item9-positive'), weight: 6 }, fc.constant('no-such-rule')),
    outcome: pick(reviewOutcomes),
  }),
  AdverseEventReviewed: fc.record({
    adverseEventId: fc.oneof({ arbitrary: fc.constant('@adverse'), weight: 6 }, fc.constant('nope')),
    outcome: pick(reviewOutcomes),
  }),
  EventVoided: fc.record({
    voidedEventId: fc.oneof(
      { arbitrary: fc.constant('@last'), weight: 4 },
      { arbitrary: fc.nat({ max: 6 }).map((n) => `@recent-${n}`), weight: 4 },
      pick(['@opened', '@void', '@voided', 'nope']),
    ),
    reason: fc.constantFrom('entered in error: wrong patient chart', 'duplicate entry'),
  }),
  // Mostly consent to KAP and remote sessions; now and then without remote sessions (remote doses refused).
  InformedConsentRecorded: fc.record({
    scope: fc.oneof(
      { arbitrary: fc.constant(['kap', 'remote-sessions', 'research-use']), weight: 6 },
      fc.constant(['kap']),
      fc.constant(['research-use']),
    ),
    documentVersion: fc.constant('KAP consent v3'),
  }),
  ConsentWithdrawn: fc.record({
    scope: fc.oneof(
      { arbitrary: fc.constant(['research-use']), weight: 3 },
      fc.constant(['kap']),
      fc.constant(['remote-sessions']),
    ),
    reason: fc.option(fc.constant('the patient asked to stop'), { nil: undefined }),
  }),
  MedicationsReviewed: fc.record({
    medications: fc.subarray([
      { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2, unit: 'mg' },
      { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
      { name: 'lamotrigine', class: 'lamotrigine', dailyDose: 200 },
    ]),
  }),
  MaintenancePlanned: fc.record({
    intervalDays: fc.constantFrom(30, 45, 60),
    reason: fc.option(fc.constantFrom(MEANINGFUL, 'ok'), { nil: undefined }),
  }),
  EpisodePaused: fc.record({ reason: pick(pauseReasons) }),
  EpisodeResumed: fc.constant({}),
  EpisodeCompleted: fc.record({
    reason: fc.option(fc.constantFrom(MEANINGFUL, 'done'), { nil: undefined }),
  }),
  EpisodeDiscontinued: fc.record({ reason: pick(discontinuationReasons) }),
};
