import { h } from '../../dom.js';
import { localInputToIso } from '../../format.js';
import { type FormContext, field, select, wireForm } from '../../forms.js';

/* Fields and helpers shared by the recording forms. */

export const MINUTE = 60_000;

const ROLE_OPTIONS = [
  { value: 'therapist', label: 'Therapist' },
  { value: 'medical', label: 'Medical team' },
  { value: 'patient', label: 'Patient (self-report)' },
];
export const MODE_OPTIONS = [
  { value: 'in-person', label: 'In person' },
  { value: 'telehealth', label: 'Telehealth' },
];

export function whenField(
  key: string,
  label = 'When',
  value = '',
): { el: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { type: 'datetime-local', name: 'at', value });
  return {
    el: field(label, input, key, 'Leave empty for now. Your browser’s time zone is recorded with it.'),
    input,
  };
}

export function atOf(input: HTMLInputElement): Record<string, string> {
  return input.value ? { at: localInputToIso(input.value) } : {};
}

export function roleField(key: string, value: string) {
  const input = select(ROLE_OPTIONS, value, { name: 'recordedBy' });
  return { el: field('Recorded by', input, key), input };
}

export function submitButton(text: string) {
  return h('button', { type: 'submit', class: 'button primary' }, text);
}

/** The record an assessment form corrects: its event, voided and replaced in one atomic append. */
export interface Correction {
  readonly eventId: string;
  readonly at: string;
  readonly responses: readonly (number | null)[];
  readonly context: string | null;
}

export function simpleForm(
  title: string,
  formId: string,
  hint: string,
  ctx: FormContext,
  fields: HTMLElement[],
  build: () => Record<string, unknown>[],
  key: string,
  buttonText: string,
): HTMLElement {
  const el = h(
    'form',
    { class: 'record-form', 'data-form': formId },
    h('h2', {}, title),
    h('p', { class: 'hint' }, hint),
    fields,
    submitButton(buttonText),
  );
  wireForm(el, ctx, () => {
    const events = build();
    return {
      events,
      keys: events.map((_, i) => (i === 0 ? key : `${key}${i}`)),
      labels: events.map((e) => String(e.type)),
    };
  });
  return el;
}
