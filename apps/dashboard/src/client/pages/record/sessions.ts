import type { EpisodeView } from '../../../shared/api.js';
import { h } from '../../dom.js';
import { day } from '../../format.js';
import type { FormContext } from '../../forms.js';
import { field, numberInput, numberValue, radios, radioValue, select } from '../../inputs.js';

import { atOf, formHead, MODE_OPTIONS, recordForm, simpleForm, stepEvents, whenField } from './fields.js';

/* Preparation, integration, medical follow-up, refill and delivery forms. */

export function preparationForm(ctx: FormContext): HTMLElement {
  const mode = select(MODE_OPTIONS, 'in-person', { name: 'mode' });
  const intentions = h('input', { type: 'checkbox', name: 'intentions', checked: true });
  const when = whenField('prep.at');
  return simpleForm(
    'Preparation session',
    'preparation',
    'A preparation session aligns on the process and sets intentions; the policy asks for one before the first dose.',
    ctx,
    [
      field('Mode', mode, 'prep.mode'),
      h('label', { class: 'check' }, intentions, ' Intentions set'),
      when.el,
    ],
    () => [
      {
        type: 'PreparationSessionCompleted',
        mode: mode.value,
        intentionsSet: intentions.checked,
        recordedBy: 'therapist',
        ...atOf(when.input),
      },
    ],
    'prep',
    'Record preparation session',
  );
}

export function integrationForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const mode = select(MODE_OPTIONS, 'in-person', { name: 'mode' });
  const sessions = ep.doses.map((d) => ({
    value: d.sessionId,
    label: `Dose ${d.doseNumber} (${day(d.at)})`,
  }));
  const session = select(
    [{ value: '', label: 'Not tied to one session' }, ...sessions.reverse()],
    sessions[0]?.value ?? '',
    { name: 'session' },
  );
  const when = whenField('integration.at');
  return simpleForm(
    'Integration session',
    'integration',
    'Integration sessions follow each dosing session and prepare the next one.',
    ctx,
    [field('Mode', mode, 'integration.mode'), field('Integrates', session, 'integration.sessionId'), when.el],
    () => [
      {
        type: 'IntegrationSessionCompleted',
        mode: mode.value,
        ...(session.value ? { sessionId: session.value } : {}),
        recordedBy: 'therapist',
        ...atOf(when.input),
      },
    ],
    'integration',
    'Record integration session',
  );
}

/** A yes-or-no answer. */
const YES_NO = [
  { value: 'yes', label: 'Yes' },
  { value: 'no', label: 'No' },
];

export function followUpForm(ctx: FormContext): HTMLElement {
  const cont = radios('Continue treatment?', 'continue', YES_NO, 'followup.continueTreatment', 'yes');
  const when = whenField('followup.at');
  return simpleForm(
    'Medical follow-up',
    'follow-up',
    'The medical team follows up at least once a quarter after the first dose, to review progress and authorise refills.',
    ctx,
    [cont, when.el],
    () => [
      {
        type: 'MedicalFollowUpCompleted',
        continueTreatment: radioValue(cont, 'continue') !== 'no',
        ...atOf(when.input),
      },
    ],
    'followup',
    'Record follow-up',
  );
}

export function refillForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const refill = numberInput({ name: 'refill', min: 1, max: 100, step: 1 });
  const delivered = numberInput({ name: 'delivered', min: 1, max: 100, step: 1 });
  const lot = h('input', { type: 'text', name: 'lot', maxlength: 100 });
  const when = whenField('refill.at');
  const content = [
    formHead(
      'Refill and delivery',
      `Authorised so far: ${ep.dosesAuthorized}; on hand: ${ep.dosesOnHand}. A refill needs a medical follow-up since the last prescription or refill (policy).`,
    ),
    field(
      'Refill: doses authorised',
      refill,
      'refill.dosesAuthorized',
      'Leave empty to record a delivery only.',
    ),
    field(
      'Delivered to the patient: doses',
      delivered,
      'delivery.doses',
      'Leave empty to record a refill only.',
    ),
    field('Lot (optional)', lot, 'delivery.lot'),
    when.el,
  ];
  return recordForm('refill', content, 'Record', ctx, () => {
    const steps = stepEvents();
    const at = atOf(when.input);
    if (refill.value !== '') {
      steps.push('refill', 'the refill', {
        type: 'RefillIssued',
        dosesAuthorized: numberValue(refill),
        ...at,
      });
    }
    if (delivered.value !== '') {
      steps.push('delivery', 'the delivery', {
        type: 'MedicationDelivered',
        doses: numberValue(delivered),
        ...(lot.value ? { lot: lot.value } : {}),
        ...at,
      });
    }
    if (steps.built.events.length === 0) throw new Error('Enter a refill, a delivery, or both.');
    return steps.built;
  });
}
