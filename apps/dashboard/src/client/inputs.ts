/**
 * The inputs of the recording forms: labelled fields that know where their value goes in the events
 * (`data-key`, used to place the server's errors), radio groups, selects and number inputs, and the readers of
 * their values. Submitting a form is `forms.ts`.
 */

import { type Child, h } from './dom.js';
import { signedIn } from './session.js';

let counter = 0;
const uid = (prefix: string) => `${prefix}-${++counter}`;

/** A labelled input; `key` names the event field it fills (`pre.systolic`), used to place errors. */
export function field(label: string, input: HTMLElement, key: string, hint?: string): HTMLElement {
  const id = input.id || uid('f');
  input.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  input.setAttribute('aria-describedby', `${id}-error${hint ? ` ${id}-hint` : ''}`);
  return h(
    'div',
    { class: 'field', 'data-key': key },
    h('label', { for: id }, label),
    input,
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    error,
  );
}

/**
 * Related fields in a fieldset under a legend. `key` names the step the fields fill (`dose`, `post`): an error
 * about the step as a whole shows at the end of the group, one about a field at that field.
 */
export function fieldGroup(key: string, legend: string, ...children: Child[]): HTMLFieldSetElement {
  return h(
    'fieldset',
    { class: 'group', 'data-key': key },
    h('legend', {}, legend),
    children,
    h('p', { class: 'field-error', hidden: true }),
  );
}

/** A group of radio buttons in a fieldset. */
export function radios(
  legend: string | Node,
  name: string,
  options: readonly { value: string; label: string }[],
  key: string,
  checked?: string,
  attrs: Record<string, string> = {},
): HTMLFieldSetElement {
  const set = h(
    'fieldset',
    { class: 'field radios', 'data-key': key, ...attrs },
    h('legend', {}, legend),
    h(
      'div',
      { class: 'options' },
      options.map((o) => {
        const id = uid(name);
        return h(
          'label',
          { for: id, class: 'option' },
          h('input', { type: 'radio', name, id, value: o.value, checked: o.value === checked }),
          ` ${o.label}`,
        );
      }),
    ),
    h('p', { class: 'field-error', hidden: true }),
  );
  return set;
}

export function select(
  options: readonly { value: string; label: string }[],
  value?: string,
  attrs: Record<string, string> = {},
) {
  // "Recorded by" is the signed-in account's role: the server writes it from the session, so the form shows
  // that role only.
  const me = signedIn();
  if (attrs.name === 'recordedBy' && me) {
    const role = me.user.role;
    return h(
      'select',
      { ...attrs, disabled: true, 'aria-readonly': 'true' },
      h(
        'option',
        { value: role, selected: true },
        `${options.find((o) => o.value === role)?.label ?? role} (you)`,
      ),
    );
  }
  return h(
    'select',
    attrs,
    options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)),
  );
}

/** "Recorded by" for what only a clinician records (a review, a correction): therapist or medical team. */
export function clinicianSelect() {
  return select(
    [
      { value: 'therapist', label: 'Therapist' },
      { value: 'medical', label: 'Medical team' },
    ],
    'therapist',
    { name: 'recordedBy' },
  );
}

export function numberInput(attrs: Record<string, string | number> = {}) {
  return h('input', { type: 'number', inputmode: 'decimal', ...attrs });
}

/** The value of the checked radio of `name` inside `root`, or null. */
export function radioValue(root: ParentNode, name: string): string | null {
  return root.querySelector<HTMLInputElement>(`input[type=radio][name="${name}"]:checked`)?.value ?? null;
}

/** A number input's value: a number, null when empty, or the raw text (so the server can say what is wrong). */
export function numberValue(input: HTMLInputElement): number | string | null {
  const raw = input.value.trim();
  if (raw === '') return input.validity.badInput ? 'not a number' : null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}
