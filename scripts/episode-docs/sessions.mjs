// Part of scripts/gen-episode-docs.mjs: the dosing-session prose, replayed to check it.
import { dayAt, fullDose, MINUTE, NORMAL, prepare, story } from './story.mjs';

// Dosing sessions -----------------------------------------------------------------------------------------

const SESSIONS_PROSE = `**Dosing sessions.** Booking a session (\`DosingSessionScheduled\`) does not start it: the episode stays
between sessions, where preparation and integration sessions go on, and a session can also be booked while
another one is in progress. A booked session starts with its first pre-dose \`VitalsRecorded\` (→
\`dosingSession\`), or with its \`DoseAdministered\` when the policy does not require pre-dose vitals (→
\`dosingSession.dosed\`). \`DosingSessionAborted\` cancels a booked session that has not started (the episode
stays between sessions) and ends the session in progress. A session is completed (\`DosingSessionCompleted\`)
only after a dose (else \`session-not-dosed\`: abort it instead) and, by default, post-dose vitals. One session
is in progress at a time: an in-session event (vitals, dose, completion, abort) that names another session
while one is in progress is refused with \`session-in-progress\`; one that names a session that has ended, with
\`no-session-in-progress\`; one that names a session never booked, with \`unknown-session\`. A session id
cannot be booked twice (\`duplicate-session\`).`;

/** Replays the story the prose tells and fails generation if the model does something else. */
function checkSessionsProse() {
  const s = story('ep-sessions');
  prepare(s);
  const vitals = (sessionId, phase = 'pre') => ({ sessionId, phase, ...NORMAL });
  const book = (sessionId) => ({ sessionId, scheduledFor: dayAt(3), mode: 'in-person' });
  const step = (what, type, payload, expected, o = {}) => s.expect(null, what, type, payload, o, expected);
  step('booking a session', 'DosingSessionScheduled', book('a'), 'preparation');
  step(
    'a preparation session after booking',
    'PreparationSessionCompleted',
    { mode: 'in-person' },
    'preparation',
  );
  step('booking the same id again', 'DosingSessionScheduled', book('a'), 'duplicate-session');
  step('booking another session', 'DosingSessionScheduled', book('b'), 'preparation');
  step(
    'cancelling a booked session',
    'DosingSessionAborted',
    { sessionId: 'b', reason: 'patient-declined' },
    'preparation',
  );
  step('vitals for a cancelled session', 'VitalsRecorded', vitals('b'), 'no-session-in-progress');
  step('post-dose vitals before any dose', 'VitalsRecorded', vitals('a', 'post'), 'vitals-before-dose');
  step('pre-dose vitals of a booked session', 'VitalsRecorded', vitals('a'), 'dosing-session', { at: 3 });
  step('booking during a session', 'DosingSessionScheduled', book('c'), 'dosing-session');
  step('vitals for another session', 'VitalsRecorded', vitals('c'), 'session-in-progress');
  step('completing without a dose', 'DosingSessionCompleted', { sessionId: 'a' }, 'session-not-dosed');
  step('the dose', 'DoseAdministered', fullDose('a'), 'dosing-session', {
    at: 3 + 10 * MINUTE,
  });
  step(
    'completing without post-dose vitals',
    'DosingSessionCompleted',
    { sessionId: 'a' },
    'post-dose-vitals-required',
    {
      at: 3 + 125 * MINUTE,
    },
  );
  step('post-dose vitals', 'VitalsRecorded', vitals('a', 'post'), 'dosing-session', { at: 3 + 130 * MINUTE });
  step('completing', 'DosingSessionCompleted', { sessionId: 'a' }, 'dosing-course');
  step(
    'an integration session while c is booked',
    'IntegrationSessionCompleted',
    { mode: 'telehealth' },
    'dosing-course',
  );
  step('vitals for a session never booked', 'VitalsRecorded', vitals('nope'), 'unknown-session');
  step(
    'pre-dose vitals of the session booked during the last',
    'VitalsRecorded',
    vitals('c'),
    'dosing-session',
  );
  step(
    'aborting the session in progress',
    'DosingSessionAborted',
    { sessionId: 'c', reason: 'other' },
    'dosing-course',
  );
}

export function sessionsSection() {
  checkSessionsProse();
  return SESSIONS_PROSE;
}
