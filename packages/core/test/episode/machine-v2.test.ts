import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { dosesOnHand } from '../../src/episode/context.js';
import { type EpisodeState, phaseOf } from '../../src/episode/decide.js';
import { accepted, fullDose } from './helpers.js';
import { BETWEEN_SESSIONS } from './model/probes.js';
import { refusalCode } from './model/v3-steps.js';

describe('machine version 2, event by event', () => {
  const vitals = { phase: 'pre', systolic: 120, diastolic: 80 };
  /** The refusal code of the event `type` appended to the story (then removed from it) at `minutes`. */
  function refusedAs(
    state: EpisodeState,
    s: Story,
    type: string,
    payload: Record<string, unknown>,
    minutes = 0,
  ) {
    s.add(type, payload, minutes);
    return refusalCode(state, s.events.pop());
  }
  const doseOf = (sessionId: string) => fullDose(sessionId);

  it('refuses completing a dosing session that had no dose as session-not-dosed', () => {
    const s = new Story().readyToDose().day(14);
    s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
    s.add('VitalsRecorded', { sessionId: 'x', phase: 'pre', systolic: 150, diastolic: 95 }, 5);
    const state = accepted(s.events);
    expect(phaseOf(state)).toBe('dosing-session');
    s.add('DosingSessionCompleted', { sessionId: 'x', durationMinutes: 30 }, 30);
    expect(refusalCode(state, s.last)).toBe('session-not-dosed');
    // The way out is an abort.
    s.events.pop();
    s.add('DosingSessionAborted', { sessionId: 'x', reason: 'vitals-hold' }, 30);
    expect(phaseOf(accepted(s.events))).toBe('preparation');
  });

  it('refuses completing a medical evaluation that was never scheduled as evaluation-not-scheduled', () => {
    const s = new Story().day(0).add('EpisodeOpened').add('FitAssessed', { outcome: 'good-fit' }, 60);
    const state = accepted(s.events);
    s.day(7).add('MedicalEvaluationCompleted', { eligible: true, contraindications: [] });
    expect(refusalCode(state, s.last)).toBe('evaluation-not-scheduled');
  });

  it('books two sessions ahead, prepares and integrates between them, and starts each with its pre-dose vitals', () => {
    const s = new Story().readyToDose().day(12);
    s.add('DosingSessionScheduled', { sessionId: 'a', scheduledFor: s.at(14), mode: 'in-person' }, 90);
    s.add(
      'DosingSessionScheduled',
      { sessionId: 'b', scheduledFor: s.at(21), mode: 'telehealth', chaperone: true },
      95,
    );
    s.add('PreparationSessionCompleted', { mode: 'telehealth', intentionsSet: true }, 120);
    let state = accepted(s.events);
    expect(state.value).toEqual(BETWEEN_SESSIONS);
    expect(phaseOf(state)).toBe('preparation');
    expect(state.context.currentSessionId).toBeNull();
    expect(state.context.sessions.map((x) => [x.sessionId, x.status])).toEqual([
      ['a', 'scheduled'],
      ['b', 'scheduled'],
    ]);
    // Booking the same id again is refused.
    s.add('DosingSessionScheduled', { sessionId: 'a', scheduledFor: s.at(15), mode: 'in-person' }, 130);
    expect(refusalCode(state, s.last)).toBe('duplicate-session');
    s.events.pop();

    s.day(14).add('VitalsRecorded', { sessionId: 'a', phase: 'pre', systolic: 120, diastolic: 80 });
    state = accepted(s.events);
    expect(phaseOf(state)).toBe('dosing-session');
    expect(state.context.currentSessionId).toBe('a');
    // While a is in progress, b cannot be started, nor cancelled.
    expect(refusedAs(state, s, 'VitalsRecorded', { sessionId: 'b', ...vitals }, 1)).toBe(
      'session-in-progress',
    );
    expect(refusedAs(state, s, 'DosingSessionAborted', { sessionId: 'b', reason: 'other' }, 1)).toBe(
      'session-in-progress',
    );
    s.add('DoseAdministered', doseOf('a'), 5);
    s.add('VitalsRecorded', { sessionId: 'a', phase: 'post', systolic: 125, diastolic: 80 }, 120);
    s.add('DosingSessionCompleted', { sessionId: 'a' }, 125);
    state = accepted(s.events);
    expect(phaseOf(state)).toBe('dosing-course');
    // a has ended: its events now say that no session is in progress; a never-booked session is unknown.
    expect(refusedAs(state, s, 'VitalsRecorded', { sessionId: 'a', ...vitals }, 130)).toBe(
      'no-session-in-progress',
    );
    expect(refusedAs(state, s, 'VitalsRecorded', { sessionId: 'nope', ...vitals }, 130)).toBe(
      'unknown-session',
    );
    s.day(16).add('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'a' });
    s.day(21).add('VitalsRecorded', { sessionId: 'b', phase: 'pre', systolic: 118, diastolic: 76 });
    state = accepted(s.events);
    expect(phaseOf(state)).toBe('dosing-session');
    expect(state.context.currentSessionId).toBe('b');
  });

  it('starts a booked session with its dose when the policy does not ask for pre-dose vitals', () => {
    const s = new Story().readyToDose();
    s.events[0] = { ...s.events[0]!, policy: { requirePreDoseVitals: false } } as (typeof s.events)[0];
    s.day(14).add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
    s.add('DoseAdministered', { ...doseOf('x'), kind: 'half', doseMg: 150 }, 5);
    const state = accepted(s.events);
    expect(state.value).toEqual({ open: { treatment: { dosingSession: 'dosed' } } });
    expect(state.context.currentSessionId).toBe('x');
    // A half dose uses half a unit of supply by default.
    expect(dosesOnHand(state.context)).toBe(1.5);
  });

  it('cancels a booked session that never started, and refuses anything more for it', () => {
    const s = new Story().readyToDose().day(13);
    s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
    s.add('DosingSessionAborted', { sessionId: 'x', reason: 'patient-declined' }, 30);
    const state = accepted(s.events);
    expect(state.value).toEqual(BETWEEN_SESSIONS);
    expect(state.context.currentSessionId).toBeNull();
    expect(state.context.sessions[0]).toMatchObject({ status: 'aborted', abortReason: 'patient-declined' });
    s.day(14).add('VitalsRecorded', { sessionId: 'x', phase: 'pre', systolic: 120, diastolic: 80 });
    expect(refusalCode(state, s.last)).toBe('no-session-in-progress');
  });

  it('records adverse events before treatment and while paused, and medical follow-up while paused in treatment', () => {
    const s = new Story().day(0).add('EpisodeOpened');
    s.add('AdverseEventReported', { code: 'anxiety', severity: 'mild' }, 30);
    s.add('EpisodePaused', { reason: 'medical' }, 40);
    s.add('AdverseEventReported', { code: 'headache', severity: 'mild' }, 50);
    let state = accepted(s.events);
    expect(phaseOf(state)).toBe('paused');
    // Not found eligible: no follow-up while paused.
    s.add('MedicalFollowUpCompleted', { continueTreatment: true }, 60);
    expect(refusalCode(state, s.last)).toBe('episode-paused');

    const t = new Story().readyToDose().dosingSession(14).integration(16);
    t.day(17).add('EpisodePaused', { reason: 'financial' });
    t.day(18).add('AdverseEventReported', { code: 'nausea', severity: 'mild', sessionId: t.session(1) });
    t.day(20).add('MedicalFollowUpCompleted', { continueTreatment: true });
    t.add('RefillIssued', { dosesAuthorized: 2 }, 10).add('MedicationDelivered', { doses: 2 }, 20);
    state = accepted(t.events);
    expect(phaseOf(state)).toBe('paused');
    expect(state.context.dosesDelivered).toBe(4);
    t.add('DosingSessionScheduled', { sessionId: 'y', scheduledFor: t.at(21), mode: 'in-person' }, 30);
    expect(refusalCode(state, t.last)).toBe('episode-paused');
  });
});
