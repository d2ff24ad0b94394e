import fc from 'fast-check';
import { type EventType, eventTypes } from '../../../src/episode/events.js';
import { abortReasons, adverseEventCodes, recordedByRoles } from '../../../src/episode/vocabularies.js';
import {
  type Command,
  type Corruption,
  dosePayload,
  MEANINGFUL,
  mostly,
  oneIn,
  payloads,
  phq9Answers,
  pick,
  vitals,
} from './payloads.js';

// Random episode logs: commands in the order of the seed's story, with omissions, noise and late entries.

/** Mostly null; now and then a way to make the event fail its schema, or lie in the future. */
const corruption = (validWeight: number): fc.Arbitrary<Corruption | null> =>
  fc.oneof(
    { arbitrary: fc.constant(null), weight: validWeight },
    pick<Corruption>([
      'drop-at',
      'bad-at',
      'bad-version',
      'bad-type',
      'drop-payload',
      'bad-number',
      'future',
    ]),
  );

/**
 * A command for `type`. `noise` scales how often the envelope is wrong (an earlier timestamp, a reused id,
 * another episode, a schema error, another role, a recording time before the event): 1 for anything, lower for
 * the steps of the seed's story.
 */
function command(
  type: EventType,
  payload: fc.Arbitrary<Record<string, unknown>> = payloads[type],
  noise = 1,
) {
  const rarely = (weight: number) => Math.round(weight / noise);
  return fc.record<Command>({
    type: fc.constant(type),
    payload,
    dt: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 3 * 1440 }), weight: rarely(60) },
      // A long gap now and then (follow-ups fall due, critical-period chains break).
      { arbitrary: fc.integer({ min: 10 * 1440, max: 40 * 1440 }), weight: rarely(3) },
      // A late entry, up to three days back.
      { arbitrary: fc.integer({ min: -3 * 1440, max: -1 }), weight: 2 },
    ),
    dupId: fc.oneof({ arbitrary: fc.constant(null), weight: rarely(80) }, fc.nat({ max: 50 })),
    foreign: fc.oneof(
      { arbitrary: fc.constant(null), weight: rarely(100) },
      pick(['episode', 'patient'] as const),
    ),
    corrupt: corruption(rarely(60)),
    offset: fc.constantFrom('Z', '-05:00', '+05:30'),
    version: fc.constantFrom(1, 2),
    role: fc.oneof({ arbitrary: fc.constant(null), weight: rarely(30) }, pick(recordedByRoles)),
    recorded: fc.oneof(
      { arbitrary: fc.constant('same' as const), weight: rarely(20) },
      { arbitrary: fc.constant('now' as const), weight: rarely(20) },
      fc.constant('early' as const),
    ),
  });
}

/** A command of the seed's story: a valid payload most of the time and little envelope noise. */
const storyCommand = (type: EventType, payload?: fc.Arbitrary<Record<string, unknown>>) =>
  command(type, payload, 0.25);

/** Any of the event types, uniformly. */
export const anyCommand = fc.constantFrom(...eventTypes).chain((type) => command(type));

/** `c` a few minutes after the previous step (`min`..`max`), as the steps of one dosing session are. */
const within = (c: fc.Arbitrary<Command>, min = 5, max = 180) =>
  fc.tuple(c, fc.integer({ min, max })).map(([x, dt]) => ({ ...x, dt: x.dt < 0 ? x.dt : dt }));

/**
 * One dosing session as the seed describes it, each step dropped one time in `drop`; now and then the next
 * session is booked ahead while this one is in progress (then the next cycle's own booking is one more ahead),
 * and now and then a clinician reviews the safety signals first. The steps of the session are minutes apart (it
 * mostly ends after the observation time). A session still in progress at the end (its dose refused, say) is
 * aborted.
 */
const cycle = (drop: number, integrations = 2) =>
  fc
    .tuple(
      fc.tuple(
        oneIn(2, storyCommand('SafetyFlagReviewed')),
        oneIn(2, storyCommand('AdverseEventReviewed')),
        oneIn(2, storyCommand('AssessmentRecorded')),
        storyCommand('DosingSessionScheduled'),
        storyCommand('VitalsRecorded', vitals(fc.constant('pre'), 30)),
        within(storyCommand('DoseAdministered', dosePayload(pick(['full', 'half']), 30)), 5, 60),
        oneIn(4, within(command('DoseAdministered', dosePayload(fc.constant('booster'), 30)), 20, 60)),
        // A second booster (refused: one per session).
        oneIn(8, within(command('DoseAdministered', dosePayload(fc.constant('booster'), 30)), 5, 20)),
        oneIn(4, within(storyCommand('DosingSessionScheduled'), 1, 10)),
        within(storyCommand('VitalsRecorded', vitals(fc.constant('post'), 30)), 90, 200),
        within(
          storyCommand(
            'DosingSessionCompleted',
            payloads.DosingSessionCompleted.map((p) => ({ ...p, sessionId: '@in-progress' })),
          ),
          15,
          60,
        ),
        within(
          storyCommand(
            'DosingSessionAborted',
            fc.record({ sessionId: fc.constant('@in-progress'), reason: pick(abortReasons) }),
          ),
          5,
          30,
        ),
      ),
      fc.array(storyCommand('IntegrationSessionCompleted'), { maxLength: integrations }),
      fc.array(fc.integer({ min: 0, max: drop - 1 }), { minLength: 12, maxLength: 12 }),
    )
    .map(([steps, integrations, keep]) => [
      ...(steps as readonly (Command | undefined)[]).filter(
        (c, i): c is Command => c !== undefined && keep[i]! > 0,
      ),
      ...integrations,
    ]);
const dosingCycle = cycle(15);

/** A second dosing session the same day, minutes apart (refused: dosing-too-soon). */
const sameDaySession = fc
  .tuple(
    within(storyCommand('IntegrationSessionCompleted')),
    within(storyCommand('DosingSessionScheduled')),
    within(storyCommand('VitalsRecorded', vitals(fc.constant('pre'), 30))),
    within(storyCommand('DoseAdministered', dosePayload(fc.constant('half'), 30))),
    within(
      storyCommand(
        'DosingSessionAborted',
        fc.record({ sessionId: fc.constant('@in-progress'), reason: pick(abortReasons) }),
      ),
    ),
  )
  .map((xs) => [...xs]);

/** The seed's story up to the first dose, each step kept with probability 0.95. */
const preamble = fc
  .tuple(
    storyCommand('EpisodeOpened'),
    storyCommand(
      'FitAssessed',
      fc.record({ outcome: mostly('good-fit', pick(['not-a-fit', 'needs-more-discussion'])) }),
    ),
    storyCommand('MedicalEvaluationScheduled'),
    storyCommand(
      'MedicalEvaluationCompleted',
      mostly({ eligible: true }, payloads.MedicalEvaluationCompleted),
    ),
    storyCommand('TreatmentPlanCreated'),
    storyCommand(
      'InformedConsentRecorded',
      mostly({ scope: ['kap', 'remote-sessions'], documentVersion: 'v3' }, payloads.InformedConsentRecorded),
    ),
    storyCommand(
      'PrescriptionIssued',
      payloads.PrescriptionIssued.map((p) => ({
        ...p,
        dosesAuthorized: Math.max(2, p.dosesAuthorized as number),
      })),
    ),
    storyCommand('MedicationDelivered', mostly({ doses: 2 }, payloads.MedicationDelivered)),
    storyCommand(
      'SelfAdministrationTrained',
      mostly({ vitalsTrained: true, selfAdministrationTrained: true }, payloads.SelfAdministrationTrained),
    ),
    storyCommand('AssessmentRecorded'),
    // Now and then the first dosing session is booked before the preparation session.
    oneIn(3, storyCommand('DosingSessionScheduled')),
    storyCommand('PreparationSessionCompleted'),
    oneIn(2, storyCommand('MedicationsReviewed')),
    fc.array(fc.integer({ min: 0, max: 19 }), { minLength: 13, maxLength: 13 }),
  )
  .map((xs) => {
    const keep = xs[13] as number[];
    return (xs.slice(0, 13) as (Command | undefined)[]).filter(
      (c, i): c is Command => c !== undefined && keep[i]! > 0,
    );
  });

/** Follow-up, refill and delivery, as the medical team does between sessions. */
const resupplyWith = (followUp: fc.Arbitrary<Record<string, unknown>>) =>
  fc
    .tuple(
      storyCommand('MedicalFollowUpCompleted', followUp),
      storyCommand('RefillIssued'),
      storyCommand('MedicationDelivered', mostly({ doses: 2 }, payloads.MedicationDelivered)),
    )
    .map((xs) => [...xs]);
const resupply = resupplyWith(payloads.MedicalFollowUpCompleted);

/** A session booked, then cancelled before it starts (the cancellation names the last booked session). */
const cancellation = fc
  .tuple(
    storyCommand('DosingSessionScheduled'),
    oneIn(2, storyCommand('IntegrationSessionCompleted')),
    storyCommand(
      'DosingSessionAborted',
      fc.record({ sessionId: fc.constant('@booked'), reason: pick(abortReasons) }),
    ),
  )
  .map((xs) => xs.filter((c): c is Command => c !== undefined));

/** A pause: safety reporting and medical monitoring go on until the episode resumes (most of the time). */
const pause = fc
  .tuple(
    storyCommand('EpisodePaused'),
    fc.array(
      fc.oneof(
        { arbitrary: storyCommand('AdverseEventReported'), weight: 3 },
        { arbitrary: storyCommand('MedicalFollowUpCompleted'), weight: 2 },
        storyCommand('RefillIssued'),
        storyCommand('MedicationDelivered'),
        storyCommand('AssessmentRecorded'),
        storyCommand('AdverseEventReviewed'),
        // Refused while paused.
        command('DosingSessionScheduled'),
        command('VitalsRecorded'),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    oneIn(6, fc.constant(null)),
    storyCommand('EpisodeResumed'),
  )
  .map(([paused, during, stay, resumed]) => [paused, ...during, ...(stay === null ? [] : [resumed])]);

/**
 * A safety signal or a medical stop entered late (dated up to ten days back, or just before the last dose;
 * recorded now, or back-dated): accepted when the history in clinical order is still valid with it (a dose that
 * went ahead in between without knowing it raises `late-entry`), else refused `out-of-order`.
 */
const lateReport = fc
  .tuple(
    fc.oneof(
      storyCommand(
        'AssessmentRecorded',
        fc.record({
          instrument: fc.constant('phq9'),
          responses: phq9Answers.map((r) => [...r.slice(0, 8), 2]),
        }),
      ),
      storyCommand(
        'AdverseEventReported',
        fc.record({ code: pick(adverseEventCodes), severity: pick(['severe', 'serious']) }),
      ),
      storyCommand('MedicalFollowUpCompleted', fc.constant({ continueTreatment: false })),
    ),
    fc.oneof(
      fc.integer({ min: 60, max: 10 * 1440 }).map((back) => ({ back, beforeLastDose: false })),
      // Before the last dose, or at its very time (after it in clinical order: ties keep recording order).
      {
        arbitrary: fc
          .oneof(fc.constant(0), { arbitrary: fc.integer({ min: 1, max: 240 }), weight: 4 })
          .map((back) => ({ back, beforeLastDose: true })),
        weight: 2,
      },
    ),
    fc.oneof(
      { arbitrary: fc.constant<Command['recorded']>('now'), weight: 2 },
      fc.constant<Command['recorded']>('same'),
    ),
  )
  .map(([c, { back, beforeLastDose }, recorded]) => [
    { ...c, dt: -back, beforeLastDose, recorded, corrupt: null },
  ]);

/**
 * The course ends (completed, with a reason when short of the plan, or discontinued); adverse events are still
 * reported and reviewed, nothing else is recorded, and voiding the closing event reopens the course.
 */
const closing = fc
  .tuple(
    fc.oneof(
      storyCommand('EpisodeCompleted', mostly({ reason: MEANINGFUL }, payloads.EpisodeCompleted, 3)),
      storyCommand('EpisodeDiscontinued'),
    ),
    storyCommand('AdverseEventReported'),
    oneIn(2, storyCommand('AdverseEventReviewed')),
    oneIn(2, storyCommand('AssessmentRecorded')),
    oneIn(
      3,
      storyCommand(
        'EventVoided',
        fc.record({ voidedEventId: fc.constant('@closing'), reason: fc.constant('closed in error') }),
      ),
    ),
  )
  .map((xs) => xs.filter((c): c is Command => c !== undefined));

/** Clinicians follow up the safety signals. */
const review = fc
  .tuple(storyCommand('SafetyFlagReviewed'), storyCommand('AdverseEventReviewed'))
  .map((xs) => [...xs]);

const tail = fc
  .array(
    fc.oneof(
      { arbitrary: anyCommand.map((c) => [c]), weight: 5 },
      { arbitrary: dosingCycle, weight: 5 },
      { arbitrary: resupply, weight: 1 },
      { arbitrary: cancellation, weight: 1 },
      { arbitrary: pause, weight: 1 },
      { arbitrary: lateReport, weight: 2 },
      { arbitrary: review, weight: 1 },
      { arbitrary: sameDaySession, weight: 1 },
      { arbitrary: closing, weight: 1 },
      { arbitrary: command('EventVoided').map((c) => [c]), weight: 1 },
      // Maintenance after the course, then its sessions under the same gates.
      {
        arbitrary: fc.tuple(storyCommand('MaintenancePlanned'), dosingCycle).map(([m, c]) => [m, ...c]),
        weight: 1,
      },
      { arbitrary: storyCommand('ConsentWithdrawn').map((c) => [c]), weight: 1 },
    ),
    { maxLength: 12 },
  )
  .map((groups) => groups.flat());

/** A longer course: sessions with resupply in between, then anything (reaches the fourth dose and beyond). */
const course = fc
  .array(
    fc
      .tuple(
        cycle(40, 0),
        storyCommand('IntegrationSessionCompleted'),
        storyCommand(
          'AssessmentRecorded',
          fc.record({ instrument: fc.constant('phq9'), responses: phq9Answers }),
        ),
        resupplyWith(fc.constant({ continueTreatment: true })),
        oneIn(4, lateReport),
        oneIn(3, sameDaySession),
        oneIn(5, storyCommand('EventVoided')),
      )
      .map(([a, b, c, d, e, f, g]) => [...a, ...(f ?? []), b, c, ...d, ...(e ?? []), ...(g ? [g] : [])]),
    { minLength: 4, maxLength: 7 },
  )
  .map((groups) => groups.flat());

/**
 * A random episode log: mostly the seed's order with omissions up to a first dosing session, then anything.
 * Unbiased: fast-check's bias towards small values would turn the "keep this step" draws and the weighted
 * choices into coin flips.
 */
export const commands = fc.noBias(
  fc.oneof(
    { arbitrary: fc.tuple(preamble, dosingCycle, tail).map(([a, b, c]) => [...a, ...b, ...c]), weight: 3 },
    // A course, a little of anything, and (now and then) a late report last, so that nothing reviews it.
    fc
      .tuple(preamble, course, tail, oneIn(2, lateReport))
      .map(([a, b, c, d]) => [...a, ...b, ...c.slice(0, 15), ...(d ?? [])]),
  ),
);
