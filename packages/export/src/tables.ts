import {
  abortReasons,
  adverseEventCodes,
  adverseEventSeverities,
  assessmentContexts,
  builtinInstruments,
  contraindicationCodes,
  discontinuationReasons,
  doseKinds,
  formulations,
  type InstrumentDefinition,
  routes,
  sessionModes,
} from '@kapkit/core';
import type { ColumnSpec, TableName, TableSpec } from './columns.js';

/**
 * The three research tables (tidy: one row per assessment, per dosing session, per episode). Column order is
 * the order in files. Day 0 is the episode's `EpisodeOpened` (its baseline); every `*_day` column is elapsed
 * days since then, fractional (1 h = 0.041666…), never a calendar date.
 */

/** Episode phases an exported episode can end in (`not-opened` never has a row). */
const END_STATES = [
  'fit-discussion',
  'medical-evaluation',
  'ineligible',
  'planning',
  'preparation',
  'dosing-session',
  'dosing-course',
  'paused',
  'completed',
  'discontinued',
] as const;

/** Reliable-change classes. */
const RELIABLE_CHANGE_CLASSES = ['improved', 'no-reliable-change', 'deteriorated'] as const;

/** Instruments with outcome columns in the episodes table. */
export const EPISODE_OUTCOME_INSTRUMENTS = ['phq9', 'gad7'] as const;

/** Item columns of the assessments table: as many as the longest built-in instrument has items (MEQ-30). */
export const ITEM_COLUMNS: number = Math.max(...builtinInstruments.map((d) => d.items.length));

/** `item_01` … `item_30`. */
export function itemColumnName(index1: number): string {
  return `item_${String(index1).padStart(2, '0')}`;
}

/** The item column names in order (`item_01` first), made once: every assessments row sets all of them. */
export const ITEM_COLUMN_NAMES: readonly string[] = Array.from({ length: ITEM_COLUMNS }, (_, k) =>
  itemColumnName(k + 1),
);

const instrumentIds = builtinInstruments.map((d) => d.id);
const severityIds = [...new Set(builtinInstruments.flatMap((d) => (d.bands ?? []).map((b) => b.id)))];
const safetyRuleIds = builtinInstruments.flatMap((d) => (d.safety ?? []).map((s) => s.id));

const DAY_SOURCE = 'elapsed time from the episode’s EpisodeOpened.at (day 0, the baseline) to';

function col(spec: Omit<ColumnSpec, 'presence' | 'nullable'> & Partial<ColumnSpec>): ColumnSpec {
  return { presence: 'always', nullable: false, ...spec };
}

function idColumns(withSession: boolean): ColumnSpec[] {
  const out = [
    col({
      name: 'patient_id',
      type: 'string',
      pseudonymised: 'patient',
      description:
        'Patient identifier as the clinic recorded it. The same patient has the same id in every table and every episode of an export (and in every export made with the same key).',
      source: 'EpisodeOpened.patientId',
    }),
    col({
      name: 'episode_id',
      type: 'string',
      pseudonymised: 'episode',
      description: 'Episode (one course of KAP for one patient) identifier as the clinic recorded it.',
      source: 'EpisodeOpened.episodeId',
    }),
  ];
  if (withSession)
    out.push(
      col({
        name: 'session_id',
        type: 'string',
        pseudonymised: 'session',
        description:
          'Dosing session identifier as the clinic recorded it, unique within its episode (the key of a row is episode_id + session_id).',
        source: 'DosingSessionScheduled.sessionId',
      }),
    );
  return out;
}

function itemColumns(): ColumnSpec[] {
  const out: ColumnSpec[] = [];
  for (let k = 1; k <= ITEM_COLUMNS; k++) {
    out.push(
      col({
        name: itemColumnName(k),
        type: 'number',
        nullable: true,
        description: `Answer to item ${k} of the instrument, in the instrument's item order (see docs/instruments.md for each instrument's items and answer scale); null when unanswered${k > 1 ? ` or when the instrument has fewer than ${k} items` : ''}.`,
        unit: 'points on the item’s answer scale',
        source: `AssessmentRecorded.responses[${k - 1}]`,
      }),
    );
  }
  return out;
}

export const assessmentsTable: TableSpec = {
  name: 'assessments',
  title: 'kapkit research table: assessments',
  description:
    'One row per accepted AssessmentRecorded event (an outcome measure such as the PHQ-9 completed by the patient), in clinical order within its episode, written once the episode’s last event has been read. Refused events are not exported; voided ones (entered in error) only with --include-voided, marked in the voided column.',
  columns: [
    ...idColumns(false),
    col({
      name: 'assessment_id',
      type: 'string',
      pseudonymised: 'event',
      description:
        'Id of the AssessmentRecorded event as the clinic recorded it, unique within its episode (safety-flag reviews refer to it).',
      source: 'AssessmentRecorded.id',
    }),
    col({
      name: 'instrument',
      type: 'string',
      values: instrumentIds,
      description: 'Canonical instrument id (phq9 = PHQ-9, gad7 = GAD-7, …).',
      source: 'AssessmentRecorded.instrument, normalised by the instrument registry',
    }),
    col({
      name: 'day',
      type: 'number',
      minimum: 0,
      unit: 'days since baseline (fractional)',
      description: 'When the assessment was recorded, in days since the episode opened (day 0).',
      source: `${DAY_SOURCE} AssessmentRecorded.at`,
    }),
    col({
      name: 'at',
      type: 'string',
      dateTime: true,
      presence: 'identified',
      description: 'When the assessment was recorded, as recorded (ISO 8601 with UTC offset).',
      source: 'AssessmentRecorded.at',
    }),
    col({
      name: 'context',
      type: 'string',
      nullable: true,
      values: assessmentContexts,
      description:
        'Why it was taken (baseline, before a dose, after a dose, integration, follow-up, routine); null when not recorded.',
      source: 'AssessmentRecorded.context',
    }),
    col({
      name: 'status',
      type: 'string',
      values: ['complete', 'prorated', 'not-scorable'],
      description:
        'complete: every item answered; prorated: some items missing, total prorated by the instrument’s missing-item rule; not-scorable: too many items missing (total is null).',
      source: 'scoreResponse of @kapkit/core (missing-item rule of the instrument definition)',
    }),
    col({
      name: 'total',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'points',
      description:
        'Total score, exact (a prorated total is not rounded); null when not scorable. Range per instrument: PHQ-9 0–27, GAD-7 0–21, see docs/instruments.md.',
      source: 'scoreResponse of @kapkit/core',
    }),
    col({
      name: 'severity',
      type: 'string',
      nullable: true,
      values: severityIds,
      description:
        'Severity band of the total (e.g. PHQ-9: minimal 0–4, mild 5–9, moderate 10–14, moderately-severe 15–19, severe 20–27, Kroenke et al. 2001); null when not scorable or the instrument has no bands.',
      source: 'bands of the instrument definition',
    }),
    col({
      name: 'answered',
      type: 'integer',
      minimum: 0,
      description: 'Number of items answered.',
      source: 'AssessmentRecorded.responses',
    }),
    ...itemColumns(),
    col({
      name: 'dose_number',
      type: 'integer',
      minimum: 0,
      description:
        'Dosing sessions with a dose given at or before the assessment (0 before the first dose). A booster in the same session does not count again.',
      source: 'DoseAdministered events of earlier (or simultaneous) dosing sessions',
    }),
    col({
      name: 'days_since_last_dose',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days (fractional)',
      description:
        'Elapsed days since the first dose of the last dosing session before it; null before any dose.',
      source: 'AssessmentRecorded.at − DoseAdministered.at (locateInCriticalPeriods of @kapkit/core)',
    }),
    col({
      name: 'in_critical_period',
      type: 'boolean',
      description:
        'Whether the assessment fell inside a critical period [dose, dose + W) of any earlier dose, W being the episode’s critical-period length in force (default 14 days, configurable per episode or plan). false before the first dose.',
      source: 'locateInCriticalPeriods of @kapkit/core; W from the episode policy (docs/episode.md)',
    }),
    col({
      name: 'safety_flag',
      type: 'boolean',
      description:
        'A safety item was answered positively (e.g. PHQ-9 item 9 > 0), whatever the total. Clinicians must have followed it up; the follow-up is counted in the episodes table.',
      source:
        'safety rules of the instrument definition (PHQ-9 item 9: Kroenke et al. 2001; Simon et al. 2013)',
    }),
    col({
      name: 'safety_item_unanswered',
      type: 'boolean',
      description: 'A safety item the instrument asks to flag when unanswered was left blank.',
      source: 'safety rules of the instrument definition',
    }),
    col({
      name: 'safety_rules',
      type: 'string',
      nullable: true,
      description: `Ids of the safety rules raised (positive or unanswered), separated by ";" (known rules: ${safetyRuleIds.join(', ')}); null when none.`,
      source: 'safety rules of the instrument definition',
    }),
    col({
      name: 'recorded_by',
      type: 'string',
      values: ['therapist', 'medical', 'patient', 'chaperone', 'system'],
      description:
        'The role that recorded the assessment: patient for a self-report (e.g. a measure link), else the clinician who entered it.',
      source: 'AssessmentRecorded.recordedBy (schema version 1 events: the upcast role, docs/episode.md)',
    }),
    col({
      name: 'recorded_by_actor',
      type: 'string',
      nullable: true,
      pseudonymised: 'actor',
      description:
        'The opaque id of the person who recorded the assessment (e.g. a user id), when the writer gave one; null otherwise.',
      source: 'AssessmentRecorded.actorId',
    }),
    col({
      name: 'recorded_at',
      type: 'string',
      dateTime: true,
      presence: 'identified',
      description:
        'When the assessment was written (recording time), as opposed to when it was completed (at); later for a late entry.',
      source: 'AssessmentRecorded.recordedAt',
    }),
    col({
      name: 'voided',
      type: 'boolean',
      presence: 'voided',
      description:
        'The assessment was voided as entered in error (EventVoided): it is not part of the episode. Only in exports made with --include-voided.',
      source: 'EventVoided.voidedEventId',
    }),
    col({
      name: 'note',
      type: 'string',
      nullable: true,
      presence: 'free-text',
      description: 'Free-text note recorded with the assessment; null without one.',
      source: 'AssessmentRecorded.note',
    }),
  ],
};

const vitalsColumns = (phase: 'pre' | 'post'): ColumnSpec[] => {
  const which =
    phase === 'pre'
      ? 'the last pre-dose reading of the session (the one the dose decision relied on)'
      : 'the last post-dose reading of the session';
  const src = `VitalsRecorded (phase "${phase}")`;
  return [
    col({
      name: `${phase}_systolic`,
      type: 'integer',
      nullable: true,
      minimum: 40,
      maximum: 300,
      unit: 'mmHg',
      description: `Systolic blood pressure, ${which}; null without one.`,
      source: `${src}.systolic`,
    }),
    col({
      name: `${phase}_diastolic`,
      type: 'integer',
      nullable: true,
      minimum: 20,
      maximum: 200,
      unit: 'mmHg',
      description: `Diastolic blood pressure, ${which}; null without one.`,
      source: `${src}.diastolic`,
    }),
    col({
      name: `${phase}_heart_rate`,
      type: 'integer',
      nullable: true,
      minimum: 20,
      maximum: 250,
      unit: 'beats per minute',
      description: `Heart rate, ${which}; null when not taken.`,
      source: `${src}.heartRate`,
    }),
    col({
      name: `${phase}_spo2`,
      type: 'number',
      nullable: true,
      minimum: 50,
      maximum: 100,
      unit: '%',
      description: `Oxygen saturation, ${which}; null when not taken.`,
      source: `${src}.spo2`,
    }),
  ];
};

export const dosingSessionsTable: TableSpec = {
  name: 'dosing_sessions',
  title: 'kapkit research table: dosing sessions',
  description:
    'One row per booked dosing session, written once the episode’s last event has been read (status says where a session that had not ended stood).',
  columns: [
    ...idColumns(true),
    col({
      name: 'session_number',
      type: 'integer',
      minimum: 1,
      description: 'Order in which the session was booked within the episode (1-based).',
      source: 'DosingSessionScheduled events of the episode, in order',
    }),
    col({
      name: 'dose_number',
      type: 'integer',
      nullable: true,
      minimum: 1,
      description: 'Number of the session among sessions with a dose (1-based); null when no dose was given.',
      source: 'first DoseAdministered of the session',
    }),
    col({
      name: 'status',
      type: 'string',
      values: ['completed', 'aborted', 'scheduled', 'dosed'],
      description:
        'completed or aborted; scheduled (booked, never ended) or dosed (a dose given, never completed) when the episode closed or the input ended first.',
      source: 'DosingSessionScheduled / DoseAdministered / DosingSessionCompleted / DosingSessionAborted',
    }),
    col({
      name: 'mode',
      type: 'string',
      values: sessionModes,
      description: 'In person or by video.',
      source: 'DosingSessionScheduled.mode',
    }),
    col({
      name: 'chaperone',
      type: 'boolean',
      nullable: true,
      description: 'A chaperone checks in during the session (remote sessions); null when not recorded.',
      source: 'DosingSessionScheduled.chaperone',
    }),
    col({
      name: 'scheduled_day',
      type: 'number',
      unit: 'days since baseline (fractional)',
      description: 'When the session was booked for.',
      source: `${DAY_SOURCE} DosingSessionScheduled.scheduledFor`,
    }),
    col({
      name: 'scheduled_for',
      type: 'string',
      dateTime: true,
      presence: 'identified',
      description: 'When the session was booked for, as recorded.',
      source: 'DosingSessionScheduled.scheduledFor',
    }),
    col({
      name: 'start_day',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days since baseline (fractional)',
      description:
        'When the session began: its first pre-dose vitals, or its dose when no vitals came first; null when it never began (a booking cancelled or still pending).',
      source: `${DAY_SOURCE} the first VitalsRecorded or DoseAdministered of the session`,
    }),
    col({
      name: 'dose_day',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days since baseline (fractional)',
      description:
        'When the (first) dose was given; it opens the session’s critical period. Null without a dose.',
      source: `${DAY_SOURCE} the first DoseAdministered.at of the session`,
    }),
    col({
      name: 'dose_at',
      type: 'string',
      dateTime: true,
      nullable: true,
      presence: 'identified',
      description: 'When the (first) dose was given, as recorded; null without a dose.',
      source: 'DoseAdministered.at',
    }),
    col({
      name: 'end_day',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'days since baseline (fractional)',
      description: 'When the session was completed or aborted; null when it had not ended.',
      source: `${DAY_SOURCE} DosingSessionCompleted.at or DosingSessionAborted.at`,
    }),
    col({
      name: 'ended_at',
      type: 'string',
      dateTime: true,
      nullable: true,
      presence: 'identified',
      description: 'When the session was completed or aborted, as recorded; null when it had not ended.',
      source: 'DosingSessionCompleted.at or DosingSessionAborted.at',
    }),
    col({
      name: 'duration_minutes',
      type: 'integer',
      nullable: true,
      minimum: 1,
      maximum: 1440,
      unit: 'minutes',
      description: 'Duration of the session as recorded at completion; null when not recorded.',
      source: 'DosingSessionCompleted.durationMinutes',
    }),
    col({
      name: 'dose_kind',
      type: 'string',
      nullable: true,
      values: doseKinds.filter((k) => k !== 'booster'),
      description: 'Kind of the first dose (full or half); null without a dose.',
      source: 'first DoseAdministered.kind of the session',
    }),
    col({
      name: 'dose_mg',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'mg (ketamine)',
      description: 'Dose of the first administration; null without a dose.',
      source: 'first DoseAdministered.doseMg of the session',
    }),
    col({
      name: 'total_dose_mg',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'mg (ketamine)',
      description: 'Sum of every administration in the session, boosters included; null without a dose.',
      source: 'DoseAdministered.doseMg of the session',
    }),
    col({
      name: 'administrations',
      type: 'integer',
      minimum: 0,
      description: 'Number of administrations in the session (the dose and any boosters).',
      source: 'DoseAdministered events of the session',
    }),
    col({
      name: 'booster',
      type: 'boolean',
      description: 'A booster (an optional extra partial dose) was given in the session.',
      source: 'DoseAdministered.kind = booster',
    }),
    col({
      name: 'booster_mg',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'mg (ketamine)',
      description: 'Sum of the booster doses; null without a booster.',
      source: 'DoseAdministered.doseMg where kind = booster',
    }),
    col({
      name: 'units_used',
      type: 'number',
      minimum: 0,
      unit: 'doses (units of the supply on hand)',
      description:
        'Units taken from the supply on hand (as recorded, else 1 for a full dose and 0.5 for a half dose or booster, kapkit default).',
      source: 'DoseAdministered.unitsUsed (unitsOf of @kapkit/core)',
    }),
    col({
      name: 'route',
      type: 'string',
      nullable: true,
      values: routes,
      description: 'Route of the first administration; null without a dose.',
      source: 'DoseAdministered.route',
    }),
    col({
      name: 'formulation',
      type: 'string',
      nullable: true,
      values: formulations,
      description: 'Formulation of the first administration; null without a dose.',
      source: 'DoseAdministered.formulation',
    }),
    col({
      name: 'pre_readings',
      type: 'integer',
      minimum: 0,
      description: 'Number of pre-dose vitals readings (a hold is usually re-measured).',
      source: 'VitalsRecorded (phase "pre") of the session',
    }),
    ...vitalsColumns('pre'),
    col({
      name: 'during_readings',
      type: 'integer',
      minimum: 0,
      description: 'Number of vitals readings during the session.',
      source: 'VitalsRecorded (phase "during") of the session',
    }),
    col({
      name: 'post_readings',
      type: 'integer',
      minimum: 0,
      description: 'Number of post-dose vitals readings.',
      source: 'VitalsRecorded (phase "post") of the session',
    }),
    ...vitalsColumns('post'),
    col({
      name: 'hold_systolic_above',
      type: 'integer',
      unit: 'mmHg',
      description:
        'The episode’s vitals-hold threshold for systolic pressure (default 140, from the Spravato label, configurable).',
      source: 'episode policy holdSystolicAbove (docs/episode.md)',
    }),
    col({
      name: 'hold_diastolic_above',
      type: 'integer',
      unit: 'mmHg',
      description: 'The episode’s vitals-hold threshold for diastolic pressure (default 90, configurable).',
      source: 'episode policy holdDiastolicAbove (docs/episode.md)',
    }),
    col({
      name: 'vitals_hold',
      type: 'boolean',
      description: 'At least one pre-dose reading was above the hold threshold.',
      source: 'VitalsRecorded (phase "pre") against the episode policy',
    }),
    col({
      name: 'vitals_override',
      type: 'boolean',
      description: 'A dose was given under a clinician’s override of a vitals hold.',
      source: 'DoseAdministered.vitalsOverride',
    }),
    col({
      name: 'override_role',
      type: 'string',
      nullable: true,
      values: ['medical', 'therapist'],
      description:
        'Role of the clinician who overrode the hold (a role, never a name); null without override.',
      source: 'DoseAdministered.vitalsOverride.clinicianRole',
    }),
    col({
      name: 'override_reason',
      type: 'string',
      nullable: true,
      presence: 'free-text',
      description: 'The recorded reason of the override; null without override.',
      source: 'DoseAdministered.vitalsOverride.reason',
    }),
    col({
      name: 'maintenance',
      type: 'boolean',
      description:
        'A maintenance session (booked after maintenance was planned), not one of the initial course.',
      source: 'MaintenancePlanned, DosingSessionScheduled',
    }),
    col({
      name: 'planned_dose_mg',
      type: 'number',
      nullable: true,
      minimum: 0,
      unit: 'mg',
      description:
        'The treatment plan’s titration step for the session’s first dose; null without titration or without a dose.',
      source: 'TreatmentPlanCreated.titration',
    }),
    col({
      name: 'dose_departure_reason',
      type: 'string',
      nullable: true,
      presence: 'free-text',
      description: 'Why the first dose departs from its titration step; null when it follows the plan.',
      source: 'DoseAdministered.reason',
    }),
    col({
      name: 'aborted',
      type: 'boolean',
      description: 'The session was stopped (before or after dosing).',
      source: 'DosingSessionAborted',
    }),
    col({
      name: 'abort_reason',
      type: 'string',
      nullable: true,
      values: abortReasons,
      description: 'Coded reason the session was stopped; null when not aborted.',
      source: 'DosingSessionAborted.reason',
    }),
    col({
      name: 'adverse_events',
      type: 'integer',
      minimum: 0,
      description: 'Adverse events reported for the session.',
      source: 'AdverseEventReported with this sessionId',
    }),
    col({
      name: 'adverse_event_codes',
      type: 'string',
      nullable: true,
      description: `Codes of those adverse events in the order reported, separated by ";" (codes: ${adverseEventCodes.join(', ')}); null when none.`,
      source: 'AdverseEventReported.code',
    }),
    col({
      name: 'adverse_event_max_severity',
      type: 'string',
      nullable: true,
      values: adverseEventSeverities,
      description: 'Highest severity among them (mild < moderate < severe < serious); null when none.',
      source: 'AdverseEventReported.severity',
    }),
    col({
      name: 'adverse_event_descriptions',
      type: 'string',
      nullable: true,
      presence: 'free-text',
      description:
        'Free-text descriptions of those adverse events, separated by " | "; null when none was recorded.',
      source: 'AdverseEventReported.description',
    }),
  ],
};

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

/** The table specs, by name. */
export const tables: Readonly<Record<TableName, TableSpec>> = {
  assessments: assessmentsTable,
  dosing_sessions: dosingSessionsTable,
  episodes: episodesTable,
};
