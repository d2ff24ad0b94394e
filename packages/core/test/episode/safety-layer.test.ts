import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/episode/decide.js';
import type { Refusal } from '../../src/episode/rules.js';
import { statusAt } from '../../src/episode/status.js';
import { accepted, fullDose, refusalOf } from './helpers.js';

/*
 * The clinical safety layer (machine version 3), case by case: each `describe` is one of the cases a new user
 * reported against machine version 2, and states what the episode model does now.
 */

const PHQ9_ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 3];
const dose = fullDose;

/** Ready to dose, a booked in-person session `x` on day 14 with normal pre-dose vitals. */
function atPreDose(pre: Record<string, unknown> = { systolic: 122, diastolic: 78 }) {
  const s = new Story().readyToDose().day(14);
  s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
  s.add('VitalsRecorded', { sessionId: 'x', phase: 'pre', ...pre }, 5);
  return s;
}

describe('no safety signal is lost on any refusal', () => {
  const flagged = (r: Refusal) => {
    expect(r.safetyFlags?.some((f) => f.rule === 'phq9-item9-positive' && f.value === 3)).toBe(true);
    expect(r.message).toContain('SAFETY: phq9-item9-positive (item 9 = 3)');
  };

  it('keeps the item-9 flag of a PHQ-9 refused as out-of-order', () => {
    // Known before the dose (recordedAt = at) and dated before it: the dose would not have gone ahead.
    const s = new Story().readyToDose().dosingSession(14);
    const late = {
      ...s.last,
      id: 'late',
      type: 'AssessmentRecorded',
      instrument: 'phq9',
      responses: PHQ9_ITEM9,
      at: s.at(13.9),
    };
    const r = refusalOf(s.events, late);
    expect(r.code).toBe('out-of-order');
    flagged(r);
  });

  it('keeps it when the event is dated before the episode was opened', () => {
    const s = new Story().readyToDose();
    const early = {
      ...s.last,
      id: 'early',
      type: 'AssessmentRecorded',
      instrument: 'phq9',
      responses: PHQ9_ITEM9,
    };
    const r = refusalOf(s.events, { ...early, at: '2026-02-01T09:00:00-05:00' });
    expect(r.code).toBe('episode-not-opened');
    flagged(r);
  });

  it('keeps it when the episode is closed, not opened, or for another patient', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(20).add('EpisodeDiscontinued', { reason: 'patient-choice' });
    const a = { ...s.last, id: 'a', type: 'AssessmentRecorded', instrument: 'PHQ-9', responses: PHQ9_ITEM9 };
    const closed = refusalOf(s.events, { ...a, at: s.at(21) });
    expect(closed.code).toBe('episode-closed');
    flagged(closed);
    const notOpened = refusalOf([], { ...a, at: s.at(21) });
    expect(notOpened.code).toBe('episode-not-opened');
    flagged(notOpened);
    const other = refusalOf(s.events.slice(0, 5), { ...a, at: s.at(21), patientId: 'pt-other' });
    expect(other.code).toBe('wrong-patient');
    flagged(other);
  });

  it('keeps a serious adverse event and alarming vitals on a refused event, and names them in the message', () => {
    const s = new Story().day(0).add('EpisodeOpened');
    const ae = refusalOf(s.events, {
      ...s.last,
      id: 'ae',
      type: 'AdverseEventReported',
      code: 'suicidal-ideation',
      severity: 'serious',
      at: s.at(1),
      episodeId: 'ep-other',
    });
    expect(ae.code).toBe('wrong-episode');
    expect(ae.safetyFlags?.map((f) => f.rule)).toEqual(['adverse-event-suicidal-ideation']);
    const vitals = refusalOf(s.events, {
      ...s.last,
      id: 'v',
      type: 'VitalsRecorded',
      sessionId: 'nope',
      phase: 'during',
      systolic: 210,
      diastolic: 125,
      at: s.at(1),
    });
    expect(vitals.code).toBe('not-eligible');
    expect(vitals.safetyFlags?.map((f) => f.rule)).toEqual([
      'vitals-systolic-alert',
      'vitals-diastolic-alert',
    ]);
    expect(vitals.message).toContain('SAFETY: vitals-systolic-alert (210)');
  });
});

describe('a dose waits for the review of a safety signal, and only a clinician reviews', () => {
  it('refuses a dose while a positive item 9 is unreviewed, and accepts it after a clinician review', () => {
    const s = atPreDose();
    s.add('AssessmentRecorded', { instrument: 'phq9', responses: [1, 1, 1, 1, 1, 1, 1, 1, 2] }, 6);
    const flagId = s.last.id;
    const before = [...s.events];
    s.add('DoseAdministered', dose('x'), 10);
    const r = refusalOf(before, s.last);
    expect(r.code).toBe('safety-review-required');
    expect(r.message).toContain('PHQ9 item 9 = 2');
    const patientReview = {
      ...s.last,
      id: 'rv-patient',
      type: 'SafetyFlagReviewed',
      assessmentEventId: flagId,
      rule: 'phq9-item9-positive',
      outcome: 'no-current-risk',
      recordedBy: 'patient',
    };
    expect(refusalOf(before, patientReview).code).toBe('not-permitted');
    const reviewed = [...before, { ...patientReview, id: 'rv', recordedBy: 'therapist' }];
    expect(decide(accepted(reviewed), { ...s.last, at: s.at(14 + 12 / 1440) }).ok).toBe(true);
  });

  it('refuses a dose while a serious adverse event is unreviewed; raises urgent and warning alerts until reviewed', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(17).add('AdverseEventReported', { code: 'suicidal-ideation', severity: 'moderate' });
    const si = s.last.id;
    s.add('AdverseEventReported', { code: 'headache', severity: 'moderate' }, 5);
    const state = accepted(s.events);
    const alerts = statusAt(state, s.at(17.5)).alerts.filter((a) => a.code === 'adverse-event');
    expect(alerts.map((a) => a.severity)).toEqual(['urgent', 'warning']);
    s.day(21).add('DosingSessionScheduled', { sessionId: 'y', scheduledFor: s.at(21), mode: 'in-person' });
    s.add('VitalsRecorded', { sessionId: 'y', phase: 'pre', systolic: 120, diastolic: 80 }, 5);
    const before = [...s.events];
    s.add('DoseAdministered', dose('y'), 10);
    expect(refusalOf(before, s.last).code).toBe('safety-review-required');
    s.events.pop();
    s.add('AdverseEventReviewed', { adverseEventId: si, outcome: 'safety-plan' }, 8);
    s.add('DoseAdministered', dose('y'), 10);
    const after = statusAt(accepted(s.events), s.at(21.1));
    expect(after.alerts.filter((a) => a.code === 'adverse-event').map((a) => a.severity)).toEqual([
      'warning',
    ]);
  });

  it('keeps an adverse event that names an unknown session, flags it, and accepts one after completion', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(17).add('AdverseEventReported', { sessionId: 'no-such', code: 'nausea', severity: 'serious' });
    s.day(30).add('EpisodeCompleted', { reason: 'Stopping after one session at the patient request.' });
    s.day(31).add('AdverseEventReported', { code: 'dizziness', severity: 'severe' });
    const state = accepted(s.events);
    expect(state.context.adverseEvents.map((a) => [a.unknownSession, a.needsReview])).toEqual([
      [true, true],
      [false, true],
    ]);
    const messages = statusAt(state, s.at(32))
      .alerts.filter((a) => a.code === 'adverse-event')
      .map((a) => a.message);
    expect(messages[0]).toContain('which this episode does not know');
    expect(messages).toHaveLength(2);
  });
});

describe('the medical team’s decisions bind', () => {
  it('stops dosing, refills and new sessions after a follow-up that does not continue treatment', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(17).add('MedicalFollowUpCompleted', { continueTreatment: false });
    const base = [...s.events];
    s.day(20).add('DosingSessionScheduled', { sessionId: 'z', scheduledFor: s.at(21), mode: 'in-person' });
    expect(refusalOf(base, s.last).code).toBe('treatment-stopped');
    s.events.pop();
    s.add('RefillIssued', { dosesAuthorized: 2 });
    expect(refusalOf(base, s.last).code).toBe('treatment-stopped');
    expect(statusAt(accepted(base), s.at(20)).alerts.map((a) => a.code)).toContain('treatment-stopped');
    // A new prescription lifts the stop (a follow-up happened since the last authorisation).
    s.events.pop();
    s.add('PrescriptionIssued', {
      medication: 'ketamine',
      route: 'sublingual',
      formulation: 'sublingual-lozenge',
      doseMg: 250,
      dosesAuthorized: 2,
    });
    s.add('DosingSessionScheduled', { sessionId: 'z', scheduledFor: s.at(21), mode: 'in-person' }, 5);
    const state = accepted(s.events);
    expect(state.context.treatmentStopped).toBeNull();
    expect(state.context.prescription?.doseMg).toBe(250);
  });

  it('holds a second prescription to the refill’s follow-up gate', () => {
    const s = new Story().readyToDose();
    s.day(13).add('PrescriptionIssued', {
      medication: 'ketamine',
      route: 'sublingual',
      formulation: 'sublingual-lozenge',
      doseMg: 300,
      dosesAuthorized: 10,
    });
    expect(refusalOf(s.events.slice(0, -1), s.last).code).toBe('refill-requires-follow-up');
  });

  it('refuses eligibility despite an absolute contraindication unless the medical team gives a reason', () => {
    const s = new Story().day(0).add('EpisodeOpened').add('FitAssessed', { outcome: 'good-fit' }, 60);
    s.day(3).add('MedicalEvaluationScheduled', { scheduledFor: s.at(7), mode: 'telehealth' });
    const base = [...s.events];
    const evaluation = (extra: Record<string, unknown>) => ({
      ...s.last,
      id: `ev-${JSON.stringify(extra).length}`,
      type: 'MedicalEvaluationCompleted',
      at: s.at(7),
      eligible: true,
      contraindications: ['active-suicidal-ideation', 'ketamine-allergy', 'primary-psychosis-history'],
      ...extra,
    });
    const r = refusalOf(base, evaluation({}));
    expect(r.code).toBe('contraindicated');
    expect(r.message).toContain('active-suicidal-ideation, ketamine-allergy, primary-psychosis-history');
    expect(refusalOf(base, evaluation({ contraindicationOverride: { reason: 'ok.' } })).code).toBe(
      'contraindicated',
    );
    // A consideration (not absolute) needs no override; ineligible never does.
    expect(decide(accepted(base), evaluation({ contraindications: ['pregnancy'] })).ok).toBe(true);
    expect(decide(accepted(base), evaluation({ eligible: false })).ok).toBe(true);
  });

  it('needs a reason to complete short of the planned doses', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(20).add('EpisodeCompleted');
    const r = refusalOf(s.events.slice(0, -1), s.last);
    expect(r.code).toBe('reason-required');
    expect(r.message).toContain('1 of 6 planned');
  });
});

describe('every dose is reconciled with its prescription', () => {
  it('refuses a 1,500 mg intravenous dose against a 300 mg sublingual prescription', () => {
    const s = atPreDose();
    const r = refusalOf(s.events, {
      ...s.last,
      id: 'iv',
      type: 'DoseAdministered',
      ...dose('x', { doseMg: 1500, route: 'intravenous', formulation: 'infusion' }),
      at: s.at(14.01),
    });
    expect(r.code).toBe('dose-mismatch');
    expect(r.message).toContain('does not match the prescription');
    const tooMuch = refusalOf(s.events, {
      ...s.last,
      id: 'big',
      type: 'DoseAdministered',
      ...dose('x', { doseMg: 400 }),
      at: s.at(14.01),
    });
    expect(tooMuch.code).toBe('dose-mismatch');
  });

  it('allows one booster of at most half the prescribed dose, and derives units from the mg', () => {
    const s = atPreDose();
    s.add('DoseAdministered', dose('x'), 10);
    const base = [...s.events];
    s.add('DoseAdministered', dose('x', { kind: 'booster', doseMg: 200 }), 40);
    expect(refusalOf(base, s.last).message).toContain('exceeds 50 % of the prescribed 300 mg');
    s.events.pop();
    s.add('DoseAdministered', dose('x', { kind: 'booster', doseMg: 150 }), 40);
    const withBooster = [...s.events];
    expect(statusAt(accepted(withBooster), s.at(14.1)).dosesOnHand).toBe(0.5);
    s.add('DoseAdministered', dose('x', { kind: 'booster', doseMg: 100 }), 50);
    expect(refusalOf(withBooster, s.last).message).toContain('booster(s) already given');
    s.events.pop();
    s.add('DoseAdministered', dose('x', { kind: 'booster', doseMg: 100, unitsUsed: 1 }), 50);
    expect(refusalOf(withBooster, s.last).code).toBe('dose-mismatch');
  });

  it('refuses two dosing sessions one hour apart', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(14.2);
    s.day(14.25).add('DosingSessionScheduled', {
      sessionId: 'again',
      scheduledFor: s.at(14.25),
      mode: 'in-person',
    });
    s.add('VitalsRecorded', { sessionId: 'again', phase: 'pre', systolic: 120, diastolic: 80 }, 1);
    s.add('DoseAdministered', dose('again'), 2);
    const r = refusalOf(s.events.slice(0, -1), s.last);
    expect(r.code).toBe('dosing-too-soon');
  });

  it('needs a reason to complete a session 5 minutes after the dose, or with BP still above the hold', () => {
    const s = atPreDose();
    s.add('DoseAdministered', dose('x'), 10);
    s.add('VitalsRecorded', { sessionId: 'x', phase: 'post', systolic: 128, diastolic: 80 }, 14);
    const base = [...s.events];
    s.add('DosingSessionCompleted', { sessionId: 'x' }, 15);
    expect(refusalOf(base, s.last).code).toBe('reason-required');
    s.events.pop();
    s.add(
      'DosingSessionCompleted',
      { sessionId: 'x', reason: 'Patient felt unwell and went home with family.' },
      15,
    );
    expect(decide(accepted(base), s.last).ok).toBe(true);
    s.events.pop();
    s.add('VitalsRecorded', { sessionId: 'x', phase: 'post', systolic: 150, diastolic: 92 }, 180);
    s.add('DosingSessionCompleted', { sessionId: 'x' }, 185);
    const r = refusalOf(s.events.slice(0, -1), s.last);
    expect(r.code).toBe('reason-required');
    expect(r.message).toContain('150/92');
  });
});

describe('vitals', () => {
  it('holds a dose for a therapist’s override or an override reason of "ok."', () => {
    const s = atPreDose({ systolic: 150, diastolic: 95 });
    const byTherapist = {
      ...s.last,
      id: 'o1',
      type: 'DoseAdministered',
      ...dose('x', { vitalsOverride: { clinicianRole: 'therapist', reason: 'ok.' } }),
      at: s.at(14.01),
    };
    expect(refusalOf(s.events, byTherapist).code).toBe('not-permitted');
    const ok = { ...byTherapist, id: 'o2', vitalsOverride: { clinicianRole: 'medical', reason: 'ok.' } };
    expect(refusalOf(s.events, ok).code).toBe('reason-required');
    const good = {
      ...byTherapist,
      id: 'o3',
      vitalsOverride: {
        clinicianRole: 'medical',
        reason: 'Repeat reading 138/88 by video; white-coat pattern.',
      },
    };
    expect(decide(accepted(s.events), good).ok).toBe(true);
  });

  it('holds a dose on SpO₂ 85 % or heart rate 150 before it', () => {
    for (const pre of [
      { systolic: 120, diastolic: 80, spo2: 85 },
      { systolic: 120, diastolic: 80, heartRate: 150 },
    ]) {
      const s = atPreDose(pre);
      const state = accepted(s.events);
      expect(statusAt(state, s.at(14.01)).alerts.map((a) => a.code)).toEqual(
        expect.arrayContaining(['vitals-hold', 'vitals-alert']),
      );
      const r = refusalOf(s.events, {
        ...s.last,
        id: 'd',
        type: 'DoseAdministered',
        ...dose('x'),
        at: s.at(14.01),
      });
      expect(r.code).toBe('vitals-hold');
    }
  });

  it('raises an urgent alert for 210/125 during a session', () => {
    const s = atPreDose();
    s.add('DoseAdministered', dose('x'), 10);
    s.add('VitalsRecorded', { sessionId: 'x', phase: 'during', systolic: 210, diastolic: 125 }, 50);
    const alert = statusAt(accepted(s.events), s.at(14.05)).alerts.find((a) => a.code === 'vitals-alert');
    expect(alert?.severity).toBe('urgent');
    expect(alert?.message).toContain('BP 210/125 mmHg');
  });
});

describe('the safety layer is clinic policy', () => {
  it('refuses an episode that tries to switch a safety rule off in its own policy', () => {
    const s = new Story().day(0).add('EpisodeOpened', { policy: { requireSafetyReviewBeforeDose: false } });
    const r = refusalOf([], s.last);
    expect(r.code).toBe('invalid-event');
    expect(r.issues?.[0]?.path).toEqual(['policy']);
    // Per-episode thresholds the episode may set still work.
    const ok = new Story().day(0).add('EpisodeOpened', { policy: { holdSystolicAbove: 150 } });
    expect(accepted(ok.events).context.policy.holdSystolicAbove).toBe(150);
  });

  it('refuses a patient-recorded dose that claims a medical override', () => {
    const s = atPreDose({ systolic: 150, diastolic: 95 });
    const r = refusalOf(s.events, {
      ...s.last,
      id: 'self',
      type: 'DoseAdministered',
      ...dose('x', {
        vitalsOverride: {
          clinicianRole: 'medical',
          reason: 'Repeat reading 138/88 by video; white-coat pattern.',
        },
      }),
      recordedBy: 'patient',
      at: s.at(14.01),
    });
    expect(r.code).toBe('not-permitted');
  });
});

describe('remote sessions', () => {
  it('refuses a telehealth dosing session without a chaperone', () => {
    const s = new Story().readyToDose().day(13);
    s.add('DosingSessionScheduled', { sessionId: 'r', scheduledFor: s.at(14), mode: 'telehealth' });
    expect(refusalOf(s.events.slice(0, -1), s.last).code).toBe('chaperone-required');
    s.events.pop();
    s.add('DosingSessionScheduled', {
      sessionId: 'r',
      scheduledFor: s.at(14),
      mode: 'telehealth',
      chaperone: true,
    });
    expect(accepted(s.events).context.sessions[0]?.chaperone).toBe(true);
  });
});

describe('not on track', () => {
  /** A course of `doses` sessions a week apart with a PHQ-9 of `total` (items 1–8 only) before each. */
  function course(doses: number, totals: number[]) {
    const s = new Story().readyToDose();
    s.add('RefillIssued', { dosesAuthorized: 0 + 0 + 1 }, 61); // refused without follow-up: removed below
    s.events.pop();
    s.day(13).add('MedicalFollowUpCompleted', { continueTreatment: true });
    s.add('RefillIssued', { dosesAuthorized: 10 }, 5).add('MedicationDelivered', { doses: 8 }, 10);
    for (let i = 0; i < doses; i++) {
      const d = 14 + i * 7;
      const total = totals[i] ?? totals[totals.length - 1]!;
      const items = Array.from({ length: 9 }, (_, k) =>
        k < 8 ? Math.min(3, Math.max(0, total - k * 3)) : 0,
      );
      s.day(d - 1).add('AssessmentRecorded', { instrument: 'phq9', responses: items });
      s.dosingSession(d).integration(d + 2);
    }
    return s;
  }

  it('raises no-response at 6 of 7 doses with PHQ-9 13 → 14, and severe-symptoms at PHQ-9 20', () => {
    const s = course(6, [13, 14]);
    const state = accepted(s.events);
    const codes = statusAt(state, s.at(14 + 6 * 7)).alerts.map((a) => a.code);
    expect(codes).toContain('no-response');
    expect(codes).not.toContain('severe-symptoms');
    const worse = course(2, [13, 20]);
    const codes2 = statusAt(accepted(worse.events), worse.at(30)).alerts.map((a) => a.code);
    expect(codes2).toContain('severe-symptoms');
    expect(codes2).toContain('reliable-deterioration');
    expect(codes2).not.toContain('no-response');
  });

  it('says nothing before the policy number of doses, nor once the patient responds', () => {
    const early = course(3, [13, 14]);
    expect(statusAt(accepted(early.events), early.at(40)).alerts.map((a) => a.code)).not.toContain(
      'no-response',
    );
    const better = course(5, [16, 12, 9, 7, 6]);
    const codes = statusAt(accepted(better.events), better.at(60)).alerts.map((a) => a.code);
    expect(codes).not.toContain('no-response');
  });

  it('keeps the overdue follow-up alert while the episode is paused', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(16);
    s.day(20).add('EpisodePaused', { reason: 'patient-request' });
    const status = statusAt(accepted(s.events), s.at(14 + 95));
    expect(status.alerts.map((a) => a.code)).toContain('follow-up-overdue');
  });
});
