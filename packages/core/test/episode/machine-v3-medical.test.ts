import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { decide, phaseOf } from '../../src/episode/decide.js';
import { accepted } from './helpers.js';
import { alertsAt, refusalCode } from './model/v3-steps.js';

// Machine version 3: medical decisions, and what happens after the course ends.

describe('machine version 3, event by event', () => {
  describe('medical decisions bind', () => {
    it('refuses eligibility despite an absolute contraindication without the medical team’s override and a reason', () => {
      const s = new Story().day(0).add('EpisodeOpened').add('FitAssessed', { outcome: 'good-fit' }, 60);
      s.day(3).add('MedicalEvaluationScheduled', { scheduledFor: s.at(7), mode: 'telehealth' });
      const state = accepted(s.events);
      const evaluation = (extra: Record<string, unknown>) => {
        s.day(7).add('MedicalEvaluationCompleted', {
          eligible: true,
          contraindications: ['ketamine-allergy', 'pregnancy'],
          ...extra,
        });
        return s.events.pop();
      };
      // At the first evaluation too (it was accepted there without one).
      expect(refusalCode(state, evaluation({}))).toBe('contraindicated');
      expect(refusalCode(state, evaluation({ contraindicationOverride: { reason: 'ok' } }))).toBe(
        'contraindicated',
      );
      const d = decide(
        state,
        evaluation({ contraindicationOverride: { reason: 'skin test negative, cleared by the allergist' } }),
      );
      expect(d.ok && phaseOf(d.state)).toBe('planning');
      // A consideration alone (pregnancy) needs no override; not eligible needs none either.
      expect(decide(state, evaluation({ contraindications: ['pregnancy'] })).ok).toBe(true);
      expect(decide(state, evaluation({ eligible: false })).ok).toBe(true);
    });

    it('stops dosing, refills and new sessions when the medical team does not continue, until a lift', () => {
      const s = new Story().readyToDose().dosingSession(14).integration(15);
      s.day(16).add('MedicalFollowUpCompleted', { continueTreatment: false });
      const stopped = accepted(s.events);
      expect(alertsAt(stopped, s.at(16.1)).map((a) => a.code)).toContain('treatment-stopped');
      const attempt = (type: string, payload: Record<string, unknown>) => {
        s.add(type, payload, 60);
        return refusalCode(stopped, s.events.pop());
      };
      expect(attempt('RefillIssued', { dosesAuthorized: 2 })).toBe('treatment-stopped');
      expect(
        attempt('DosingSessionScheduled', { sessionId: 'y', scheduledFor: s.at(18), mode: 'in-person' }),
      ).toBe('treatment-stopped');
      // A new prescription (the follow-up counts for it) lifts the stop; so would an eligible re-evaluation.
      s.add(
        'PrescriptionIssued',
        {
          medication: 'ketamine',
          route: 'sublingual',
          formulation: 'sublingual-lozenge',
          doseMg: 300,
          dosesAuthorized: 2,
        },
        60,
      );
      expect(accepted(s.events).context.treatmentStopped).toBeNull();
      s.events.pop();
      s.add('MedicalEvaluationCompleted', { eligible: true }, 60);
      expect(accepted(s.events).context.treatmentStopped).toBeNull();
      // A re-evaluation that finds the patient not eligible stops treatment too.
      s.add(
        'MedicalEvaluationCompleted',
        { eligible: false, contraindications: ['uncontrolled-hypertension'] },
        90,
      );
      expect(accepted(s.events).context.treatmentStopped?.by).toBe('evaluation');
    });

    it('applies the follow-up gate to a new prescription after the first, as to a refill', () => {
      const s = new Story().readyToDose();
      s.add(
        'PrescriptionIssued',
        {
          medication: 'ketamine',
          route: 'oral',
          formulation: 'oral-solution',
          doseMg: 200,
          dosesAuthorized: 2,
        },
        90,
      );
      expect(refusalCode(accepted(s.events.slice(0, -1)), s.last)).toBe('refill-requires-follow-up');
    });

    it('needs a reason to complete a course short of its planned sessions', () => {
      const s = new Story().readyToDose().dosingSession(14).integration(16).day(20);
      const state = accepted(s.events);
      const complete = (reason?: string) => {
        s.add('EpisodeCompleted', reason === undefined ? {} : { reason });
        return refusalCode(state, s.events.pop());
      };
      expect(complete()).toBe('reason-required');
      expect(complete('done.')).toBe('reason-required');
      expect(complete('Remission after one session; agreed to stop.')).toBeNull();
    });
  });

  describe('after the course ends', () => {
    it('records adverse events and their reviews, keeping an unknown session flagged, and nothing else', () => {
      const s = new Story().readyToDose().dosingSession(14).integration(16);
      s.day(20).add('EpisodeCompleted', { reason: 'Remission after one session; agreed to stop.' });
      s.day(25).add('AdverseEventReported', {
        code: 'urinary-symptoms',
        severity: 'moderate',
        sessionId: 'not-a-session',
        recordedBy: 'patient',
      });
      const late = s.last.id;
      const state = accepted(s.events);
      expect(phaseOf(state)).toBe('completed');
      expect(state.context.adverseEvents.find((a) => a.eventId === late)).toMatchObject({
        unknownSession: true,
        sessionId: 'not-a-session',
      });
      const alert = alertsAt(state, s.at(25.1)).find((a) => a.code === 'adverse-event');
      expect(alert?.severity).toBe('warning');
      expect(alert?.message).toContain('not-a-session');
      s.add('AdverseEventReviewed', { adverseEventId: late, outcome: 'no-current-risk' }, 60);
      expect(
        accepted(s.events).context.adverseEvents.find((a) => a.eventId === late)?.reviewed,
      ).not.toBeNull();
      s.add('AssessmentRecorded', { instrument: 'gad7', responses: [1, 1, 1, 1, 1, 1, 1] }, 90);
      expect(refusalCode(accepted(s.events.slice(0, -1)), s.last)).toBe('episode-closed');
    });
  });
});
