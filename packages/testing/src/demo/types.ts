import type { EpisodeEventInput } from '@kapkit/core';

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
