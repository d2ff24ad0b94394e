import {
  abortReasons,
  adverseEventCodes,
  adverseEventSeverities,
  doseKinds,
  formulations,
  routes,
  sessionModes,
} from '@kapkit/core/vocabularies';
import type { ColumnSpec, TableSpec } from '../columns.js';
import { col, DAY_SOURCE, idColumns } from './common.js';

/**
 * The vital signs of a reading that the table reports, in column order: event field, column suffix, type,
 * range, unit, what it is, and what null means.
 */
const VITALS = [
  ['systolic', 'systolic', 'integer', 40, 300, 'mmHg', 'Systolic blood pressure', 'null without one'],
  ['diastolic', 'diastolic', 'integer', 20, 200, 'mmHg', 'Diastolic blood pressure', 'null without one'],
  ['heartRate', 'heart_rate', 'integer', 20, 250, 'beats per minute', 'Heart rate', 'null when not taken'],
  ['spo2', 'spo2', 'number', 50, 100, '%', 'Oxygen saturation', 'null when not taken'],
] as const;

const vitalsColumns = (phase: 'pre' | 'post'): ColumnSpec[] => {
  const which =
    phase === 'pre'
      ? 'the last pre-dose reading of the session (the one the dose decision relied on)'
      : 'the last post-dose reading of the session';
  const src = `VitalsRecorded (phase "${phase}")`;
  return VITALS.map(([field, column, type, minimum, maximum, unit, what, absent]) =>
    col({
      name: `${phase}_${column}`,
      type,
      nullable: true,
      minimum,
      maximum,
      unit,
      description: `${what}, ${which}; ${absent}.`,
      source: `${src}.${field}`,
    }),
  );
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
