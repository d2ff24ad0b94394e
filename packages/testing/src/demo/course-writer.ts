import { DAY_MS } from '@kapkit/core/time';
import { MINUTE_MS, weekdayOf } from './clock.js';
import { dosingSession, type SessionOptions } from './dosing-session.js';
import { type EpisodeLog, H } from './episode-log.js';
import {
  clamp,
  difficultyOf,
  gad7Responses,
  type Profile,
  phq9Responses,
  phqItems,
  power,
} from './profile.js';
import type { Random } from './random.js';
import type { DemoEvent } from './types.js';

/** Simulates one patient's course. */
export class CourseWriter {
  readonly log: EpisodeLog;
  readonly p: Profile;
  readonly rng: Random;
  // supply and follow-up state, mirrored from what the episode model will fold
  authorized = 0;
  delivered = 0;
  used = 0;
  followUpSinceAuthorization = false;
  dosed = 0;
  sessionCount = 0;
  lastDoseMs: number | null = null;
  followUpDueDay: number | null = null;

  constructor(log: EpisodeLog, profile: Profile, rng: Random) {
    this.log = log;
    this.p = profile;
    this.rng = rng;
  }

  get onHand(): number {
    return this.delivered - this.used;
  }

  /** A time of day in minutes, on a 5-minute grid. */
  time(fromHour: number, toHour: number): number {
    return this.rng.int((fromHour * H) / 5, (toHour * H) / 5) * 5;
  }

  // ── assessments ─────────────────────────────────────────────────────────────────────────────────────

  /** The intended totals given doses so far and days since the last dose. */
  totals(daysSinceDose: number | null): { phq: number; gad: number } {
    const p = this.p;
    const reached = 1 - power(1 - p.ratePerDose, this.dosed);
    let fade = 1;
    if (daysSinceDose !== null && daysSinceDose > 14) fade = Math.max(0.45, 1 - (daysSinceDose - 14) / 60);
    const phq = p.phq.baseline * (1 - p.phq.gain * reached * fade) + this.rng.normal(0, p.noiseSd);
    const gad = p.gad.baseline * (1 - p.gad.gain * reached * fade) + this.rng.normal(0, p.noiseSd * 0.8);
    return { phq: Math.round(clamp(phq, 0, 27)), gad: Math.round(clamp(gad, 0, 21)) };
  }

  /**
   * PHQ-9 then GAD-7 at `ms`; a positive item 9 gets a SafetyFlagReviewed by a clinician within half an hour,
   * before any dose (the safety layer refuses a dose while it is unreviewed).
   */
  assess(ms: number, context: 'baseline' | 'pre-dose' | 'follow-up' | 'routine'): void {
    const p = this.p;
    const since = this.lastDoseMs === null ? null : (ms - this.lastDoseMs) / DAY_MS;
    const { phq, gad } = this.totals(since);
    const chance9 = p.item9Chance * Math.min(1.2, phq / p.phq.baseline);
    const phqItemsOut = phq9Responses(this.rng, phq, chance9, p.phq.weights);
    const e = this.log.add(
      'AssessmentRecorded',
      {
        instrument: 'phq9',
        responses: phqItemsOut,
        supplementary: { difficulty: difficultyOf(this.rng, phq, 27) },
        context,
      },
      ms,
      'patient',
    );
    const gadMs = ms + this.rng.int(3, 8) * MINUTE_MS;
    this.log.add(
      'AssessmentRecorded',
      {
        instrument: 'gad7',
        responses: gad7Responses(this.rng, gad, p.gad.weights),
        supplementary: { difficulty: difficultyOf(this.rng, gad, 21) },
        context,
      },
      gadMs,
      'patient',
    );
    if (phqItemsOut[phqItems - 1]! > 0) {
      const item9 = phqItemsOut[phqItems - 1]!;
      const outcome = this.rng.weighted([
        ['no-current-risk', item9 === 1 ? 70 : 30],
        ['safety-plan', 25],
        ['escalated', item9 === 1 ? 5 : 20],
      ] as const);
      this.log.add(
        'SafetyFlagReviewed',
        { assessmentEventId: e.id, rule: 'phq9-item9-positive', outcome },
        gadMs + this.rng.int(10, 20) * MINUTE_MS,
        this.rng.chance(0.6) ? 'medical' : 'therapist',
      );
    }
  }

  // ── supply and follow-ups ───────────────────────────────────────────────────────────────────────────

  lot(): string {
    return `DEMO-LOT-${String(this.rng.int(0, 0xffffff).toString(16)).padStart(6, '0').toUpperCase()}`;
  }

  deliver(ms: number): void {
    const doses = this.authorized - this.delivered;
    if (doses <= 0) return;
    this.delivered += doses;
    this.log.add('MedicationDelivered', { doses, lot: this.lot() }, ms, 'system');
  }

  /** Units the rest of the course needs (a booster or a half dose takes half a unit). */
  unitsStillNeeded(): number {
    const left = this.p.plannedSessions - this.dosed;
    return left + (this.p.boosterChance > 0 ? Math.ceil(left * this.p.boosterChance * 0.5) : 0);
  }

  /**
   * A medical follow-up on `day`; with a refill when the remaining course needs more than is authorised (or
   * when `forceRefill`), and a delivery `deliveryDelay` days later. Returns the delivery day, if any.
   */
  followUp(day: number, opts: { forceRefill?: boolean; allowRefill?: boolean; latestDeliveryDay?: number }) {
    const ms = this.log.at(day, this.time(9, 17));
    this.log.add('MedicalFollowUpCompleted', { continueTreatment: true }, ms, 'medical');
    this.followUpSinceAuthorization = true;
    this.followUpDueDay = day + this.rng.int(45, 85);
    const need = this.unitsStillNeeded() - (this.authorized - this.used);
    if (opts.allowRefill === false || (!opts.forceRefill && need <= 0)) return null;
    return this.refill(ms + this.rng.int(15, 45) * MINUTE_MS, Math.max(1, need), opts.latestDeliveryDay);
  }

  /** A refill at `ms` and its delivery; returns the delivery day. */
  refill(ms: number, need: number, latestDeliveryDay?: number): number {
    const doses = Math.max(this.rng.int(4, 6), Math.ceil(need));
    this.authorized += doses;
    this.followUpSinceAuthorization = false;
    this.log.add('RefillIssued', { dosesAuthorized: doses }, ms, 'medical');
    const day = this.log.clock.dayOf(ms);
    let deliveryDay = day + this.rng.int(2, 5);
    if (this.rng.chance(0.04))
      deliveryDay = day + this.rng.int(10, 20); // shipping delay: supply runs out
    else if (latestDeliveryDay !== undefined)
      deliveryDay = Math.max(day, Math.min(deliveryDay, latestDeliveryDay));
    const deliveryMs =
      deliveryDay === day
        ? ms + this.rng.int(2 * H, 4 * H) * MINUTE_MS
        : this.log.at(deliveryDay, this.time(11, 17));
    this.deliver(deliveryMs);
    return this.log.clock.dayOf(deliveryMs);
  }

  /**
   * Everything medical between `fromDay` (included) and the dosing session on `sessionDay`: follow-ups that
   * fall due, refills and deliveries so that `need` units are on hand. Returns the (possibly later) session
   * day: a delayed delivery pushes the session back.
   */
  medicalBefore(fromDay: number, sessionDay: number, need: number): number {
    let day = sessionDay;
    while (this.followUpDueDay !== null && this.followUpDueDay <= day - 1) {
      const f = Math.max(this.followUpDueDay, fromDay, this.log.day);
      if (f > day - 1) break;
      const enough = this.onHand >= need;
      const delivered = this.followUp(f, { latestDeliveryDay: day - 1 });
      // a late shipment only moves the session when the session needs it
      if (delivered !== null && delivered >= day && !enough) day = delivered + this.rng.int(1, 3);
    }
    if (this.onHand < need) {
      const short = need - this.onHand;
      const start = Math.max(fromDay, this.log.day);
      if (this.authorized - this.delivered >= short) {
        const d = Math.max(start, day - this.rng.int(1, 3));
        this.deliver(this.log.at(d, this.time(11, 17)));
      } else if (this.followUpSinceAuthorization) {
        const d = Math.max(start, day - this.rng.int(2, 4));
        const delivered = this.refill(this.log.at(d, this.time(9, 15)), short, day - 1);
        if (delivered >= day) day = delivered + this.rng.int(1, 3);
      } else {
        const d = Math.max(start, day - this.rng.int(2, 4));
        const delivered = this.followUp(d, { forceRefill: true, latestDeliveryDay: day - 1 });
        if (delivered !== null && delivered >= day) day = delivered + this.rng.int(1, 3);
      }
    }
    return weekdayOf(day) === 0 ? day + 1 : day;
  }

  // ── sessions ────────────────────────────────────────────────────────────────────────────────────────

  vitals(
    sessionId: string,
    phase: 'pre' | 'during' | 'post',
    ms: number,
    systolic: number,
    diastolic: number,
  ) {
    this.log.add(
      'VitalsRecorded',
      {
        sessionId,
        phase,
        systolic: Math.round(clamp(systolic, 85, 200)),
        diastolic: Math.round(clamp(diastolic, 50, 120)),
        heartRate: Math.round(
          clamp(
            this.p.heartRate + this.rng.normal(phase === 'pre' ? 2 : 6, 5),
            48,
            phase === 'pre' ? 112 : 128,
          ),
        ),
        spo2: this.rng.int(95, 100),
      },
      ms,
      'patient',
    );
  }

  /** One dosing session on `day` (see {@link dosingSession}); `this.dosed` tells whether a dose was given. */
  session(day: number, opts: SessionOptions): void {
    dosingSession(this, day, opts);
  }

  /** A clinician reviews an adverse event the next day (moderate and worse raise alerts until reviewed). */
  reviewAdverseEvent(
    ae: DemoEvent,
    day: number,
    outcome: 'no-current-risk' | 'safety-plan' | 'escalated',
    role: 'medical' | 'therapist',
  ): void {
    this.log.defer(
      'AdverseEventReviewed',
      { adverseEventId: ae.id, outcome },
      this.log.at(day + 1, this.time(8, 9)),
      role,
    );
  }

  /** 1–3 integration sessions from `fromDay`, before `beforeDay`; returns the last day used. */
  integrations(fromDay: number, beforeDay: number, sessionId: string): number {
    const rng = this.rng;
    const wanted = rng.weighted([
      [1, 30],
      [2, 45],
      [3, 25],
    ] as const);
    let day = fromDay + rng.int(0, Math.max(0, Math.min(2, beforeDay - fromDay - 1)));
    let last = fromDay - 1;
    for (let i = 0; i < wanted && day < beforeDay; i++) {
      this.log.add(
        'IntegrationSessionCompleted',
        { mode: rng.chance(0.8) ? this.p.mode : 'telehealth', sessionId },
        this.log.at(day, this.time(9, 18)),
        'therapist',
      );
      last = day;
      day += rng.int(2, 4);
    }
    return last;
  }
}
