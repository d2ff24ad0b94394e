import type { EpisodeEvent, EventType } from '../../../src/episode/events.js';
import { defaultPolicy } from '../../../src/episode/policy.js';
import { inSessionTypes, supplyTypes } from '../event-groups.js';
import { voidedIds } from './materialize.js';

// ---------------------------------------------------------------------------------------------------------
// The ledger: what the accepted events themselves say, without looking at the episode context. It is built from
// the events in force in clinical order (`at`, ties in recording order, voided events left out), and checks every
// event against the rules as they stood just before it.

/** The entries of `o` whose value is defined (as the policy resolver treats overrides). */
export function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Events in clinical order: by `at`, ties in the order given (recording order). */
export function clinicalOrder(events: readonly EpisodeEvent[]): EpisodeEvent[] {
  return events
    .map((e, i) => ({ e, i, ms: Date.parse(e.at) }))
    .sort((a, b) => a.ms - b.ms || a.i - b.i)
    .map((x) => x.e);
}

/** The events in force: accepted and not voided, in clinical order. */
export function inForceOf(acceptedInRecordingOrder: readonly EpisodeEvent[]): EpisodeEvent[] {
  const voided = voidedIds(acceptedInRecordingOrder);
  return clinicalOrder(acceptedInRecordingOrder.filter((e) => !voided.has(e.id)));
}

/** At least `min` letters or digits: "ok." is not a reason. */
export const meaningful = (reason: string | undefined) =>
  reason !== undefined && (reason.match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= defaultPolicy.minReasonLength;

interface Reading {
  readonly at: number;
  readonly recordedAt: number;
  readonly phase: 'pre' | 'during' | 'post';
  readonly systolic: number;
  readonly diastolic: number;
  readonly heartRate?: number;
  readonly spo2?: number;
}
export interface DoseFact {
  readonly id: string;
  readonly at: number;
  readonly recordedAt: number;
  readonly kind: 'full' | 'half' | 'booster';
  readonly units: number;
}
export interface SessionFacts {
  readonly mode: 'in-person' | 'telehealth';
  /** Booked after maintenance was planned. */
  readonly maintenance: boolean;
  readonly chaperone: boolean;
  readonly doses: DoseFact[];
  readonly readings: Reading[];
  /** Booking does not start a session; its first pre-dose vitals or dose do. */
  started: boolean;
  ended: null | 'completed' | 'aborted';
}
/** A safety signal (flag or adverse event) with the recording times of its reviews. */
export interface Signal {
  readonly id: string;
  readonly at: number;
  readonly recordedAt: number;
  /** Positive flag, or adverse event that is severe, serious or suicidal ideation: it gates doses. */
  readonly gates: boolean;
  readonly kind: 'positive' | 'unanswered' | 'moderate' | 'other';
  readonly unknownSession: boolean;
  readonly reviews: number[];
}
/** An event that stops treatment, or lifts a stop. */
export interface StopFact {
  readonly id: string;
  readonly stop: boolean;
  readonly at: number;
  readonly recordedAt: number;
}
export interface AssessmentFact {
  readonly id: string;
  readonly instrument: string;
  readonly at: number;
  readonly total: number | null;
  readonly severity: string | null;
}

/** Event types that need a patient found eligible (the treatment). */
export const treatmentTypes = new Set<EventType>([
  'MaintenancePlanned',
  ...supplyTypes,
  'PreparationSessionCompleted',
  'DosingSessionScheduled',
  ...inSessionTypes,
  'IntegrationSessionCompleted',
  'EpisodeCompleted',
]);
/** Safety reporting, reviews and voids go on in every phase once the episode is open, closed ones included. */
export const anywhereTypes = new Set<EventType>([
  'AdverseEventReported',
  'AdverseEventReviewed',
  'SafetyFlagReviewed',
  'EventVoided',
  'ConsentWithdrawn',
]);
/** What else may be recorded while paused: monitoring and (for an eligible patient) medical follow-up. */
export const whilePausedTypes = new Set<EventType>([
  'AssessmentRecorded',
  'InformedConsentRecorded',
  'MedicationsReviewed',
  'MedicalFollowUpCompleted',
  'RefillIssued',
  'MedicationDelivered',
  'EpisodeResumed',
  'EpisodeDiscontinued',
]);
/** What else may be recorded while a dosing session is in progress (booking the next one, a re-evaluation). */
export const duringSessionTypes = new Set<EventType>([
  ...inSessionTypes,
  'DosingSessionScheduled',
  ...supplyTypes,
  'MedicalEvaluationCompleted',
  'AssessmentRecorded',
  'InformedConsentRecorded',
  'MedicationsReviewed',
  'EpisodeDiscontinued',
]);

/** How often the facts of machine versions 2 and 3 happened in a run (for the reach test). */
export interface Happenings {
  /** A session booked while another was booked and not started, or in progress. */
  bookedAhead: number;
  /** A preparation or integration session while a session was booked and not started. */
  sessionWorkWhileBooked: number;
  /** A booked session started by its pre-dose vitals. */
  startedByVitals: number;
  /** A booked session cancelled before it started. */
  cancelled: number;
  /** Adverse events while paused. */
  adverseWhilePaused: number;
  /** Follow-ups, refills and deliveries while paused. */
  medicalWhilePaused: number;
  /** Adverse events and reviews after the episode was closed. */
  reportedWhenClosed: number;
  /** Adverse events naming a session the episode does not know, kept. */
  unknownSessionKept: number;
  /** Late entries accepted (the episode rebuilt in clinical order). */
  lateEntries: number;
  /** Voids accepted. */
  voids: number;
  /** A void of the event that closed the episode (it reopens). */
  reopened: number;
  /** A treatment stop lifted by a prescription, an eligible re-evaluation or a follow-up that continues. */
  stopLifted: number;
  /** Version 1 events accepted (upcast). */
  upcast: number;
}

export const noHappenings = (): Happenings => ({
  bookedAhead: 0,
  sessionWorkWhileBooked: 0,
  startedByVitals: 0,
  cancelled: 0,
  adverseWhilePaused: 0,
  medicalWhilePaused: 0,
  reportedWhenClosed: 0,
  unknownSessionKept: 0,
  lateEntries: 0,
  voids: 0,
  reopened: 0,
  stopLifted: 0,
  upcast: 0,
});
