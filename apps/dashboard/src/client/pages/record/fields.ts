import { type Child, h } from '../../dom.js';
import { localInputToIso } from '../../format.js';
import { type Built, type FormContext, wireForm } from '../../forms.js';
import { field, select } from '../../inputs.js';

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

/** Options for codes shown as words: `adverse-event` reads "adverse event". */
export function codeOptions(codes: readonly string[]): { value: string; label: string }[] {
  return codes.map((v) => ({ value: v, label: v.replaceAll('-', ' ') }));
}

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

function submitButton(text: string) {
  return h('button', { type: 'submit', class: 'button primary' }, text);
}

/** The record an assessment form corrects: its event, voided and replaced in one atomic append. */
export interface Correction {
  readonly eventId: string;
  readonly at: string;
  readonly responses: readonly (number | null)[];
  readonly context: string | null;
}

/** A form's heading and the hint under it. */
export function formHead(title: string, hint: string): HTMLElement[] {
  return [h('h2', {}, title), h('p', { class: 'hint' }, hint)];
}

/**
 * The frame every recording form shares: `data-form` names it (`dosing`, `phq9`), then its heading, its fields
 * and the submit button; submitting appends the events `build` returns (see `wireForm`).
 */
export function recordForm(
  formId: string,
  content: readonly Child[],
  buttonText: string,
  ctx: FormContext,
  build: () => Built,
): HTMLFormElement {
  const el = h('form', { class: 'record-form', 'data-form': formId }, content, submitButton(buttonText));
  wireForm(el, ctx, build);
  return el;
}

/**
 * The events of a form that records several steps at once, each with the key prefix its fields use and the
 * words that name the step in a refusal ("Refused at “the dose”").
 */
export function stepEvents(): {
  readonly built: Built;
  push(key: string, label: string, event: Record<string, unknown>): void;
} {
  const built = { events: [] as Record<string, unknown>[], keys: [] as string[], labels: [] as string[] };
  return {
    built,
    push(key, label, event) {
      built.events.push(event);
      built.keys.push(key);
      built.labels.push(label);
    },
  };
}

/** A form of one step (or a few of the same key): a heading, a hint, its fields, and the events `build` makes. */
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
  return recordForm(formId, [formHead(title, hint), fields], buttonText, ctx, () => {
    const events = build();
    return {
      events,
      keys: events.map((_, i) => (i === 0 ? key : `${key}${i}`)),
      labels: events.map((e) => String(e.type)),
    };
  });
}
