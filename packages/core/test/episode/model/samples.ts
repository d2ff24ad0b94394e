import type { StatePath } from 'xstate/graph';
import type { EpisodeContext } from '../../../src/episode/context.js';
import type { EpisodeState } from '../../../src/episode/decide.js';
import { type EpisodeEvent, type EventType, parseEvent } from '../../../src/episode/events.js';

// The model-based tests (../model-based.test.ts): the bounded set of concrete sample events.

export type Snapshot = EpisodeState;
export type Path = StatePath<Snapshot, EpisodeEvent>;

/** Bounds that keep the graph finite (see `withinBounds`). */
export const MAX_SESSIONS = 2;
export const MAX_ON_HAND = 2;
export const MAX_AUTHORIZED_LEFT = 2;

const T0 = Date.parse('2026-03-02T10:00:00Z');
export const DAY = 86_400_000;
export const FLAG_ASSESSMENT_ID = 'g-assessment-flag';
export const SEVERE_ADVERSE_ID = 'g-adverse-severe';
const ENVELOPE = {
  episodeId: 'ep-mb',
  patientId: 'pt-mb-synthetic',
  at: new Date(T0).toISOString(),
  v: 1,
  synthetic: true,
} as const;
const MEANINGFUL = 'the patient and the medical team agreed';

/**
 * A sample event as `decide` sees it after parsing: version 1 (upcast to `recordedAt = at` and the type's
 * primary role) unless the payload says otherwise. Its time is set where it is used (see `stamp`).
 */
function sample(id: string, type: EventType, payload: Record<string, unknown> = {}): EpisodeEvent {
  const parsed = parseEvent({ ...ENVELOPE, id, type, ...payload });
  if (!parsed.success) throw new Error(`sample ${id}: ${parsed.error.message}`);
  return parsed.data as EpisodeEvent;
}
/** A version 2 sample, recorded by `role`. */
const sampleV2 = (id: string, type: EventType, role: string, payload: Record<string, unknown> = {}) =>
  sample(id, type, { ...payload, v: 2, recordedAt: ENVELOPE.at, recordedBy: role });

const dose = (sessionId: string, kind: string, extra: Record<string, unknown> = {}) => ({
  sessionId,
  kind,
  doseMg: kind === 'full' ? 300 : 150,
  route: 'sublingual',
  formulation: 'sublingual-lozenge',
  ...extra,
});

/** Samples that do not depend on the episode's sessions: valid ones and a few the rules refuse. */
export const fixedSamples: readonly EpisodeEvent[] = [
  sample('g-open', 'EpisodeOpened', { referral: 'therapist' }),
  sample('g-fit-good', 'FitAssessed', { outcome: 'good-fit' }),
  sample('g-fit-not', 'FitAssessed', { outcome: 'not-a-fit' }),
  sample('g-fit-more', 'FitAssessed', { outcome: 'needs-more-discussion' }),
  sample('g-eval-scheduled', 'MedicalEvaluationScheduled', {
    scheduledFor: '2026-03-09T10:00:00Z',
    mode: 'telehealth',
  }),
  // Also a re-evaluation during treatment: eligible lifts a treatment stop, not eligible stops treatment.
  sample('g-eval-eligible', 'MedicalEvaluationCompleted', { eligible: true }),
  sample('g-eval-ineligible', 'MedicalEvaluationCompleted', {
    eligible: false,
    contraindications: ['uncontrolled-hypertension'],
  }),
  // Eligible despite an absolute contraindication: refused without the medical team's override and reason.
  sample('g-eval-contraindicated', 'MedicalEvaluationCompleted', {
    eligible: true,
    contraindications: ['ketamine-allergy'],
  }),
  sampleV2('g-eval-override', 'MedicalEvaluationCompleted', 'medical', {
    eligible: true,
    contraindications: ['ketamine-allergy'],
    contraindicationOverride: { reason: 'skin test negative, cleared by the allergist' },
  }),
  // Two planned sessions: completing after one needs a reason.
  sample('g-plan', 'TreatmentPlanCreated', {
    plannedDosingSessions: 2,
    monitoring: { measures: [{ instrument: 'phq9', everyDays: 28 }] },
  }),
  sample('g-rx', 'PrescriptionIssued', {
    medication: 'ketamine',
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
    doseMg: 300,
    dosesAuthorized: 2,
  }),
  sample('g-delivered-2', 'MedicationDelivered', { doses: 2 }),
  sample('g-delivered-1', 'MedicationDelivered', { doses: 1 }),
  sample('g-trained', 'SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }),
  sample('g-half-trained', 'SelfAdministrationTrained', {
    vitalsTrained: true,
    selfAdministrationTrained: false,
  }),
  sample('g-prep', 'PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true }),
  sampleV2('g-consent', 'InformedConsentRecorded', 'therapist', {
    scope: ['kap', 'remote-sessions'],
    documentVersion: 'KAP consent v3',
  }),
  sampleV2('g-consent-withdrawn', 'ConsentWithdrawn', 'patient', { scope: ['research-use'] }),
  sampleV2('g-medications', 'MedicationsReviewed', 'medical', {
    medications: [{ name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 }],
  }),
  // Before the two planned sessions are done: with a reason.
  sampleV2('g-maintenance', 'MaintenancePlanned', 'medical', {
    intervalDays: 45,
    reason: 'in remission after the first session; agreed with the patient',
  }),
  sample('g-follow-up', 'MedicalFollowUpCompleted', { continueTreatment: true }),
  sample('g-follow-up-stop', 'MedicalFollowUpCompleted', { continueTreatment: false }),
  sample('g-refill', 'RefillIssued', { dosesAuthorized: 2 }),
  sample('g-assessment', 'AssessmentRecorded', {
    instrument: 'phq9',
    responses: [1, 1, 1, 1, 1, 1, 1, 1, 0],
  }),
  sampleV2(FLAG_ASSESSMENT_ID, 'AssessmentRecorded', 'patient', {
    instrument: 'PHQ-9',
    responses: [1, 1, 1, 1, 1, 1, 1, 1, 2],
  }),
  sample('g-assessment-invalid', 'AssessmentRecorded', {
    instrument: 'phq9',
    responses: [7, 1, 1, 1, 1, 1, 1, 1, 0],
  }),
  sample('g-assessment-unknown', 'AssessmentRecorded', { instrument: 'bdi2', responses: [1] }),
  sampleV2('g-flag-reviewed', 'SafetyFlagReviewed', 'therapist', {
    assessmentEventId: FLAG_ASSESSMENT_ID,
    rule: 'phq9-item9-positive',
    outcome: 'no-current-risk',
  }),
  sample('g-adverse', 'AdverseEventReported', { code: 'nausea', severity: 'mild' }),
  // A session the episode does not know: kept (and flagged), never refused.
  sample('g-adverse-unknown', 'AdverseEventReported', {
    sessionId: 'no-such-session',
    code: 'headache',
    severity: 'mild',
  }),
  sampleV2(SEVERE_ADVERSE_ID, 'AdverseEventReported', 'patient', { code: 'fall', severity: 'severe' }),
  sample('g-adverse-ideation', 'AdverseEventReported', { code: 'suicidal-ideation', severity: 'moderate' }),
  sampleV2('g-adverse-reviewed', 'AdverseEventReviewed', 'medical', {
    adverseEventId: SEVERE_ADVERSE_ID,
    outcome: 'no-current-risk',
  }),
  sampleV2('g-adverse-reviewed-unknown', 'AdverseEventReviewed', 'therapist', {
    adverseEventId: 'no-such-adverse-event',
    outcome: 'escalated',
  }),
  sample('g-paused', 'EpisodePaused', { reason: 'scheduling' }),
  sample('g-resumed', 'EpisodeResumed'),
  sample('g-completed', 'EpisodeCompleted'),
  sample('g-completed-reason', 'EpisodeCompleted', { reason: MEANINGFUL }),
  sample('g-discontinued', 'EpisodeDiscontinued', { reason: 'patient-choice' }),
];

/**
 * The void sample. A void is decided by `decide` (which rebuilds the episode without the voided event); the
 * machine only records it. It is never explored: the void probes (`probeVoids`) check it at every vertex.
 */
export const VOID = sampleV2('g-void', 'EventVoided', 'medical', {
  voidedEventId: 'g-assessment',
  reason: 'entered in error (wrong patient chart)',
});

const sessionId = (n: number) => `s${n}`;
const NO_SUCH_SESSION = 'no-such-session';

/** Samples naming the booked (or in-progress, or ended) session `id`, with ids unique to that session. */
function samplesOfSession(id: string): EpisodeEvent[] {
  const g = (name: string) => `g-${name}-${id}`;
  const vitals = (name: string, phase: string, reading: Record<string, number>) =>
    sample(g(name), 'VitalsRecorded', { sessionId: id, phase, ...reading });
  return [
    sample(g('schedule-duplicate'), 'DosingSessionScheduled', {
      sessionId: id,
      scheduledFor: '2026-03-16T10:00:00Z',
      mode: 'telehealth',
      chaperone: true,
    }),
    vitals('vitals-pre', 'pre', { systolic: 122, diastolic: 78 }),
    vitals('vitals-pre-at-threshold', 'pre', { systolic: 140, diastolic: 90, heartRate: 120, spo2: 92 }),
    vitals('vitals-pre-hold', 'pre', { systolic: 150, diastolic: 95 }),
    // Held on heart rate and SpO₂ alone.
    vitals('vitals-pre-hold-pulse', 'pre', { systolic: 118, diastolic: 76, heartRate: 128, spo2: 91 }),
    vitals('vitals-during', 'during', { systolic: 135, diastolic: 85 }),
    // Beyond the alert thresholds: accepted (an urgent alert, not a refusal).
    vitals('vitals-during-alert', 'during', { systolic: 190, diastolic: 125, heartRate: 140, spo2: 88 }),
    vitals('vitals-post', 'post', { systolic: 128, diastolic: 80 }),
    // Still above the hold when the session ends: completing it needs a reason.
    vitals('vitals-post-high', 'post', { systolic: 150, diastolic: 95 }),
    // Full: 300 mg = 1 unit of a 300 mg prescription; half and booster: 150 mg = 0.5 unit.
    sample(g('dose-full'), 'DoseAdministered', dose(id, 'full')),
    sample(g('dose-half'), 'DoseAdministered', dose(id, 'half')),
    sampleV2(
      g('dose-override'),
      'DoseAdministered',
      'therapist',
      dose(id, 'full', { vitalsOverride: { clinicianRole: 'medical', reason: 'repeat 138/88 by phone' } }),
    ),
    // Overrides the medical team alone may make, with a reason that says something.
    sample(
      g('dose-override-therapist'),
      'DoseAdministered',
      dose(id, 'full', { vitalsOverride: { clinicianRole: 'therapist', reason: 'repeat 138/88 by phone' } }),
    ),
    sample(
      g('dose-override-short'),
      'DoseAdministered',
      dose(id, 'full', { vitalsOverride: { clinicianRole: 'medical', reason: 'ok.' } }),
    ),
    // Not what the prescription says.
    sample(g('dose-two-units'), 'DoseAdministered', dose(id, 'full', { unitsUsed: 2 })),
    sample(g('dose-too-much'), 'DoseAdministered', dose(id, 'full', { doseMg: 450 })),
    sample(
      g('dose-iv'),
      'DoseAdministered',
      dose(id, 'full', { route: 'intravenous', formulation: 'infusion' }),
    ),
    sample(g('booster'), 'DoseAdministered', dose(id, 'booster')),
    sample(g('booster-too-much'), 'DoseAdministered', dose(id, 'booster', { doseMg: 200 })),
    // Completed a day after the dose (the replay's steps are a day apart): after the observation time.
    sample(g('session-completed'), 'DosingSessionCompleted', { sessionId: id, durationMinutes: 150 }),
    sample(g('session-completed-reason'), 'DosingSessionCompleted', { sessionId: id, reason: MEANINGFUL }),
    sample(g('session-aborted'), 'DosingSessionAborted', { sessionId: id, reason: 'vitals-hold' }),
    sample(g('integration'), 'IntegrationSessionCompleted', { mode: 'telehealth', sessionId: id }),
    sample(g('adverse-in-session'), 'AdverseEventReported', {
      sessionId: id,
      code: 'elevated-blood-pressure',
      severity: 'moderate',
    }),
  ];
}

/**
 * Samples for an episode with `sessions` dosing sessions booked so far (s1, s2, … in booking order): booking the
 * next one (in person, remote with a chaperone, remote without one), the in-session events for each of them,
 * and in-session events naming a session never booked.
 */
export function sessionSamples(sessions: number): EpisodeEvent[] {
  const next = sessionId(sessions + 1);
  const booking = (id: string, extra: Record<string, unknown>) =>
    sample(id, 'DosingSessionScheduled', { sessionId: next, scheduledFor: '2026-03-16T10:00:00Z', ...extra });
  const out = [
    booking(`g-schedule-${next}`, { mode: 'in-person' }),
    booking(`g-schedule-remote-${next}`, { mode: 'telehealth', chaperone: true }),
    booking(`g-schedule-unchaperoned-${next}`, { mode: 'telehealth' }),
    sample('g-vitals-unknown-session', 'VitalsRecorded', {
      sessionId: NO_SUCH_SESSION,
      phase: 'pre',
      systolic: 120,
      diastolic: 80,
    }),
    sample('g-dose-unknown-session', 'DoseAdministered', dose(NO_SUCH_SESSION, 'full')),
    sample('g-session-completed-unknown', 'DosingSessionCompleted', { sessionId: NO_SUCH_SESSION }),
    sample('g-session-aborted-unknown', 'DosingSessionAborted', {
      sessionId: NO_SUCH_SESSION,
      reason: 'technical',
    }),
  ];
  for (let n = 1; n <= sessions; n++) out.push(...samplesOfSession(sessionId(n)));
  return out;
}

/** Events accepted so far (voided ones included): the replay's depth, which sets the time of the next one. */
const acceptedCount = (c: EpisodeContext) => c.history.length + c.voidedEventIds.length;
/** The time of the `n`-th accepted event (1-based): a day apart. */
export const timeOf = (n: number) => new Date(T0 + n * DAY).toISOString();
/** `e` dated (and recorded) at the time of the `n`-th accepted event. */
export const stamp = <E extends EpisodeEvent>(e: E, n: number): E => ({
  ...e,
  at: timeOf(n),
  recordedAt: timeOf(n),
});

const samplesBySessions = new Map<number, readonly EpisodeEvent[]>();
/**
 * Every sample event for a state, dated a day after the last accepted event, as the replay dates them: dosing
 * sessions are then at least a day apart and end after the observation time, and every earlier fact was known
 * when an event was recorded (the graph is not about time; the time rules have their own tests).
 */
export function samplesFor(s: Snapshot): readonly EpisodeEvent[] {
  const n = s.context.sessions.length;
  let out = samplesBySessions.get(n);
  if (!out) {
    out = [...fixedSamples, ...sessionSamples(n)];
    samplesBySessions.set(n, out);
  }
  const next = acceptedCount(s.context) + 1;
  return out.map((e) => stamp(e, next));
}

/** Ids of the history value, only while paused (a stale history value elsewhere does not change behaviour). */
export function pausedHistory(s: Snapshot): unknown {
  if (!s.matches('paused')) return undefined;
  const h = (s as unknown as { historyValue: Record<string, readonly { id: string }[]> }).historyValue;
  return Object.keys(h)
    .sort()
    .map((k) => [k, (h[k] ?? []).map((n) => n.id)]);
}
