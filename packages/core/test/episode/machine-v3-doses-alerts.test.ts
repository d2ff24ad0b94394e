import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { dosesOnHand } from '../../src/episode/context.js';
import { replay } from '../../src/episode/decide.js';
import { statusAt } from '../../src/episode/status.js';
import { accepted } from './helpers.js';
import { alertsAt, doseOf, PRE, refusalCode, startSession } from './model/v3-steps.js';

// Machine version 3: dose reconciliation and sessions, and the alerts of the status.

describe('machine version 3, event by event', () => {
  describe('dose reconciliation and sessions', () => {
    it('matches each dose with the active prescription; units follow from the mg; one booster of at most half', () => {
      const s = startSession(new Story().readyToDose(), 14);
      let state = accepted(s.events);
      const dose = (extra: Record<string, unknown>) => {
        s.add('DoseAdministered', doseOf('x', extra), 100);
        return refusalCode(state, s.events.pop());
      };
      expect(dose({ route: 'intravenous', formulation: 'infusion' })).toBe('dose-mismatch');
      expect(dose({ formulation: 'rapidly-dissolving-tablet' })).toBe('dose-mismatch');
      expect(dose({ doseMg: 1500 })).toBe('dose-mismatch');
      expect(dose({ kind: 'half' })).toBe('dose-mismatch');
      expect(dose({ unitsUsed: 2 })).toBe('dose-mismatch');
      expect(dose({ unitsUsed: 1 })).toBeNull();
      s.add('DoseAdministered', doseOf('x', { kind: 'half', doseMg: 150 }), 65);
      state = accepted(s.events);
      expect(dose({ kind: 'booster', doseMg: 200 })).toBe('dose-mismatch');
      s.add('DoseAdministered', doseOf('x', { kind: 'booster', doseMg: 100 }), 90);
      state = accepted(s.events);
      // 150 mg + 100 mg of a 300 mg prescription: 0.5 + 1/3 unit.
      expect(dosesOnHand(state.context)).toBeCloseTo(2 - 0.5 - 1 / 3, 10);
      expect(dose({ kind: 'booster', doseMg: 50 })).toBe('dose-mismatch');
    });

    it('keeps dosing sessions 24 h apart, in the order the doses were given (not the order of booking)', () => {
      const s = new Story().readyToDose().day(12);
      for (const id of ['a', 'b', 'c'])
        s.add('DosingSessionScheduled', { sessionId: id, scheduledFor: s.at(14), mode: 'in-person' });
      const half = (id: string) => doseOf(id, { kind: 'half', doseMg: 150 });
      const session = (id: string, d: number) =>
        s
          .day(d)
          .add('VitalsRecorded', { sessionId: id, ...PRE })
          .add('DoseAdministered', half(id), 5)
          .add('VitalsRecorded', { sessionId: id, phase: 'post', systolic: 120, diastolic: 80 }, 10)
          .add(
            'DosingSessionCompleted',
            { sessionId: id, reason: 'patient alert and stable, ride home arrived' },
            15,
          )
          .add('IntegrationSessionCompleted', { mode: 'telehealth' }, 20);
      // c, booked last, is dosed first; then a two days later; then b the same day as a.
      session('c', 14);
      session('a', 16);
      s.add('VitalsRecorded', { sessionId: 'b', ...PRE }, 30).add('DoseAdministered', half('b'), 35);
      const r = replay(s.events);
      expect(r.refusals.map((x) => x.code)).toEqual(['dosing-too-soon']);
      // The follow-up falls due a quarter after the first dose (c's), whatever the booking order.
      expect(statusAt(r.state, s.at(17)).followUp?.dueAt.slice(0, 10)).toBe(s.at(14 + 90).slice(0, 10));
    });

    it('needs a reason to end a session before the observation time, or with blood pressure still above the hold', () => {
      const s = startSession(new Story().readyToDose(), 14);
      s.add('DoseAdministered', doseOf('x'), 65);
      s.add('VitalsRecorded', { sessionId: 'x', phase: 'post', systolic: 126, diastolic: 80 }, 90);
      let state = accepted(s.events);
      const complete = (minutes: number, reason?: string) => {
        s.add('DosingSessionCompleted', { sessionId: 'x', ...(reason ? { reason } : {}) }, minutes);
        return refusalCode(state, s.events.pop());
      };
      // 30 minutes after the dose: before the 120-minute observation time.
      expect(complete(95)).toBe('reason-required');
      expect(complete(95, 'fine')).toBe('reason-required');
      expect(complete(95, 'ride home arrived, patient alert and stable')).toBeNull();
      expect(complete(190)).toBeNull();
      s.add('VitalsRecorded', { sessionId: 'x', phase: 'post', systolic: 152, diastolic: 96 }, 180);
      state = accepted(s.events);
      expect(complete(190)).toBe('reason-required');
    });

    it('needs a chaperone for a remote dosing session', () => {
      const s = new Story().readyToDose().day(13);
      const state = accepted(s.events);
      const book = (extra: Record<string, unknown>) => {
        s.add('DosingSessionScheduled', {
          sessionId: 'r',
          scheduledFor: s.at(14),
          mode: 'telehealth',
          ...extra,
        });
        return refusalCode(state, s.events.pop());
      };
      expect(book({})).toBe('chaperone-required');
      expect(book({ chaperone: false })).toBe('chaperone-required');
      expect(book({ chaperone: true })).toBeNull();
    });
  });

  describe('alerts of the status', () => {
    /** Four dosing sessions two days apart with integration and resupply in between, then a PHQ-9. */
    const fourDoses = (phq9: number[]) => {
      const s = new Story().readyToDose().dosingSession(14).integration(15);
      s.add('MedicalFollowUpCompleted', { continueTreatment: true }, 60)
        .add('RefillIssued', { dosesAuthorized: 2 }, 70)
        .add('MedicationDelivered', { doses: 2 }, 80);
      s.dosingSession(17).integration(18).dosingSession(20).integration(21);
      s.add('MedicalFollowUpCompleted', { continueTreatment: true }, 60)
        .add('RefillIssued', { dosesAuthorized: 2 }, 70)
        .add('MedicationDelivered', { doses: 2 }, 80);
      const three = accepted(s.events);
      s.dosingSession(23).day(24).add('AssessmentRecorded', { instrument: 'phq9', responses: phq9 });
      return { s, three, four: accepted(s.events) };
    };

    it('says a patient is not on track: no response by the fourth dose, reliable deterioration, the most severe band', () => {
      // Baseline PHQ-9 13; 20 after four doses: no response, 7 points worse (reliable change: 6), severe band.
      const { s, three, four } = fourDoses([3, 3, 3, 3, 3, 3, 2, 0, 0]);
      const codes = alertsAt(four, s.at(24.1)).map((a) => a.code);
      expect(codes).toEqual(
        expect.arrayContaining(['no-response', 'reliable-deterioration', 'severe-symptoms']),
      );
      // Three doses: too early to say there is no response.
      expect(alertsAt(three, s.at(22)).map((a) => a.code)).not.toContain('no-response');
      // PHQ-9 6 after four doses: a response (≤ 50 % of 13), nothing to say.
      const better = fourDoses([1, 1, 1, 1, 1, 1, 0, 0, 0]);
      const calm = alertsAt(better.four, better.s.at(24.1)).map((a) => a.code);
      for (const code of ['no-response', 'reliable-deterioration', 'severe-symptoms'])
        expect(calm).not.toContain(code);
    });

    it('raises vitals-alert for a reading beyond the alert thresholds in the latest session', () => {
      const s = startSession(new Story().readyToDose(), 14);
      s.add('DoseAdministered', doseOf('x'), 65);
      s.add(
        'VitalsRecorded',
        { sessionId: 'x', phase: 'during', systolic: 210, diastolic: 125, spo2: 88 },
        105,
      );
      const alerts = alertsAt(accepted(s.events), s.at(14.1)).filter((a) => a.code === 'vitals-alert');
      expect(alerts.map((a) => a.severity)).toEqual(['urgent']);
      expect(alerts[0]?.message).toMatch(/systolic BP, diastolic BP, SpO₂/);
    });

    it('keeps the follow-up-overdue alert while the episode is paused', () => {
      const s = new Story().readyToDose().dosingSession(14).integration(16);
      s.day(20).add('EpisodePaused', { reason: 'financial' });
      const state = accepted(s.events);
      const status = statusAt(state, s.at(120));
      expect(status.phase).toBe('paused');
      expect(status.alerts.map((a) => a.code)).toContain('follow-up-overdue');
    });
  });
});
