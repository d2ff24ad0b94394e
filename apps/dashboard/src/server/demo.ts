/**
 * Demo data for the dashboard: the `kapkit demo-data` generator (`generateDemoCohort` from the @kapkit/testing
 * package), enrolled over the months before "now" and cut at "now", so the caseload shows courses in every
 * phase. Every event is `synthetic: true`; ids read `demo-pt-0001`. Also a builder for one long synthetic
 * episode (benchmarks, tests).
 */
import { type EpisodeEventInput, formatInOffset } from '@kapkit/core';
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
  /** Dosing sessions, spread evenly over the weeks (each followed by an integration session). */
  readonly doses: number;
  /** UTC offset of the timestamps. Default `-05:00`. */
  readonly offset?: string;
}

/**
 * One long, valid synthetic episode: weekly PHQ-9 and GAD-7, `doses` dosing sessions (pre-dose vitals, dose,
 * post-dose vitals, completion) each followed by an integration session, medical follow-ups, refills and
 * deliveries as the policy requires. It ends between sessions, integrated, with a dose on hand, so a next
 * dosing session may be recorded. Scores fall with the doses, item 9 is never positive.
 */
export function buildLongEpisode(o: LongEpisodeOptions): EpisodeEventInput[] {
  const offset = o.offset ?? '-05:00';
  const events: EpisodeEventInput[] = [];
  let n = 0;
  let lastMs = o.startMs;
  const add = (ms: number, fields: Record<string, unknown>) => {
    lastMs = Math.max(ms, lastMs);
    n++;
    events.push({
      id: `${o.episodeId}-e${String(n).padStart(4, '0')}`,
      episodeId: o.episodeId,
      patientId: o.patientId,
      at: formatInOffset(lastMs, offset),
      v: 1,
      synthetic: true,
      ...fields,
    } as unknown as EpisodeEventInput);
  };
  const day = (d: number, minutes: number) => o.startMs + d * DAY_MS + minutes * MINUTE_MS;
  const phq = (total: number) => spread(total, 8, 3).concat([0]);
  const gad = (total: number) => spread(total, 7, 3);

  add(day(0, 0), { type: 'EpisodeOpened', recordedBy: 'therapist' });
  add(day(0, 60), { type: 'FitAssessed', outcome: 'good-fit', recordedBy: 'therapist' });
  add(day(1, 0), {
    type: 'MedicalEvaluationScheduled',
    scheduledFor: formatInOffset(day(3, 0), offset),
    mode: 'telehealth',
  });
  add(day(3, 0), { type: 'MedicalEvaluationCompleted', eligible: true, recordedBy: 'medical' });
  add(day(3, 30), {
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
  let authorized = 10;
  let delivered = 2;
  let used = 0;
  let followUpSinceAuthorization = false;
  add(day(3, 40), {
    type: 'PrescriptionIssued',
    medication: 'ketamine',
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
    doseMg: 300,
    dosesAuthorized: authorized,
  });
  add(day(5, 0), { type: 'MedicationDelivered', doses: delivered });
  add(day(5, 60), {
    type: 'SelfAdministrationTrained',
    vitalsTrained: true,
    selfAdministrationTrained: true,
  });
  add(day(6, 0), { type: 'PreparationSessionCompleted', mode: 'in-person', intentionsSet: true });

  const totalDays = o.weeks * 7;
  const doseDays = new Set<number>();
  for (let k = 0; k < o.doses; k++)
    doseDays.add(7 + Math.floor((k * (totalDays - 14)) / Math.max(1, o.doses)));
  let dosesGiven = 0;
  let lastFollowUpDay = -1;
  let firstDoseDay: number | null = null;
  for (let d = 7; d < 7 + totalDays; d++) {
    const week = Math.floor((d - 7) / 7);
    if ((d - 7) % 7 === 0) {
      const level = Math.max(
        2,
        Math.round(19 - (13 * dosesGiven) / Math.max(1, o.doses) + ((week * 7) % 3) - 1),
      );
      add(day(d, 9 * 60), {
        type: 'AssessmentRecorded',
        instrument: 'phq9',
        responses: phq(level),
        context: 'routine',
      });
      add(day(d, 9 * 60 + 5), {
        type: 'AssessmentRecorded',
        instrument: 'gad7',
        responses: gad(Math.max(1, Math.min(21, level - 3))),
        context: 'routine',
      });
    }
    if (firstDoseDay !== null && d - Math.max(firstDoseDay, lastFollowUpDay) >= 80) {
      add(day(d, 11 * 60), {
        type: 'MedicalFollowUpCompleted',
        continueTreatment: true,
        recordedBy: 'medical',
      });
      lastFollowUpDay = d;
      followUpSinceAuthorization = true;
    }
    if (doseDays.has(d)) {
      if (delivered - used < 1) {
        if (authorized - delivered < 1) {
          if (!followUpSinceAuthorization) {
            add(day(d, 8 * 60), {
              type: 'MedicalFollowUpCompleted',
              continueTreatment: true,
              recordedBy: 'medical',
            });
            lastFollowUpDay = d;
          }
          add(day(d, 8 * 60 + 10), { type: 'RefillIssued', dosesAuthorized: 10, recordedBy: 'medical' });
          authorized += 10;
          followUpSinceAuthorization = false;
        }
        const doses = Math.min(2, authorized - delivered);
        add(day(d, 8 * 60 + 20), { type: 'MedicationDelivered', doses });
        delivered += doses;
      }
      const sessionId = `${o.episodeId}-s${dosesGiven + 1}`;
      add(day(d, 10 * 60), {
        type: 'DosingSessionScheduled',
        sessionId,
        scheduledFor: formatInOffset(day(d, 10 * 60), offset),
        mode: 'in-person',
      });
      add(day(d, 10 * 60 + 5), {
        type: 'VitalsRecorded',
        sessionId,
        phase: 'pre',
        systolic: 122,
        diastolic: 78,
        heartRate: 72,
      });
      add(day(d, 10 * 60 + 10), {
        type: 'DoseAdministered',
        sessionId,
        kind: 'full',
        doseMg: 300,
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
      });
      used += 1;
      // Observed two hours after the dose (the policy's observation time), then completed.
      add(day(d, 12 * 60 + 15), {
        type: 'VitalsRecorded',
        sessionId,
        phase: 'post',
        systolic: 126,
        diastolic: 80,
        heartRate: 76,
      });
      add(day(d, 12 * 60 + 20), { type: 'DosingSessionCompleted', sessionId, durationMinutes: 140 });
      add(day(d + 2, 14 * 60), { type: 'IntegrationSessionCompleted', mode: 'telehealth', sessionId });
      dosesGiven++;
      firstDoseDay ??= d;
    }
  }
  // End with a dose on hand, so the next dosing session can be recorded.
  if (delivered - used < 1) {
    if (authorized - delivered < 1) {
      add(lastMs + 60 * MINUTE_MS, { type: 'MedicalFollowUpCompleted', continueTreatment: true });
      add(lastMs + 10 * MINUTE_MS, { type: 'RefillIssued', dosesAuthorized: 10 });
      authorized += 10;
    }
    add(lastMs + 10 * MINUTE_MS, { type: 'MedicationDelivered', doses: Math.min(2, authorized - delivered) });
  }
  return events;
}

/** `total` points over `items` items of 0..max, as evenly as possible, earlier items first. */
function spread(total: number, items: number, max: number): number[] {
  const t = Math.max(0, Math.min(total, items * max));
  const base = Math.floor(t / items);
  const extra = t - base * items;
  return Array.from({ length: items }, (_, i) => base + (i < extra ? 1 : 0));
}
