import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { decide, phaseOf } from '../../src/episode/decide.js';
import { accepted } from './helpers.js';
import { alertsAt, doseOf, refusalAfter, refusalCode } from './model/v3-steps.js';

// Machine version 3: roles, schema version 1 and voids (the steps: ./model/v3-steps.ts).

describe('machine version 3, event by event', () => {
  describe('roles (permission table) and schema version 1', () => {
    it('attributes a version 1 event without a role to its primary role, and refuses a role the table does not list', () => {
      const s = new Story().readyToDose();
      const state = accepted(s.events);
      expect(state.context.history.map((e) => [e.type, e.recordedBy, e.recordedAt === e.at])).toContainEqual([
        'PrescriptionIssued',
        'medical',
        true,
      ]);
      // The patient records their own assessments; a chaperone does not, nor does anyone prescribe but the
      // medical team.
      s.add(
        'AssessmentRecorded',
        { instrument: 'gad7', responses: [1, 1, 1, 1, 1, 1, 1], recordedBy: 'patient' },
        90,
      );
      expect(decide(state, s.last).ok).toBe(true);
      s.events.pop();
      s.add(
        'AssessmentRecorded',
        { instrument: 'gad7', responses: [1, 1, 1, 1, 1, 1, 1], recordedBy: 'chaperone' },
        90,
      );
      expect(refusalCode(state, s.last)).toBe('not-permitted');
      s.events.pop();
      s.add('RefillIssued', { dosesAuthorized: 2, recordedBy: 'therapist' }, 90);
      expect(refusalCode(state, s.last)).toBe('not-permitted');
    });

    it('lets clinicians only review a safety flag, and the medical team only override a vitals hold, with a reason', () => {
      const s = new Story().readyToDose();
      s.add('AssessmentRecorded', { instrument: 'phq9', responses: [1, 1, 1, 1, 1, 1, 1, 1, 1] }, 90);
      const flagged = s.last.id;
      const review = (recordedBy: string) => ({
        ...s.last,
        id: `review-by-${recordedBy}`,
        type: 'SafetyFlagReviewed',
        assessmentEventId: flagged,
        rule: 'phq9-item9-positive',
        outcome: 'no-current-risk',
        recordedBy,
        instrument: undefined,
        responses: undefined,
      });
      expect(refusalAfter(s.events, review('patient'))?.code).toBe('not-permitted');
      expect(decide(accepted(s.events), review('therapist')).ok).toBe(true);

      const t = new Story().readyToDose().day(14);
      t.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: t.at(14), mode: 'in-person' });
      // Held on heart rate alone (> 120/min).
      t.add(
        'VitalsRecorded',
        { sessionId: 'x', phase: 'pre', systolic: 118, diastolic: 76, heartRate: 128 },
        60,
      );
      const held = accepted(t.events);
      expect(alertsAt(held, t.at(14.05)).map((a) => [a.code, a.severity])).toContainEqual([
        'vitals-hold',
        'urgent',
      ]);
      const override = (clinicianRole: string, reason: string) => {
        t.add('DoseAdministered', doseOf('x', { vitalsOverride: { clinicianRole, reason } }), 70);
        return refusalCode(held, t.events.pop());
      };
      expect(override('therapist', 'pulse settled to 96 on a repeat reading')).toBe('not-permitted');
      expect(override('medical', 'ok.')).toBe('reason-required');
      expect(override('medical', 'pulse settled to 96 on a repeat reading')).toBeNull();
      t.add('DoseAdministered', doseOf('x'), 70);
      expect(refusalCode(held, t.last)).toBe('vitals-hold');
    });
  });

  describe('voids (entered in error)', () => {
    /** A void of `voidedEventId` by the medical team, `minutes` after the current day of the story. */
    const voiding = (s: Story, voidedEventId: string, minutes = 5): Record<string, unknown> => {
      s.add(
        'EventVoided',
        {
          voidedEventId,
          reason: 'entered in error (wrong chart)',
          v: 2,
          recordedBy: 'medical',
          recordedAt: undefined,
        },
        minutes,
      );
      const last = s.events.pop() as Record<string, unknown>;
      return { ...last, recordedAt: last.at };
    };

    it('rebuilds the episode without the voided event, which stays voided; a void that would invalidate a later event is refused', () => {
      const s = new Story().readyToDose().dosingSession(14);
      const state = accepted(s.events);
      const dose = s.events.find((e) => e.type === 'DoseAdministered')!.id;
      const completed = s.last.id;
      // Voiding the dose would leave post-dose vitals before any dose.
      const r = decide(state, voiding(s, dose));
      expect(r).toMatchObject({
        ok: false,
        refusal: {
          code: 'void-would-invalidate',
          invalidates: { type: 'VitalsRecorded', code: 'vitals-before-dose' },
        },
      });
      // Voiding the last event: the session is in progress again.
      const v = voiding(s, completed);
      const d = decide(state, v);
      expect(d.ok).toBe(true);
      if (!d.ok) return;
      expect(phaseOf(d.state)).toBe('dosing-session');
      expect(d.state.context.voidedEventIds).toEqual([completed]);
      expect(d.state.context.history.map((e) => e.id)).not.toContain(completed);
      // Neither again, nor the void itself, nor the opening, nor an id never seen.
      const next = (voidedEventId: string, id: string) => ({ ...voiding(s, voidedEventId, 10), id });
      expect(refusalCode(d.state, next(completed, 'again'))).toBe('unknown-event');
      expect(refusalCode(d.state, next(v.id as string, 'of-void'))).toBe('cannot-void');
      expect(refusalCode(d.state, next(s.events[0]!.id, 'of-opening'))).toBe('cannot-void');
      expect(refusalCode(d.state, next('no-such-event', 'of-nothing'))).toBe('unknown-event');
      // The id stays taken.
      expect(refusalCode(d.state, { ...s.events[s.events.length - 1]!, at: s.at(14.5) })).toBe(
        'duplicate-event-id',
      );
      // Clinicians only.
      expect(refusalCode(state, { ...voiding(s, completed), recordedBy: 'patient' })).toBe('not-permitted');
    });

    it('reopens a closed episode when its closing event is voided', () => {
      const s = new Story().readyToDose().dosingSession(14).integration(16);
      s.day(20).add('EpisodeCompleted', { reason: 'Remission after one session; agreed to stop.' });
      const d = decide(accepted(s.events), voiding(s, s.last.id));
      expect(d.ok && phaseOf(d.state)).toBe('dosing-course');
    });
  });
});
