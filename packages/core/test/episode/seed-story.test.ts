import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import {
  decide,
  initialEpisodeState,
  persistEpisode,
  phaseOf,
  restoreEpisode,
} from '../../src/episode/decide.js';
import { statusAt } from '../../src/episode/status.js';
import { accepted, fullDose, refusalOf } from './helpers.js';

/** A full dose in the booked session "x". */
const fullDoseInX = fullDose('x');

/** The code of the refusal of a full dose in session "x" after the story so far (the dose is added to it). */
function refusedDose(s: Story): string | undefined {
  const events = [...s.events];
  s.add('DoseAdministered', fullDoseInX);
  return refusalOf(events, s.last)?.code;
}

describe('a KAP episode as the seed describes it', () => {
  it('starts with the fit discussion, then the medical evaluation', () => {
    const s = new Story().day(0).add('EpisodeOpened');
    expect(phaseOf(accepted(s.events))).toBe('fit-discussion');
    s.add('FitAssessed', { outcome: 'good-fit' });
    expect(phaseOf(accepted(s.events))).toBe('medical-evaluation');
  });

  it('moves to planning once the medical team finds the patient eligible, and to preparation once prescribed', () => {
    const s = new Story().readyToDose();
    const upToEligible = s.events.slice(0, 4);
    expect(phaseOf(accepted(upToEligible))).toBe('planning');
    expect(phaseOf(accepted(s.events))).toBe('preparation');
  });

  it('records the first dosing session and opens its 14-day critical period', () => {
    const s = new Story().readyToDose().dosingSession(14);
    const state = accepted(s.events);
    expect(phaseOf(state)).toBe('dosing-course');
    const status = statusAt(state, s.at(15));
    expect(status.dosesGiven).toBe(1);
    expect(status.dosesOnHand).toBe(1);
    expect(status.criticalPeriods.open.map((w) => w.doseNumber)).toEqual([1]);
    // First dose 2026-03-16T11:05-05:00 + 14 days: the last in-time moment is 2026-03-30T11:04:59.999.
    expect(status.criticalPeriods.nextDoseLatestDay).toBe('2026-03-30');
  });

  it('runs a course of integration, dosing, follow-up and refill with overlapping critical periods', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16).dosingSession(21).integration(23);
    s.day(30).add('MedicalFollowUpCompleted', { continueTreatment: true });
    s.add('RefillIssued', { dosesAuthorized: 4 }).add('MedicationDelivered', { doses: 4 });
    s.dosingSession(28 + 3)
      .integration(33)
      .dosingSession(38)
      .integration(40);
    const state = accepted(s.events);
    const status = statusAt(state, s.at(41));
    expect(status.dosesGiven).toBe(4);
    expect(status.dosesOnHand).toBe(2);
    expect(status.criticalPeriods.analysis.chains.map((c) => c.doses)).toEqual([[1, 2, 3, 4]]);
    expect(status.followUp?.overdue).toBe(false);
  });

  it('completes the episode (short of the plan, with a reason) and accepts nothing afterwards', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(20).add('EpisodeCompleted', {
      reason: 'Remission after one session; patient and team agreed to stop.',
    });
    const state = accepted(s.events);
    expect(phaseOf(state)).toBe('completed');
    const late = new Story().day(21);
    late.add('IntegrationSessionCompleted', { mode: 'telehealth' });
    const d = decide(state, { ...late.last, id: 'late-1' });
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.refusal.code).toBe('episode-closed');
  });
});

describe('booking, pausing and safety reporting', () => {
  it('books the next dosing session ahead while integration continues, and starts it with pre-dose vitals', () => {
    const s = new Story().readyToDose().dosingSession(14);
    s.day(15).add('DosingSessionScheduled', {
      sessionId: 'next',
      scheduledFor: s.at(22),
      mode: 'telehealth',
      chaperone: true,
    });
    s.day(16).add('IntegrationSessionCompleted', { mode: 'telehealth' });
    const booked = accepted(s.events);
    expect(phaseOf(booked)).toBe('dosing-course');
    s.day(22).add('VitalsRecorded', { sessionId: 'next', phase: 'pre', systolic: 118, diastolic: 76 });
    expect(phaseOf(accepted(s.events))).toBe('dosing-session');
  });

  it('cancels a booked session that never started', () => {
    const s = new Story().readyToDose();
    s.day(13).add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
    s.add('DosingSessionAborted', { sessionId: 'x', reason: 'patient-declined' }, 30);
    const state = accepted(s.events);
    expect(phaseOf(state)).toBe('preparation');
    expect(state.context.sessions[0]?.status).toBe('aborted');
  });

  it('records an adverse event, a follow-up and a refill while the episode is paused', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(17).add('EpisodePaused', { reason: 'medical' });
    s.day(18).add('AdverseEventReported', { code: 'urinary-symptoms', severity: 'moderate' });
    s.day(20).add('MedicalFollowUpCompleted', { continueTreatment: true });
    s.add('RefillIssued', { dosesAuthorized: 2 }, 10);
    const state = accepted(s.events);
    expect(phaseOf(state)).toBe('paused');
    expect(state.context.adverseEvents.map((a) => a.code)).toEqual(['urinary-symptoms']);
    expect(state.context.dosesAuthorized).toBe(4);
  });

  it('uses half a unit of supply for a booster unless told otherwise', () => {
    const s = new Story().readyToDose().day(14);
    s.add('DosingSessionScheduled', { sessionId: 'b', scheduledFor: s.at(14), mode: 'in-person' });
    s.add('VitalsRecorded', { sessionId: 'b', phase: 'pre', systolic: 120, diastolic: 80 }, 1);
    const dose = { sessionId: 'b', doseMg: 300, route: 'sublingual', formulation: 'sublingual-lozenge' };
    s.add('DoseAdministered', { ...dose, kind: 'full' }, 5);
    s.add('DoseAdministered', { ...dose, kind: 'booster', doseMg: 150 }, 40);
    const status = statusAt(accepted(s.events), s.at(14.1));
    expect(status.dosesOnHand).toBe(0.5);
    expect(status.alerts.map((a) => a.code)).toContain('low-medication');
  });
});

describe('refusals name their reason', () => {
  it('refuses a dose before the patient was found eligible', () => {
    const s = new Story().day(0).add('EpisodeOpened').add('FitAssessed', { outcome: 'good-fit' });
    const next = new Story()
      .day(1)
      .add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(2), mode: 'in-person' });
    const r = refusalOf(s.events, { ...next.last, id: 'n1' });
    expect(r?.code).toBe('not-eligible');
    expect(r?.message).toMatch(/not found the patient eligible/);
  });

  it('refuses a dose without pre-dose vitals', () => {
    const s = new Story().readyToDose().day(14);
    s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
    expect(refusedDose(s)).toBe('pre-dose-vitals-required');
  });

  it('refuses a dose with pre-dose BP 150/95 and no override, and accepts it with a recorded override', () => {
    const s = new Story().readyToDose().day(14);
    s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
    s.add('VitalsRecorded', { sessionId: 'x', phase: 'pre', systolic: 150, diastolic: 95 });
    const events = [...s.events];
    const dose = fullDoseInX;
    s.add('DoseAdministered', dose, 10);
    const r = refusalOf(events, s.last);
    expect(r?.code).toBe('vitals-hold');
    expect(r?.message).toContain('150/95');
    expect(statusAt(accepted(events), s.at(14)).vitalsHold).toBe(true);
    s.add(
      'DoseAdministered',
      {
        ...dose,
        vitalsOverride: { clinicianRole: 'medical', reason: 'white-coat pattern, repeat 138/88 by phone' },
      },
      11,
    );
    expect(decide(accepted(events), s.last).ok).toBe(true);
  });

  it('refuses a dose when no medication is on hand', () => {
    const s = new Story()
      .readyToDose()
      .dosingSession(14)
      .integration(16)
      .dosingSession(21)
      .integration(23)
      .day(28);
    s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(28), mode: 'in-person' });
    s.add('VitalsRecorded', { sessionId: 'x', phase: 'pre', systolic: 120, diastolic: 80 });
    expect(refusedDose(s)).toBe('no-medication-on-hand');
  });

  it('refuses a second dose without an integration session in between', () => {
    const s = new Story().readyToDose().dosingSession(14).day(21);
    s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(21), mode: 'in-person' });
    s.add('VitalsRecorded', { sessionId: 'x', phase: 'pre', systolic: 120, diastolic: 80 });
    expect(refusedDose(s)).toBe('integration-required');
  });

  it('refuses a late entry that would invalidate a later event, naming that event', () => {
    const s = new Story().readyToDose();
    // Paused on day 8, but the patient was trained on day 10, which a paused episode does not accept.
    const early = { ...s.events[1]!, id: 'early', type: 'EpisodePaused', reason: 'scheduling', at: s.at(8) };
    const r = refusalOf(s.events, early);
    expect(r?.code).toBe('out-of-order');
    expect(r?.invalidates?.type).toBe('SelfAdministrationTrained');
    expect(r?.invalidates?.code).toBe('episode-paused');
    expect(r?.message).toContain(r!.invalidates!.eventId);
  });

  it('refuses a duplicate event id, an event for another episode, and a malformed event', () => {
    const s = new Story().readyToDose();
    expect(refusalOf(s.events, { ...s.last, at: s.at(20) })?.code).toBe('duplicate-event-id');
    expect(refusalOf(s.events, { ...s.last, id: 'z', episodeId: 'other', at: s.at(20) })?.code).toBe(
      'wrong-episode',
    );
    const bad = refusalOf(s.events, { ...s.last, id: 'z2', at: '2026-03-20 10:00' });
    expect(bad?.code).toBe('invalid-event');
    expect(bad?.issues?.[0]?.path).toEqual(['at']);
  });

  it('refuses an invalid assessment but still reports its positive item 9', () => {
    const s = new Story().readyToDose();
    const next = {
      ...s.last,
      id: 'a9',
      at: s.at(20),
      type: 'AssessmentRecorded',
      instrument: 'phq9',
      responses: [0, 0, 0, 7, 0, 0, 0, 0, 2],
    };
    const r = refusalOf(s.events, next);
    expect(r?.code).toBe('invalid-assessment');
    expect(r?.message).toContain('SAFETY: phq9-item9-positive');
    expect(r?.safetyFlags?.[0]).toMatchObject({ kind: 'positive', value: 2 });
  });

  it('never ignores an event silently: an event the phase does not handle is refused', () => {
    const s = new Story().day(0).add('EpisodeOpened');
    const next = { ...s.last, id: 'r', type: 'EpisodeResumed' };
    expect(refusalOf(s.events, next)?.code).toBe('not-paused');
  });
});

describe('safety flags and time-based status', () => {
  it('flags a positive PHQ-9 item 9 in the episode status until it is reviewed', () => {
    const s = new Story().readyToDose().day(13);
    s.add('AssessmentRecorded', { instrument: 'phq9', responses: [1, 1, 1, 1, 1, 1, 1, 1, 2] });
    const flagged = statusAt(accepted(s.events), s.at(13.5));
    expect(flagged.unreviewedSafetyFlags).toHaveLength(1);
    expect(flagged.alerts.find((a) => a.code === 'safety-flag')?.severity).toBe('urgent');
    s.add(
      'SafetyFlagReviewed',
      { assessmentEventId: s.last.id, rule: 'phq9-item9-positive', outcome: 'safety-plan' },
      30,
    );
    const reviewed = statusAt(accepted(s.events), s.at(14));
    expect(reviewed.unreviewedSafetyFlags).toEqual([]);
    expect(reviewed.safetyFlags[0]?.reviewed?.outcome).toBe('safety-plan');
  });

  it('reports the medical follow-up overdue 90 days after the first dose', () => {
    const s = new Story().readyToDose().dosingSession(14);
    const state = accepted(s.events);
    expect(statusAt(state, s.at(14 + 89)).followUp?.overdue).toBe(false);
    const late = statusAt(state, s.at(14 + 91));
    expect(late.followUp?.overdue).toBe(true);
    expect(late.alerts.map((a) => a.code)).toContain('follow-up-overdue');
  });

  it('warns when the critical-period chain is about to break', () => {
    const s = new Story().readyToDose().dosingSession(14);
    const state = accepted(s.events);
    expect(statusAt(state, s.at(20)).alerts.map((a) => a.code)).not.toContain('critical-period-chain-ending');
    expect(statusAt(state, s.at(26)).alerts.map((a) => a.code)).toContain('critical-period-chain-ending');
    expect(statusAt(state, s.at(29)).alerts.map((a) => a.code)).toContain('critical-period-chain-broken');
  });
});

describe('persistence', () => {
  it('restores a persisted episode equal to the replayed one, paused history included', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(17).add('EpisodePaused', { reason: 'patient-request' });
    const state = accepted(s.events);
    const restored = restoreEpisode(JSON.parse(JSON.stringify(persistEpisode(state))));
    expect(restored.value).toEqual(state.value);
    expect(restored.context).toEqual(state.context);
    s.day(30).add('EpisodeResumed');
    const resumed = decide(restored, s.last);
    expect(resumed.ok && phaseOf(resumed.state)).toBe('dosing-course');
  });

  it('starts from the empty state', () => {
    expect(phaseOf(initialEpisodeState)).toBe('not-opened');
  });
});
