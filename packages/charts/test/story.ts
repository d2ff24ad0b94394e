import { type EpisodeContext, type EpisodeEventInput, replay } from '@kapkit/core';

/**
 * Builds synthetic episode logs for the chart tests, following the seed's course (as core's test Story):
 * fit → evaluation → plan → prescription → delivery → training → baseline measures → preparation → dosing
 * sessions with integration. Timestamps are `days` after a fixed start, in -05:00.
 */
export class Story {
  readonly events: EpisodeEventInput[] = [];
  #n = 0;
  #day = 0;
  #session = 0;
  constructor(
    readonly episodeId = 'ep-chart-1',
    readonly patientId = 'pt-synthetic-chart-1',
    readonly start = Date.parse('2026-03-02T10:00:00-05:00'),
  ) {}

  /** ISO timestamp `days` after the start (fractional days allowed), in -05:00. */
  at(days = this.#day): string {
    const ms = this.start + days * 86_400_000 - 5 * 3_600_000;
    return `${new Date(ms).toISOString().slice(0, 19)}-05:00`;
  }

  day(d: number): this {
    this.#day = d;
    return this;
  }

  add(type: string, payload: Record<string, unknown> = {}, minutes = 0): this {
    this.#n++;
    this.events.push({
      id: `${this.episodeId}-e${this.#n}`,
      episodeId: this.episodeId,
      patientId: this.patientId,
      type,
      at: this.at(this.#day + minutes / 1440),
      v: 1,
      synthetic: true,
      ...payload,
    } as unknown as EpisodeEventInput);
    return this;
  }

  get lastId(): string {
    return this.events[this.events.length - 1]!.id;
  }

  /** Opened → … → prepared, with `doses` authorised and delivered, and an optional policy. */
  readyToDose(
    options: { doses?: number; policy?: Record<string, unknown>; criticalPeriodDays?: number } = {},
  ): this {
    const doses = options.doses ?? 8;
    return this.day(0)
      .add('EpisodeOpened', options.policy ? { policy: options.policy } : {})
      .add('FitAssessed', { outcome: 'good-fit' }, 60)
      .day(3)
      .add('MedicalEvaluationScheduled', { scheduledFor: this.at(7), mode: 'telehealth' })
      .day(7)
      .add('MedicalEvaluationCompleted', { eligible: true, contraindications: [] })
      .add('TreatmentPlanCreated', {
        plannedDosingSessions: 6,
        monitoring: { measures: [{ instrument: 'phq9' }, { instrument: 'gad7' }] },
        ...(options.criticalPeriodDays ? { criticalPeriodDays: options.criticalPeriodDays } : {}),
      })
      .add('PrescriptionIssued', {
        medication: 'ketamine',
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
        doseMg: 300,
        dosesAuthorized: doses,
      })
      .day(10)
      .add('MedicationDelivered', { doses })
      .add('SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }, 30)
      .day(12)
      .add('PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true }, 60);
  }

  phq9(d: number, responses: (number | null)[], minutes = 0): this {
    return this.day(d).add('AssessmentRecorded', { instrument: 'phq9', responses }, minutes);
  }

  gad7(d: number, responses: (number | null)[], minutes = 0): this {
    return this.day(d).add('AssessmentRecorded', { instrument: 'gad7', responses }, minutes);
  }

  /** A complete dosing session on day `d`, with an integration session the next day. */
  dosingSession(
    d: number,
    options: {
      vitals?: [number, number];
      post?: [number, number];
      doseMg?: number;
      boosterMg?: number;
      override?: boolean;
      integrate?: boolean;
    } = {},
  ): this {
    this.#session++;
    const sessionId = `${this.episodeId}-s${this.#session}`;
    const [sys, dia] = options.vitals ?? [122, 78];
    this.day(d)
      .add('DosingSessionScheduled', { sessionId, scheduledFor: this.at(d + 1 / 24), mode: 'in-person' })
      .add('VitalsRecorded', { sessionId, phase: 'pre', systolic: sys, diastolic: dia, heartRate: 72 }, 60)
      .add(
        'DoseAdministered',
        {
          sessionId,
          kind: 'full',
          doseMg: options.doseMg ?? 300,
          route: 'sublingual',
          formulation: 'sublingual-lozenge',
          ...(options.override
            ? { vitalsOverride: { clinicianRole: 'medical', reason: 'Rechecked, stable, discussed' } }
            : {}),
        },
        65,
      );
    if (options.boosterMg) {
      this.add(
        'DoseAdministered',
        {
          sessionId,
          kind: 'booster',
          doseMg: options.boosterMg,
          route: 'sublingual',
          formulation: 'sublingual-lozenge',
        },
        95,
      );
    }
    const [ps, pd] = options.post ?? [128, 80];
    this.add(
      'VitalsRecorded',
      { sessionId, phase: 'post', systolic: ps, diastolic: pd, heartRate: 76 },
      220,
    ).add('DosingSessionCompleted', { sessionId, durationMinutes: 165 }, 225);
    if (options.integrate !== false)
      this.day(d + 1).add('IntegrationSessionCompleted', { mode: 'telehealth', sessionId });
    return this;
  }

  /** A booked session aborted for a vitals hold, on day `d`. */
  heldSession(d: number, vitals: [number, number]): this {
    this.#session++;
    const sessionId = `${this.episodeId}-s${this.#session}`;
    return this.day(d)
      .add('DosingSessionScheduled', { sessionId, scheduledFor: this.at(d + 1 / 24), mode: 'in-person' })
      .add('VitalsRecorded', { sessionId, phase: 'pre', systolic: vitals[0], diastolic: vitals[1] }, 60)
      .add('DosingSessionAborted', { sessionId, reason: 'vitals-hold' }, 70);
  }

  /** Replay the log; fails loudly if anything was refused. */
  context(): EpisodeContext {
    const { state, refusals } = replay(this.events);
    if (refusals.length > 0) {
      throw new Error(
        `story refused: ${refusals.map((r) => `#${r.index} ${r.code}: ${r.message}`).join('; ')}`,
      );
    }
    return state.context;
  }
}

/** PHQ-9 answers summing to `total` (item 9 = `item9`), spread over items 1–8. */
export function phq9Answers(total: number, item9 = 0): number[] {
  const items = [0, 0, 0, 0, 0, 0, 0, 0, item9];
  let left = total - item9;
  for (let round = 0; left > 0; round++) {
    for (let i = 0; i < 8 && left > 0; i++) {
      if (items[i]! < 3) {
        items[i]!++;
        left--;
      }
    }
    if (round > 3) throw new Error(`phq9Answers: cannot make ${total} with item 9 = ${item9}`);
  }
  return items;
}

/** GAD-7 answers summing to `total`. */
export function gad7Answers(total: number): number[] {
  const items = [0, 0, 0, 0, 0, 0, 0];
  let left = total;
  while (left > 0) {
    for (let i = 0; i < 7 && left > 0; i++) {
      if (items[i]! < 3) {
        items[i]!++;
        left--;
      }
    }
  }
  return items;
}

/**
 * The reference episode of the tests: baseline PHQ-9 18 / GAD-7 14 on day 12; six doses on days 14, 24
 * (inside dose 1's 14-day window: overlap), 45 (gap after dose 2), 52 (with a 150 mg booster), 62 (pre-dose
 * BP 146/86, given with a medical override) and 70; PHQ-9 16 on day 21 (no reliable change); PHQ-9 item 9 = 1
 * on day 23 (reviewed the same day, before dose 2); on day 44 a PHQ-9 with item 9 unanswered and a GAD-7 of 17 (reliable
 * deterioration); improvement to PHQ-9 4 / GAD-7 4 by day 76.
 */
export function referenceStory(): Story {
  const s = new Story().readyToDose();
  s.phq9(12, phq9Answers(18), 120).gad7(12, gad7Answers(14), 130);
  s.dosingSession(14);
  s.phq9(21, phq9Answers(16)).gad7(21, gad7Answers(11), 10);
  s.phq9(23, phq9Answers(13, 1));
  const flagged = s.lastId;
  // Reviewed the same day: the safety layer holds the next dose until a clinician has.
  s.day(23).add(
    'SafetyFlagReviewed',
    { assessmentEventId: flagged, rule: 'phq9-item9-positive', outcome: 'safety-plan' },
    60,
  );
  s.dosingSession(24, { vitals: [138, 88] });
  s.phq9(31, phq9Answers(11)).gad7(31, gad7Answers(9), 10);
  s.phq9(44, [1, 1, 1, 1, 1, 1, 1, 1, null]).gad7(44, gad7Answers(17), 10);
  s.dosingSession(45);
  s.phq9(51, phq9Answers(8)).gad7(51, gad7Answers(6), 10);
  s.dosingSession(52, { boosterMg: 150 });
  s.dosingSession(62, { vitals: [146, 86], override: true });
  s.phq9(66, phq9Answers(6)).gad7(66, gad7Answers(5), 10);
  s.dosingSession(70);
  s.phq9(76, phq9Answers(4)).gad7(76, gad7Answers(4), 10);
  return s;
}
