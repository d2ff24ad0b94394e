import { CRITICAL_PERIOD_DEFAULTS } from './critical-periods.js';
import { contraindicationCodes } from './vocabularies.js';

/**
 * The episode policy: every threshold and rule the episode machine applies, as a typed, configurable object.
 * Each default has a source. kapkit checks and records; clinicians decide, and can override per episode
 * (`EpisodeOpened.policy`) or per plan (`TreatmentPlanCreated.criticalPeriodDays`, `followUpIntervalDays`).
 */
export interface EpisodePolicy {
  /** Length of the critical period a dose opens, in days. */
  readonly criticalPeriodDays: number;
  /** Hold dosing when pre-dose systolic BP is above this (mmHg), unless the medical team overrides with a reason. */
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

  // Clinical time (schema version 2)
  /** An event's `at` may be later than its `recordedAt` (or the checker's clock) by at most this, in minutes. */
  readonly clockToleranceMinutes: number;

  // Safety layer (machine version 3, kept in 4). Clinic-level only: an episode cannot override these in EpisodeOpened.
  /** Refuse a dose while a positive safety flag or a severe/serious/suicidal-ideation adverse event is unreviewed. */
  readonly requireSafetyReviewBeforeDose: boolean;
  /** Absolute contraindications: eligibility despite one needs a medical override with a reason. */
  readonly absoluteContraindications: readonly string[];
  /** A booster may be at most this fraction of the prescribed dose (mg). */
  readonly maxBoosterFraction: number;
  /** At most this many boosters in one dosing session. */
  readonly maxBoostersPerSession: number;
  /** Dosing sessions at least this many hours apart (first dose to first dose). */
  readonly minHoursBetweenDosingSessions: number;
  /** Completing a session sooner than this after its last dose needs a reason, in minutes. */
  readonly observationMinutes: number;
  /** Hold dosing when pre-dose heart rate is above this (beats per minute), unless the medical team overrides. */
  readonly holdHeartRateAbove: number;
  /** Hold dosing when pre-dose SpO₂ is below this (%), unless the medical team overrides. */
  readonly holdSpo2Below: number;
  /** Urgent alert when a reading is above this systolic BP (mmHg). */
  readonly alertSystolicAbove: number;
  /** Urgent alert when a reading is above this diastolic BP (mmHg). */
  readonly alertDiastolicAbove: number;
  /** Urgent alert when a reading is above this heart rate (beats per minute). */
  readonly alertHeartRateAbove: number;
  /** Urgent alert when a reading is below this SpO₂ (%). */
  readonly alertSpo2Below: number;
  /** A telehealth dosing session needs a chaperone physically present. */
  readonly requireChaperoneForRemoteDosing: boolean;
  /** A reason (override, early completion) needs at least this many letters or digits. */
  readonly minReasonLength: number;
  /** `no-response` alert when an outcome measure shows no response after this many doses. */
  readonly noResponseAfterDoses: number;

  // Protocol completeness
  /** Refuse a dose without informed consent to KAP in force (and a remote dose without consent to remote sessions). */
  readonly requireInformedConsent: boolean;
  /** `medication-interaction` alert for benzodiazepines above this many mg diazepam-equivalent a day. */
  readonly benzodiazepineAlertAboveMgDiazepam: number;
}

/** Where each default comes from (shown in docs/episode.md and by tools). */
export const policySources: Readonly<Record<keyof EpisodePolicy, string>> = {
  criticalPeriodDays:
    'Seed (KAP therapist, 2025): benefits "can last up to two weeks after a single ketamine experience"; 2 days (48 h) is the conservative research value (Nardou et al. 2023, Nature 618:790)',
  holdSystolicAbove:
    'Spravato (esketamine) prescribing information: consider delaying dosing if BP > 140/90; no public threshold for sublingual KAP was found',
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
  clockToleranceMinutes:
    'kapkit default: 5 minutes of clock difference between devices; later times are refused as future events',
  requireSafetyReviewBeforeDose:
    'The Joint Commission NPSG 15.01.01: a positive suicide-risk screen is followed by an assessment (e.g. the C-SSRS) before care goes on; severe and serious adverse events likewise',
  absoluteContraindications:
    'Journey Clinical eligibility screen: uncontrolled hypertension or glaucoma, severe breathing problems, ketamine allergy, uncontrolled substance-use disorder, acute mania or mixed state, history of primary psychosis, active suicidal ideation or severe decompensation; the rest are considerations',
  maxBoosterFraction:
    'Journey Clinical: a booster is an "optional additional partial dose"; 50 % of the prescribed dose is a kapkit default (unverified)',
  maxBoostersPerSession: 'Journey Clinical: "an optional additional partial dose" (one per session)',
  minHoursBetweenDosingSessions:
    'kapkit default: at most one dosing session a day (patients do not drive until the next day, Journey Clinical), 24 h apart',
  observationMinutes:
    'Esketamine REMS (Spravato): observe at least 2 hours after dosing; Journey Clinical dosing sessions last 2–3 hours',
  holdHeartRateAbove:
    'kapkit default (unverified): no public heart-rate hold threshold for sublingual KAP was found',
  holdSpo2Below:
    'kapkit default (unverified): no public SpO₂ hold threshold for sublingual KAP was found; the esketamine REMS monitors respiratory status with pulse oximetry',
  alertSystolicAbove:
    '2017 ACC/AHA hypertension guideline: a hypertensive crisis is systolic BP > 180 and/or diastolic > 120 mmHg',
  alertDiastolicAbove:
    '2017 ACC/AHA hypertension guideline: a hypertensive crisis is systolic BP > 180 and/or diastolic > 120 mmHg',
  alertHeartRateAbove: 'kapkit default (unverified): no public threshold for KAP was found',
  alertSpo2Below:
    'kapkit default (unverified): SpO₂ below 90 % is the common definition of hypoxaemia; no KAP-specific threshold was found',
  requireChaperoneForRemoteDosing:
    'Journey Clinical chaperone guidelines: a pre-arranged adult is physically present for the whole remote session and checks in every 15 minutes',
  minReasonLength:
    'kapkit default: an override or early completion needs a reason that says something (at least 10 letters or digits; "ok." is not a reason)',
  requireInformedConsent:
    'AMA Code of Medical Ethics, Opinion 2.1.1 (informed consent before treatment); Journey Clinical chaperone guidelines for remote sessions. Episodes upcast from event schema version 1 (which could not record consent) are not held to it',
  benzodiazepineAlertAboveMgDiazepam:
    'Andrashko et al. 2020 (Front Psychiatry 11:844): concomitant benzodiazepines above about 8 mg diazepam-equivalent a day were associated with a dampened antidepressant response to ketamine; equivalents from the Ashton Manual (2002), Table 1',
  noResponseAfterDoses:
    'Hull et al. 2022 (J Affect Disord 314:59) measured response after 4 at-home sessions; Lambert’s outcome-feedback research flags patients off their expected recovery curve',
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
  clockToleranceMinutes: 5,
  requireSafetyReviewBeforeDose: true,
  // The first nine codes of the vocabulary, which lists the absolute contraindications first (vocabularies.ts).
  absoluteContraindications: contraindicationCodes.slice(0, 9),
  maxBoosterFraction: 0.5,
  maxBoostersPerSession: 1,
  minHoursBetweenDosingSessions: 24,
  observationMinutes: 120,
  holdHeartRateAbove: 120,
  holdSpo2Below: 92,
  alertSystolicAbove: 180,
  alertDiastolicAbove: 120,
  alertHeartRateAbove: 130,
  alertSpo2Below: 90,
  requireChaperoneForRemoteDosing: true,
  minReasonLength: 10,
  noResponseAfterDoses: 4,
  requireInformedConsent: true,
  benzodiazepineAlertAboveMgDiazepam: 8,
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
