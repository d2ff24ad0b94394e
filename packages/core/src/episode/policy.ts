import { CRITICAL_PERIOD_DEFAULTS } from './critical-periods.js';

/**
 * The episode policy: every threshold and rule the episode machine applies, as a typed, configurable object.
 * Each default has a source. kapkit checks and records; clinicians decide, and can override per episode
 * (`EpisodeOpened.policy`) or per plan (`TreatmentPlanCreated.criticalPeriodDays`, `followUpIntervalDays`).
 */
export interface EpisodePolicy {
  /** Length of the critical period a dose opens, in days. */
  readonly criticalPeriodDays: number;
  /** Hold dosing when pre-dose systolic BP is above this (mmHg), unless a clinician overrides with a reason. */
  readonly holdSystolicAbove: number;
  /** Hold dosing when pre-dose diastolic BP is above this (mmHg), unless overridden. */
  readonly holdDiastolicAbove: number;
  /** At least one preparation session before the first dose. */
  readonly requirePreparationBeforeFirstDose: boolean;
  /** Vitals and self-administration training before the first dose. */
  readonly requireTrainingBeforeFirstDose: boolean;
  /** Integration sessions required after a dosing session before the next dose. */
  readonly minIntegrationSessionsBetweenDoses: number;
  /** Pre-dose vitals must be recorded in the session before a dose. */
  readonly requirePreDoseVitals: boolean;
  /** Post-dose vitals must be recorded before a session that had a dose can be completed. */
  readonly requirePostDoseVitalsToComplete: boolean;
  /** Medical follow-up at least this often after the first dose, in days. */
  readonly followUpIntervalDays: number;
  /** Refuse doses while the medical follow-up is overdue (off by default: reported as an alert instead). */
  readonly refuseDoseWhenFollowUpOverdue: boolean;
  /** A refill needs a medical follow-up since the last prescription or refill. */
  readonly refillRequiresFollowUp: boolean;
  /** Alert when fewer than this many doses are on hand. */
  readonly lowSupplyDoses: number;
  /** A periodic measure becomes overdue this many days after it falls due. */
  readonly measureGraceDays: number;
  /** Warn this many days before the critical-period chain would break. */
  readonly chainWarningDays: number;
}

/** Where each default comes from (shown in docs/episode.md and by tools). */
export const policySources: Readonly<Record<keyof EpisodePolicy, string>> = {
  criticalPeriodDays:
    'Seed (KAP therapist, 2025): benefits "can last up to two weeks after a single ketamine experience"; 2 days (48 h) is the conservative research value (Nardou et al. 2023, Nature 618:790)',
  holdSystolicAbove:
    'Spravato (esketamine) prescribing information: consider delaying dosing if BP > 140/90; no public threshold for sublingual KAP was found (domain.md §5)',
  holdDiastolicAbove:
    'Spravato (esketamine) prescribing information: consider delaying dosing if BP > 140/90',
  requirePreparationBeforeFirstDose:
    'Seed: preparation session(s) are scheduled prior to the KAP dosing session',
  requireTrainingBeforeFirstDose:
    'Seed: the patient is taught to take their vitals and self-administer in advance of the KAP sessions',
  minIntegrationSessionsBetweenDoses:
    'Seed: after a dosing session "we will meet for multiple integration therapy sessions ... to prepare for the next dosing session"',
  requirePreDoseVitals: 'Seed and partner FAQs: vitals before dosing and at the end of the session',
  requirePostDoseVitalsToComplete:
    'Seed and partner FAQs: vitals before dosing and at the end of the session',
  followUpIntervalDays: 'Seed: medical follow-ups "at a minimum of once per quarter"',
  refuseDoseWhenFollowUpOverdue: 'kapkit default: report overdue follow-ups as an alert, do not block care',
  refillRequiresFollowUp: 'Seed: the medical team follows up "to monitor outcomes and prescribe ... refills"',
  measureGraceDays: 'kapkit default: a periodic measure is overdue 7 days after it falls due',
  chainWarningDays: 'kapkit default: warn 3 days before the last critical-period window closes',
  lowSupplyDoses:
    'kapkit default: alert when fewer than one dose is on hand, i.e. not enough for the next session (the initial supply covers 2 sessions, per the seed)',
};

/** The kapkit default policy. */
export const defaultPolicy: EpisodePolicy = {
  criticalPeriodDays: CRITICAL_PERIOD_DEFAULTS.seedWindowDays,
  holdSystolicAbove: 140,
  holdDiastolicAbove: 90,
  requirePreparationBeforeFirstDose: true,
  requireTrainingBeforeFirstDose: true,
  minIntegrationSessionsBetweenDoses: 1,
  requirePreDoseVitals: true,
  requirePostDoseVitalsToComplete: true,
  followUpIntervalDays: 90,
  refuseDoseWhenFollowUpOverdue: false,
  refillRequiresFollowUp: true,
  lowSupplyDoses: 1,
  measureGraceDays: 7,
  chainWarningDays: 3,
};

/** The initial medication supply covers this many dosing sessions (seed); used by demo data and alerts. */
export const INITIAL_SUPPLY_SESSIONS = 2;

/** A policy with overrides applied. */
export function resolvePolicy(
  overrides: Partial<EpisodePolicy> = {},
  base: EpisodePolicy = defaultPolicy,
): EpisodePolicy {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) out[k] = v;
  return out as unknown as EpisodePolicy;
}

/**
 * The default outcome-monitoring plan when a treatment plan does not give one: PHQ-9 and GAD-7 at baseline,
 * within 7 days before each dosing session, and at least every 28 days. kapkit default; Hull et al. 2022
 * (J Affect Disord 314:59) measured PHQ-9 and GAD-7 at baseline and after the fourth dosing session.
 */
export const defaultMonitoringPlan = {
  measures: [
    { instrument: 'phq9', baseline: true, beforeEachDoseWithinDays: 7, everyDays: 28 },
    { instrument: 'gad7', baseline: true, beforeEachDoseWithinDays: 7, everyDays: 28 },
  ],
} as const;
