import type { EpisodeEventInput } from '../../src/episode/events.js';

/**
 * Builds synthetic event logs for tests, following the seed's story: fit → evaluation → plan → prescription →
 * delivery (2 sessions' supply) → training → preparation → dosing + integration → follow-up → refill → …
 * Timestamps advance by the given number of days from a fixed start, in a fixed offset.
 */
export class Story {
  readonly events: EpisodeEventInput[] = [];
  #n = 0;
  #day = 0;
  #session = 0;
  constructor(
    readonly episodeId = 'ep-1',
    readonly patientId = 'pt-synthetic-1',
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

  /** Append an event of `type` with `payload`, at the current day (+ `minutes`). */
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

  /** Last event appended. */
  get last(): EpisodeEventInput {
    return this.events[this.events.length - 1]!;
  }

  /** Opened, good fit, evaluated eligible, plan, prescription (6 doses), 2 delivered, trained, prepared. */
  readyToDose(): this {
    return this.day(0)
      .add('EpisodeOpened')
      .add('FitAssessed', { outcome: 'good-fit' }, 60)
      .day(3)
      .add('MedicalEvaluationScheduled', { scheduledFor: this.at(7), mode: 'telehealth' })
      .day(7)
      .add('MedicalEvaluationCompleted', { eligible: true, contraindications: [] })
      .add('TreatmentPlanCreated', {
        plannedDosingSessions: 6,
        monitoring: {
          measures: [{ instrument: 'phq9', baseline: true, everyDays: 28 }, { instrument: 'gad7' }],
        },
      })
      .add('PrescriptionIssued', {
        medication: 'ketamine',
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
        doseMg: 300,
        dosesAuthorized: 2,
      })
      .day(10)
      .add('MedicationDelivered', { doses: 2 })
      .add('SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }, 30)
      .day(12)
      .add('AssessmentRecorded', {
        instrument: 'PHQ-9',
        responses: [2, 2, 2, 2, 1, 2, 1, 1, 0],
        context: 'baseline',
      })
      .add('AssessmentRecorded', {
        instrument: 'gad7',
        responses: [2, 2, 2, 1, 1, 1, 1],
        context: 'baseline',
      })
      .add('PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true }, 60);
  }

  /** A complete dosing session on day `d`: scheduled, pre vitals, dose, post vitals, completed. */
  dosingSession(d: number, vitals: [number, number] = [122, 78]): this {
    this.#session++;
    const sessionId = `${this.episodeId}-s${this.#session}`;
    return this.day(d)
      .add('DosingSessionScheduled', { sessionId, scheduledFor: this.at(d + 1 / 24), mode: 'in-person' })
      .add(
        'VitalsRecorded',
        { sessionId, phase: 'pre', systolic: vitals[0], diastolic: vitals[1], heartRate: 72 },
        60,
      )
      .add(
        'DoseAdministered',
        { sessionId, kind: 'full', doseMg: 300, route: 'sublingual', formulation: 'sublingual-lozenge' },
        65,
      )
      .add('VitalsRecorded', { sessionId, phase: 'post', systolic: 128, diastolic: 80, heartRate: 76 }, 170)
      .add('DosingSessionCompleted', { sessionId, durationMinutes: 130 }, 195);
  }

  /** The id of the n-th dosing session (1-based). */
  session(n: number): string {
    return `${this.episodeId}-s${n}`;
  }

  integration(d: number): this {
    return this.day(d).add('IntegrationSessionCompleted', { mode: 'telehealth' });
  }
}
