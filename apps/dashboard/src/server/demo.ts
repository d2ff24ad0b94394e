/**
 * Demo data for the dashboard: the `kapkit demo-data` generator (`generateDemoCohort` from the @kapkit/testing
 * package), enrolled over the months before "now" and cut at "now", so the caseload shows courses in every
 * phase. Every event is `synthetic: true`; ids read `demo-pt-0001`. Also a builder for one long synthetic
 * episode (benchmarks, tests).
 */
import type { EpisodeEventInput } from '@kapkit/core';
import { formatInOffset } from '@kapkit/core/time';
import type { EventStore } from '@kapkit/store';
import { generateDemoCohort } from '@kapkit/testing';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

export interface DemoSeedOptions {
  /** Patients the generator enrols (those enrolled after "now" are left out). Default 60. */
  readonly patients?: number;
  /** Generator seed. Default `'kapkit-dashboard'`. */
  readonly seed?: string;
  /** "Now", epoch ms: events after it are not stored. */
  readonly nowMs: number;
  /** First enrolment this many days before now (the generator enrols over 365 days). Default 150. */
  readonly enrolFromDaysAgo?: number;
}

/** True when the store holds no event at all. */
export async function storeIsEmpty(store: EventStore): Promise<boolean> {
  for await (const _ of store.streamAll({ batchSize: 1 })) return false;
  return true;
}

/**
 * Append a synthetic demo caseload to `store`: each episode's events up to `nowMs`, one atomic append per
 * episode (expected version 0), every event checked by the episode machine. Returns the episodes written.
 */
export async function seedDemoCaseload(store: EventStore, options: DemoSeedOptions): Promise<number> {
  const start = new Date(options.nowMs - (options.enrolFromDaysAgo ?? 150) * DAY_MS)
    .toISOString()
    .slice(0, 10);
  let written = 0;
  for (const episode of generateDemoCohort({
    patients: options.patients ?? 60,
    seed: options.seed ?? 'kapkit-dashboard',
    start,
  })) {
    const events = episode.events.filter((e) => Date.parse(e.at) <= options.nowMs);
    if (events.length === 0) continue;
    await store.append(episode.episodeId, events, { expectedVersion: 0 });
    written++;
  }
  return written;
}

export interface LongEpisodeOptions {
  readonly patientId: string;
  readonly episodeId: string;
  /** First event, epoch ms. */
  readonly startMs: number;
  /** Weeks of weekly PHQ-9 + GAD-7 assessments. */
  readonly weeks: number;
  /**
   * Dosing sessions, spread evenly over the weeks (each followed by an integration session two days later), at
   * least three days apart: at most (7 × weeks − 14) / 3 of them, and at most 59 (the plan asks for one more,
   * and a treatment plan has at most 60 sessions).
   */
  readonly doses: number;
  /** UTC offset of the timestamps. Default `-05:00`. */
  readonly offset?: string;
}

/**
 * The long episode's log as it is written: the events so far, the clock (never going back), the medication
 * authorised, delivered and used, and the dosing course so far. The steps below append to it.
 */
class LongEpisodeLog {
  readonly events: EpisodeEventInput[] = [];
  lastMs: number;
  authorized = 10;
  delivered = 2;
  used = 0;
  followUpSinceAuthorization = false;
  dosesGiven = 0;
  lastFollowUpDay = -1;
  firstDoseDay: number | null = null;

  constructor(
    readonly o: LongEpisodeOptions,
    readonly offset: string,
  ) {
    this.lastMs = o.startMs;
  }

  /** Append an event at `ms` (or at the last event's time, when that is later). */
  add(ms: number, fields: Record<string, unknown>): void {
    this.lastMs = Math.max(ms, this.lastMs);
    this.events.push({
      id: `${this.o.episodeId}-e${String(this.events.length + 1).padStart(4, '0')}`,
      episodeId: this.o.episodeId,
      patientId: this.o.patientId,
      at: formatInOffset(this.lastMs, this.offset),
      v: 1,
      synthetic: true,
      ...fields,
    } as unknown as EpisodeEventInput);
  }

  /** Epoch ms of day `d` of the episode, `minutes` after its start time. */
  day(d: number, minutes: number): number {
    return this.o.startMs + d * DAY_MS + minutes * MINUTE_MS;
  }

  iso(ms: number): string {
    return formatInOffset(ms, this.offset);
  }
}

/** Days 0–6: opened, fit, medical evaluation, plan, prescription, first delivery, training, preparation. */
function openCourse(log: LongEpisodeLog): void {
  const { o } = log;
  log.add(log.day(0, 0), { type: 'EpisodeOpened', recordedBy: 'therapist' });
  log.add(log.day(0, 60), { type: 'FitAssessed', outcome: 'good-fit', recordedBy: 'therapist' });
  log.add(log.day(1, 0), {
    type: 'MedicalEvaluationScheduled',
    scheduledFor: log.iso(log.day(3, 0)),
    mode: 'telehealth',
  });
  log.add(log.day(3, 0), { type: 'MedicalEvaluationCompleted', eligible: true, recordedBy: 'medical' });
  log.add(log.day(3, 30), {
    type: 'TreatmentPlanCreated',
    plannedDosingSessions: Math.max(1, o.doses + 1),
    monitoring: {
      measures: [
        { instrument: 'phq9', baseline: true, beforeEachDoseWithinDays: 7, everyDays: 28 },
        { instrument: 'gad7', baseline: true, beforeEachDoseWithinDays: 7, everyDays: 28 },
      ],
    },
    recordedBy: 'medical',
  });
  log.add(log.day(3, 40), {
    type: 'PrescriptionIssued',
    medication: 'ketamine',
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
    doseMg: 300,
    dosesAuthorized: log.authorized,
  });
  log.add(log.day(5, 0), { type: 'MedicationDelivered', doses: log.delivered });
  log.add(log.day(5, 60), {
    type: 'SelfAdministrationTrained',
    vitalsTrained: true,
    selfAdministrationTrained: true,
  });
  log.add(log.day(6, 0), { type: 'PreparationSessionCompleted', mode: 'in-person', intentionsSet: true });
}

/** The weekly PHQ-9 and GAD-7 of day `d`: scores fall with the doses given, item 9 is never positive. */
function weeklyAssessments(log: LongEpisodeLog, d: number): void {
  const week = Math.floor((d - 7) / 7);
  const level = Math.max(
    2,
    Math.round(19 - (13 * log.dosesGiven) / Math.max(1, log.o.doses) + ((week * 7) % 3) - 1),
  );
  log.add(log.day(d, 9 * 60), {
    type: 'AssessmentRecorded',
    instrument: 'phq9',
    responses: spread(level, 8, 3).concat([0]),
    context: 'routine',
  });
  log.add(log.day(d, 9 * 60 + 5), {
    type: 'AssessmentRecorded',
    instrument: 'gad7',
    responses: spread(Math.max(1, Math.min(21, level - 3)), 7, 3),
    context: 'routine',
  });
}

/** A medical follow-up every 80 days after the first dose. */
function followUpIfDue(log: LongEpisodeLog, d: number): void {
  if (log.firstDoseDay === null || d - Math.max(log.firstDoseDay, log.lastFollowUpDay) < 80) return;
  log.add(log.day(d, 11 * 60), {
    type: 'MedicalFollowUpCompleted',
    continueTreatment: true,
    recordedBy: 'medical',
  });
  log.lastFollowUpDay = d;
  log.followUpSinceAuthorization = true;
}

/** Before a dose with none on hand: a delivery, after a refill (and the follow-up a refill needs) when used up. */
function restockForDose(log: LongEpisodeLog, d: number): void {
  if (log.delivered - log.used >= 1) return;
  if (log.authorized - log.delivered < 1) {
    if (!log.followUpSinceAuthorization) {
      log.add(log.day(d, 8 * 60), {
        type: 'MedicalFollowUpCompleted',
        continueTreatment: true,
        recordedBy: 'medical',
      });
      log.lastFollowUpDay = d;
    }
    log.add(log.day(d, 8 * 60 + 10), { type: 'RefillIssued', dosesAuthorized: 10, recordedBy: 'medical' });
    log.authorized += 10;
    log.followUpSinceAuthorization = false;
  }
  const doses = Math.min(2, log.authorized - log.delivered);
  log.add(log.day(d, 8 * 60 + 20), { type: 'MedicationDelivered', doses });
  log.delivered += doses;
}

/** The dose of every synthetic dosing session: a full 300 mg sublingual lozenge. */
export const DEMO_DOSE = {
  kind: 'full',
  doseMg: 300,
  route: 'sublingual',
  formulation: 'sublingual-lozenge',
} as const;

/** A dosing session on day `d` (booked, pre-dose vitals, dose, post-dose vitals, completed), integrated 2 days later. */
function dosingSession(log: LongEpisodeLog, d: number): void {
  const sessionId = `${log.o.episodeId}-s${log.dosesGiven + 1}`;
  log.add(log.day(d, 10 * 60), {
    type: 'DosingSessionScheduled',
    sessionId,
    scheduledFor: log.iso(log.day(d, 10 * 60)),
    mode: 'in-person',
  });
  log.add(log.day(d, 10 * 60 + 5), {
    type: 'VitalsRecorded',
    sessionId,
    phase: 'pre',
    systolic: 122,
    diastolic: 78,
    heartRate: 72,
  });
  log.add(log.day(d, 10 * 60 + 10), { type: 'DoseAdministered', sessionId, ...DEMO_DOSE });
  log.used += 1;
  // Observed two hours after the dose (the policy's observation time), then completed.
  log.add(log.day(d, 12 * 60 + 15), {
    type: 'VitalsRecorded',
    sessionId,
    phase: 'post',
    systolic: 126,
    diastolic: 80,
    heartRate: 76,
  });
  log.add(log.day(d, 12 * 60 + 20), { type: 'DosingSessionCompleted', sessionId, durationMinutes: 140 });
  log.add(log.day(d + 2, 14 * 60), { type: 'IntegrationSessionCompleted', mode: 'telehealth', sessionId });
  log.dosesGiven++;
  log.firstDoseDay ??= d;
}

/** End with a dose on hand, so the next dosing session can be recorded. */
function endWithDoseOnHand(log: LongEpisodeLog): void {
  if (log.delivered - log.used >= 1) return;
  if (log.authorized - log.delivered < 1) {
    log.add(log.lastMs + 60 * MINUTE_MS, { type: 'MedicalFollowUpCompleted', continueTreatment: true });
    log.add(log.lastMs + 10 * MINUTE_MS, { type: 'RefillIssued', dosesAuthorized: 10 });
    log.authorized += 10;
  }
  log.add(log.lastMs + 10 * MINUTE_MS, {
    type: 'MedicationDelivered',
    doses: Math.min(2, log.authorized - log.delivered),
  });
}

/**
 * One long, valid synthetic episode: weekly PHQ-9 and GAD-7, `doses` dosing sessions (pre-dose vitals, dose,
 * post-dose vitals, completion) each followed by an integration session, medical follow-ups, refills and
 * deliveries as the policy requires. It ends between sessions, integrated, with a dose on hand, so a next
 * dosing session may be recorded. Scores fall with the doses, item 9 is never positive.
 */
export function buildLongEpisode(o: LongEpisodeOptions): EpisodeEventInput[] {
  const totalDays = o.weeks * 7;
  // A session, its observation and its integration two days later take three days: denser courses would put
  // one session's events inside another's (the log's clock never goes back), which the episode model refuses.
  // The plan asks for one session more than given, and a plan has at most 60.
  const most = Math.min(59, Math.floor((totalDays - 14) / 3));
  if (!Number.isInteger(o.doses) || o.doses < 0 || o.doses > most) {
    throw new RangeError(
      `buildLongEpisode: doses must be a whole number from 0 to ${Math.max(0, most)} for ${o.weeks} weeks (sessions at least three days apart, at most 59); got ${o.doses}`,
    );
  }
  const log = new LongEpisodeLog(o, o.offset ?? '-05:00');
  openCourse(log);
  const doseDays = new Set<number>();
  for (let k = 0; k < o.doses; k++)
    doseDays.add(7 + Math.floor((k * (totalDays - 14)) / Math.max(1, o.doses)));
  for (let d = 7; d < 7 + totalDays; d++) {
    if ((d - 7) % 7 === 0) weeklyAssessments(log, d);
    followUpIfDue(log, d);
    if (doseDays.has(d)) {
      restockForDose(log, d);
      dosingSession(log, d);
    }
  }
  endWithDoseOnHand(log);
  return log.events;
}

/** `total` points over `items` items of 0..max, as evenly as possible, earlier items first. */
function spread(total: number, items: number, max: number): number[] {
  const t = Math.max(0, Math.min(total, items * max));
  const base = Math.floor(t / items);
  const extra = t - base * items;
  return Array.from({ length: items }, (_, i) => base + (i < extra ? 1 : 0));
}
