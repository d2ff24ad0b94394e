import type { EpisodeView } from '../../../shared/api.js';
import { h, on } from '../../dom.js';
import { words } from '../../format.js';
import type { FormContext } from '../../forms.js';
import { field, fieldGroup, numberInput, numberValue, radios, radioValue, select } from '../../inputs.js';
import { atOf, codeOptions, roleField, simpleForm, whenField } from './fields.js';
import { clinicianField } from './safety.js';

/* The course forms: completion or discontinuation, consent, medications, maintenance. */

/** Pause, resume, complete or discontinue the course (clinicians). */
export function courseForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const options = ep.paused
    ? [
        { value: 'resume', label: 'Resume treatment' },
        { value: 'discontinue', label: 'Discontinue the course' },
      ]
    : [
        { value: 'pause', label: 'Pause treatment' },
        { value: 'complete', label: 'Complete the course' },
        { value: 'discontinue', label: 'Discontinue the course' },
      ];
  const action = radios('Decision', 'action', options, 'course.type', options[0]!.value);
  const pauseReason = select(
    codeOptions(['patient-request', 'medical', 'scheduling', 'financial', 'other']),
    'patient-request',
    { name: 'pause-reason' },
  );
  const stopReason = select(
    codeOptions([
      'patient-choice',
      'clinical-decision',
      'adverse-event',
      'lost-to-follow-up',
      'not-a-fit',
      'ineligible',
      'other',
    ]),
    'patient-choice',
    { name: 'stop-reason' },
  );
  const reason = h('textarea', { name: 'completion-reason', rows: 2, maxlength: 2000 });
  const by = clinicianField('course.recordedBy');
  const when = whenField('course.at');
  const short = ep.plannedDosingSessions !== null && ep.dosesGiven < ep.plannedDosingSessions;
  return simpleForm(
    'Course',
    'course',
    `${ep.dosesGiven} of ${ep.plannedDosingSessions ?? '?'} planned dosing sessions given.${short ? ' Completing short of the plan needs a reason.' : ''}`,
    ctx,
    [
      action,
      field('Why paused', pauseReason, 'course.reason'),
      field('Why discontinued', stopReason, 'course.discontinueReason'),
      field('Reason for completing now (required short of the plan)', reason, 'course.completionReason'),
      by.el,
      when.el,
    ],
    () => {
      const common = { recordedBy: by.input.value, ...atOf(when.input) };
      switch (radioValue(action, 'action')) {
        case 'pause':
          return [{ type: 'EpisodePaused', reason: pauseReason.value, ...common }];
        case 'resume':
          return [{ type: 'EpisodeResumed', ...common }];
        case 'complete':
          return [
            {
              type: 'EpisodeCompleted',
              ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
              ...common,
            },
          ];
        default:
          return [{ type: 'EpisodeDiscontinued', reason: stopReason.value, ...common }];
      }
    },
    'course',
    'Record decision',
  );
}

const SCOPES: readonly [string, string][] = [
  ['kap', 'Ketamine-assisted psychotherapy'],
  ['remote-sessions', 'Remote (telehealth) dosing sessions with a chaperone'],
  ['research-use', 'Use of de-identified data for research'],
];

/** What the consent form records. */
const CONSENT_ACTIONS = [
  { value: 'give', label: 'Consent given' },
  { value: 'withdraw', label: 'Consent withdrawn' },
];

export function consentForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const action = radios('Record', 'consent-action', CONSENT_ACTIONS, 'consent.action', 'give');
  const boxes = SCOPES.map(([value, label]) => ({
    value,
    box: h('input', { type: 'checkbox', name: `scope-${value}`, checked: value !== 'research-use' }),
    label,
  }));
  const version = h('input', { type: 'text', name: 'document-version', maxlength: 100 });
  const reason = h('textarea', { name: 'withdraw-reason', rows: 2, maxlength: 2000 });
  const by = roleField('consent.recordedBy', 'therapist');
  const when = whenField('consent.at');
  const inForce = ep.consent.inForce.length ? ep.consent.inForce.map(words).join(', ') : 'none';
  return simpleForm(
    'Informed consent',
    'consent',
    `In force: ${inForce}${ep.consent.withdrawn.length ? `; withdrawn: ${ep.consent.withdrawn.map(words).join(', ')}` : ''}. ${ep.consent.required ? 'The policy refuses a dose without consent to KAP, and a remote dose without consent to remote sessions.' : ''} Withdrawing research use leaves the course out of research exports.`,
    ctx,
    [
      action,
      fieldGroup(
        'consent.scope',
        'Scope',
        boxes.map((b) => h('label', { class: 'check' }, b.box, ` ${b.label}`)),
      ),
      field('Consent document version', version, 'consent.documentVersion', 'e.g. KAP consent v3 (2026-01)'),
      field('Reason (withdrawal, optional)', reason, 'consent.reason'),
      by.el,
      when.el,
    ],
    () => {
      const scope = boxes.filter((b) => b.box.checked).map((b) => b.value);
      const common = { recordedBy: by.input.value, ...atOf(when.input) };
      return radioValue(action, 'consent-action') === 'withdraw'
        ? [
            {
              type: 'ConsentWithdrawn',
              scope,
              ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
              ...common,
            },
          ]
        : [{ type: 'InformedConsentRecorded', scope, documentVersion: version.value.trim(), ...common }];
    },
    'consent',
    'Record consent',
  );
}

const MEDICATION_CLASSES: readonly [string, string][] = [
  ['antidepressant', 'Antidepressant'],
  ['benzodiazepine', 'Benzodiazepine'],
  ['lamotrigine', 'Lamotrigine'],
  ['maoi', 'MAO inhibitor'],
  ['stimulant', 'Stimulant'],
  ['cyp-inducer', 'CYP3A4/2B6 inducer'],
  ['cyp-inhibitor', 'CYP3A4/2B6 inhibitor'],
  ['other', 'Other'],
];

export function medicationsForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const rows = h('div', { class: 'medication-rows' });
  const inputs: {
    name: HTMLInputElement;
    cls: HTMLSelectElement;
    dose: HTMLInputElement;
    unit: HTMLSelectElement;
  }[] = [];
  const addRow = (m?: { name: string; class: string; dailyDose: number | null; unit: string | null }) => {
    const n = inputs.length + 1;
    const row = {
      name: h('input', { type: 'text', name: `med-${n}-name`, maxlength: 200, value: m?.name ?? '' }),
      cls: select(
        MEDICATION_CLASSES.map(([value, label]) => ({ value, label })),
        m?.class ?? 'other',
        { name: `med-${n}-class` },
      ),
      dose: numberInput({
        name: `med-${n}-dose`,
        min: 0,
        max: 100000,
        step: 'any',
        value: m?.dailyDose ?? '',
      }),
      unit: select(
        ['mg', 'mcg', 'g'].map((u) => ({ value: u, label: u })),
        m?.unit ?? 'mg',
        { name: `med-${n}-unit` },
      ),
    };
    inputs.push(row);
    rows.append(
      h(
        'div',
        { class: 'medication-row', 'data-key': `medications.${n - 1}` },
        field(`Medication ${n}`, row.name, `medications.${n - 1}.name`),
        field('Class', row.cls, `medications.${n - 1}.class`),
        field('Daily dose', row.dose, `medications.${n - 1}.dailyDose`),
        field('Unit', row.unit, `medications.${n - 1}.unit`),
      ),
    );
  };
  for (const m of ep.medications.list) addRow(m);
  addRow();
  const more = h('button', { type: 'button', class: 'button small' }, 'Add a medication');
  on(more, 'click', () => addRow());
  const when = whenField('medications.at');
  return simpleForm(
    'Concurrent medications',
    'medications',
    'The medical team records every medication the patient takes now (leave a row empty to drop it; no rows: none). Benzodiazepines above the policy diazepam-equivalent, lamotrigine, MAO inhibitors, stimulants and CYP3A4/2B6 inducers or inhibitors raise an alert for the medical team.',
    ctx,
    [rows, more, when.el],
    () => [
      {
        type: 'MedicationsReviewed',
        medications: inputs
          .filter((r) => r.name.value.trim() !== '')
          .map((r) => ({
            name: r.name.value.trim(),
            class: r.cls.value,
            ...(r.dose.value !== '' ? { dailyDose: Number(r.dose.value), unit: r.unit.value } : {}),
          })),
        ...atOf(when.input),
      },
    ],
    'medications',
    'Record medications',
  );
}

export function maintenanceForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const interval = numberInput({
    name: 'interval',
    min: 7,
    max: 365,
    step: 1,
    value: ep.maintenance?.intervalDays ?? 45,
  });
  const reason = h('textarea', { name: 'maintenance-reason', rows: 2, maxlength: 2000 });
  const when = whenField('maintenance.at');
  const done = ep.dosesGiven;
  const planned = ep.plannedDosingSessions;
  return simpleForm(
    'Maintenance plan',
    'maintenance',
    `After the initial course (6–8 dosing sessions), practices continue with maintenance sessions every 1–2 months. ${planned !== null && done < planned ? `Only ${done} of ${planned} planned sessions are done: say why maintenance starts now.` : ''}`,
    ctx,
    [
      field('Days between maintenance sessions', interval, 'maintenance.intervalDays'),
      field('Reason (required before the initial course is done)', reason, 'maintenance.reason'),
      when.el,
    ],
    () => [
      {
        type: 'MaintenancePlanned',
        intervalDays: numberValue(interval),
        ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
        ...atOf(when.input),
      },
    ],
    'maintenance',
    'Record maintenance plan',
  );
}
