import { builtinInstruments } from '@kapkit/core/instruments';
import { assessmentContexts } from '@kapkit/core/vocabularies';
import type { ColumnSpec, TableSpec } from '../columns.js';
import { col, DAY_SOURCE, idColumns } from './common.js';

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
