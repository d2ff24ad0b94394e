// Part of scripts/gen-episode-docs.mjs: late entries, future events and voids, replayed and checked.
import { code, defaultPolicy } from './env.mjs';
import { PHQ9_ITEM9 } from './safety-cases.mjs';
import { primaryRole } from './source.mjs';
import { dayAt, dosingSession, MINUTE, PHQ9_BASELINE, prepare, problems, story } from './story.mjs';

// Clinical time and corrections ----------------------------------------------------------------------------

/** Late entries, future events, voids and the upcaster, replayed: the cases shown, each checked. */
export function timeCases() {
  const late = [];
  const future = [];
  const voids = [];
  lateEntryCases(late);
  futureCases(future);
  voidCases(voids);
  return { late, future, voids };
}

/** Late entries: recorded after the fact, placed in clinical order. */
function lateEntryCases(late) {
  const s = story('ep-late');
  prepare(s);
  dosingSession(s, 'a', 2);
  dosingSession(s, 'b', 9, { integrate: false });
  s.expect(
    late,
    'An integration session dated day 5, entered on day 9 after session b',
    'IntegrationSessionCompleted',
    { mode: 'in-person', sessionId: 'a' },
    { at: 5 },
    'dosing-course',
  );
  s.expect(
    late,
    'A paper PHQ-9 dated day 8 with item 9 answered 2, entered on day 9',
    'AssessmentRecorded',
    { instrument: 'phq9', responses: PHQ9_ITEM9(2) },
    { at: 8 },
    'dosing-course',
  );
  const st = s.status(9.5);
  const lateAlert = st.alerts.find((a) => a.code === 'late-entry');
  if (!lateAlert || !st.alerts.some((a) => a.code === 'safety-flag')) {
    problems.push(
      'ep-late: a late positive item 9 dated before a dose that went ahead raises no late-entry alert',
    );
  }
  late.push({
    what: 'The status on day 9',
    result: `alerts ${st.alerts.map((a) => `${code(a.code)} (${a.severity})`).join(', ')}`,
  });
  s.expect(
    late,
    'A pause dated day 8.5, entered on day 9',
    'EpisodePaused',
    { reason: 'medical' },
    { at: 8.5 },
    'out-of-order',
  );
  s.expect(
    late,
    'A follow-up dated day 8 deciding not to continue, entered on day 9',
    'MedicalFollowUpCompleted',
    { continueTreatment: false },
    { at: 8 },
    'dosing-course',
  );
  s.expect(
    late,
    'An event dated exactly as the latest one (a tie keeps recording order)',
    'AdverseEventReported',
    { code: 'nausea', severity: 'mild' },
    { at: 9 + 135 * MINUTE },
    'dosing-course',
  );
}

/** Events dated in the future. */
function futureCases(future) {
  const s = story('ep-future');
  prepare(s);
  s.expect(
    future,
    '`at` 10 minutes after `recordedAt`',
    'PreparationSessionCompleted',
    { mode: 'in-person' },
    { at: 1 + 10 * MINUTE, recordedAt: 1 },
    'future-event',
  );
  s.expect(
    future,
    `\`at\` ${defaultPolicy.clockToleranceMinutes - 2} minutes after \`recordedAt\` (within the clock tolerance)`,
    'PreparationSessionCompleted',
    { mode: 'in-person' },
    { at: 1 + (defaultPolicy.clockToleranceMinutes - 2) * MINUTE, recordedAt: 1 },
    'preparation',
  );
  s.expect(
    future,
    'A year ahead, `recordedAt` too, checked with the clock of the store (`now`)',
    'PreparationSessionCompleted',
    { mode: 'in-person' },
    { at: 366, recordedAt: 366, now: 1.5 },
    'future-event',
  );
  s.expect(
    future,
    'Booking a dosing session for a month ahead (`scheduledFor` is exempt)',
    'DosingSessionScheduled',
    { sessionId: 'a', scheduledFor: dayAt(31), mode: 'in-person' },
    { at: 1.5, now: 1.5 },
    'preparation',
  );
}

/** Voiding an event entered in error. */
function voidCases(voids) {
  const s = story('ep-void');
  prepare(s);
  dosingSession(s, 'a', 2);
  const id = (type) => s.sent.findLast((e) => e.type === type).id;
  const opened = id('EpisodeOpened');
  s.expect(
    voids,
    'Voiding the prescription after the delivery it authorised',
    'EventVoided',
    { voidedEventId: id('PrescriptionIssued'), reason: 'entered on the wrong patient' },
    {},
    'void-would-invalidate',
  );
  s.must('AssessmentRecorded', { instrument: 'phq9', responses: [0, 0, 0, 0, 0, 0, 0, 0, 0] });
  const wrong = s.sent.at(-1).id;
  const before = s.state.context.assessments.length;
  s.expect(
    voids,
    'Voiding a PHQ-9 entered in error',
    'EventVoided',
    { voidedEventId: wrong, reason: 'recorded for the wrong patient' },
    {},
    'dosing-course',
  );
  if (s.state.context.assessments.length !== before - 1 || !s.state.context.voidedEventIds.includes(wrong)) {
    problems.push('ep-void: a voided assessment is still in the episode');
  }
  const theVoid = s.sent.at(-1).id;
  s.expect(
    voids,
    'Recording another event under the voided id',
    'AssessmentRecorded',
    { instrument: 'phq9', responses: PHQ9_BASELINE },
    { id: wrong },
    'duplicate-event-id',
  );
  s.expect(
    voids,
    'Voiding it again',
    'EventVoided',
    { voidedEventId: wrong, reason: 'recorded for the wrong patient' },
    {},
    'unknown-event',
  );
  s.expect(
    voids,
    'Voiding the void',
    'EventVoided',
    { voidedEventId: theVoid, reason: 'the void was a mistake' },
    {},
    'cannot-void',
  );
  s.expect(
    voids,
    'Voiding `EpisodeOpened`',
    'EventVoided',
    { voidedEventId: opened, reason: 'wrong episode' },
    {},
    'cannot-void',
  );
  s.expect(
    voids,
    'A void recorded by the patient',
    'EventVoided',
    { voidedEventId: id('IntegrationSessionCompleted'), reason: 'did not happen' },
    { recordedBy: 'patient' },
    'not-permitted',
  );
  s.must('EpisodeCompleted', { reason: 'Patient moved abroad; care handed over to a local clinic' });
  s.expect(
    voids,
    'Voiding the `EpisodeCompleted` of a course that was not over',
    'EventVoided',
    { voidedEventId: id('EpisodeCompleted'), reason: 'completed the wrong episode' },
    {},
    'dosing-course',
  );
  // Version 1 events are upcast: recordedAt = at, recordedBy = the primary role when missing; a given one is checked.
  const v1 = (type, payload, recordedBy) => {
    const e = s.ev(type, payload);
    delete e.recordedAt;
    delete e.recordedBy;
    return { ...e, v: 1, ...(recordedBy ? { recordedBy } : {}) };
  };
  s.expect(
    voids,
    'A version 1 PHQ-9 without `recordedBy` (upcast: therapist)',
    null,
    null,
    { raw: v1('AssessmentRecorded', { instrument: 'phq9', responses: PHQ9_ITEM9(1) }) },
    'dosing-course',
  );
  const flagged = s.sent.at(-1);
  if (
    flagged.recordedBy !== undefined ||
    s.state.context.history.at(-1).recordedBy !== primaryRole('AssessmentRecorded')
  ) {
    problems.push('ep-void: a version 1 event without recordedBy is not attributed to its primary role');
  }
  s.expect(
    voids,
    'A version 1 review of its flag with `recordedBy: "patient"`',
    null,
    null,
    {
      raw: v1(
        'SafetyFlagReviewed',
        { assessmentEventId: flagged.id, rule: 'phq9-item9-positive', outcome: 'no-current-risk' },
        'patient',
      ),
    },
    'not-permitted',
  );
}
