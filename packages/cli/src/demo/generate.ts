import {
  type EpisodeEventInput,
  type EventType,
  INITIAL_SUPPLY_SESSIONS,
  type MedicationClass,
} from '@kapkit/core';
import { DAY_MS, dayNumberOf, demoZones, MINUTE_MS, PatientClock, weekdayOf } from './clock.js';
import { Random } from './random.js';

/**
 * A deterministic synthetic cohort of KAP episodes, following the seed's course: fit discussion → medical
 * evaluation → treatment plan (PHQ-9 + GAD-7 monitoring) → prescription → delivery of the first 2 sessions'
 * supply → training → preparation with baseline measures → dosing sessions (vitals, dose, occasional booster,
 * vitals) each followed by integration sessions, with medical follow-ups and refills, and the ways real
 * courses end: completion, dropout, ineligibility, not a fit, adverse event.
 *
 * Every record carries `synthetic: true`; ids are obviously synthetic (`demo-pt-0001`, `demo-ep-0001`) and
 * no record has a name or free text about a person. Same options → same events, byte for byte.
 */

/** The default first enrolment day: fixed, so output is reproducible. */
export const DEMO_DEFAULT_START = '2026-01-05';
/** Patients are enrolled over this many days from `start`. */
export const DEMO_ENROLMENT_DAYS = 365;
/** Most patients a cohort may have. */
export const DEMO_MAX_PATIENTS = 100_000;

export interface DemoCohortOptions {
  /** Number of patients (one episode each), 1 to 100,000. */
  readonly patients: number;
  /** Any string or number; the same seed gives the same cohort. */
  readonly seed: string | number;
  /** First enrolment day, `YYYY-MM-DD` (a date-time is cut to its date). Default {@link DEMO_DEFAULT_START}. */
  readonly start?: string;
}

/** A generated event: a valid `EpisodeEventInput`, always marked synthetic. */
export type DemoEvent = EpisodeEventInput & { readonly synthetic: true };

/** How a generated course was meant to end (what the generator intended; `replay` decides what it is). */
export type DemoOutcome =
  | 'not-a-fit'
  | 'ineligible'
  | 'withdrew-before-dosing'
  | 'dropout'
  | 'adverse-event'
  | 'completed';

/** One synthetic episode: its events in time order, and what the generator intended. */
export interface DemoEpisode {
  /** 0-based patient index in the cohort. */
  readonly index: number;
  readonly patientId: string;
  readonly episodeId: string;
  readonly events: readonly DemoEvent[];
  /** Epoch ms of each event's `at`, parallel to `events`. */
  readonly times: readonly number[];
  /** No event of this or any later episode of the cohort is earlier than this (epoch ms). */
  readonly notBeforeMs: number;
  readonly outcome: DemoOutcome;
  readonly plannedDosingSessions: number | null;
  readonly zone: string;
}

type Role = 'therapist' | 'medical' | 'patient' | 'chaperone' | 'system';
type Envelope =
  | 'id'
  | 'episodeId'
  | 'patientId'
  | 'type'
  | 'at'
  | 'recordedAt'
  | 'v'
  | 'recordedBy'
  | 'actorId'
  | 'synthetic'
  | 'note';
type PayloadOf<T extends EventType> = Omit<Extract<EpisodeEventInput, { type: T }>, Envelope>;
type SessionMode = 'in-person' | 'telehealth';

const H = 60; // minutes per hour

/** Collects one episode's events in time order, with deferred events (adverse-event reviews) flushed in time. */
class EpisodeLog {
  readonly events: DemoEvent[] = [];
  readonly times: number[] = [];
  #lastMs = Number.NEGATIVE_INFINITY;
  #deferred: { ms: number; add: () => void }[] = [];

  constructor(
    readonly episodeId: string,
    readonly patientId: string,
    readonly clock: PatientClock,
  ) {}

  get lastMs(): number {
    return this.#lastMs;
  }

  /** The local day of the last event. */
  get day(): number {
    return this.clock.dayOf(this.#lastMs);
  }

  /** Epoch ms of local day `day` at `minute` after midnight. */
  at(day: number, minute: number): number {
    return this.clock.instant(day, minute);
  }

  /** Append an event at `ms` (moved to just after the previous event if earlier), flushing due deferrals. */
  add<T extends EventType>(type: T, payload: PayloadOf<T>, ms: number, role: Role): DemoEvent {
    this.flush(ms);
    return this.#push(type, payload, ms, role);
  }

  #push<T extends EventType>(type: T, payload: PayloadOf<T>, ms: number, role: Role): DemoEvent {
    const when = ms > this.#lastMs ? ms : this.#lastMs + MINUTE_MS;
    this.#lastMs = when;
    const event = {
      id: `${this.episodeId}-e${String(this.events.length + 1).padStart(3, '0')}`,
      episodeId: this.episodeId,
      patientId: this.patientId,
      type,
      at: this.clock.format(when),
      // Demo events are recorded as they happen (clinical time = recording time).
      recordedAt: this.clock.format(when),
      v: 2,
      recordedBy: role,
      synthetic: true,
      ...payload,
    } as unknown as DemoEvent;
    this.events.push(event);
    this.times.push(when);
    return event;
  }

  /** Add an event later, when the log reaches `ms` (or at the latest when `flush()` is called). */
  defer<T extends EventType>(type: T, payload: PayloadOf<T>, ms: number, role: Role): void {
    this.#deferred.push({ ms, add: () => this.#push(type, payload, ms, role) });
    this.#deferred.sort((a, b) => a.ms - b.ms);
  }

  /** Add every deferred event due at or before `upToMs` (all of them without an argument). */
  flush(upToMs = Number.POSITIVE_INFINITY): void {
    while (this.#deferred.length > 0 && this.#deferred[0]!.ms <= upToMs) this.#deferred.shift()!.add();
  }
}

/** Per-patient traits that shape the course. */
interface Profile {
  readonly mode: SessionMode;
  readonly baselinePhq: number;
  readonly baselineGad: number;
  /** Largest fractional improvement the patient reaches (negative: worsens). */
  readonly phqGain: number;
  readonly gadGain: number;
  /** Share of the remaining gain each dose brings. */
  readonly ratePerDose: number;
  readonly noiseSd: number;
  /** Chance that PHQ-9 item 9 is positive at baseline severity. */
  readonly item9Chance: number;
  readonly phqWeights: readonly number[];
  readonly gadWeights: readonly number[];
  readonly systolic: number;
  readonly diastolic: number;
  readonly heartRate: number;
  readonly plannedSessions: number;
  readonly doseMg: number;
  /** Chance that the gap to the next dosing session is 15–30 days (the chain of critical periods breaks). */
  readonly longGapChance: number;
  readonly boosterChance: number;
  readonly halfFirstDose: boolean;
}

const phqItems = 9;
const gadItems = 7;
const contraindicated = [
  'uncontrolled-hypertension',
  'uncontrolled-glaucoma',
  'severe-breathing-problems',
  'ketamine-allergy',
  'uncontrolled-substance-use-disorder',
  'acute-mania-or-mixed-state',
  'primary-psychosis-history',
  'active-suicidal-ideation',
  'severe-decompensation',
] as const;
const considerations = [
  'prior-ketamine-use',
  'hyperthyroidism',
  'liver-disease',
  'cystitis',
  'pregnancy',
] as const;
const overrideReasons = [
  'White-coat pattern; home readings this week below 135/85; proceed with monitoring.',
  'Repeat reading within 5 mmHg of threshold, asymptomatic; cleared by medical team.',
  'Known anxiety-related rise before sessions; prior sessions uneventful; proceed.',
] as const;

/** Concurrent medications of a synthetic patient (prevalences are illustrative, not clinical data). */
function demoMedications(rng: Random) {
  const meds: { name: string; class: MedicationClass; dailyDose?: number; unit?: 'mg' }[] = [];
  if (rng.chance(0.45)) {
    const [name, dose] = rng.pick([
      ['sertraline', 100],
      ['escitalopram', 10],
      ['bupropion', 300],
      ['venlafaxine', 150],
    ] as const);
    meds.push({
      name,
      class: name === 'bupropion' ? 'cyp-inhibitor' : 'antidepressant',
      dailyDose: dose,
      unit: 'mg',
    });
  }
  if (rng.chance(0.18)) {
    const [name, doses] = rng.pick([
      ['lorazepam', [0.5, 1, 2]],
      ['clonazepam', [0.25, 0.5, 1]],
      ['alprazolam', [0.25, 0.5, 1.5]],
    ] as const);
    meds.push({ name, class: 'benzodiazepine', dailyDose: rng.pick(doses), unit: 'mg' });
  }
  if (rng.chance(0.05)) meds.push({ name: 'lamotrigine', class: 'lamotrigine', dailyDose: 200, unit: 'mg' });
  if (rng.chance(0.06)) meds.push({ name: 'methylphenidate', class: 'stimulant', dailyDose: 20, unit: 'mg' });
  return meds;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/** `base ** k` by repeated multiplication (bit-identical on every engine, unlike Math.pow). */
function power(base: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r *= base;
  return r;
}

function makeProfile(rng: Random): Profile {
  const baselinePhq = Math.round(clamp(rng.normal(16.5, 4), 8, 26));
  const baselineGad = Math.round(clamp(baselinePhq * 0.7 + rng.normal(1.5, 2.5), 4, 21));
  const response = rng.weighted([
    ['strong', 42],
    ['moderate', 33],
    ['none', 25],
  ] as const);
  const phqGain =
    response === 'strong'
      ? rng.uniform(0.65, 0.95)
      : response === 'moderate'
        ? rng.uniform(0.4, 0.65)
        : rng.uniform(-0.12, 0.2);
  const hypertensive = rng.chance(0.12);
  return {
    mode: rng.chance(0.4) ? 'telehealth' : 'in-person',
    baselinePhq,
    baselineGad,
    phqGain,
    gadGain: clamp(phqGain + rng.uniform(-0.12, 0.12), -0.15, 0.9),
    ratePerDose: rng.uniform(0.3, 0.7),
    noiseSd: rng.uniform(1, 2.2),
    item9Chance: rng.chance(0.22) ? rng.uniform(0.3, 0.6) : 0.01,
    phqWeights: Array.from({ length: phqItems - 1 }, () => rng.uniform(0.4, 1.6)),
    gadWeights: Array.from({ length: gadItems }, () => rng.uniform(0.4, 1.6)),
    systolic: hypertensive ? rng.normal(135, 3) : rng.normal(119, 8),
    diastolic: hypertensive ? rng.normal(86, 2) : rng.normal(77, 5),
    heartRate: Math.round(rng.normal(74, 7)),
    plannedSessions: rng.weighted([
      [4, 20],
      [5, 10],
      [6, 35],
      [7, 10],
      [8, 25],
    ] as const),
    doseMg: rng.weighted([
      [200, 20],
      [250, 20],
      [300, 30],
      [350, 15],
      [400, 15],
    ] as const),
    longGapChance: rng.weighted([
      [0, 55],
      [0.12, 30],
      [0.4, 15],
    ] as const),
    boosterChance: rng.chance(0.3) ? rng.uniform(0.25, 0.6) : 0,
    halfFirstDose: rng.chance(0.1),
  };
}

/** Add `total` points to items (each 0–3), item by item, with the patient's item weights. */
function distribute(rng: Random, total: number, weights: readonly number[], into: number[], offset: number) {
  let left = total;
  while (left > 0) {
    let sum = 0;
    for (let i = 0; i < weights.length; i++) if (into[offset + i]! < 3) sum += weights[i]!;
    let x = rng.next() * sum;
    let chosen = -1;
    for (let i = 0; i < weights.length; i++) {
      if (into[offset + i]! >= 3) continue;
      chosen = i;
      x -= weights[i]!;
      if (x < 0) break;
    }
    into[offset + chosen]!++;
    left--;
  }
}

/** Item responses of a PHQ-9 whose total is `total` (0–27); item 9 positive with probability `item9Chance`. */
export function phq9Responses(rng: Random, total: number, item9Chance: number, weights: readonly number[]) {
  const items = new Array<number>(phqItems).fill(0);
  let item9 = 0;
  if (total > 0 && rng.chance(item9Chance)) {
    item9 = Math.min(
      total,
      rng.weighted([
        [1, 80],
        [2, 17],
        [3, 3],
      ] as const),
    );
  }
  const maxRest = (phqItems - 1) * 3;
  if (total - item9 > maxRest) item9 = total - maxRest;
  items[phqItems - 1] = item9;
  distribute(rng, total - item9, weights, items, 0);
  return items;
}

/** Item responses of a GAD-7 whose total is `total` (0–21). */
export function gad7Responses(rng: Random, total: number, weights: readonly number[]) {
  const items = new Array<number>(gadItems).fill(0);
  distribute(rng, total, weights, items, 0);
  return items;
}

/** The Q10-style difficulty answer (0–3) that goes with a total. */
function difficultyOf(rng: Random, total: number, max: number): number {
  const level = Math.floor((total / max) * 4 + rng.uniform(-0.5, 0.5));
  return clamp(level, 0, 3);
}

/** Simulates one patient's course. */
class CourseWriter {
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
    const phq = p.baselinePhq * (1 - p.phqGain * reached * fade) + this.rng.normal(0, p.noiseSd);
    const gad = p.baselineGad * (1 - p.gadGain * reached * fade) + this.rng.normal(0, p.noiseSd * 0.8);
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
    const chance9 = p.item9Chance * Math.min(1.2, phq / p.baselinePhq);
    const phqItemsOut = phq9Responses(this.rng, phq, chance9, p.phqWeights);
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
        responses: gad7Responses(this.rng, gad, p.gadWeights),
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

  /**
   * One dosing session on `day`: scheduled, pre-dose vitals (a hold is re-measured, overridden with a reason,
   * or ends the session), dose (and booster), adverse events, post-dose vitals, completed or aborted.
   * `this.dosed` tells whether a dose was given.
   */
  session(day: number, opts: { seriousAdverseEvent: boolean; booster: boolean }): void {
    const rng = this.rng;
    const p = this.p;
    this.sessionCount++;
    const sessionId = `${this.log.episodeId}-s${String(this.sessionCount).padStart(2, '0')}`;
    const mode: SessionMode = rng.chance(0.15)
      ? p.mode === 'in-person'
        ? 'telehealth'
        : 'in-person'
      : p.mode;
    // After whatever the day already holds (a late delivery, the pre-dose measures), so the session keeps its timing.
    const start = Math.max(this.log.at(day, this.time(9, 15)), this.log.lastMs + 30 * MINUTE_MS);
    const min = (m: number) => start + m * MINUTE_MS;
    this.log.add(
      'DosingSessionScheduled',
      { sessionId, scheduledFor: this.log.clock.format(start), mode, chaperone: mode === 'telehealth' },
      min(-rng.int(5, 20)),
      'therapist',
    );
    if (mode === 'telehealth' && rng.chance(0.01)) {
      const end = min(rng.int(10, 25));
      this.log.add('DosingSessionAborted', { sessionId, reason: 'technical' }, end, 'therapist');
      return;
    }
    let t = rng.int(0, 5);
    let sys = p.systolic + rng.normal(0, 5);
    let dia = p.diastolic + rng.normal(0, 3.5);
    this.vitals(sessionId, 'pre', min(t), sys, dia);
    let override: { clinicianRole: 'medical' | 'therapist'; reason: string } | undefined;
    if (Math.round(sys) > 140 || Math.round(dia) > 90) {
      const handling = rng.weighted([
        ['re-measure', 55],
        ['override', 30],
        ['abort', 15],
      ] as const);
      if (handling === 'abort') {
        const end = min(t + rng.int(20, 35));
        this.log.add('DosingSessionAborted', { sessionId, reason: 'vitals-hold' }, end, 'therapist');
        return;
      }
      if (handling === 're-measure') {
        t += rng.int(15, 20);
        sys = Math.min(sys - rng.uniform(4, 12), 138);
        dia = Math.min(dia - rng.uniform(2, 6), 88);
        this.vitals(sessionId, 'pre', min(t), sys, dia);
      } else {
        // A vitals-hold override is the medical team's decision (permission table).
        override = { clinicianRole: 'medical', reason: rng.pick(overrideReasons) };
      }
    }
    if (rng.chance(0.006)) {
      const end = min(t + rng.int(10, 25));
      this.log.add('DosingSessionAborted', { sessionId, reason: 'patient-declined' }, end, 'therapist');
      return;
    }
    const half = p.halfFirstDose && this.dosed === 0;
    t += rng.int(5, 10);
    this.log.add(
      'DoseAdministered',
      {
        sessionId,
        kind: half ? 'half' : 'full',
        doseMg: half ? p.doseMg / 2 : p.doseMg,
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
        ...(override ? { vitalsOverride: override } : {}),
      },
      min(t),
      // The patient records the dose they take; a dose under a medical override is recorded by the therapist.
      override ? 'therapist' : 'patient',
    );
    const doseMs = min(t);
    let lastDose = t;
    this.used += half ? 0.5 : 1;
    this.dosed++;
    this.lastDoseMs = doseMs;
    if (this.followUpDueDay === null) this.followUpDueDay = day + rng.int(27, 34);
    if (opts.booster && this.onHand >= 0.5) {
      lastDose = t + rng.int(20, 40);
      this.log.add(
        'DoseAdministered',
        {
          sessionId,
          kind: 'booster',
          // Half the prescribed dose (the booster policy's most), so it uses half a unit.
          doseMg: p.doseMg / 2,
          route: 'sublingual',
          formulation: 'sublingual-lozenge',
        },
        min(lastDose),
        'patient',
      );
      this.used += 0.5;
    }
    if (rng.chance(0.3)) this.vitals(sessionId, 'during', min(t + rng.int(38, 50)), sys + 12, dia + 6);
    // Observed at least 2 hours after the last dose (esketamine REMS; the policy's observation time).
    let postAt = lastDose + rng.int(120, 150);
    if (opts.seriousAdverseEvent) {
      const ae = this.log.add(
        'AdverseEventReported',
        {
          sessionId,
          code: rng.pick(['dissociation-distress', 'elevated-blood-pressure', 'anxiety'] as const),
          severity: rng.chance(0.7) ? 'severe' : 'serious',
        },
        min(t + rng.int(30, 60)),
        'therapist',
      );
      this.reviewAdverseEvent(ae, day, 'escalated', 'medical');
    } else if (rng.chance(0.006)) {
      // vomiting soon after the dose: the session is stopped (a dose was given, so it still counts)
      const ae = this.log.add(
        'AdverseEventReported',
        { sessionId, code: 'vomiting', severity: 'moderate' },
        min(t + rng.int(15, 35)),
        'therapist',
      );
      this.reviewAdverseEvent(ae, day, 'no-current-risk', 'medical');
      this.vitals(sessionId, 'post', min(t + rng.int(40, 55)), sys + 6, dia + 3);
      const end = min(t + rng.int(60, 70));
      this.log.add('DosingSessionAborted', { sessionId, reason: 'adverse-event' }, end, 'therapist');
      return;
    } else if (rng.chance(0.12)) {
      const severity = rng.chance(0.85) ? 'mild' : 'moderate';
      const ae = this.log.add(
        'AdverseEventReported',
        {
          sessionId,
          code: rng.weighted([
            ['nausea', 50],
            ['headache', 15],
            ['dizziness', 15],
            ['anxiety', 15],
            ['dissociation-distress', 5],
          ] as const),
          severity,
        },
        min(t + rng.int(30, 90)),
        'therapist',
      );
      if (severity === 'moderate') this.reviewAdverseEvent(ae, day, 'no-current-risk', 'therapist');
    }
    const postSys = sys + rng.normal(4, 4);
    const postDia = dia + rng.normal(2, 3);
    this.vitals(sessionId, 'post', min(postAt), postSys, postDia);
    if (Math.round(clamp(postSys, 85, 200)) > 140 || Math.round(clamp(postDia, 50, 120)) > 90) {
      // Still above the hold threshold: the patient rests and is measured again before going home.
      postAt += rng.int(20, 40);
      this.vitals(
        sessionId,
        'post',
        min(postAt),
        Math.min(postSys - rng.uniform(6, 12), 136),
        Math.min(postDia - rng.uniform(3, 6), 86),
      );
    }
    const endMin = postAt + rng.int(5, 20);
    this.log.add('DosingSessionCompleted', { sessionId, durationMinutes: endMin }, min(endMin), 'therapist');
    return;
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

function generateEpisode(index: number, seed: string, firstDay: number, width: number, patients: number) {
  const rng = new Random(`kapkit-demo:${seed}:${index}`);
  // Consent, medications and maintenance draw from their own stream, so the rest of a course stays as it was.
  const proto = new Random(`kapkit-demo:${seed}:${index}:protocol`);
  const zone = rng.weighted(demoZones);
  const clock = new PatientClock(zone);
  const num = String(index + 1).padStart(width, '0');
  const patientId = `demo-pt-${num}`;
  const episodeId = `demo-ep-${num}`;
  const log = new EpisodeLog(episodeId, patientId, clock);
  const p = makeProfile(rng);
  const w = new CourseWriter(log, p, rng);
  // Enrolment days never decrease with the index (the interleaving relies on it).
  const openDay = firstDay + Math.floor(((index + rng.next()) * DEMO_ENROLMENT_DAYS) / patients);
  const notBeforeMs = openDay * DAY_MS - 14 * 60 * MINUTE_MS;
  const path = rng.weighted([
    ['not-a-fit', 4],
    ['ineligible', 6],
    ['withdrew-before-dosing', 3],
    ['dropout', 15],
    ['adverse-event', 1.5],
    ['completed', 70.5],
  ] as const);
  const planned = p.plannedSessions;
  const stopAfterDose = path === 'dropout' || path === 'adverse-event' ? rng.int(1, planned - 1) : planned;
  const dropoutReason = rng.chance(0.55) ? 'patient-choice' : 'lost-to-follow-up';
  const pauseAfterDose = rng.chance(0.09) ? rng.int(1, planned - 1) : null;

  const done = (outcome: DemoOutcome): DemoEpisode => {
    log.flush();
    return {
      index,
      patientId,
      episodeId,
      events: log.events,
      times: log.times,
      notBeforeMs,
      outcome,
      plannedDosingSessions: outcome === 'not-a-fit' || outcome === 'ineligible' ? null : planned,
      zone: zone.name,
    };
  };
  const close = (
    day: number,
    reason: 'patient-choice' | 'lost-to-follow-up' | 'not-a-fit' | 'ineligible' | 'adverse-event',
    role: Role,
  ) => {
    log.flush();
    log.add('EpisodeDiscontinued', { reason }, log.at(Math.max(day, log.day), w.time(9, 18)), role);
  };

  // ── fit discussion ──
  const opened = log.at(openDay, w.time(9, 17));
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
  let fitDay = openDay;
  if (rng.chance(0.08)) {
    log.add('FitAssessed', { outcome: 'needs-more-discussion' }, opened + 50 * MINUTE_MS, 'therapist');
    fitDay = openDay + rng.int(6, 8);
  }
  if (path === 'not-a-fit') {
    log.add(
      'FitAssessed',
      { outcome: 'not-a-fit' },
      log.at(fitDay, w.time(9, 17)) + 50 * MINUTE_MS,
      'therapist',
    );
    close(fitDay + rng.int(0, 7), 'not-a-fit', 'therapist');
    return done('not-a-fit');
  }
  log.add(
    'FitAssessed',
    { outcome: 'good-fit' },
    Math.max(log.lastMs, log.at(fitDay, w.time(9, 17))) + 50 * MINUTE_MS,
    'therapist',
  );

  // ── medical evaluation ──
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
  if (path === 'ineligible') {
    const codes = [rng.pick(contraindicated)];
    if (rng.chance(0.3)) {
      const more = rng.pick(contraindicated);
      if (more !== codes[0]) codes.push(more);
    }
    log.add('MedicalEvaluationCompleted', { eligible: false, contraindications: codes }, evalEnd, 'medical');
    close(evalDay + rng.int(1, 7), 'ineligible', 'medical');
    return done('ineligible');
  }
  log.add(
    'MedicalEvaluationCompleted',
    { eligible: true, contraindications: rng.chance(0.08) ? [rng.pick(considerations)] : [] },
    evalEnd,
    'medical',
  );
  log.add('MedicationsReviewed', { medications: demoMedications(proto) }, evalEnd + 2 * MINUTE_MS, 'medical');

  // ── plan, prescription, first supply, training ──
  const planMs = rng.chance(0.6)
    ? evalEnd + rng.int(10, 30) * MINUTE_MS
    : log.at(evalDay + rng.int(1, 3), w.time(9, 17));
  log.add(
    'TreatmentPlanCreated',
    {
      plannedDosingSessions: planned,
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
  const rxDay = clock.dayOf(rxMs);
  if (path === 'withdrew-before-dosing') {
    close(rxDay + rng.int(3, 25), rng.chance(0.6) ? 'patient-choice' : 'lost-to-follow-up', 'therapist');
    return done('withdrew-before-dosing');
  }
  const deliveryDay = rxDay + rng.int(3, 7);
  w.deliver(log.at(deliveryDay, w.time(11, 17)));
  const trainingDay = deliveryDay + rng.int(1, 3);
  log.add(
    'SelfAdministrationTrained',
    { vitalsTrained: true, selfAdministrationTrained: true },
    log.at(trainingDay, w.time(9, 18)),
    'medical',
  );

  // ── preparation with baseline measures ──
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

  // ── dosing course ──
  let sessionDay = prepDay + rng.int(2, 7);
  let fromDay = prepDay + 1;
  let lastAssessDay = clock.dayOf(prepMs);
  let lastSessionId = '';
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
    const serious = path === 'adverse-event' && w.dosed === stopAfterDose - 1;
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
    lastSessionId = `${episodeId}-s${String(w.sessionCount).padStart(2, '0')}`;
    if (serious) {
      log.add(
        'MedicalFollowUpCompleted',
        { continueTreatment: false },
        log.at(a + rng.int(1, 2), w.time(9, 17)),
        'medical',
      );
      close(a + rng.int(2, 4), 'adverse-event', 'medical');
      return done('adverse-event');
    }
    if (w.dosed >= planned) {
      // course complete: integration, post-course measures and medical follow-up, then completion
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
      if (maintain) {
        // Maintenance sessions every 30–60 days after the initial course, then completion.
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
          const id = `${episodeId}-s${String(w.sessionCount).padStart(2, '0')}`;
          day = w.integrations(due + 1, due + 10, id);
        }
        log.flush();
      }
      if (proto.chance(0.03)) {
        log.add('EpisodeCompleted', {}, log.at(log.day + rng.int(0, 7), w.time(9, 18)), 'therapist');
        log.add(
          'ConsentWithdrawn',
          { scope: ['research-use'] },
          log.at(log.day + proto.int(10, 60), w.time(9, 18)),
          'patient',
        );
        return done('completed');
      }
      log.flush();
      log.add('EpisodeCompleted', {}, log.at(log.day + rng.int(0, 7), w.time(9, 18)), 'therapist');
      return done('completed');
    }
    if (path === 'dropout' && w.dosed >= stopAfterDose) {
      if (dropoutReason === 'patient-choice') {
        const last = rng.chance(0.7) ? w.integrations(a + 1, a + 8, lastSessionId) : a;
        close(last + rng.int(1, 14), 'patient-choice', 'therapist');
      } else {
        const last = rng.chance(0.5) ? w.integrations(a + 1, a + 4, lastSessionId) : a;
        close(last + rng.int(45, 90), 'lost-to-follow-up', 'medical');
      }
      return done('dropout');
    }
    // between sessions
    const gap = rng.chance(p.longGapChance) ? rng.int(15, 30) : rng.int(5, 13);
    let next = a + gap;
    const lastIntegration = w.integrations(a + 1, next, lastSessionId);
    fromDay = a + 1;
    if (pauseAfterDose === w.dosed) {
      const pauseDay = lastIntegration + rng.int(1, 3);
      // a follow-up falling due during the pause happens before it (no refill: that comes after resuming)
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
      fromDay = resumeDay + 1;
      next = resumeDay + rng.int(3, 8);
    }
    sessionDay = next;
  }
}

/**
 * Generate a synthetic cohort, one episode per patient, in patient order (enrolment days never decrease).
 * Each episode's events are in time order. Deterministic: same options, same episodes.
 *
 * @example
 * ```ts
 * for (const ep of generateDemoCohort({ patients: 10, seed: 42 })) console.log(ep.episodeId, ep.events.length);
 * ```
 * @throws {RangeError} when `patients` is not a whole number from 1 to 100,000 or `start` is not a date.
 */
export function* generateDemoCohort(options: DemoCohortOptions): Generator<DemoEpisode> {
  const { patients } = options;
  if (!Number.isInteger(patients) || patients < 1 || patients > DEMO_MAX_PATIENTS) {
    throw new RangeError(`patients must be a whole number from 1 to ${DEMO_MAX_PATIENTS}, got ${patients}`);
  }
  const seed = String(options.seed);
  const start = options.start ?? DEMO_DEFAULT_START;
  const firstDay = dayNumberOf(/^\d{4}-\d{2}-\d{2}T/.test(start) ? start.slice(0, 10) : start);
  const width = Math.max(4, String(patients).length);
  for (let i = 0; i < patients; i++) yield generateEpisode(i, seed, firstDay, width, patients);
}

/** A time-ordered run of items (one episode's events, or their serialised lines) for {@link mergeByTime}. */
export interface TimedRun<T> {
  /** Tie-breaker: at equal times, the run with the lower index goes first. */
  readonly index: number;
  readonly items: readonly T[];
  /** Epoch ms of each item, non-decreasing, parallel to `items`. */
  readonly times: readonly number[];
  /** No item of this or any later run is earlier than this (epoch ms). */
  readonly notBeforeMs: number;
}

interface Cursor<T> {
  readonly run: TimedRun<T>;
  i: number;
}

/**
 * Merge time-ordered runs into one stream in global time order (ties: lower `index` first). Runs must come
 * in non-decreasing `notBeforeMs` order; a run is pulled from `runs` only when its items could be next, so
 * only the runs under way are held in memory (a binary heap of cursors).
 */
export function* mergeByTime<T>(runs: Iterable<TimedRun<T>>): Generator<T> {
  const heap: Cursor<T>[] = [];
  const timeOf = (c: Cursor<T>) => c.run.times[c.i]!;
  const less = (a: Cursor<T>, b: Cursor<T>) => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    return ta < tb || (ta === tb && a.run.index < b.run.index);
  };
  const swap = (x: number, y: number) => {
    const t = heap[x]!;
    heap[x] = heap[y]!;
    heap[y] = t;
  };
  const siftUp = (k: number) => {
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!less(heap[k]!, heap[parent]!)) return;
      swap(k, parent);
      k = parent;
    }
  };
  const siftDown = (k: number) => {
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === k) return;
      swap(k, m);
      k = m;
    }
  };
  const source = runs[Symbol.iterator]();
  let pending: TimedRun<T> | null = null;
  let exhausted = false;
  for (;;) {
    // Admit every run that could start before (or with) the earliest pending item.
    for (;;) {
      if (pending === null && !exhausted) {
        const n = source.next();
        if (n.done) exhausted = true;
        else pending = n.value;
      }
      if (pending === null) break;
      if (heap.length > 0 && pending.notBeforeMs > timeOf(heap[0]!)) break;
      if (pending.items.length > 0) {
        heap.push({ run: pending, i: 0 });
        siftUp(heap.length - 1);
      }
      pending = null;
    }
    const top = heap[0];
    if (top === undefined) return;
    yield top.run.items[top.i]!;
    top.i++;
    if (top.i < top.run.items.length) siftDown(0);
    else {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown(0);
      }
    }
  }
}

/**
 * Merge episodes into one stream in global time order, as an event store would stream them (ties: earlier
 * episode first). Episodes must come in non-decreasing `notBeforeMs` order, as `generateDemoCohort` yields
 * them; only the episodes under way are held in memory.
 */
export function* interleaveEpisodes(episodes: Iterable<DemoEpisode>): Generator<DemoEvent> {
  yield* mergeByTime(
    (function* () {
      for (const ep of episodes) yield { ...ep, items: ep.events };
    })(),
  );
}

/** Options of {@link generateDemoEvents}. */
export interface DemoEventsOptions extends DemoCohortOptions {
  /** Interleave episodes in global time order (default), or write them one episode after another. */
  readonly interleave?: boolean;
}

/** Every event of a synthetic cohort, interleaved in global time order unless `interleave: false`. */
export function* generateDemoEvents(options: DemoEventsOptions): Generator<DemoEvent> {
  const cohort = generateDemoCohort(options);
  if (options.interleave === false) {
    for (const ep of cohort) yield* ep.events;
  } else {
    yield* interleaveEpisodes(cohort);
  }
}
