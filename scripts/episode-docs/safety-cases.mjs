// Part of scripts/gen-episode-docs.mjs: the safety layer replayed: the cases shown in the Safety layer section, each checked.
import { defaultPolicy, num } from './env.mjs';
import {
  bookedWithVitals,
  booster,
  dayAt,
  dosingSession,
  fullDose,
  MINUTE,
  NORMAL,
  PHQ9_BASELINE,
  prepare,
  preparedAndBooked,
  problems,
  RX,
  story,
} from './story.mjs';

// The safety layer -----------------------------------------------------------------------------------------

const REASON = 'BP re-measured twice, patient asymptomatic; prescriber consulted by phone';
export const PHQ9_ITEM9 = (value) => [1, 1, 1, 1, 1, 1, 0, 1, value];

/** The safety layer, replayed: the cases shown in the Safety layer section, each checked. */
export function safetyCases() {
  const out = [];
  reviewBeforeDoseCases(out);
  vitalsHoldCases(out);
  medicalDecisionCases(out);
  eligibilityDespiteContraindicationCases(out);
  return out;
}

/** Safety review before a dose; dose reconciliation; observation time; post-dose blood pressure. */
function reviewBeforeDoseCases(out) {
  const s = preparedAndBooked('ep-safety-dose');
  s.must(
    'AssessmentRecorded',
    { instrument: 'phq9', responses: PHQ9_ITEM9(1), context: 'pre-dose' },
    {
      at: 2,
      recordedBy: 'patient',
    },
  );
  s.must('VitalsRecorded', { sessionId: 'a', phase: 'pre', ...NORMAL });
  const flagged = s.sent.at(-2).id;
  const review = { assessmentEventId: flagged, rule: 'phq9-item9-positive', outcome: 'no-current-risk' };
  s.expect(
    out,
    'A dose while the PHQ-9 item 9 answered 1 that morning is unreviewed',
    'DoseAdministered',
    fullDose('a'),
    {},
    'safety-review-required',
  );
  s.expect(
    out,
    'The patient records the review of their own flag',
    'SafetyFlagReviewed',
    review,
    { recordedBy: 'patient' },
    'not-permitted',
  );
  s.expect(out, 'The therapist records the review', 'SafetyFlagReviewed', review, {}, 'dosing-session');
  // Doses that do not match the prescription: each refused, the session goes on.
  for (const [what, changes] of [
    [
      'A dose by another route than the prescription’s (intravenous)',
      { route: 'intravenous', formulation: 'infusion' },
    ],
    ['A full dose of 400 mg on a 300 mg prescription', { doseMg: 400 }],
    ['A half dose of 200 mg on a 300 mg prescription', { kind: 'half', doseMg: 200 }],
    ['A full dose of 300 mg that says it used 2 units', { unitsUsed: 2 }],
  ]) {
    s.expect(out, what, 'DoseAdministered', fullDose('a', changes), {}, 'dose-mismatch');
  }
  s.expect(
    out,
    'The full dose of 300 mg, the patient recording it',
    'DoseAdministered',
    fullDose('a'),
    { recordedBy: 'patient', at: 2 + 10 * MINUTE },
    'dosing-session',
  );
  // Boosters after the full dose: one above the policy's fraction of it, one in time, then a second one.
  for (const [what, doseMg, o, expected] of [
    [
      `A booster of 200 mg (above ${num(defaultPolicy.maxBoosterFraction * 100)} % of 300 mg)`,
      200,
      {},
      'dose-mismatch',
    ],
    ['A booster of 150 mg half an hour later', 150, { at: 2 + 40 * MINUTE }, 'dosing-session'],
    ['A second booster in the same session', 100, {}, 'dose-mismatch'],
  ]) {
    s.expect(out, what, 'DoseAdministered', booster('a', doseMg), o, expected);
  }
  s.must('VitalsRecorded', { sessionId: 'a', phase: 'post', ...NORMAL });
  s.expect(
    out,
    'Completing the session 20 minutes after the booster, no reason',
    'DosingSessionCompleted',
    { sessionId: 'a' },
    { at: 2 + 60 * MINUTE },
    'reason-required',
  );
  s.must(
    'VitalsRecorded',
    { sessionId: 'a', phase: 'post', systolic: 150, diastolic: 96 },
    { at: 2 + 165 * MINUTE },
  );
  s.expect(
    out,
    'Completing it 2 h after the booster, the last post-dose BP 150/96, reason "ok."',
    'DosingSessionCompleted',
    { sessionId: 'a', reason: 'ok.' },
    {},
    'reason-required',
  );
  s.expect(
    out,
    'The same with a reason that says something',
    'DosingSessionCompleted',
    { sessionId: 'a', reason: REASON },
    {},
    'dosing-course',
  );
  spacingAndChaperoneCases(s, out);
}

/** Continues the same episode: the next session too soon after the last, and a remote session's chaperone. */
function spacingAndChaperoneCases(s, out) {
  s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'a' }, { at: 2.5 });
  bookedWithVitals(s, 'b', { bookedAt: 2.6, day: 2.9 });
  s.expect(
    out,
    'The next session’s dose the next morning, less than 24 h after',
    'DoseAdministered',
    fullDose('b'),
    {},
    'dosing-too-soon',
  );
  s.must('DosingSessionAborted', { sessionId: 'b', reason: 'other' });
  s.expect(
    out,
    'Booking a telehealth dosing session without a chaperone',
    'DosingSessionScheduled',
    { sessionId: 'c', scheduledFor: dayAt(5), mode: 'telehealth' },
    {},
    'chaperone-required',
  );
  s.expect(
    out,
    'The same with `chaperone: true`',
    'DosingSessionScheduled',
    { sessionId: 'c', scheduledFor: dayAt(5), mode: 'telehealth', chaperone: true },
    {},
    'dosing-course',
  );
}

/** Vitals hold and its override. */
function vitalsHoldCases(out) {
  const s = preparedAndBooked('ep-safety-hold');
  s.must(
    'VitalsRecorded',
    { sessionId: 'a', phase: 'pre', ...NORMAL, heartRate: defaultPolicy.holdHeartRateAbove + 8 },
    { at: 2 },
  );
  const dose = fullDose('a');
  s.expect(
    out,
    `A dose after a pre-dose heart rate of ${defaultPolicy.holdHeartRateAbove + 8}/min`,
    'DoseAdministered',
    dose,
    {},
    'vitals-hold',
  );
  s.expect(
    out,
    'The same, overridden by the therapist',
    'DoseAdministered',
    { ...dose, vitalsOverride: { clinicianRole: 'therapist', reason: REASON } },
    {},
    'not-permitted',
  );
  s.expect(
    out,
    'The same, overridden by the medical team with the reason "ok."',
    'DoseAdministered',
    { ...dose, vitalsOverride: { clinicianRole: 'medical', reason: 'ok.' } },
    {},
    'reason-required',
  );
  s.expect(
    out,
    'The same, overridden by the medical team with a reason',
    'DoseAdministered',
    { ...dose, vitalsOverride: { clinicianRole: 'medical', reason: REASON } },
    {},
    'dosing-session',
  );
}

/** Medical decisions bind. */
function medicalDecisionCases(out) {
  const s = story('ep-safety-stop');
  prepare(s, { supply: 2 });
  dosingSession(s, 'a', 2);
  s.expect(
    out,
    'A follow-up decides not to continue treatment',
    'MedicalFollowUpCompleted',
    { continueTreatment: false },
    { at: 4 },
    'dosing-course',
  );
  s.expect(
    out,
    'Booking the next dosing session',
    'DosingSessionScheduled',
    { sessionId: 'b', scheduledFor: dayAt(9), mode: 'in-person' },
    {},
    'treatment-stopped',
  );
  s.expect(out, 'A refill', 'RefillIssued', { dosesAuthorized: 2 }, {}, 'treatment-stopped');
  s.expect(
    out,
    'A new prescription (the follow-up counts for the follow-up gate)',
    'PrescriptionIssued',
    RX(2),
    {},
    'dosing-course',
  );
  s.expect(
    out,
    'Booking the next dosing session again',
    'DosingSessionScheduled',
    { sessionId: 'b', scheduledFor: dayAt(9), mode: 'in-person' },
    {},
    'dosing-course',
  );
  s.expect(
    out,
    'A third prescription, no follow-up since the second',
    'PrescriptionIssued',
    RX(2),
    {},
    'refill-requires-follow-up',
  );
  s.expect(
    out,
    'A re-evaluation during treatment finds the patient not eligible',
    'MedicalEvaluationCompleted',
    { eligible: false },
    {},
    'dosing-course',
  );
  s.expect(
    out,
    'Booking another session',
    'DosingSessionScheduled',
    { sessionId: 'c', scheduledFor: dayAt(10), mode: 'in-person' },
    {},
    'treatment-stopped',
  );
  s.expect(
    out,
    'A re-evaluation finds the patient eligible again',
    'MedicalEvaluationCompleted',
    { eligible: true },
    {},
    'dosing-course',
  );
  s.expect(
    out,
    'Booking it again',
    'DosingSessionScheduled',
    { sessionId: 'c', scheduledFor: dayAt(10), mode: 'in-person' },
    {},
    'dosing-course',
  );
  s.expect(
    out,
    'Completing the episode after 1 of 4 planned dosing sessions, no reason',
    'EpisodeCompleted',
    {},
    {},
    'reason-required',
  );
  s.expect(
    out,
    'The same with a reason',
    'EpisodeCompleted',
    { reason: 'Patient in remission after one session; agreed with the prescriber' },
    {},
    'completed',
  );
  s.expect(
    out,
    'An adverse event reported after completion, naming a session the episode does not know',
    'AdverseEventReported',
    { code: 'headache', severity: 'moderate', sessionId: 'zz' },
    {},
    'completed',
  );
  if (s.state.context.adverseEvents.at(-1)?.unknownSession !== true) {
    problems.push('ep-safety-stop: an adverse event naming an unknown session is not flagged unknownSession');
  }
  if (s.state.status !== 'active')
    problems.push(`ep-safety-stop: a completed episode has status ${s.state.status}`);
  s.expect(
    out,
    'Its review by a clinician',
    'AdverseEventReviewed',
    { adverseEventId: s.sent.at(-1).id, outcome: 'no-current-risk' },
    {},
    'completed',
  );
  s.expect(
    out,
    'An assessment after completion',
    'AssessmentRecorded',
    { instrument: 'phq9', responses: PHQ9_BASELINE },
    {},
    'episode-closed',
  );
}

/** Eligibility despite an absolute contraindication. */
function eligibilityDespiteContraindicationCases(out) {
  const s = story('ep-safety-eligibility');
  s.must('EpisodeOpened', {});
  s.must('FitAssessed', { outcome: 'good-fit' });
  s.must('MedicalEvaluationScheduled', { scheduledFor: dayAt(1), mode: 'telehealth' });
  const ci = { eligible: true, contraindications: ['active-suicidal-ideation'] };
  s.expect(
    out,
    'Eligible with active suicidal ideation recorded, no override',
    'MedicalEvaluationCompleted',
    ci,
    {},
    'contraindicated',
  );
  s.expect(
    out,
    'The same with an override whose reason is "ok."',
    'MedicalEvaluationCompleted',
    { ...ci, contraindicationOverride: { reason: 'ok.' } },
    {},
    'contraindicated',
  );
  s.expect(
    out,
    'The same with a reason',
    'MedicalEvaluationCompleted',
    {
      ...ci,
      contraindicationOverride: {
        reason: 'Passive ideation only, C-SSRS screen negative, safety plan in place',
      },
    },
    {},
    'planning',
  );
}

/** Every refusal carries the safety signals of the refused event: an example, and a check over several codes. */
export function refusalSignals() {
  const s = story('ep-signals');
  const phq = { instrument: 'phq9', responses: PHQ9_ITEM9(2) };
  const d = s.add('AssessmentRecorded', phq);
  if (d.ok || d.refusal.code !== 'episode-not-opened' || !d.refusal.safetyFlags?.length) {
    problems.push('ep-signals: a PHQ-9 before EpisodeOpened is not refused with its safety flag');
  }
  prepare(s);
  const more = [
    ['invalid-event', 'AssessmentRecorded', { ...phq, context: 'whenever' }, {}],
    ['not-permitted', 'AssessmentRecorded', phq, { recordedBy: 'system' }],
    ['future-event', 'AssessmentRecorded', phq, { at: 1, recordedAt: 0.5 }],
    [
      'invalid-assessment',
      'AssessmentRecorded',
      { instrument: 'phq9', responses: [9, 1, 1, 1, 1, 1, 1, 1, 2] },
      {},
    ],
  ];
  for (const [expected, type, payload, o] of more) {
    const r = s.add(type, payload, o);
    if (
      r.ok ||
      r.refusal.code !== expected ||
      !r.refusal.safetyFlags?.some((f) => f.rule === 'phq9-item9-positive')
    ) {
      problems.push(
        `ep-signals: ${expected}: the refusal does not carry the PHQ-9 item 9 flag (got ${r.ok ? 'accepted' : r.refusal.code})`,
      );
    }
  }
  const vitals = s.add('VitalsRecorded', { sessionId: 'nope', phase: 'pre', systolic: 200, diastolic: 125 });
  if (vitals.ok || !vitals.refusal.safetyFlags?.some((f) => f.origin === 'vitals')) {
    problems.push('ep-signals: refused vitals beyond the alert thresholds do not carry a safety signal');
  }
  const { code: c, message, safetyFlags } = d.refusal;
  return { code: c, message, safetyFlags };
}
