/**
 * The patient's page of a measure link (`/m/<token>`): no sign-in, one question per screen with large answer
 * buttons, progress, a review step, then submit. Mobile first (390 px wide), keyboard and screen reader
 * friendly (a fieldset and legend per question, native radio buttons, focus moved to each new screen's
 * heading, status messages in live regions).
 *
 * When an answer trips a safety rule (PHQ-9 item 9 above "Not at all"), the crisis screen is shown at once,
 * before anything is sent and before any other message; whether saving then works or not, it stays. If it
 * fails, the screen says to call the clinic, and the answers are kept on the device to send again.
 */
import './patient-link.css';
import type { PatientFormResponse, PatientInstrument, PatientItem } from '../../shared/measure-requests.js';
import { tripsSafetyRule } from '../../shared/safety-rules.js';
import { h, mount, on } from '../dom.js';
import {
  clearPending,
  keepPending,
  openForm,
  type PendingSubmission,
  pendingFor,
  submitAnswers,
} from './api.js';

const main = document.getElementById('main') as HTMLElement;
const token = decodeURIComponent(location.pathname.split('/')[2] ?? '');

interface Step {
  readonly instrument: PatientInstrument;
  readonly item: PatientItem;
}

/** Show a screen and move focus to its heading (screen readers announce it). */
function show(...children: (Node | null)[]): void {
  mount(main, ...children);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  window.scrollTo(0, 0);
  document.title = `${heading?.textContent ?? 'Questionnaire'} · your care team`;
  main.setAttribute('data-screen', main.firstElementChild?.getAttribute('data-screen') ?? '');
}

function dateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
}

function messageScreen(kind: string, title: string, text: string, retry?: () => void): HTMLElement {
  return h(
    'section',
    { class: 'pl-card', 'data-screen': kind },
    h('h1', {}, title),
    h('p', { id: 'message' }, text),
    retry
      ? on(h('button', { type: 'button', class: 'pl-button primary' }, 'Try again'), 'click', retry)
      : null,
  );
}

const TITLES: Record<string, string> = {
  expired: 'This link has expired',
  used: 'You have already answered',
  revoked: 'This questionnaire was withdrawn',
  'not-found': 'This link does not work',
  'rate-limited': 'Please wait a few minutes',
};

async function start(): Promise<void> {
  const pending = pendingFor(token);
  if (pending) {
    // Answers from an earlier visit that were not confirmed: show what they showed, and send them again.
    void send(pending);
    return;
  }
  const res = await openForm(token);
  if (!res.ok) {
    const code = res.error?.error ?? '';
    show(
      res.status === 0
        ? messageScreen(
            'offline',
            'The questionnaire could not be loaded',
            'Check your internet connection and try again.',
            () => void start(),
          )
        : messageScreen(
            code || 'error',
            TITLES[code] ?? 'Something went wrong',
            res.error?.message ?? 'Please try again later, or contact your care team.',
          ),
    );
    return;
  }
  intro(res.data);
}

function intro(form: PatientFormResponse): void {
  const questions = form.instruments.reduce((n, i) => n + i.items.length, 0);
  show(
    h(
      'section',
      { class: 'pl-card', 'data-screen': 'intro' },
      h('h1', {}, 'A questionnaire from your care team'),
      h(
        'p',
        {},
        `${questions} short questions. Choose the answer that fits best. You can check and change your answers before you send them.`,
      ),
      h('p', { class: 'pl-muted' }, `This link works until ${dateTime(form.expiresAt)}.`),
      on(h('button', { type: 'button', class: 'pl-button primary', id: 'start' }, 'Start'), 'click', () =>
        questionnaire(form),
      ),
    ),
  );
}

function questionnaire(form: PatientFormResponse): void {
  const steps: Step[] = form.instruments.flatMap((instrument) =>
    instrument.items.map((item) => ({ instrument, item })),
  );
  const answers = new Map<Step, number>();
  let returnToReview = false;

  const question = (index: number): void => {
    const step = steps[index]!;
    const name = `q-${step.instrument.id}-${step.item.number}`;
    const error = h('p', { class: 'pl-error', id: 'answer-error', role: 'alert' });
    const fieldset = h(
      'fieldset',
      { class: 'pl-question', 'aria-describedby': step.instrument.stem ? 'stem' : null },
      h('legend', {}, step.item.text),
      h(
        'div',
        { class: 'pl-options' },
        step.item.options.map((o) => {
          const id = `${name}-${o.value}`;
          const input = h('input', {
            type: 'radio',
            name,
            id,
            value: o.value,
            checked: answers.get(step) === o.value,
          });
          on(input, 'change', () => {
            answers.set(step, o.value);
            error.textContent = '';
          });
          return h('label', { class: 'pl-option', for: id }, input, h('span', {}, o.label));
        }),
      ),
    );
    const next = on(
      h(
        'button',
        { type: 'submit', class: 'pl-button primary', id: 'next' },
        index === steps.length - 1 || returnToReview ? 'Review answers' : 'Next',
      ),
      'click',
      (event) => {
        event.preventDefault();
        if (!answers.has(step)) {
          error.textContent = 'Choose an answer to go on.';
          fieldset.querySelector<HTMLInputElement>('input')?.focus();
          return;
        }
        if (returnToReview || index === steps.length - 1) review();
        else question(index + 1);
      },
    );
    const back =
      index > 0 && !returnToReview
        ? on(h('button', { type: 'button', class: 'pl-button', id: 'back' }, 'Back'), 'click', () =>
            question(index - 1),
          )
        : null;
    show(
      h(
        'section',
        { class: 'pl-card', 'data-screen': 'question' },
        h('p', { class: 'pl-progress-text', id: 'progress' }, `Question ${index + 1} of ${steps.length}`),
        h('progress', { max: steps.length, value: index + 1, 'aria-labelledby': 'progress' }),
        h('h1', {}, step.instrument.name),
        step.instrument.stem ? h('p', { class: 'pl-stem', id: 'stem' }, step.instrument.stem) : null,
        h(
          'form',
          { class: 'pl-form', novalidate: true },
          fieldset,
          error,
          h('div', { class: 'pl-actions' }, back, next),
        ),
      ),
    );
  };

  const review = (): void => {
    returnToReview = false;
    const sendButton = h(
      'button',
      { type: 'button', class: 'pl-button primary', id: 'submit' },
      'Send my answers',
    );
    on(sendButton, 'click', () => {
      sendButton.disabled = true;
      const byInstrument: Record<string, number[]> = {};
      for (const i of form.instruments) {
        byInstrument[i.id] = steps.filter((s) => s.instrument === i).map((s) => answers.get(s)!);
      }
      const crisis = form.instruments.some((i) => tripsSafetyRule(i.safety, byInstrument[i.id]!));
      const submission: PendingSubmission = { token, answers: byInstrument, crisis, form };
      keepPending(submission);
      void send(submission);
    });
    show(
      h(
        'section',
        { class: 'pl-card', 'data-screen': 'review' },
        h('h1', {}, 'Check your answers'),
        h('p', {}, 'Change any answer, then send them to your care team.'),
        form.instruments.map((instrument) =>
          h(
            'section',
            { class: 'pl-review-group' },
            h('h2', {}, instrument.name),
            h(
              'ol',
              { class: 'pl-review' },
              steps
                .filter((s) => s.instrument === instrument)
                .map((s) => {
                  const chosen = s.item.options.find((o) => o.value === answers.get(s));
                  const change = on(
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'pl-link',
                        'aria-label': `Change the answer to: ${s.item.text}`,
                      },
                      'Change',
                    ),
                    'click',
                    () => {
                      returnToReview = true;
                      question(steps.indexOf(s));
                    },
                  );
                  return h(
                    'li',
                    {},
                    h('span', { class: 'pl-review-q' }, s.item.text),
                    h('strong', { class: 'pl-review-a' }, chosen?.label ?? '—'),
                    change,
                  );
                }),
            ),
          ),
        ),
        sendButton,
      ),
    );
  };

  question(0);
}

/** The crisis screen: shown before anything is sent; the saving status goes below it. */
function crisisScreen(form: PatientFormResponse, status: HTMLElement): HTMLElement {
  const c = form.crisis;
  return h(
    'section',
    { class: 'pl-card pl-crisis', 'data-screen': 'crisis', 'aria-labelledby': 'crisis-heading' },
    h('h1', { id: 'crisis-heading' }, c.heading),
    c.paragraphs.map((p) => h('p', {}, p)),
    h(
      'div',
      { class: 'pl-crisis-actions' },
      c.actions.map((a) => h('a', { class: 'pl-button primary', href: a.href }, a.label)),
    ),
    status,
    h('p', { class: 'pl-source' }, c.source),
  );
}

async function send(submission: PendingSubmission): Promise<void> {
  const { form } = submission;
  const status = h(
    'div',
    { class: 'pl-status', id: 'save-status', role: 'status', 'aria-live': 'polite' },
    'Sending your answers to your care team…',
  );
  if (submission.crisis) show(crisisScreen(form, status));
  else
    show(
      h(
        'section',
        { class: 'pl-card', 'data-screen': 'sending' },
        h('h1', {}, 'Sending your answers'),
        status,
      ),
    );
  const res = await submitAnswers(submission.token, submission.answers);
  main.setAttribute('data-saved', res.ok ? 'yes' : 'no');
  if (res.ok || res.error?.error === 'used') {
    clearPending();
    if (submission.crisis) {
      mount(
        status,
        h('p', { class: 'pl-ok' }, 'Your answers were sent to your care team. They will follow up with you.'),
      );
    } else {
      show(
        h(
          'section',
          { class: 'pl-card', 'data-screen': 'done' },
          h('h1', {}, 'Thank you'),
          h('p', {}, 'Your answers were sent to your care team. You can close this page.'),
        ),
      );
    }
    return;
  }
  const permanent = res.status === 400 || res.status === 404 || res.status === 410;
  if (permanent) clearPending();
  const phone = form.clinicPhone;
  const callClinic = h(
    'p',
    { class: 'pl-error-box' },
    h('strong', {}, 'Your answers could not be sent. '),
    phone
      ? ['Please call your clinic at ', h('a', { href: `tel:${phone.replace(/[^+\d]/g, '')}` }, phone), '.']
      : 'Please call your clinic.',
    permanent
      ? ` ${res.error?.message ?? ''}`
      : ' Your answers are kept on this device: try again when you can.',
  );
  const retry = permanent
    ? null
    : on(
        h('button', { type: 'button', class: 'pl-button', id: 'retry' }, 'Try again'),
        'click',
        () => void send(submission),
      );
  if (submission.crisis) mount(status, callClinic, retry);
  else {
    show(
      h(
        'section',
        { class: 'pl-card', 'data-screen': 'not-sent' },
        h('h1', {}, 'Not sent yet'),
        callClinic,
        retry,
      ),
    );
  }
}

// Answers kept after a failed attempt go out again when the connection comes back.
window.addEventListener('online', () => {
  const p = pendingFor(token);
  if (p && main.getAttribute('data-saved') === 'no') void send(p);
});

void start();
