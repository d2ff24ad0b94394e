/**
 * Form plumbing shared by the recording forms (their inputs are `inputs.ts`): submission through the API with
 * the episode version the form was filled against, and the display of what came back: field errors at their
 * fields (by `data-key`), a refusal with its code and reason, a conflict.
 */

import type { ApiError, AppendResponse, RecordedChange } from '../shared/api.js';
import { ApiFailure, api, newEventId } from './api.js';
import { type Child, h, mount, on } from './dom.js';
import { words } from './format.js';
import { alertList, refusalHeadline } from './ui.js';

export interface FormContext {
  readonly episodeId: string;
  /** The episode version the form was loaded at; advanced after each successful submission. */
  version: number;
  readonly patientUrl: string;
  /** The server's clock minus the browser's when the page was loaded, ms: events are timed by the server's clock. */
  readonly serverOffsetMs: number;
}

/** The server's time now, as an ISO 8601 instant (the browser's clock corrected by the offset seen at load). */
function serverNow(ctx: FormContext): string {
  return new Date(Date.now() + ctx.serverOffsetMs).toISOString();
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
  // Fixed when the form is first submitted and kept until it is saved: every retry is the same event (the
  // server answers "already recorded"), whatever the delay or the outcome of an earlier attempt.
  let fixed: { id: string; at: string | null; recordedAt: string }[] = [];
  let version = ctx.version;
  const lock = (locked: boolean) => {
    for (const el of form.querySelectorAll<
      HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | HTMLButtonElement
    >('input, select, textarea, button[type=submit]')) {
      el.disabled = locked;
    }
    form.toggleAttribute('data-locked', locked);
  };
  on(form, 'submit', async (event) => {
    event.preventDefault();
    if (form.hasAttribute('data-locked')) return;
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
    const now = serverNow(ctx);
    built.events.forEach((e, i) => {
      fixed[i] ??= { id: newEventId(), at: typeof e.at === 'string' ? null : now, recordedAt: now };
      const f = fixed[i]!;
      e.id = f.id;
      if (f.at !== null && e.at === undefined) e.at = f.at;
      e.recordedAt = f.recordedAt;
    });
    if (button) button.disabled = true;
    let saved = false;
    try {
      const res = await api.append(ctx.episodeId, { expectedVersion: version, events: built.events });
      saved = true;
      version = res.version;
      ctx.version = res.version;
      fixed = [];
      form.setAttribute('data-version', String(res.version));
      lock(true);
      const again = h('button', { type: 'button', class: 'button small' }, 'Record another');
      on(again, 'click', () => {
        form.reset();
        lock(false);
        mount(status);
        form.querySelector<HTMLElement>('input, select, textarea')?.focus();
      });
      mount(
        status,
        h(
          'div',
          { class: 'ok-box', role: 'status', 'data-status': res.status },
          h(
            'p',
            {},
            h('strong', {}, res.status === 'duplicate' ? 'Already recorded. ' : 'Recorded. '),
            res.status === 'duplicate'
              ? 'This form had been saved before (its answer was lost on the way back); nothing was stored twice. '
              : `${res.events.length} event(s) stored. `,
            h('a', { href: ctx.patientUrl, 'data-link': true }, 'Back to the patient'),
            ' ',
            again,
          ),
          res.rebased?.changes.length
            ? h(
                'p',
                { class: 'note', 'data-rebased': String(res.rebased.changes.length) },
                `Checked again against ${res.rebased.changes.length} record(s) made since this form was loaded (${changeWords(res.rebased.changes)}); still allowed, so recorded.`,
              )
            : null,
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
            `Not confirmed: ${(error as Error).message}. Your answers are kept; submit again (it will not be recorded twice).`,
          ),
        );
        return;
      }
      showFailure(form, status, error.body, built);
    } finally {
      if (button && !saved) button.disabled = false;
    }
  });
}

/** What others recorded meanwhile, in words: "PHQ-9 assessment at 10:05 by the therapist, …". */
function changeWords(changes: readonly RecordedChange[]): string {
  return changes
    .slice(0, 5)
    .map(
      (c) =>
        `${words(c.type.replace(/([a-z])([A-Z])/g, '$1 $2'))} (${c.at.slice(0, 16).replace('T', ' ')}, ${c.recordedBy})`,
    )
    .concat(changes.length > 5 ? [`and ${changes.length - 5} more`] : [])
    .join('; ');
}

/** The alert box of a failed submission; `data-error` names the API's error code (`event-refused`, …). */
function failureBox(error: string, children: Child[], attrs: Record<string, string> = {}): HTMLElement {
  return h('div', { class: 'error-box', role: 'alert', 'data-error': error, ...attrs }, children);
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
      failureBox('invalid-input', [
        h('p', {}, h('strong', {}, 'Not recorded: '), 'check the fields marked below. Nothing was stored.'),
        h('ul', {}, unplaced),
      ]),
    );
    form.querySelector<HTMLElement>('.invalid input, .invalid select, .invalid textarea')?.focus();
    return;
  }
  if (body.error === 'event-refused' && body.refusal) {
    const step = body.index !== undefined ? built.labels[body.index] : undefined;
    const positive = (body.refusal.safetyFlags ?? []).filter((f) => f.kind === 'positive');
    mount(
      status,
      failureBox(
        'event-refused',
        [
          h(
            'p',
            {},
            h('strong', {}, `Refused${step ? ` at “${step}”` : ''}: ${refusalHeadline(body.refusal.code)} `),
            h('code', {}, `(${body.refusal.code})`),
          ),
          h('p', {}, body.refusal.message),
          positive.length
            ? h(
                'p',
                { class: 'safety-note', 'data-safety': positive.map((f) => f.rule).join(' ') },
                h('strong', {}, 'Safety: '),
                `this record carries ${positive.map((f) => f.rule).join(', ')}. It is kept as a safety signal for the care team and shown as an urgent alert until a clinician reviews it.`,
              )
            : null,
          body.refusal.issues?.length
            ? h(
                'ul',
                {},
                body.refusal.issues.map((i) => h('li', {}, i.message)),
              )
            : null,
          h('p', {}, 'Nothing was recorded.'),
        ],
        { class: 'error-box refusal', 'data-refusal': body.refusal.code },
      ),
    );
    return;
  }
  if (body.error === 'concurrency-conflict') {
    // A real conflict: the answers stay on screen; say what changed and how to go on.
    mount(
      status,
      failureBox('concurrency-conflict', [
        h('p', {}, body.message),
        body.changes?.length ? h('p', {}, `Recorded meanwhile: ${changeWords(body.changes)}.`) : null,
        body.refusal
          ? h('p', {}, h('strong', {}, `${refusalHeadline(body.refusal.code)}: `), body.refusal.message)
          : null,
        h(
          'p',
          {},
          'Your answers are kept. ',
          h(
            'a',
            {
              href:
                location.pathname.replace(/\/record$/, '') +
                location.search.replace(/([?&])form=[^&]*&?/, '$1'),
              target: '_blank',
              rel: 'noopener',
            },
            'Open the patient page in a new tab',
          ),
          ' to see what changed, then submit again or adjust the form.',
        ),
      ]),
    );
    return;
  }
  if (body.error === 'event-id-conflict') {
    mount(
      status,
      failureBox('event-id-conflict', [
        h(
          'p',
          {},
          'This form was already saved with other answers (the answer to an earlier attempt was lost). Nothing was written now. Check the patient page; correct the saved record there if needed.',
        ),
      ]),
    );
    return;
  }
  mount(status, failureBox(body.error, [body.message]));
}
