import { DAY_MS } from '@kapkit/core/time';
import { INITIAL_SUPPLY_SESSIONS } from '@kapkit/core/vocabularies';
import { type DemoZone, demoZones, MINUTE_MS, PatientClock, weekdayOf } from './clock.js';
import { CourseWriter } from './course-writer.js';
import { EpisodeLog, H, type Role, type SessionMode } from './episode-log.js';
import { considerations, contraindicated, demoMedications, makeProfile, type Profile } from './profile.js';
import { Random } from './random.js';
import { DEMO_ENROLMENT_DAYS, type DemoEpisode, type DemoOutcome } from './types.js';

/*
 * One synthetic episode, stage by stage: fit discussion → medical evaluation → plan, consent, prescription →
 * first supply, training, preparation with baseline measures → the dosing course (with its pause, dropout or
 * adverse-event ending) → the end of the course (follow-up measures, optional maintenance, completion).
 *
 * The demo output is pinned byte for byte: every stage draws from the patient's generators (`rng`, and
 * `proto` for consent, medications and maintenance) in the order the single function it was split from did.
 * Reordering a draw, or drawing in a new place, changes every later event of the patient.
 */

type Path = 'not-a-fit' | 'ineligible' | 'withdrew-before-dosing' | 'dropout' | 'adverse-event' | 'completed';
type Closing = 'patient-choice' | 'lost-to-follow-up' | 'not-a-fit' | 'ineligible' | 'adverse-event';

/** Generate patient `index` (0-based) of a cohort of `patients` enrolled from `firstDay`, ids `width` digits wide. */
export function generateEpisode(
  index: number,
  seed: string,
  firstDay: number,
  width: number,
  patients: number,
): DemoEpisode {
  return new DemoCourse(index, seed, firstDay, width, patients).run();
}

class DemoCourse {
  readonly rng: Random;
  // Consent, medications and maintenance draw from their own stream, so the rest of a course stays as it was.
  readonly proto: Random;
  readonly zone: DemoZone;
  readonly clock: PatientClock;
  readonly patientId: string;
  readonly episodeId: string;
  readonly log: EpisodeLog;
  readonly p: Profile;
  readonly w: CourseWriter;
  readonly openDay: number;
  readonly notBeforeMs: number;
  readonly path: Path;
  readonly planned: number;
  readonly stopAfterDose: number;
  readonly dropoutReason: 'patient-choice' | 'lost-to-follow-up';
  readonly pauseAfterDose: number | null;

  constructor(
    readonly index: number,
    seed: string,
    firstDay: number,
    width: number,
    patients: number,
  ) {
    const rng = new Random(`kapkit-demo:${seed}:${index}`);
    this.rng = rng;
    this.proto = new Random(`kapkit-demo:${seed}:${index}:protocol`);
    this.zone = rng.weighted(demoZones);
    this.clock = new PatientClock(this.zone);
    const num = String(index + 1).padStart(width, '0');
    this.patientId = `demo-pt-${num}`;
    this.episodeId = `demo-ep-${num}`;
    this.log = new EpisodeLog(this.episodeId, this.patientId, this.clock);
    this.p = makeProfile(rng);
    this.w = new CourseWriter(this.log, this.p, rng);
    // Enrolment days never decrease with the index (the interleaving relies on it).
    this.openDay = firstDay + Math.floor(((index + rng.next()) * DEMO_ENROLMENT_DAYS) / patients);
    this.notBeforeMs = this.openDay * DAY_MS - 14 * 60 * MINUTE_MS;
    this.path = rng.weighted([
      ['not-a-fit', 4],
      ['ineligible', 6],
      ['withdrew-before-dosing', 3],
      ['dropout', 15],
      ['adverse-event', 1.5],
      ['completed', 70.5],
    ] as const);
    this.planned = this.p.plannedSessions;
    const stops = this.path === 'dropout' || this.path === 'adverse-event';
    this.stopAfterDose = stops ? rng.int(1, this.planned - 1) : this.planned;
    this.dropoutReason = rng.chance(0.55) ? 'patient-choice' : 'lost-to-follow-up';
    this.pauseAfterDose = rng.chance(0.09) ? rng.int(1, this.planned - 1) : null;
  }

  run(): DemoEpisode {
    const fitDay = this.fitDiscussion();
    if (fitDay === null) return this.done('not-a-fit');
    const evaluation = this.medicalEvaluation(fitDay);
    if (evaluation === null) return this.done('ineligible');
    const rxDay = this.planAndPrescribe(evaluation.day, evaluation.endMs);
    if (rxDay === null) return this.done('withdrew-before-dosing');
    const { prepDay, prepMs } = this.prepare(rxDay);
    return this.done(this.dosingCourse(prepDay, prepMs));
  }

  done(outcome: DemoOutcome): DemoEpisode {
    const { log } = this;
    log.flush();
    return {
      index: this.index,
      patientId: this.patientId,
      episodeId: this.episodeId,
      events: log.events,
      times: log.times,
      notBeforeMs: this.notBeforeMs,
      outcome,
      plannedDosingSessions: outcome === 'not-a-fit' || outcome === 'ineligible' ? null : this.planned,
      zone: this.zone.name,
    };
  }

  close(day: number, reason: Closing, role: Role): void {
    const { log } = this;
    log.flush();
    log.add('EpisodeDiscontinued', { reason }, log.at(Math.max(day, log.day), this.w.time(9, 18)), role);
  }

  /** Opened, and the fit discussion (sometimes in two meetings); the day found a good fit, or null if not. */
  fitDiscussion(): number | null {
    const { rng, log, w } = this;
    const opened = log.at(this.openDay, w.time(9, 17));
    log.add(
      'EpisodeOpened',
      {
        referral: rng.weighted([
          ['therapist', 70],
          ['self', 20],
          ['medical', 10],
        ] as const),
      },
      opened,
      'therapist',
    );
    let fitDay = this.openDay;
    if (rng.chance(0.08)) {
      log.add('FitAssessed', { outcome: 'needs-more-discussion' }, opened + 50 * MINUTE_MS, 'therapist');
      fitDay = this.openDay + rng.int(6, 8);
    }
    if (this.path === 'not-a-fit') {
      log.add(
        'FitAssessed',
        { outcome: 'not-a-fit' },
        log.at(fitDay, w.time(9, 17)) + 50 * MINUTE_MS,
        'therapist',
      );
      this.close(fitDay + rng.int(0, 7), 'not-a-fit', 'therapist');
      return null;
    }
    log.add(
      'FitAssessed',
      { outcome: 'good-fit' },
      Math.max(log.lastMs, log.at(fitDay, w.time(9, 17))) + 50 * MINUTE_MS,
      'therapist',
    );
    return fitDay;
  }

  /** The medical evaluation (sometimes rescheduled) and medication review; null when found ineligible. */
  medicalEvaluation(fitDay: number): { day: number; endMs: number } | null {
    const { rng, log, w, clock } = this;
    const evalMode: SessionMode = rng.chance(0.9) ? 'telehealth' : 'in-person';
    let evalDay = fitDay + rng.int(5, 14);
    let evalMs = log.at(evalDay, w.time(9, 17));
    log.add(
      'MedicalEvaluationScheduled',
      { scheduledFor: clock.format(evalMs), mode: evalMode },
      log.at(fitDay + rng.int(1, 3), w.time(9, 17)),
      'medical',
    );
    if (rng.chance(0.06)) {
      evalDay += rng.int(3, 8);
      evalMs = log.at(evalDay, w.time(9, 17));
      log.add(
        'MedicalEvaluationScheduled',
        { scheduledFor: clock.format(evalMs), mode: evalMode },
        log.at(Math.max(log.day + 1, evalDay - rng.int(3, 5)), w.time(9, 17)),
        'medical',
      );
    }
    const evalEnd = evalMs + rng.int(45, 75) * MINUTE_MS;
    if (this.path === 'ineligible') {
      const codes = [rng.pick(contraindicated)];
      if (rng.chance(0.3)) {
        const more = rng.pick(contraindicated);
        if (more !== codes[0]) codes.push(more);
      }
      log.add(
        'MedicalEvaluationCompleted',
        { eligible: false, contraindications: codes },
        evalEnd,
        'medical',
      );
      this.close(evalDay + rng.int(1, 7), 'ineligible', 'medical');
      return null;
    }
    log.add(
      'MedicalEvaluationCompleted',
      { eligible: true, contraindications: rng.chance(0.08) ? [rng.pick(considerations)] : [] },
      evalEnd,
      'medical',
    );
    log.add(
      'MedicationsReviewed',
      { medications: demoMedications(this.proto) },
      evalEnd + 2 * MINUTE_MS,
      'medical',
    );
    return { day: evalDay, endMs: evalEnd };
  }

  /** Treatment plan, consent and the first prescription; the prescription's day, or null if the patient withdrew. */
  planAndPrescribe(evalDay: number, evalEnd: number): number | null {
    const { rng, log, w, p, proto } = this;
    const planMs = rng.chance(0.6)
      ? evalEnd + rng.int(10, 30) * MINUTE_MS
      : log.at(evalDay + rng.int(1, 3), w.time(9, 17));
    log.add(
      'TreatmentPlanCreated',
      {
        plannedDosingSessions: this.planned,
        monitoring: {
          measures: [
            { instrument: 'phq9', baseline: true, beforeEachDoseWithinDays: 7, everyDays: 28 },
            { instrument: 'gad7', baseline: true, beforeEachDoseWithinDays: 7, everyDays: 28 },
          ],
        },
        criticalPeriodDays: 14,
        followUpIntervalDays: 90,
        // Starting slow: a half dose first, then the full dose.
        ...(p.halfFirstDose
          ? {
              titration: [
                { fromSession: 1, doseMg: p.doseMg / 2 },
                { fromSession: 2, doseMg: p.doseMg },
              ],
            }
          : {}),
      },
      planMs,
      'medical',
    );
    log.add(
      'InformedConsentRecorded',
      {
        scope: proto.chance(0.92) ? ['kap', 'remote-sessions', 'research-use'] : ['kap', 'remote-sessions'],
        documentVersion: 'demo KAP consent v2',
      },
      planMs + 5 * MINUTE_MS,
      'therapist',
    );
    // The first prescription and shipment cover the first 2 dosing sessions (seed).
    const initialDoses = INITIAL_SUPPLY_SESSIONS;
    const rxMs = planMs + rng.int(10, 40) * MINUTE_MS;
    log.add(
      'PrescriptionIssued',
      {
        medication: 'ketamine',
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
        doseMg: p.doseMg,
        dosesAuthorized: initialDoses,
      },
      rxMs,
      'medical',
    );
    w.authorized = initialDoses;
    const rxDay = this.clock.dayOf(rxMs);
    if (this.path === 'withdrew-before-dosing') {
      this.close(
        rxDay + rng.int(3, 25),
        rng.chance(0.6) ? 'patient-choice' : 'lost-to-follow-up',
        'therapist',
      );
      return null;
    }
    return rxDay;
  }

  /** First delivery, training, baseline measures and preparation (sometimes two sessions). */
  prepare(rxDay: number): { prepDay: number; prepMs: number } {
    const { rng, log, w, p } = this;
    const deliveryDay = rxDay + rng.int(3, 7);
    w.deliver(log.at(deliveryDay, w.time(11, 17)));
    const trainingDay = deliveryDay + rng.int(1, 3);
    log.add(
      'SelfAdministrationTrained',
      { vitalsTrained: true, selfAdministrationTrained: true },
      log.at(trainingDay, w.time(9, 18)),
      'medical',
    );
    let prepDay = trainingDay + rng.int(1, 5);
    const prepMode = p.mode;
    const prepMs = log.at(prepDay, w.time(9, 17));
    w.assess(prepMs - rng.int(20, 120) * MINUTE_MS, 'baseline');
    log.add('PreparationSessionCompleted', { mode: prepMode, intentionsSet: true }, prepMs, 'therapist');
    if (rng.chance(0.35)) {
      prepDay += rng.int(3, 7);
      log.add(
        'PreparationSessionCompleted',
        { mode: prepMode, intentionsSet: true },
        log.at(prepDay, w.time(9, 17)),
        'therapist',
      );
    }
    return { prepDay, prepMs };
  }

  /** The dosing sessions, each with its pre-dose measures and integration, until the course ends. */
  dosingCourse(prepDay: number, prepMs: number): DemoOutcome {
    const { rng, log, w, p } = this;
    let sessionDay = prepDay + rng.int(2, 7);
    let fromDay = prepDay + 1;
    let lastAssessDay = this.clock.dayOf(prepMs);
    let rebooked = false;
    for (;;) {
      // Boosters only once the first two sessions (the initial supply) have shown how the patient responds.
      const booster = rng.chance(p.boosterChance) && w.dosed >= INITIAL_SUPPLY_SESSIONS;
      const half = p.halfFirstDose && w.dosed === 0;
      const need = (half ? 0.5 : 1) + (booster ? 0.5 : 0);
      if (weekdayOf(sessionDay) === 0) sessionDay++;
      sessionDay = w.medicalBefore(fromDay, sessionDay, need);
      // Never in the past of the log (a late shipment may already be logged): the session waits for the next day.
      if (sessionDay < log.day) sessionDay = log.day + 1;
      if (weekdayOf(sessionDay) === 0) sessionDay++;
      // PHQ-9 and GAD-7 within 7 days before each dosing session (the baseline counts for the first).
      const recent = sessionDay - lastAssessDay <= 6;
      if (!recent || (w.dosed > 0 && !rebooked)) {
        const day = Math.max(sessionDay - rng.int(0, 3), log.day);
        const ms = day === sessionDay ? log.at(day, 7 * H + rng.int(0, 90)) : log.at(day, w.time(8, 21));
        w.assess(Math.max(ms, log.lastMs + MINUTE_MS), 'pre-dose');
        lastAssessDay = day;
      }
      const serious = this.path === 'adverse-event' && w.dosed === this.stopAfterDose - 1;
      const before = w.dosed;
      w.session(sessionDay, { seriousAdverseEvent: serious, booster });
      const a = sessionDay;
      if (w.dosed === before) {
        // aborted before any dose: rebook a few days later
        fromDay = a + 1;
        sessionDay = a + rng.int(2, 7);
        rebooked = true;
        continue;
      }
      rebooked = false;
      const lastSessionId = `${this.episodeId}-s${String(w.sessionCount).padStart(2, '0')}`;
      if (serious) {
        log.add(
          'MedicalFollowUpCompleted',
          { continueTreatment: false },
          log.at(a + rng.int(1, 2), w.time(9, 17)),
          'medical',
        );
        this.close(a + rng.int(2, 4), 'adverse-event', 'medical');
        return 'adverse-event';
      }
      if (w.dosed >= this.planned) return this.completeCourse(a, lastSessionId);
      if (this.path === 'dropout' && w.dosed >= this.stopAfterDose) return this.dropOut(a, lastSessionId);
      // between sessions
      const gap = rng.chance(p.longGapChance) ? rng.int(15, 30) : rng.int(5, 13);
      sessionDay = a + gap;
      const lastIntegration = w.integrations(a + 1, sessionDay, lastSessionId);
      fromDay = a + 1;
      if (this.pauseAfterDose === w.dosed) {
        const resumeDay = this.pause(lastIntegration);
        fromDay = resumeDay + 1;
        sessionDay = resumeDay + rng.int(3, 8);
      }
    }
  }

  /** The patient leaves after the session on day `a`: by choice (after some integration) or lost to follow-up. */
  dropOut(a: number, lastSessionId: string): DemoOutcome {
    const { rng, w } = this;
    if (this.dropoutReason === 'patient-choice') {
      const last = rng.chance(0.7) ? w.integrations(a + 1, a + 8, lastSessionId) : a;
      this.close(last + rng.int(1, 14), 'patient-choice', 'therapist');
    } else {
      const last = rng.chance(0.5) ? w.integrations(a + 1, a + 4, lastSessionId) : a;
      this.close(last + rng.int(45, 90), 'lost-to-follow-up', 'medical');
    }
    return 'dropout';
  }

  /**
   * A pause after the integration of `lastIntegration` (a follow-up falling due during it comes first, with no
   * refill: that comes after resuming), a routine measure during a long one, and the resumption; its day.
   */
  pause(lastIntegration: number): number {
    const { rng, log, w } = this;
    const pauseDay = lastIntegration + rng.int(1, 3);
    if (w.followUpDueDay !== null && w.followUpDueDay <= pauseDay + 45) {
      w.followUp(Math.max(log.day, Math.min(w.followUpDueDay, pauseDay)), { allowRefill: false });
    }
    log.add(
      'EpisodePaused',
      {
        reason: rng.weighted([
          ['patient-request', 35],
          ['scheduling', 25],
          ['financial', 15],
          ['medical', 15],
          ['other', 10],
        ] as const),
      },
      log.at(Math.max(pauseDay, log.day), 17 * H + rng.int(0, 60)),
      'therapist',
    );
    const resumeDay = log.day + rng.int(14, 42);
    if (resumeDay - log.day > 24) w.assess(log.at(log.day + rng.int(12, 20), w.time(8, 21)), 'routine');
    log.add('EpisodeResumed', {}, log.at(resumeDay, w.time(9, 12)), 'therapist');
    return resumeDay;
  }

  /**
   * The planned sessions are done (the last on day `a`): integration, post-course measures and the medical
   * follow-up, maintenance sessions for some, then completion (a few withdraw research use afterwards).
   */
  completeCourse(a: number, lastSessionId: string): DemoOutcome {
    const { rng, log, w, proto } = this;
    const lastIntegration = w.integrations(a + 1, a + 14, lastSessionId);
    let d = Math.max(lastIntegration + 1, a + rng.int(7, 21));
    if (w.followUpDueDay !== null && w.followUpDueDay < d) d = Math.max(w.followUpDueDay, log.day);
    w.assess(log.at(d, w.time(8, 12)), 'follow-up');
    const maintain = proto.chance(0.2);
    log.add(
      'MedicalFollowUpCompleted',
      { continueTreatment: maintain },
      log.at(d, w.time(13, 17)),
      'medical',
    );
    if (maintain) this.maintenance(d);
    if (proto.chance(0.03)) {
      log.add('EpisodeCompleted', {}, log.at(log.day + rng.int(0, 7), w.time(9, 18)), 'therapist');
      log.add(
        'ConsentWithdrawn',
        { scope: ['research-use'] },
        log.at(log.day + proto.int(10, 60), w.time(9, 18)),
        'patient',
      );
      return 'completed';
    }
    log.flush();
    log.add('EpisodeCompleted', {}, log.at(log.day + rng.int(0, 7), w.time(9, 18)), 'therapist');
    return 'completed';
  }

  /** Maintenance sessions every 30–60 days after the follow-up on day `d` (1 to 3 of them). */
  maintenance(d: number): void {
    const { log, w, proto } = this;
    const interval = proto.pick([30, 45, 60]);
    log.add('MaintenancePlanned', { intervalDays: interval }, log.lastMs + 20 * MINUTE_MS, 'medical');
    let day = d;
    for (let k = proto.int(1, 3); k > 0; k--) {
      const due = w.medicalBefore(log.day + 1, day + interval, 1);
      w.assess(Math.max(log.at(due - 1, w.time(8, 21)), log.lastMs + MINUTE_MS), 'pre-dose');
      const before = w.dosed;
      w.session(due, { seriousAdverseEvent: false, booster: false });
      day = due;
      if (w.dosed === before) continue;
      const id = `${this.episodeId}-s${String(w.sessionCount).padStart(2, '0')}`;
      day = w.integrations(due + 1, due + 10, id);
    }
    log.flush();
  }
}
