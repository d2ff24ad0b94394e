import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { decide, phaseOf, replay } from '../../src/episode/decide.js';
import { accepted } from './helpers.js';
import { alertsAt, doseOf, refusalAfter, refusalCode, startSession } from './model/v3-steps.js';

// Machine version 3: the clock and the safety gates before a dose.

describe('machine version 3, event by event', () => {
  describe('the clock', () => {
    it('refuses an event dated after it was recorded, or after the checking clock, beyond the tolerance', () => {
      const s = new Story().readyToDose();
      const state = accepted(s.events);
      const at = s.at(12.5);
      const event = { ...s.events[8]!, id: 'late-phq', at, v: 2, recordedBy: 'patient' } as Record<
        string,
        unknown
      >;
      // Recorded 4 minutes before it happened: within the 5-minute tolerance; 10 minutes: a future event.
      const fourBefore = new Date(Date.parse(at) - 4 * 60_000).toISOString();
      const tenBefore = new Date(Date.parse(at) - 10 * 60_000).toISOString();
      expect(decide(state, { ...event, recordedAt: fourBefore }).ok).toBe(true);
      expect(refusalCode(state, { ...event, recordedAt: tenBefore })).toBe('future-event');
      // The checking clock (the store's or the server's) likewise.
      expect(decide(state, { ...event, recordedAt: at }, { now: tenBefore })).toMatchObject({
        ok: false,
        refusal: { code: 'future-event' },
      });
      expect(decide(state, { ...event, recordedAt: at }, { now: at }).ok).toBe(true);
      // Scheduling fields may lie in the future.
      s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(400), mode: 'in-person' }, 120);
      expect(decide(state, s.last, { now: s.at(12.1) }).ok).toBe(true);
    });

    it('accepts a late entry that leaves the history valid, with a late-entry alert when a dose went ahead without it', () => {
      // A paper PHQ-9 from the day before the first dose (item 9 = 2), entered after the session.
      const s = new Story().readyToDose().dosingSession(14).integration(15);
      const paper = {
        ...s.events[8]!,
        id: 'paper-phq9',
        at: s.at(13),
        v: 2,
        recordedAt: s.at(15.1),
        recordedBy: 'therapist',
        responses: [2, 2, 2, 2, 1, 2, 1, 1, 2],
      };
      const d = decide(accepted(s.events), paper);
      expect(d.ok).toBe(true);
      if (!d.ok) return;
      // In clinical order, before the dose it would have held.
      const ids = d.state.context.history.map((e) => e.id);
      expect(ids.indexOf('paper-phq9')).toBeLessThan(
        ids.indexOf(s.events.find((e) => e.type === 'DoseAdministered')!.id),
      );
      expect(d.state.context.safetyFlags.map((f) => f.assessmentEventId)).toEqual(['paper-phq9']);
      const alerts = alertsAt(d.state, s.at(15.2));
      expect(alerts.filter((a) => a.code === 'late-entry').map((a) => a.severity)).toEqual(['urgent']);
      expect(alerts.map((a) => a.code)).toContain('safety-flag');
      // The next dose waits for the review; a review entered late (before a dose, recorded after it) does not
      // hide an earlier one.
      const r = new Story().readyToDose().day(12);
      r.add('AssessmentRecorded', { instrument: 'phq9', responses: [1, 1, 1, 1, 1, 1, 1, 1, 2] }, 120);
      const flag = r.last.id;
      const reviewed = { assessmentEventId: flag, rule: 'phq9-item9-positive' };
      r.add('SafetyFlagReviewed', { ...reviewed, outcome: 'no-current-risk' }, 180);
      r.dosingSession(14);
      r.add('SafetyFlagReviewed', {
        ...reviewed,
        outcome: 'safety-plan',
        v: 2,
        recordedBy: 'medical',
        recordedAt: r.at(20),
        at: r.at(13),
      });
      expect(replay(r.events).refusals).toEqual([]);
    });

    it('refuses a late entry that would invalidate a later event, naming it; a stop entered later does not hide one known', () => {
      const s = new Story().readyToDose().day(13);
      s.add('DosingSessionScheduled', { sessionId: 'a', scheduledFor: s.at(14), mode: 'in-person' });
      // A stop dated day 8, entered on day 14 (unknown when the session was booked): accepted.
      s.add('MedicalFollowUpCompleted', {
        continueTreatment: false,
        v: 2,
        recordedBy: 'medical',
        recordedAt: s.at(14),
        at: s.at(8),
      });
      expect(replay(s.events).refusals).toEqual([]);
      // A stop dated day 7.9 as a version 1 event (recorded when it happened): known when the session was booked.
      s.add('MedicalFollowUpCompleted', { continueTreatment: false, at: s.at(7.9) });
      const r = refusalAfter(s.events.slice(0, -1), s.last);
      expect(r?.code).toBe('out-of-order');
      expect(r?.invalidates).toMatchObject({ type: 'DosingSessionScheduled', code: 'treatment-stopped' });
    });
  });

  describe('safety gates before a dose', () => {
    it('holds a dose while a positive item 9 or a severe adverse event is unreviewed, until a clinician reviews it', () => {
      const s = startSession(new Story().readyToDose(), 14);
      s.add(
        'AdverseEventReported',
        { code: 'fall', severity: 'severe', sessionId: 'x', recordedBy: 'patient' },
        61,
      );
      const severe = s.last.id;
      s.add('AssessmentRecorded', { instrument: 'phq9', responses: [0, 0, 0, 0, 0, 0, 0, 0, 1] }, 62);
      const flagged = s.last.id;
      let state = accepted(s.events);
      const alerts = alertsAt(state, s.at(14.1));
      expect(alerts.filter((a) => a.code === 'adverse-event').map((a) => a.severity)).toEqual(['urgent']);
      s.add('DoseAdministered', doseOf('x'), 65);
      expect(refusalCode(state, s.events.pop())).toBe('safety-review-required');
      s.add(
        'AdverseEventReviewed',
        {
          adverseEventId: severe,
          outcome: 'no-current-risk',
          v: 2,
          recordedBy: 'medical',
          recordedAt: undefined,
        },
        63,
      );
      (s.last as Record<string, unknown>).recordedAt = s.last.at;
      s.add('AdverseEventReviewed', { adverseEventId: 'nope', outcome: 'escalated' }, 63);
      expect(refusalCode(accepted(s.events.slice(0, -1)), s.events.pop())).toBe('unknown-adverse-event');
      state = accepted(s.events);
      s.add('DoseAdministered', doseOf('x'), 65);
      expect(refusalCode(state, s.events.pop())).toBe('safety-review-required');
      s.add(
        'SafetyFlagReviewed',
        { assessmentEventId: flagged, rule: 'phq9-item9-positive', outcome: 'safety-plan' },
        64,
      );
      s.add('DoseAdministered', doseOf('x'), 65);
      state = accepted(s.events);
      expect(phaseOf(state)).toBe('dosing-session');
      expect(alertsAt(state, s.at(14.1)).map((a) => a.code)).not.toContain('adverse-event');
    });

    it('raises adverse-event alerts: urgent when severe, serious or suicidal ideation, a warning when moderate, none when mild', () => {
      const s = new Story().readyToDose();
      for (const [code, severity] of [
        ['nausea', 'mild'],
        ['anxiety', 'moderate'],
        ['suicidal-ideation', 'mild'],
        ['other', 'serious'],
      ])
        s.add('AdverseEventReported', { code, severity }, 90);
      const state = accepted(s.events);
      expect(
        alertsAt(state, s.at(12.2))
          .filter((a) => a.code === 'adverse-event')
          .map((a) => a.severity)
          .sort(),
      ).toEqual(['urgent', 'urgent', 'warning']);
    });
  });
});
