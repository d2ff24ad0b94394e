/**
 * Form plumbing shared by the recording forms: fields that know where their value goes in the events
 * (`data-key`), submission through the API with the episode version the form was filled against, and the
 * display of what came back: field errors at their fields, a refusal with its code and reason, a conflict.
 */
import type { ApiError, AppendResponse } from '../shared/api.js';
import { ApiFailure, api, newEventId } from './api.js';
import { h, mount, on } from './dom.js';
import { alertList } from './ui.js';

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
  return h(
    'select',
    attrs,
    options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)),
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

export interface FormContext {
  readonly episodeId: string;
  /** The episode version the form was loaded at; advanced after each successful submission. */
  version: number;
  readonly patientUrl: string;
}

/** What a form produces: the events, and for each event the key prefix its fields use. */
export interface Built {
  readonly events: Record<string, unknown>[];
  readonly keys: readonly string[];
  readonly labels: readonly string[];
}

/** Map `events[1].vitalsOverride.reason` to the field key `dose.vitalsOverride.reason` (then to shorter keys). */
function fieldFor(form: HTMLElement, path: string, keys: readonly string[]): HTMLElement | null {
  const m = /^events\[(\d+)\]\.?(.*)$/.exec(path);
  if (!m) return form.querySelector<HTMLElement>(`[data-key="${CSS.escape(path)}"]`);
  const prefix = keys[Number(m[1])] ?? '';
  let rest = m[2] ?? '';
  for (;;) {
    const key = rest ? `${prefix}.${rest}` : prefix;
    const el = form.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
    if (el) return el;
    if (!rest) return null;
    const shorter = rest.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
    rest = shorter === rest ? '' : shorter;
  }
}

/**
 * Wire a form: on submit, build the events (ids fixed until a success, so a retry is idempotent), append them
 * with the expected version, and show the outcome in `status`.
 */
export function wireForm(
  form: HTMLFormElement,
  ctx: FormContext,
  build: () => Built,
  done?: (res: AppendResponse) => void,
): void {
  form.noValidate = true; // the server validates; its messages are shown at the fields
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  form.append(status);
  let ids: string[] = [];
  on(form, 'submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
    for (const e of form.querySelectorAll('.field-error')) {
      e.textContent = '';
      (e as HTMLElement).hidden = true;
    }
    for (const e of form.querySelectorAll('.invalid')) e.classList.remove('invalid');
    mount(status);
    let built: Built;
    try {
      built = build();
    } catch (error) {
      mount(status, h('div', { class: 'error-box', role: 'alert' }, (error as Error).message));
      return;
    }
    built.events.forEach((e, i) => {
      ids[i] ??= newEventId();
      e.id = ids[i];
    });
    if (button) button.disabled = true;
    try {
      const res = await api.append(ctx.episodeId, { expectedVersion: ctx.version, events: built.events });
      ctx.version = res.version;
      ids = [];
      form.setAttribute('data-version', String(res.version));
      mount(
        status,
        h(
          'div',
          { class: 'ok-box', role: 'status' },
          h(
            'p',
            {},
            h('strong', {}, res.status === 'duplicate' ? 'Already recorded. ' : 'Recorded. '),
            `${res.events.length} event(s) stored. `,
            h('a', { href: ctx.patientUrl, 'data-link': true }, 'Back to the patient'),
          ),
          res.alerts.length ? [h('p', {}, 'Alerts now:'), alertList(res.alerts)] : null,
        ),
      );
      done?.(res);
    } catch (error) {
      if (!(error instanceof ApiFailure)) {
        mount(
          status,
          h(
            'div',
            { class: 'error-box', role: 'alert' },
            `Not recorded: ${(error as Error).message}. Try again.`,
          ),
        );
        return;
      }
      showFailure(form, status, error.body, built);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

function showFailure(form: HTMLFormElement, status: HTMLElement, body: ApiError, built: Built): void {
  if (body.error === 'invalid-input' && body.issues) {
    const unplaced: HTMLElement[] = [];
    for (const issue of body.issues) {
      const el = fieldFor(form, issue.path, built.keys);
      const text = `${issue.message}`;
      if (el) {
        el.classList.add('invalid');
        const err = el.querySelector<HTMLElement>('.field-error');
        if (err) {
          err.hidden = false;
          err.textContent = err.textContent ? `${err.textContent} ${text}` : text;
        }
      }
      unplaced.push(h('li', {}, h('code', {}, issue.path), `: ${issue.message}`));
    }
    mount(
      status,
      h(
        'div',
        { class: 'error-box', role: 'alert', 'data-error': 'invalid-input' },
        h('p', {}, h('strong', {}, 'Not recorded: '), 'check the fields marked below. Nothing was stored.'),
        h('ul', {}, unplaced),
      ),
    );
    form.querySelector<HTMLElement>('.invalid input, .invalid select, .invalid textarea')?.focus();
    return;
  }
  if (body.error === 'event-refused' && body.refusal) {
    const step = body.index !== undefined ? built.labels[body.index] : undefined;
    mount(
      status,
      h(
        'div',
        {
          class: 'error-box refusal',
          role: 'alert',
          'data-error': 'event-refused',
          'data-refusal': body.refusal.code,
        },
        h(
          'p',
          {},
          h('strong', {}, `Refused${step ? ` at “${step}”` : ''}: `),
          h('code', {}, body.refusal.code),
        ),
        h('p', {}, body.refusal.message),
        body.refusal.issues?.length
          ? h(
              'ul',
              {},
              body.refusal.issues.map((i) => h('li', {}, i.message)),
            )
          : null,
        h('p', {}, 'Nothing was recorded.'),
      ),
    );
    return;
  }
  if (body.error === 'concurrency-conflict') {
    mount(
      status,
      h(
        'div',
        { class: 'error-box', role: 'alert', 'data-error': 'concurrency-conflict' },
        h('p', {}, body.message),
        h('p', {}, h('a', { href: location.pathname + location.search }, 'Reload this form')),
      ),
    );
    return;
  }
  mount(status, h('div', { class: 'error-box', role: 'alert', 'data-error': body.error }, body.message));
}
