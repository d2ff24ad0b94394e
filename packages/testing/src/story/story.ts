import { type EpisodeContext, type EpisodeEventInput, replay } from '@kapkit/core';
import { DAY_MS } from '@kapkit/core/time';

const HOUR_MS = 3_600_000;

/** Where every story starts unless told otherwise: 2 March 2026, 10:00 at UTC−05:00. */
export const STORY_START_MS = Date.parse('2026-03-02T10:00:00-05:00');

/** Answers as an assessment records them: a number per item, `null` for an unanswered item. */
export type Answers = readonly (number | null)[];

/** The baseline PHQ-9 of {@link Story.readyToDose} (total 13, item 9 = 0). */
export const BASELINE_PHQ9: Answers = [2, 2, 2, 2, 1, 2, 1, 1, 0];
/** The baseline GAD-7 of {@link Story.readyToDose} (total 10). */
export const BASELINE_GAD7: Answers = [2, 2, 2, 1, 1, 1, 1];

/** Options of {@link Story.readyToDose}; each has the default named in its comment. */
export interface ReadyToDoseOptions {
  /** `EpisodeOpened.referral`. Default: none. */
  readonly referral?: 'therapist' | 'self' | 'medical';
  /** `EpisodeOpened.policy`: overrides of the episode policy. Default: none. */
  readonly policy?: Record<string, unknown>;
  /** `MedicalEvaluationCompleted.contraindications`. Default `[]`. */
  readonly contraindications?: readonly string[];
  /** `TreatmentPlanCreated.plannedDosingSessions`. Default 6. */
  readonly plannedDosingSessions?: number;
  /** `TreatmentPlanCreated.monitoring.measures`. Default: PHQ-9 (baseline, every 28 days) and GAD-7. */
  readonly measures?: readonly Record<string, unknown>[];
  /** `TreatmentPlanCreated.criticalPeriodDays`. Default: none (the policy's). */
  readonly criticalPeriodDays?: number;
  /** `PrescriptionIssued.dosesAuthorized`. Default 2 (the first two sessions' supply). */
  readonly dosesAuthorized?: number;
  /** `MedicationDelivered.doses`. Default: every dose authorised. */
  readonly dosesDelivered?: number;
  /**
   * The baseline measures recorded on day 12 before the preparation session, or `false` for none. A positive
   * PHQ-9 item 9 is reviewed at the same visit ({@link Story.reviewItem9}). Default {@link BASELINE_PHQ9} and
   * {@link BASELINE_GAD7}, recorded as `'PHQ-9'` and `'gad7'` (instrument ids are matched loosely).
   */
  readonly baseline?: { readonly phq9?: Answers; readonly gad7?: Answers } | false;
}

/** Options of {@link Story.dosingSession}; each has the default named in its comment. */
export interface DosingSessionOptions {
  /** Where the session takes place. Default `'in-person'`. */
  readonly mode?: 'in-person' | 'telehealth';
  /** `DosingSessionScheduled.chaperone` (a remote session needs one). Default: not recorded. */
  readonly chaperone?: boolean;
  /** Pre-dose blood pressure, systolic/diastolic mmHg. Default 122/78. */
  readonly vitals?: readonly [number, number];
  /** Post-dose blood pressure. Default 128/80. */
  readonly post?: readonly [number, number];
  /** Post-dose SpO₂ (%). Default: not recorded. */
  readonly spo2?: number;
  /** The dose (mg). Default 300. */
  readonly doseMg?: number;
  /** Give the dose under a medical vitals override (for a pre-dose reading above the hold line). */
  readonly override?: boolean;
  /** A booster of this many mg after the dose. Default: none. */
  readonly boosterMg?: number;
  /** An integration session the next day, naming this session. Default false. */
  readonly integrate?: boolean;
  /**
   * Minutes after the start of day `d` (10:00) of each step after the dose (given at +65). Defaults: a
   * booster at +90; post-dose vitals at +170, or 120 minutes after a booster; completion 25 minutes after the
   * post-dose vitals, with a duration of the completion minus 65.
   */
  readonly minutes?: {
    readonly booster?: number;
    readonly post?: number;
    readonly completed?: number;
    readonly duration?: number;
  };
}

/**
 * Builds a synthetic event log of one KAP episode for tests, step by step, following the seed's course: fit →
 * medical evaluation → plan → prescription → delivery → training → baseline measures → preparation → dosing
 * sessions with integration → follow-ups and refills → completion. Each event is `synthetic: true`, schema
 * version 1 (the machine upcasts it), with an id `<episodeId>-e<n>`; times are `start` + days, written at
 * UTC−05:00. Every method returns the story, so steps chain.
 *
 * @example
 * ```ts
 * import { replay } from '@kapkit/core';
 * import { Story } from '@kapkit/testing';
 *
 * const story = new Story('ep-1', 'pt-synthetic-1').readyToDose().dosingSession(14).integration(15);
 * const { state, refusals } = replay(story.events);
 * console.log(refusals.length, state.context.sessions.length); // 0 1
 * ```
 */
export class Story {
  /** The events so far, in the order they were added. */
  readonly events: EpisodeEventInput[] = [];
  #n = 0;
  #day = 0;
  #session = 0;

  /**
   * @param episodeId - `episodeId` of every event (and the prefix of event and session ids).
   * @param patientId - `patientId` of every event (synthetic).
   * @param start - epoch ms of day 0 (default {@link STORY_START_MS}).
   * @param extra - fields added to every event (to test how readers treat unknown or identifying fields).
   */
  constructor(
    readonly episodeId = 'ep-1',
    readonly patientId = 'pt-synthetic-1',
    readonly start = STORY_START_MS,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {}

  /** ISO 8601 time `days` after the start (fractional days allowed; default the current day), at −05:00. */
  at(days = this.#day): string {
    const ms = this.start + days * DAY_MS - 5 * HOUR_MS;
    return `${new Date(ms).toISOString().slice(0, 19)}-05:00`;
  }

  /** Move to day `d` (days after the start): the next events happen then. */
  day(d: number): this {
    this.#day = d;
    return this;
  }

  /** Append an event of `type` with `payload` at the current day, `minutes` after its start. */
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
      ...this.extra,
      ...payload,
    } as unknown as EpisodeEventInput);
    return this;
  }

  /** The last event added. */
  get last(): EpisodeEventInput {
    const event = this.events[this.events.length - 1];
    if (event === undefined) throw new Error('Story.last: the story has no event yet');
    return event;
  }

  /** The id of the last event added. */
  get lastId(): string {
    return this.last.id;
  }

  /** The events added since `from` (an index into {@link Story.events}). */
  since(from: number): EpisodeEventInput[] {
    return this.events.slice(from);
  }

  /** The id of the n-th dosing session (1-based), as {@link Story.dosingSession} names it. */
  session(n: number): string {
    return `${this.episodeId}-s${n}`;
  }

  /**
   * Everything before the first dose: opened and found a good fit (day 0), evaluation scheduled (day 3) and
   * completed eligible, treatment plan and prescription (day 7), delivery and self-administration training
   * (day 10), baseline measures and preparation (day 12).
   */
  readyToDose(options: ReadyToDoseOptions = {}): this {
    const doses = options.dosesAuthorized ?? 2;
    const opened = {
      ...(options.referral ? { referral: options.referral } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
    };
    this.day(0)
      .add('EpisodeOpened', opened)
      .add('FitAssessed', { outcome: 'good-fit' }, 60)
      .day(3)
      .add('MedicalEvaluationScheduled', { scheduledFor: this.at(7), mode: 'telehealth' })
      .day(7)
      .add('MedicalEvaluationCompleted', {
        eligible: true,
        contraindications: options.contraindications ?? [],
      })
      .add('TreatmentPlanCreated', {
        plannedDosingSessions: options.plannedDosingSessions ?? 6,
        monitoring: {
          measures: options.measures ?? [
            { instrument: 'phq9', baseline: true, everyDays: 28 },
            { instrument: 'gad7' },
          ],
        },
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
      .add('MedicationDelivered', { doses: options.dosesDelivered ?? doses })
      .add('SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }, 30)
      .day(12);
    if (options.baseline !== false) {
      const phq9 = options.baseline?.phq9 ?? BASELINE_PHQ9;
      this.add('AssessmentRecorded', { instrument: 'PHQ-9', responses: phq9, context: 'baseline' })
        .reviewItem9(phq9)
        .add('AssessmentRecorded', {
          instrument: 'gad7',
          responses: options.baseline?.gad7 ?? BASELINE_GAD7,
          context: 'baseline',
        });
    }
    return this.add('PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true }, 60);
  }

  /**
   * When the PHQ-9 just added (`phq9`) has a positive item 9, a medical review 20 minutes later (the safety
   * layer holds the next dose until a clinician has reviewed it); otherwise nothing.
   */
  reviewItem9(phq9: Answers): this {
    if ((phq9[8] ?? 0) === 0) return this;
    return this.add(
      'SafetyFlagReviewed',
      {
        assessmentEventId: this.lastId,
        rule: 'phq9-item9-positive',
        outcome: 'no-current-risk',
        recordedBy: 'medical',
      },
      20,
    );
  }

  /** An assessment of `instrument` on day `d` (`minutes` into it); `context` `null` leaves it out. */
  assess(
    d: number,
    instrument: string,
    responses: Answers,
    context: string | null = 'routine',
    minutes = 0,
  ): this {
    return this.day(d).add(
      'AssessmentRecorded',
      { instrument, responses, ...(context === null ? {} : { context }) },
      minutes,
    );
  }

  /** A PHQ-9 on day `d`, `minutes` into it, without a context. */
  phq9(d: number, responses: Answers, minutes = 0): this {
    return this.assess(d, 'phq9', responses, null, minutes);
  }

  /** A GAD-7 on day `d`, `minutes` into it, without a context. */
  gad7(d: number, responses: Answers, minutes = 0): this {
    return this.assess(d, 'gad7', responses, null, minutes);
  }

  /**
   * A complete dosing session on day `d`: scheduled (for +60), pre-dose vitals (+60), the dose (+65), an
   * optional booster, post-dose vitals and completion (see {@link DosingSessionOptions.minutes}).
   */
  dosingSession(d: number, options: DosingSessionOptions = {}): this {
    const sessionId = this.#schedule(d, options);
    const [systolic, diastolic] = options.vitals ?? [122, 78];
    this.add('VitalsRecorded', { sessionId, phase: 'pre', systolic, diastolic, heartRate: 72 }, 60).add(
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
    const m = options.minutes ?? {};
    let lastDose = 65;
    if (options.boosterMg) {
      lastDose = m.booster ?? 90;
      this.add(
        'DoseAdministered',
        {
          sessionId,
          kind: 'booster',
          doseMg: options.boosterMg,
          route: 'sublingual',
          formulation: 'sublingual-lozenge',
        },
        lastDose,
      );
    }
    const post = m.post ?? Math.max(170, lastDose + 120);
    const completed = m.completed ?? post + 25;
    const [ps, pd] = options.post ?? [128, 80];
    this.add(
      'VitalsRecorded',
      {
        sessionId,
        phase: 'post',
        systolic: ps,
        diastolic: pd,
        heartRate: 76,
        ...(options.spo2 === undefined ? {} : { spo2: options.spo2 }),
      },
      post,
    ).add('DosingSessionCompleted', { sessionId, durationMinutes: m.duration ?? completed - 65 }, completed);
    if (options.integrate)
      this.day(d + 1).add('IntegrationSessionCompleted', { mode: 'telehealth', sessionId });
    return this;
  }

  /** A dosing session on day `d` aborted for a vitals hold: scheduled, pre-dose `vitals`, aborted (+70). */
  heldSession(
    d: number,
    vitals: readonly [number, number],
    options: Pick<DosingSessionOptions, 'mode' | 'chaperone'> = {},
  ): this {
    const sessionId = this.#schedule(d, options);
    return this.add(
      'VitalsRecorded',
      { sessionId, phase: 'pre', systolic: vitals[0], diastolic: vitals[1] },
      60,
    ).add('DosingSessionAborted', { sessionId, reason: 'vitals-hold' }, 70);
  }

  /** An integration session on day `d` (telehealth). */
  integration(d: number): this {
    return this.day(d).add('IntegrationSessionCompleted', { mode: 'telehealth' });
  }

  /**
   * A full course of three sessions: ready to dose with 3 sessions planned, 6 doses authorised, 4 delivered
   * and a self-referral; remote sessions with a chaperone on days 14, 24 (with a 100 mg booster) and 34, each
   * integrated the next day; PHQ-9 and GAD-7 on days 20 and 40; completed on day 41. Post-dose vitals (at +210)
   * carry SpO₂ 98, and each session lasts 150 minutes.
   */
  fullCourse(): this {
    const session = {
      mode: 'telehealth',
      chaperone: true,
      spo2: 98,
      minutes: { post: 210, completed: 215 },
    } as const;
    return this.readyToDose({
      referral: 'self',
      plannedDosingSessions: 3,
      measures: [{ instrument: 'phq9', everyDays: 28 }, { instrument: 'gad7' }],
      dosesAuthorized: 6,
      dosesDelivered: 4,
    })
      .dosingSession(14, session)
      .integration(15)
      .assess(20, 'phq9', [1, 1, 1, 1, 1, 1, 1, 0, 0])
      .assess(20, 'gad7', [1, 1, 1, 1, 0, 1, 1])
      .dosingSession(24, { ...session, boosterMg: 100 })
      .integration(25)
      .dosingSession(34, session)
      .integration(35)
      .assess(40, 'phq9', [0, 1, 0, 1, 0, 0, 0, 0, 0])
      .assess(40, 'gad7', [0, 0, 1, 0, 0, 0, 0])
      .day(41)
      .add('EpisodeCompleted');
  }

  /** The episode's context after replaying the story; throws, listing the refusals, if any event was refused. */
  context(): EpisodeContext {
    const { state, refusals } = replay(this.events);
    if (refusals.length > 0) {
      throw new Error(
        `story refused: ${refusals.map((r) => `#${r.index} ${r.code}: ${r.message}`).join('; ')}`,
      );
    }
    return state.context;
  }

  #schedule(d: number, options: Pick<DosingSessionOptions, 'mode' | 'chaperone'>): string {
    this.#session++;
    const sessionId = this.session(this.#session);
    this.day(d).add('DosingSessionScheduled', {
      sessionId,
      scheduledFor: this.at(d + 1 / 24),
      mode: options.mode ?? 'in-person',
      ...(options.chaperone === undefined ? {} : { chaperone: options.chaperone }),
    });
    return sessionId;
  }
}
