/** Page pieces shared by several pages. */
import type { Alert } from '../shared/api.js';
import { ApiFailure } from './api.js';
import { h } from './dom.js';
import { words } from './format.js';

const SEVERITY_WORD: Record<string, string> = { urgent: 'Urgent', warning: 'Warning', info: 'Info' };

const SHORT: Record<string, string> = {
  'safety-flag': 'Safety flag',
  'safety-item-unanswered': 'Safety item unanswered',
  'follow-up-overdue': 'Follow-up overdue',
  'measure-due': 'Measure due',
  'measure-overdue': 'Measure overdue',
  'critical-period-chain-ending': 'Next dose needed soon',
  'critical-period-chain-broken': 'Critical-period chain broken',
  'low-medication': 'Low medication',
  'vitals-hold': 'Vitals hold',
  'vitals-alert': 'Alarming vitals',
  'adverse-event': 'Adverse event to review',
  'late-entry': 'Late entry changed a decision',
  'treatment-stopped': 'Treatment stopped',
  'no-response': 'Not responding',
  'reliable-deterioration': 'Reliably worse',
  'severe-symptoms': 'Severe symptoms',
  'safety-signal-refused': 'Safety signal in a refused record',
  'consent-missing': 'No informed consent',
  'medication-interaction': 'Medication to review',
  'maintenance-session-due': 'Maintenance session due',
};

/** Why the episode machine refused a record, as a headline in plain words (the message says the rest). */
const REFUSAL_HEADLINE: Record<string, string> = {
  'not-permitted': 'This role may not record this',
  'future-event': 'Dated in the future',
  'safety-review-required': 'A safety review is needed before a dose',
  'treatment-stopped': 'The medical team stopped treatment',
  contraindicated: 'Absolute contraindication: the medical team must give a reason',
  'reason-required': 'A reason is needed',
  'dose-mismatch': 'The dose does not match the prescription',
  'dosing-too-soon': 'Too soon after the last dosing session',
  'chaperone-required': 'A remote session needs a chaperone',
  'out-of-order': 'This earlier record would contradict what was recorded after it',
  'void-would-invalidate': 'A later record depends on this one',
  'vitals-hold': 'Vitals above the hold threshold',
  'episode-closed': 'The course is closed',
  'invalid-assessment': 'The answers cannot be recorded',
  'consent-required': 'Informed consent is needed first',
};

/** The plain-words headline of a refusal code (the code itself when there is none). */
export function refusalHeadline(code: string): string {
  return REFUSAL_HEADLINE[code] ?? words(code);
}

/** A short label: measure alerts name their measure and rule ("PHQ9 baseline due"). */
function shortLabel(a: Alert): string {
  if (a.code === 'measure-due' || a.code === 'measure-overdue') {
    const what = a.message.split(' is ')[0];
    if (what && what !== a.message) return `${what} ${a.code === 'measure-due' ? 'due' : 'overdue'}`;
  }
  const label = SHORT[a.code] ?? words(a.code);
  // A patient's own answer (a measure link) says so on the badge too, not only in its message.
  return a.message.includes('(patient-reported)') ? `${label}, patient-reported` : label;
}

/** An alert as a short badge: severity in words (not colour alone), short label, the full message as title. */
export function alertBadge(a: Alert): HTMLElement {
  return h(
    'span',
    { class: `badge sev-${a.severity}`, title: a.message, 'data-alert': a.code },
    h('span', { class: 'sev' }, SEVERITY_WORD[a.severity] ?? a.severity),
    ' ',
    shortLabel(a),
  );
}

/** Alerts with their full messages. */
export function alertList(alerts: readonly Alert[]): HTMLElement {
  if (alerts.length === 0) return h('p', { class: 'muted' }, 'No alerts.');
  return h(
    'ul',
    { class: 'alerts' },
    alerts.map((a) =>
      h(
        'li',
        { class: `alert sev-${a.severity}`, 'data-alert': a.code },
        h('strong', {}, `${SEVERITY_WORD[a.severity] ?? a.severity}: ${shortLabel(a)}. `),
        a.message,
      ),
    ),
  );
}

export function demoBadge(synthetic: boolean): HTMLElement | null {
  return synthetic ? h('span', { class: 'demo-badge', title: 'Synthetic demo data' }, 'demo data') : null;
}

/** A failed request or an unexpected error, in words. */
export function errorBox(error: unknown): HTMLElement {
  if (error instanceof ApiFailure) {
    return h(
      'div',
      { class: 'error-box', role: 'alert' },
      h('p', {}, h('strong', {}, `Error ${error.status}: `), error.body.message),
    );
  }
  return h(
    'div',
    { class: 'error-box', role: 'alert' },
    h('p', {}, `Something went wrong: ${(error as Error)?.message ?? String(error)}`),
  );
}

/** A small "label: value" fact. */
export function fact(label: string, value: Node | string, attrs: Record<string, string> = {}): HTMLElement {
  return h('div', { class: 'fact', ...attrs }, h('dt', {}, label), h('dd', {}, value));
}

export function link(href: string, text: string, attrs: Record<string, string> = {}): HTMLAnchorElement {
  return h('a', { href, 'data-link': true, ...attrs }, text);
}

/** A page's heading, with the demo badge on demo data, and its lede paragraph. */
export function pageHeading(title: string, demo: boolean, lede: string): HTMLElement[] {
  return [h('h1', {}, title, ' ', demoBadge(demo)), h('p', { class: 'lede' }, lede)];
}

/**
 * A data table in its scrolling wrapper: the table (`attrs`), its caption, one header row of column names
 * (`scope="col"`) and its body.
 */
export function dataTable(
  attrs: Record<string, string>,
  caption: string,
  columns: readonly string[],
  body: HTMLTableSectionElement,
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      attrs,
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      body,
    ),
  );
}
