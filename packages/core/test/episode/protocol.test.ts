import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { researchConsentWithdrawn } from '../../src/episode/context.js';
import { createEpisodeModel, decide, phaseOf, replay } from '../../src/episode/decide.js';
import { parseEvent, upcastEvent } from '../../src/episode/events.js';
import {
  diazepamEquivalentPerDay,
  medicationFindings,
  totalDiazepamEquivalent,
} from '../../src/episode/medications.js';
import { primaryRoleOf } from '../../src/episode/permissions.js';
import { projectEpisodes } from '../../src/episode/projection.js';
import type { Refusal } from '../../src/episode/rules.js';
import { statusAt } from '../../src/episode/status.js';

/*
 * Protocol completeness: informed consent, concurrent medications, dose titration and the maintenance phase.
 * The Story builder writes version 1 events (which the upcaster exempts from the consent gate); these tests write
 * version 2 events, as every current writer does, so the gate applies.
 */

type Input = Record<string, unknown>;

/** The story's events as version 2 events (recorded when they happened, by the type's primary role). */
function v2(events: readonly unknown[]): Input[] {
  return events.map((x) => {
    const e = x as Input;
    return {
      ...e,
      v: 2,
      recordedAt: e.recordedAt ?? e.at,
      recordedBy: e.recordedBy ?? primaryRoleOf(e.type),
    };
  });
}

/** An event of `type` for the story's episode at day `d` (+ minutes), version 2. */
function ev(s: Story, type: string, d: number, payload: Input = {}, minutes = 0): Input {
  const at = s.at(d + minutes / 1440);
  return {
    id: `${type}-${d}-${minutes}-${Math.random().toString(36).slice(2, 8)}`,
    episodeId: s.episodeId,
    patientId: s.patientId,
    type,
    at,
    recordedAt: at,
    v: 2,
    recordedBy: primaryRoleOf(type),
    synthetic: true,
    ...payload,
  };
}

function accepted(events: readonly unknown[], model = { replay }) {
  const r = model.replay(events);
  expect(r.refusals.map((x) => `${x.code}: ${x.message}`)).toEqual([]);
  return r.state;
}

function refused(events: readonly unknown[], next: unknown): Refusal {
  const d = decide(accepted(events), next);
  if (d.ok) throw new Error(`expected ${(next as Input).type} to be refused`);
  return d.refusal;
}

const consent = (s: Story, d: number, scope: string[] = ['kap', 'remote-sessions', 'research-use']) =>
  ev(s, 'InformedConsentRecorded', d, { scope, documentVersion: 'KAP consent v3 (2026-01)' });

/** A ready-to-dose story with consent recorded on day 11, as version 2 events. */
function readyWithConsent(scope?: string[]) {
  const s = new Story().readyToDose();
  const events = v2(s.events);
  events.splice(events.length - 1, 0, consent(s, 11, scope));
  return { s, events };
}

/** The events of one dosing session on day `d` (in-person unless `mode`), as version 2 events. */
function session(s: Story, d: number, id: string, dose: Input = {}, mode = 'in-person'): Input[] {
  return [
    ev(s, 'DosingSessionScheduled', d, {
      sessionId: id,
      scheduledFor: s.at(d + 1 / 24),
      mode,
      ...(mode === 'telehealth' ? { chaperone: true } : {}),
    }),
    ev(s, 'VitalsRecorded', d, { sessionId: id, phase: 'pre', systolic: 122, diastolic: 78 }, 60),
    ev(
      s,
      'DoseAdministered',
      d,
      {
        sessionId: id,
        kind: 'full',
        doseMg: 300,
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
        ...dose,
      },
      65,
    ),
    ev(s, 'VitalsRecorded', d, { sessionId: id, phase: 'post', systolic: 126, diastolic: 80 }, 190),
    ev(s, 'DosingSessionCompleted', d, { sessionId: id }, 200),
  ];
}

/** A consented course (`readyWithConsent`) with one dosing session, s1 on day 14, then the events `after` gives. */
function dosedOnce(after: (s: Story) => Input[]) {
  const { s, events } = readyWithConsent();
  return { s, log: [...events, ...session(s, 14, 's1'), ...after(s)] };
}

describe('informed consent', () => {
  it('refuses the first dose without consent to KAP (consent-required), and warns before it', () => {
    const s = new Story().readyToDose();
    const events = v2(s.events);
    const dose = session(s, 14, 's1');
    const r = refused([...events, ...dose.slice(0, 2)], dose[2]);
    expect(r.code).toBe('consent-required');
    expect(r.message).toContain('no informed consent to KAP is recorded');
    const status = statusAt(accepted(events), s.at(13));
    expect(status.consent).toMatchObject({ required: true, inForce: [], withdrawn: [], latest: null });
    expect(status.alerts.map((a) => a.code)).toContain('consent-missing');
  });

  it('accepts the dose once consent is recorded, and reports the consent in force', () => {
    const { s, events } = readyWithConsent();
    const state = accepted([...events, ...session(s, 14, 's1')]);
    const status = statusAt(state, s.at(15));
    expect(status.dosesGiven).toBe(1);
    expect(status.consent.inForce).toEqual(['kap', 'remote-sessions', 'research-use']);
    expect(status.consent.latest?.documentVersion).toBe('KAP consent v3 (2026-01)');
    expect(status.alerts.map((a) => a.code)).not.toContain('consent-missing');
  });

  it('refuses a remote dose without consent to remote sessions, and accepts it with that consent', () => {
    const kapOnly = readyWithConsent(['kap']);
    const remote = session(kapOnly.s, 14, 's1', {}, 'telehealth');
    const r = refused([...kapOnly.events, ...remote.slice(0, 2)], remote[2]);
    expect(r.code).toBe('consent-required');
    expect(r.message).toContain('remote (telehealth) session');
    const both = readyWithConsent(['kap', 'remote-sessions']);
    accepted([...both.events, ...session(both.s, 14, 's1', {}, 'telehealth')]);
  });

  it('stops dosing when the patient withdraws consent to KAP (recorded by the patient)', () => {
    const { s, log: before } = dosedOnce((s) => [
      ev(s, 'IntegrationSessionCompleted', 15, { mode: 'telehealth' }),
      ev(s, 'ConsentWithdrawn', 16, { scope: ['kap'], recordedBy: 'patient' }),
    ]);
    const next = session(s, 21, 's2');
    const r = refused([...before, ...next.slice(0, 2)], next[2]);
    expect(r.code).toBe('consent-required');
    expect(r.message).toContain('withdrew consent to KAP');
    const status = statusAt(accepted(before), s.at(17));
    expect(status.consent.withdrawn).toEqual(['kap']);
    expect(status.alerts.find((a) => a.code === 'consent-missing')?.message).toContain('withdrew');
    const again = statusAt(accepted([...before, consent(s, 17, ['kap'])]), s.at(18));
    expect(again.consent.inForce).toContain('kap');
    expect(again.consent.withdrawn).toEqual([]);
  });

  it('keeps a dose that went ahead before a withdrawal dated earlier was entered (judged by what was known)', () => {
    const { s, events } = readyWithConsent();
    const withdrawal: Input = {
      ...ev(s, 'ConsentWithdrawn', 13, { scope: ['kap'], recordedBy: 'therapist' }),
      recordedAt: s.at(15),
    };
    const state = accepted([...events, ...session(s, 14, 's1'), withdrawal]);
    const status = statusAt(state, s.at(15.1));
    expect(status.dosesGiven).toBe(1);
    const late = status.alerts.find((a) => a.code === 'late-entry');
    expect(late?.severity).toBe('urgent');
    expect(late?.message).toContain('withdrawal of consent to KAP');
    expect(state.context.consents.find((x) => x.scope === 'kap')?.withdrawn?.eventId).toBe(withdrawal.id);
  });

  it('accepts a research-use withdrawal after the course is completed, and marks the episode', () => {
    const { s, log: done } = dosedOnce((s) => [
      ev(s, 'EpisodeCompleted', 20, { reason: 'the patient is well and chose to stop here' }),
    ]);
    const state = accepted([
      ...done,
      ev(s, 'ConsentWithdrawn', 40, { scope: ['research-use'], recordedBy: 'patient' }),
    ]);
    expect(phaseOf(state)).toBe('completed');
    expect(researchConsentWithdrawn(state.context)).toBe(true);
    expect(researchConsentWithdrawn(accepted(done).context)).toBe(false);
  });

  it('lets only clinicians record consent', () => {
    const { s, events } = readyWithConsent();
    const r = refused(events, { ...consent(s, 12), recordedBy: 'patient' });
    expect(r.code).toBe('not-permitted');
  });

  it('does not hold version 1 logs (which could not record consent) to the gate, and says so in the upcast', () => {
    const s = new Story().readyToDose().dosingSession(14);
    expect(replay(s.events).refusals).toEqual([]);
    const opened = upcastEvent(s.events[0]) as Input;
    expect(opened.policy).toEqual({ requireInformedConsent: false });
    expect(parseEvent(s.events[0]).success).toBe(true);
  });

  it('is a policy: a clinic that records consent elsewhere turns the gate off', () => {
    const model = createEpisodeModel({ policy: { requireInformedConsent: false } });
    const s = new Story().readyToDose();
    accepted([...v2(s.events), ...session(s, 14, 's1')], model);
  });
});

describe('concurrent medications', () => {
  const evaluated = () => {
    const { s, events } = readyWithConsent();
    return { s, events };
  };

  it('works out diazepam equivalents from the Ashton table, in mg, mcg or g', () => {
    expect(diazepamEquivalentPerDay({ name: 'Lorazepam', class: 'benzodiazepine', dailyDose: 2 })).toBe(20);
    expect(
      diazepamEquivalentPerDay({ name: 'clonazepam', class: 'benzodiazepine', dailyDose: 500, unit: 'mcg' }),
    ).toBe(10);
    expect(diazepamEquivalentPerDay({ name: 'alprazolam', class: 'benzodiazepine', dailyDose: 0.25 })).toBe(
      5,
    );
    expect(
      diazepamEquivalentPerDay({ name: 'mystery-pam', class: 'benzodiazepine', dailyDose: 1 }),
    ).toBeNull();
    expect(
      diazepamEquivalentPerDay({ name: 'sertraline', class: 'antidepressant', dailyDose: 100 }),
    ).toBeNull();
    expect(
      totalDiazepamEquivalent([
        { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 1 },
        { name: 'temazepam', class: 'benzodiazepine', dailyDose: 10 },
      ]),
    ).toBe(15);
  });

  it('raises medication-interaction for a benzodiazepine above 8 mg diazepam-equivalent, not below', () => {
    expect(
      medicationFindings([{ name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 }], 8),
    ).toHaveLength(1);
    expect(medicationFindings([{ name: 'diazepam', class: 'benzodiazepine', dailyDose: 8 }], 8)).toEqual([]);
    expect(
      medicationFindings([{ name: 'diazepam', class: 'benzodiazepine', dailyDose: 8.5 }], 8),
    ).toHaveLength(1);
    // A dose that cannot be converted is shown, not assumed safe.
    expect(medicationFindings([{ name: 'lorazepam', class: 'benzodiazepine' }], 8)[0]?.message).toContain(
      'no daily dose recorded',
    );
  });

  it('records the review at the evaluation and alerts on each interaction class, with its source', () => {
    const { s, events } = evaluated();
    const state = accepted([
      ...events,
      ev(s, 'MedicationsReviewed', 12, {
        medications: [
          { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2, unit: 'mg' },
          { name: 'lamotrigine', class: 'lamotrigine', dailyDose: 200 },
          { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
          { name: 'clarithromycin', class: 'cyp-inhibitor' },
        ],
      }),
    ]);
    const status = statusAt(state, s.at(13));
    expect(status.medications.classes).toEqual([
      'benzodiazepine',
      'lamotrigine',
      'antidepressant',
      'cyp-inhibitor',
    ]);
    expect(status.medications.diazepamEquivalentMgPerDay).toBe(20);
    const alerts = status.alerts.filter((a) => a.code === 'medication-interaction');
    expect(alerts.map((a) => a.severity)).toEqual(['warning', 'warning', 'warning']);
    expect(alerts[0]?.message).toContain('Andrashko et al. 2020');
    expect(alerts[1]?.message).toContain('Andrade 2017');
    expect(alerts[2]?.message).toContain('CYP2B6 and CYP3A4');
  });

  it('takes the latest review as the list in force (an empty list clears the alerts)', () => {
    const { s, events } = evaluated();
    const state = accepted([
      ...events,
      ev(s, 'MedicationsReviewed', 12, {
        medications: [{ name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 }],
      }),
      ev(s, 'MedicationsReviewed', 13, { medications: [] }),
    ]);
    const status = statusAt(state, s.at(13.5));
    expect(status.medications).toMatchObject({ classes: [], findings: [], diazepamEquivalentMgPerDay: null });
  });

  it('uses the policy threshold', () => {
    const model = createEpisodeModel({ policy: { benzodiazepineAlertAboveMgDiazepam: 25 } });
    const { s, events } = evaluated();
    const state = accepted(
      [
        ...events,
        ev(s, 'MedicationsReviewed', 12, {
          medications: [{ name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 }],
        }),
      ],
      model,
    );
    expect(statusAt(state, s.at(13)).alerts.map((a) => a.code)).not.toContain('medication-interaction');
  });

  it('refuses a review before the evaluation is scheduled, or by anyone but the medical team', () => {
    const s = new Story();
    const open = [ev(s, 'EpisodeOpened', 0, { recordedBy: 'therapist' })];
    const r = refused(open, ev(s, 'MedicationsReviewed', 1, { medications: [] }));
    expect(r.code).toBe('evaluation-not-scheduled');
    const { events } = evaluated();
    expect(
      refused(events, ev(s, 'MedicationsReviewed', 12, { medications: [], recordedBy: 'therapist' })).code,
    ).toBe('not-permitted');
  });
});

describe('dose titration', () => {
  /** A plan that starts with a half dose (150 mg of a 300 mg prescription), then the full dose. */
  function titrated() {
    const { s, events } = readyWithConsent();
    const plan = events.find((e) => e.type === 'TreatmentPlanCreated')!;
    plan.titration = [
      { fromSession: 1, doseMg: 150 },
      { fromSession: 2, doseMg: 300 },
    ];
    return { s, events };
  }

  it('refuses a first dose that departs from its step without a reason, and accepts the planned one', () => {
    const { s, events } = titrated();
    const full = session(s, 14, 's1');
    const r = refused([...events, ...full.slice(0, 2)], full[2]);
    expect(r.code).toBe('reason-required');
    expect(r.message).toContain('titration step for dosing session 1 (150 mg)');
    const state = accepted([...events, ...session(s, 14, 's1', { kind: 'half', doseMg: 150 })]);
    expect(state.context.sessions[0]?.doses[0]).toMatchObject({
      doseMg: 150,
      plannedDoseMg: 150,
      reason: null,
    });
  });

  it('accepts a departure with a reason, and keeps the reason and the planned dose on the dose', () => {
    const { s, events } = titrated();
    const log = [
      ...events,
      ...session(s, 14, 's1', { kind: 'half', doseMg: 150 }),
      ev(s, 'IntegrationSessionCompleted', 15, { mode: 'telehealth' }),
    ];
    const second = session(s, 21, 's2', { kind: 'half', doseMg: 150 });
    expect(refused([...log, ...second.slice(0, 2)], second[2]).code).toBe('reason-required');
    const withReason = session(s, 21, 's2', {
      kind: 'half',
      doseMg: 150,
      reason: 'strong dissociation last time; staying at the half dose',
    });
    const state = accepted([...log, ...withReason]);
    expect(state.context.sessions[1]?.doses[0]).toMatchObject({
      doseMg: 150,
      plannedDoseMg: 300,
      reason: 'strong dissociation last time; staying at the half dose',
    });
  });

  it('refuses a plan whose steps do not start at session 1 or go backwards (invalid-event)', () => {
    const s = new Story().readyToDose();
    const events = v2(s.events);
    const at = events.findIndex((e) => e.type === 'TreatmentPlanCreated');
    const plan = events[at]!;
    const before = events.slice(0, at);
    for (const titration of [
      [{ fromSession: 2, doseMg: 100 }],
      [
        { fromSession: 1, doseMg: 100 },
        { fromSession: 1, doseMg: 200 },
      ],
    ]) {
      const r = refused(before, { ...plan, titration });
      expect(r.code).toBe('invalid-event');
      expect(r.issues?.[0]?.path).toEqual(['titration']);
    }
  });
});

describe('maintenance phase', () => {
  /** Two dosing sessions of the initial course (plan: 6). */
  function twoSessions() {
    const { s, events } = readyWithConsent();
    const log = [
      ...events,
      ...session(s, 14, 's1'),
      ev(s, 'IntegrationSessionCompleted', 15, { mode: 'telehealth' }),
      ev(s, 'MedicalFollowUpCompleted', 16, { continueTreatment: true }),
      ev(s, 'RefillIssued', 16, { dosesAuthorized: 4 }),
      ev(s, 'MedicationDelivered', 17, { doses: 4 }),
      ...session(s, 21, 's2'),
      ev(s, 'IntegrationSessionCompleted', 22, { mode: 'telehealth' }),
    ];
    return { s, log };
  }

  it('needs a reason before the initial course is done, a dose first, and the medical team', () => {
    const { s, log } = twoSessions();
    expect(refused(log, ev(s, 'MaintenancePlanned', 23, { intervalDays: 45 })).code).toBe('reason-required');
    expect(
      refused(
        log,
        ev(s, 'MaintenancePlanned', 23, {
          intervalDays: 45,
          recordedBy: 'therapist',
          reason: 'x'.repeat(12),
        }),
      ).code,
    ).toBe('not-permitted');
    const { events } = readyWithConsent();
    expect(refused(events, ev(s, 'MaintenancePlanned', 12, { intervalDays: 45 })).code).toBe(
      'no-doses-given',
    );
  });

  it('enters the maintenance phase; its sessions are reported apart from the initial course', () => {
    const { s, log } = twoSessions();
    const planned = ev(s, 'MaintenancePlanned', 23, {
      intervalDays: 45,
      reason: 'remission after two sessions; monthly-ish maintenance agreed',
    });
    const state = accepted([...log, planned, ...session(s, 60, 'm1')]);
    expect(phaseOf(state)).toBe('maintenance');
    expect(state.context.sessions.map((x) => [x.sessionId, x.maintenance])).toEqual([
      ['s1', false],
      ['s2', false],
      ['m1', true],
    ]);
    const status = statusAt(state, s.at(61));
    expect(status.phase).toBe('maintenance');
    expect(status.dosesGiven).toBe(3);
    expect(status.criticalPeriods.analysis.windows).toHaveLength(2);
    expect(status.maintenance).toMatchObject({ intervalDays: 45, sessions: 1, status: 'not-due' });
    expect(status.maintenance?.criticalPeriods.windows).toHaveLength(1);
    expect(status.maintenance?.nextDueAt.slice(0, 10)).toBe(s.at(105).slice(0, 10));
    // The initial course's chain alerts do not apply to maintenance sessions weeks apart.
    expect(status.alerts.map((a) => a.code)).not.toContain('critical-period-chain-broken');
  });

  it('raises maintenance-session-due when due (info) and overdue (warning, after the grace days)', () => {
    const { s, log } = twoSessions();
    const planned = ev(s, 'MaintenancePlanned', 23, {
      intervalDays: 30,
      reason: 'remission after two sessions',
    });
    const state = accepted([...log, planned]);
    const at = (d: number) =>
      statusAt(state, s.at(d)).alerts.filter((a) => a.code === 'maintenance-session-due');
    expect(at(40)).toEqual([]);
    expect(at(55).map((a) => a.severity)).toEqual(['info']);
    expect(at(62).map((a) => a.severity)).toEqual(['warning']);
  });

  it('holds maintenance doses to the same gates (integration between doses, consent)', () => {
    const { s, log } = twoSessions();
    const planned = ev(s, 'MaintenancePlanned', 23, {
      intervalDays: 30,
      reason: 'remission after two sessions',
    });
    const m1 = session(s, 50, 'm1');
    const base = [...log, planned, ...m1];
    const m2 = session(s, 80, 'm2');
    expect(refused([...base, ...m2.slice(0, 2)], m2[2]).code).toBe('integration-required');
    const withdrawn = [
      ...base,
      ev(s, 'IntegrationSessionCompleted', 51, { mode: 'telehealth' }),
      ev(s, 'ConsentWithdrawn', 60, { scope: ['kap'], recordedBy: 'patient' }),
    ];
    expect(refused([...withdrawn, ...m2.slice(0, 2)], m2[2]).code).toBe('consent-required');
  });

  it('projects to the same context on the read side', () => {
    const { s, log } = twoSessions();
    const planned = ev(s, 'MaintenancePlanned', 23, {
      intervalDays: 30,
      reason: 'remission after two sessions',
    });
    const events = [...log, planned, ...session(s, 50, 'm1')];
    const state = accepted(events);
    const projected = projectEpisodes(events.map((e) => parseEvent(e).data!)).get('ep-1')!;
    expect(projected.sessions).toEqual(state.context.sessions);
    expect(projected.maintenance).toEqual(state.context.maintenance);
    expect(projected.consents).toEqual(state.context.consents);
  });
});
