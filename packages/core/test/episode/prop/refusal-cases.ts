import { Story } from '@kapkit/testing';
import type { refusalCodes } from '../../../src/episode/rules.js';
import { V3_NO_SIGNAL_CODES } from './run.js';

// The refusal cases of the safety-signal test (../safety-signals.test.ts).

/** PHQ-9 with item 9 answered 2 ("more than half the days"): a positive safety flag. */
const POSITIVE = { instrument: 'phq9', responses: [1, 1, 1, 1, 1, 1, 1, 1, 2], context: 'routine' };
/** A reading beyond the alert thresholds (systolic > 180, diastolic > 120, heart rate > 130). */
const ALARMING = { systolic: 200, diastolic: 125, heartRate: 140 };

/** A refusal case: the log before (all accepted), the refused input, and the signal it carries. */
export interface Case {
  readonly log: readonly unknown[];
  readonly input: unknown;
  readonly rule: string;
}
const assessment = (s: Story, extra: Record<string, unknown> = {}, minutes = 30) => {
  s.add('AssessmentRecorded', { ...POSITIVE, ...extra }, minutes);
  return { log: s.events.slice(0, -1), input: s.events[s.events.length - 1]!, rule: 'phq9-item9-positive' };
};
const vitalsCase = (s: Story, payload: Record<string, unknown>, minutes = 30) => {
  s.add('VitalsRecorded', { ...ALARMING, ...payload }, minutes);
  return {
    log: s.events.slice(0, -1),
    input: s.events[s.events.length - 1]!,
    rule: 'vitals-systolic-alert',
  };
};
/** An episode with a dosing session in progress (pre-dose vitals taken, no dose yet) on day 14. */
const inSession = () => {
  const s = new Story().readyToDose().day(14);
  s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
  s.add('VitalsRecorded', { sessionId: 'x', phase: 'pre', systolic: 120, diastolic: 80 }, 60);
  return s;
};

// Each code that an event carrying a safety signal can be refused with: an assessment with a positive item 9
// where the code applies to assessments, else vitals beyond the alert thresholds (session and phase rules).
export const cases: Partial<Record<keyof typeof refusalCodes, () => Case>> = {
  'invalid-event': () => {
    const c = assessment(new Story().readyToDose());
    const { at: _at, ...input } = c.input as Record<string, unknown>;
    return { ...c, input };
  },
  'wrong-episode': () => assessment(new Story().readyToDose(), { episodeId: 'ep-other' }),
  'wrong-patient': () => assessment(new Story().readyToDose(), { patientId: 'pt-other' }),
  'duplicate-event-id': () => {
    const s = new Story().readyToDose();
    return assessment(s, { id: (s.events[3] as { id: string }).id });
  },
  // A paper PHQ-9 dated the day before a dose, entered after it as a version 1 event (recordedAt = at): known
  // when the dose was recorded, it would have held the dose for a safety review.
  'out-of-order': () => {
    const s = new Story().readyToDose().dosingSession(14).day(13);
    return assessment(s, {}, 0);
  },
  'episode-not-opened': () => ({ ...assessment(new Story().day(0)), log: [] }),
  'episode-closed': () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(20).add('EpisodeCompleted', { reason: 'Remission after one session; agreed to stop.' });
    return assessment(s.day(21));
  },
  'invalid-assessment': () =>
    assessment(new Story().readyToDose(), { responses: [7, 1, 1, 1, 1, 1, 1, 1, 2] }),
  'not-permitted': () => assessment(new Story().readyToDose(), { recordedBy: 'chaperone' }),
  'future-event': () => {
    const s = new Story().readyToDose();
    // Dated a day after it was written.
    return assessment(s, { v: 2, recordedBy: 'patient', recordedAt: s.at(11) });
  },
  'episode-paused': () => {
    const s = inSession();
    s.add('DosingSessionAborted', { sessionId: 'x', reason: 'technical' }, 70);
    s.add('EpisodePaused', { reason: 'medical' }, 80);
    return vitalsCase(s, { sessionId: 'x', phase: 'pre' }, 90);
  },
  'not-eligible': () => {
    const s = new Story().day(0).add('EpisodeOpened');
    return vitalsCase(s, { sessionId: 'x', phase: 'pre' });
  },
  'session-in-progress': () => {
    const s = inSession();
    s.add('DosingSessionScheduled', { sessionId: 'y', scheduledFor: s.at(21), mode: 'in-person' }, 61);
    return vitalsCase(s, { sessionId: 'y', phase: 'pre' }, 62);
  },
  'no-session-in-progress': () => {
    const s = inSession();
    s.add('DosingSessionAborted', { sessionId: 'x', reason: 'technical' }, 70);
    return vitalsCase(s, { sessionId: 'x', phase: 'pre' }, 80);
  },
  'unknown-session': () => vitalsCase(new Story().readyToDose().day(14), { sessionId: 'nope', phase: 'pre' }),
  'vitals-before-dose': () => vitalsCase(inSession(), { sessionId: 'x', phase: 'during' }, 70),
};
// The codes no event carrying a safety signal can be refused with. Safety signals are carried by assessments,
// adverse events and vitals only, and:
// - adverse events are accepted in every phase once the episode is open (an unknown session is kept), so they
//   are refused only by the envelope (schema, episode, patient, id, role, clock, late entry) or before opening;
// - assessments are accepted in every open phase, paused included, so the phase and treatment rules do not
//   apply to them; `unknown-instrument`: an instrument that is not registered has no safety rule to trip;
// - vitals are refused by the session and phase rules above, never by the rules of doses, of the session's end
//   or of anything else;
// - every other code belongs to event types that carry no signal (opening, evaluation, plan, prescription,
//   supply, training, sessions and their doses, reviews, voids, pause and end of the episode).
export const noSignalCodes = [
  'already-opened',
  'fit-not-established',
  'evaluation-not-scheduled',
  'no-treatment-plan',
  'no-prescription',
  'supply-exceeds-authorized',
  'no-medication-on-hand',
  'training-required',
  'preparation-required',
  'integration-required',
  'duplicate-session',
  'pre-dose-vitals-required',
  'vitals-hold',
  'booster-without-dose',
  'session-already-dosed',
  'session-not-dosed',
  'post-dose-vitals-required',
  'follow-up-overdue',
  'refill-requires-follow-up',
  'unknown-instrument',
  'no-dose-to-integrate',
  'unknown-safety-flag',
  'no-doses-given',
  'not-paused',
  'not-allowed-in-phase',
  ...V3_NO_SIGNAL_CODES,
  'consent-required',
];
