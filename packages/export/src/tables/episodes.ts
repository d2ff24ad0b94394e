import type { EpisodePhase } from '@kapkit/core';
import { builtinInstruments, type InstrumentDefinition } from '@kapkit/core/instruments';
import { contraindicationCodes, discontinuationReasons } from '@kapkit/core/vocabularies';
import type { ColumnSpec, TableSpec } from '../columns.js';
import { col, DAY_SOURCE, idColumns } from './common.js';

/**
 * Episode phases an exported episode can end in (`not-opened` never has a row). A record keyed by core's
 * `EpisodePhase`, so a phase added to the episode model fails to compile here until the export names it.
 */
const END_STATE_KEYS: Record<Exclude<EpisodePhase, 'not-opened'>, true> = {
  'fit-discussion': true,
  'medical-evaluation': true,
  ineligible: true,
  planning: true,
  preparation: true,
  'dosing-session': true,
  'dosing-course': true,
  maintenance: true,
  paused: true,
  completed: true,
  discontinued: true,
};
const END_STATES = Object.keys(END_STATE_KEYS);

/** Reliable-change classes. */
const RELIABLE_CHANGE_CLASSES = ['improved', 'no-reliable-change', 'deteriorated'] as const;

/** Instruments with outcome columns in the episodes table. */
export const EPISODE_OUTCOME_INSTRUMENTS = ['phq9', 'gad7'] as const;

function outcomeColumns(def: InstrumentDefinition, fixedPoints: number): ColumnSpec[] {
  const id = def.id;
  const n = def.name;
  const range = def.range;
  const src = `patientOutcome of @kapkit/analytics over the episode's scorable ${n} assessments`;
  return [
    col({
      name: `${id}_assessments`,
      type: 'integer',
      minimum: 0,
      description: `Scorable ${n} assessments in the episode.`,
      source: `AssessmentRecorded (${n}) with a total`,
    }),
    col({
      name: `${id}_baseline`,
      type: 'number',
      nullable: true,
      minimum: range.min,
      maximum: range.max,
      unit: 'points',
      description: `${n} baseline: the last assessment on or before the first dose, or the first assessment when there is none before it or no dose; null without a scorable ${n}.`,
      source: src,
    }),
    col({
      name: `${id}_baseline_day`,
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days since baseline (fractional)',
      description: `Day of the ${n} baseline assessment; null without one.`,
      source: src,
    }),
    col({
      name: `${id}_latest`,
      type: 'number',
      nullable: true,
      minimum: range.min,
      maximum: range.max,
      unit: 'points',
      description: `${n} latest: the last assessment after the baseline day; null when there is none (not evaluable).`,
      source: src,
    }),
    col({
      name: `${id}_latest_day`,
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days since baseline (fractional)',
      description: `Day of the latest ${n} assessment; null when not evaluable.`,
      source: src,
    }),
    col({
      name: `${id}_change`,
      type: 'number',
      nullable: true,
      minimum: -range.max,
      maximum: range.max,
      unit: 'points',
      description: `latest − baseline (negative = fewer symptoms); null when not evaluable.`,
      source: src,
    }),
    col({
      name: `${id}_response`,
      type: 'boolean',
      nullable: true,
      description: `Response: latest ≤ 50% of baseline (baseline > 0; e.g. Hull et al. 2022, J Affect Disord 314:59); null when not evaluable or baseline is 0.`,
      source: `${src} (outcomeDefinitions.${id})`,
    }),
    col({
      name: `${id}_first_response_day`,
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days after the baseline assessment',
      description:
        'Days from the baseline assessment to the first assessment meeting the response criterion; null when none did.',
      source: src,
    }),
    col({
      name: `${id}_remission`,
      type: 'boolean',
      nullable: true,
      description: `Remission: latest ${n} < 5 (Kroenke et al. 2001 / Spitzer et al. 2006 minimal band; Hull et al. 2022), with no minimum baseline required; null when not evaluable.`,
      source: `${src} (outcomeDefinitions.${id})`,
    }),
    col({
      name: `${id}_reliable_change`,
      type: 'string',
      nullable: true,
      values: RELIABLE_CHANGE_CLASSES,
      description: `Reliable change by the fixed-point rule: improved when ${n} fell by at least ${fixedPoints} points, deteriorated when it rose by at least ${fixedPoints} (${def.change?.fixedPoints?.source ?? ''}). Not Jacobson–Truax: that needs the SD of a reference sample, which one row cannot know (compute it from the baseline and latest columns, or use kapkit analyze). Null when not evaluable.`,
      source: `fixedPointChange of @kapkit/analytics with the ${n} definition's change.fixedPoints`,
    }),
  ];
}

function outcomeDefinition(id: (typeof EPISODE_OUTCOME_INSTRUMENTS)[number]): InstrumentDefinition {
  const def = builtinInstruments.find((d) => d.id === id);
  if (!def) throw new Error(`kapkit export: no built-in instrument ${id}`);
  return def;
}

/** Fixed points of reliable change per outcome instrument, from the instrument definitions. */
export const FIXED_POINTS: Readonly<Record<string, number>> = Object.fromEntries(
  EPISODE_OUTCOME_INSTRUMENTS.map((id) => {
    const points = outcomeDefinition(id).change?.fixedPoints?.value;
    if (points === undefined) throw new Error(`kapkit export: ${id} has no fixed-point reliable change`);
    return [id, points];
  }),
);

export const episodesTable: TableSpec = {
  name: 'episodes',
  title: 'kapkit research table: episodes',
  description:
    'One row per episode (one course of KAP for one patient), as of its last event in the input (closed = false for an episode still open). A patient with several episodes has several rows.',
  columns: [
    ...idColumns(false),
    col({
      name: 'synthetic',
      type: 'boolean',
      description: 'Generated demo data (true), never a real patient. Real data has false.',
      source: 'the synthetic flag of the episode’s events',
    }),
    col({
      name: 'opened_at',
      type: 'string',
      dateTime: true,
      presence: 'identified',
      description: 'When the episode opened: day 0 of every *_day column, as recorded.',
      source: 'EpisodeOpened.at',
    }),
    col({
      name: 'referral',
      type: 'string',
      nullable: true,
      values: ['therapist', 'medical', 'self'],
      description: 'Who referred the patient; null when not recorded.',
      source: 'EpisodeOpened.referral',
    }),
    col({
      name: 'end_state',
      type: 'string',
      values: END_STATES,
      description:
        'Where the episode ended: completed or discontinued, or, for an episode still open at the end of the input, the phase it stood in (see docs/episode.md).',
      source: 'phaseOf of @kapkit/core after the last accepted event',
    }),
    col({
      name: 'closed',
      type: 'boolean',
      description: 'The episode was completed or discontinued (false: still open at the end of the input).',
      source: 'EpisodeCompleted / EpisodeDiscontinued',
    }),
    col({
      name: 'end_reason',
      type: 'string',
      nullable: true,
      values: discontinuationReasons,
      description: 'Coded reason of a discontinuation; null otherwise.',
      source: 'EpisodeDiscontinued.reason',
    }),
    col({
      name: 'end_day',
      type: 'number',
      minimum: 0,
      unit: 'days since baseline (fractional)',
      description:
        'When the episode was completed or discontinued, or its last accepted event when still open.',
      source: `${DAY_SOURCE} EpisodeCompleted.at / EpisodeDiscontinued.at / the last accepted event`,
    }),
    col({
      name: 'closed_at',
      type: 'string',
      dateTime: true,
      nullable: true,
      presence: 'identified',
      description: 'When the episode was completed or discontinued, as recorded; null when still open.',
      source: 'EpisodeCompleted.at or EpisodeDiscontinued.at',
    }),
    col({
      name: 'last_event_at',
      type: 'string',
      dateTime: true,
      presence: 'identified',
      description: 'The last accepted event of the episode, as recorded.',
      source: 'the last accepted event’s at',
    }),
    col({
      name: 'fit',
      type: 'string',
      nullable: true,
      values: ['good-fit', 'not-a-fit', 'needs-more-discussion'],
      description: 'The last fit assessment; null when none.',
      source: 'FitAssessed.outcome',
    }),
    col({
      name: 'eligible',
      type: 'boolean',
      nullable: true,
      description: 'The medical evaluation found the patient eligible; null before an evaluation.',
      source: 'MedicalEvaluationCompleted.eligible',
    }),
    col({
      name: 'contraindications',
      type: 'string',
      nullable: true,
      description: `Contraindication codes recorded at the last medical evaluation, separated by ";" (codes: ${contraindicationCodes.join(', ')}); null when none.`,
      source: 'MedicalEvaluationCompleted.contraindications',
    }),
    col({
      name: 'planned_dosing_sessions',
      type: 'integer',
      nullable: true,
      minimum: 1,
      maximum: 60,
      description: 'Dosing sessions planned in the treatment plan; null without a plan.',
      source: 'TreatmentPlanCreated.plannedDosingSessions',
    }),
    col({
      name: 'dosing_sessions',
      type: 'integer',
      minimum: 0,
      description: 'Dosing sessions booked (rows of the dosing_sessions table for this episode).',
      source: 'DosingSessionScheduled',
    }),
    col({
      name: 'doses',
      type: 'integer',
      minimum: 0,
      description: 'Dosing sessions in which a dose was given.',
      source: 'DoseAdministered (first of each session)',
    }),
    col({
      name: 'sessions_aborted',
      type: 'integer',
      minimum: 0,
      description: 'Dosing sessions aborted (before or after dosing).',
      source: 'DosingSessionAborted',
    }),
    col({
      name: 'boosters',
      type: 'integer',
      minimum: 0,
      description: 'Booster administrations.',
      source: 'DoseAdministered.kind = booster',
    }),
    col({
      name: 'first_dose_day',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days since baseline (fractional)',
      description: 'When the first dose was given; null without a dose.',
      source: `${DAY_SOURCE} the first DoseAdministered.at`,
    }),
    col({
      name: 'last_dose_day',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days since baseline (fractional)',
      description: 'When the last dosing session’s dose was given; null without a dose.',
      source: `${DAY_SOURCE} the first DoseAdministered.at of the last dosed session`,
    }),
    col({
      name: 'preparation_sessions',
      type: 'integer',
      minimum: 0,
      description: 'Preparation sessions.',
      source: 'PreparationSessionCompleted',
    }),
    col({
      name: 'integration_sessions',
      type: 'integer',
      minimum: 0,
      description: 'Integration sessions.',
      source: 'IntegrationSessionCompleted',
    }),
    col({
      name: 'medical_follow_ups',
      type: 'integer',
      minimum: 0,
      description: 'Medical follow-ups.',
      source: 'MedicalFollowUpCompleted',
    }),
    col({
      name: 'adverse_events',
      type: 'integer',
      minimum: 0,
      description: 'Adverse events reported (during or between sessions).',
      source: 'AdverseEventReported',
    }),
    col({
      name: 'adverse_events_severe',
      type: 'integer',
      minimum: 0,
      description: 'Adverse events reported as severe or serious.',
      source: 'AdverseEventReported.severity',
    }),
    col({
      name: 'assessments',
      type: 'integer',
      minimum: 0,
      description: 'Assessments recorded (every instrument, scorable or not).',
      source: 'AssessmentRecorded',
    }),
    col({
      name: 'safety_flags',
      type: 'integer',
      minimum: 0,
      description: 'Positive safety flags raised by assessments (e.g. PHQ-9 item 9 > 0).',
      source: 'safety rules of the instrument definitions',
    }),
    col({
      name: 'safety_flags_unreviewed',
      type: 'integer',
      minimum: 0,
      description: 'Positive safety flags without a recorded clinician review.',
      source: 'SafetyFlagReviewed',
    }),
    col({
      name: 'adverse_events_unreviewed',
      type: 'integer',
      minimum: 0,
      description:
        'Adverse events needing a clinician review (severe, serious or suicidal ideation) without one recorded.',
      source: 'AdverseEventReported, AdverseEventReviewed',
    }),
    col({
      name: 'treatment_stopped',
      type: 'boolean',
      description:
        'The medical team had stopped treatment (a follow-up deciding not to continue, or a re-evaluation not eligible) as of the episode’s last event.',
      source: 'MedicalFollowUpCompleted.continueTreatment, MedicalEvaluationCompleted (docs/episode.md)',
    }),
    col({
      name: 'voided_events',
      type: 'integer',
      minimum: 0,
      description: 'Events of the episode voided as entered in error (left out of every other column).',
      source: 'EventVoided',
    }),
    col({
      name: 'consent_kap',
      type: 'boolean',
      description: 'Informed consent to KAP in force at the episode’s last event (given, not withdrawn).',
      source: 'InformedConsentRecorded, ConsentWithdrawn (scope kap)',
    }),
    col({
      name: 'consent_remote_sessions',
      type: 'boolean',
      description: 'Consent to remote (telehealth) dosing sessions with a chaperone in force.',
      source: 'InformedConsentRecorded, ConsentWithdrawn (scope remote-sessions)',
    }),
    col({
      name: 'consent_research_use',
      type: 'boolean',
      description:
        'Consent to research use of de-identified data in force. Episodes whose patient withdrew it are left out of de-identified exports (manifest input.episodesConsentWithdrawn).',
      source: 'InformedConsentRecorded, ConsentWithdrawn (scope research-use)',
    }),
    col({
      name: 'consent_document_version',
      type: 'string',
      nullable: true,
      presence: 'free-text',
      description: 'Version of the latest consent document signed; null when none was recorded.',
      source: 'InformedConsentRecorded.documentVersion',
    }),
    col({
      name: 'consent_withdrawn',
      type: 'string',
      nullable: true,
      description:
        'Consent scopes the patient withdrew, ;-separated (kap, remote-sessions, research-use); null when none.',
      source: 'ConsentWithdrawn.scope',
    }),
    col({
      name: 'medications_reviewed',
      type: 'boolean',
      description: 'The medical team recorded the concurrent medications.',
      source: 'MedicationsReviewed',
    }),
    col({
      name: 'medication_classes',
      type: 'string',
      nullable: true,
      description:
        'Classes of the concurrent medications of the latest review, ;-separated (benzodiazepine, lamotrigine, maoi, stimulant, cyp-inducer, cyp-inhibitor, antidepressant, other); none when the review found none; null when no review was recorded.',
      source: 'MedicationsReviewed.medications[].class (docs/episode.md)',
    }),
    col({
      name: 'benzodiazepine_diazepam_eq_mg',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'mg/day diazepam-equivalent',
      description:
        'Total daily benzodiazepine dose in diazepam equivalents (Ashton Manual 2002, Table 1); null when none, or when no dose could be converted.',
      source: 'MedicationsReviewed.medications (benzodiazepines with dailyDose)',
    }),
    col({
      name: 'medication_interactions',
      type: 'integer',
      minimum: 0,
      description:
        'Medications of the latest review that raise a medication-interaction alert (benzodiazepines above the policy threshold, lamotrigine, MAOIs, stimulants, CYP3A4/2B6 inducers or inhibitors).',
      source: 'medicationFindings of @kapkit/core, episode policy benzodiazepineAlertAboveMgDiazepam',
    }),
    col({
      name: 'titration_planned',
      type: 'boolean',
      description: 'The treatment plan has titration steps (e.g. a half dose first).',
      source: 'TreatmentPlanCreated.titration',
    }),
    col({
      name: 'maintenance_planned',
      type: 'boolean',
      description: 'Maintenance sessions were planned after the initial course.',
      source: 'MaintenancePlanned',
    }),
    col({
      name: 'maintenance_interval_days',
      type: 'integer',
      nullable: true,
      minimum: 1,
      unit: 'days',
      description: 'Planned days between maintenance sessions; null without maintenance.',
      source: 'MaintenancePlanned.intervalDays',
    }),
    col({
      name: 'maintenance_doses',
      type: 'integer',
      minimum: 0,
      description:
        'Maintenance sessions with a dose. The critical-period columns cover the initial course only; doses counts both.',
      source: 'DoseAdministered in maintenance sessions',
    }),
    col({
      name: 'critical_period_days',
      type: 'number',
      minimum: 0,
      maximum: 365,
      unit: 'days',
      description:
        'Length W of the critical period each dose opens, in force at the end (default 14, the seed’s model; 2 is the conservative research value, Nardou et al. 2023).',
      source:
        'episode policy criticalPeriodDays (EpisodeOpened.policy, TreatmentPlanCreated.criticalPeriodDays)',
    }),
    col({
      name: 'critical_period_coverage',
      type: 'number',
      nullable: true,
      minimum: 0,
      maximum: 1,
      unit: 'fraction (0–1)',
      description:
        'Share of the span from the first dose to the end of the episode (end_day) covered by the union of the critical periods of the initial course (maintenance doses left out); null without a dose or when that span is empty.',
      source: 'analyzeCriticalPeriods of @kapkit/core (coverage.fraction, until = end of the episode)',
    }),
    col({
      name: 'critical_period_chains',
      type: 'integer',
      minimum: 0,
      description:
        'Chains of overlapping critical periods (a chain breaks when a dose comes at or after the end of the previous dose’s window).',
      source: 'analyzeCriticalPeriods of @kapkit/core (chains)',
    }),
    col({
      name: 'longest_chain_doses',
      type: 'integer',
      minimum: 0,
      description: 'Doses in the longest chain of overlapping critical periods (0 without a dose).',
      source: 'analyzeCriticalPeriods of @kapkit/core (longestChain)',
    }),
    col({
      name: 'longest_chain_days',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days',
      description:
        'Length of the longest chain: first dose of the chain to the end of its last window; null without a dose.',
      source: 'analyzeCriticalPeriods of @kapkit/core (longestChain.durationMs)',
    }),
    col({
      name: 'critical_period_gap_days',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days',
      description:
        'Days of the span (first dose to end of episode) covered by no critical period; null without a dose.',
      source: 'analyzeCriticalPeriods of @kapkit/core (gaps)',
    }),
    ...EPISODE_OUTCOME_INSTRUMENTS.flatMap((id) => outcomeColumns(outcomeDefinition(id), FIXED_POINTS[id]!)),
  ],
};
