/** The caseload: every patient, most urgent first, with phase, latest scores and trend, doses and alerts. */
import type { CaseloadRow, ScoreSummary } from '../../shared/api.js';
import type { MeasureRequestCounts } from '../../shared/measure-requests.js';
import { api } from '../api.js';
import { h, on } from '../dom.js';
import { change, day, score, words } from '../format.js';
import { alertBadge, dataTable, demoBadge, link, pageHeading } from '../ui.js';

function scoreCell(s: ScoreSummary | null): HTMLElement {
  if (!s) return h('td', { class: 'muted' }, '—');
  return h(
    'td',
    { 'data-total': s.total },
    h('span', { class: 'score' }, score(s.total)),
    s.severityLabel ? h('span', { class: 'severity' }, ` ${s.severityLabel}`) : null,
    h('br'),
    h('span', { class: 'muted small nowrap' }, day(s.at)),
  );
}

function trendCell(s: ScoreSummary | null): HTMLElement {
  if (!s || s.change === null) return h('td', { class: 'muted' }, s ? 'baseline only' : '—');
  const arrow = s.trend === 'better' ? '▼' : s.trend === 'worse' ? '▲' : '■';
  return h(
    'td',
    { class: `trend trend-${s.trend}` },
    `${arrow} ${change(s.change)}`,
    s.percentChange !== null ? ` (${change(Math.round(s.percentChange))}%)` : '',
    h('br'),
    h(
      'span',
      { class: 'small' },
      s.trend === 'better' ? 'better' : s.trend === 'worse' ? 'worse' : 'unchanged',
    ),
    h('span', { class: 'muted small' }, ` since ${score(s.baseline)}`),
  );
}

const COLUMNS = [
  'Patient',
  'Phase',
  'PHQ-9',
  'PHQ-9 trend',
  'GAD-7',
  'GAD-7 trend',
  'Doses given',
  'Doses on hand',
  'Next dose',
  'Measure requests',
  'Alerts',
];

/** Each cell names its column (`data-label`), so that on a phone, where rows become cards, it says what it is. */
function labelled(tr: HTMLTableRowElement): HTMLTableRowElement {
  [...tr.children].forEach((cell, i) => {
    cell.setAttribute('data-label', COLUMNS[i] ?? '');
  });
  return tr;
}

/** The patient's measure requests by status ("1 sent · 2 completed"). */
function requestsCell(counts: MeasureRequestCounts | undefined): HTMLElement {
  if (!counts) return h('td', { class: 'muted' }, '—');
  const parts = (['sent', 'opened', 'completed', 'expired'] as const)
    .filter((k) => counts[k] > 0)
    .map((k) => `${counts[k]} ${k}`);
  return h(
    'td',
    { class: 'requests-cell' },
    parts.length ? parts.join(' · ') : h('span', { class: 'muted' }, '—'),
  );
}

function row(
  r: CaseloadRow,
  asOfDay: string,
  mixed: boolean,
  requests: MeasureRequestCounts | undefined,
): HTMLTableRowElement {
  const closed = r.phase === 'completed' || r.phase === 'discontinued';
  return labelled(
    h(
      'tr',
      { 'data-patient': r.patientId, class: closed ? 'closed' : null },
      h(
        'th',
        { scope: 'row', class: 'patient' },
        link(`/patients/${encodeURIComponent(r.patientId)}`, r.patientId),
        mixed ? [' ', demoBadge(r.synthetic)] : null,
      ),
      h('td', {}, words(r.phase)),
      scoreCell(r.phq9),
      trendCell(r.phq9),
      scoreCell(r.gad7),
      trendCell(r.gad7),
      h(
        'td',
        { class: 'num' },
        r.plannedDosingSessions ? `${r.dosesGiven} / ${r.plannedDosingSessions}` : String(r.dosesGiven),
      ),
      h('td', { class: 'num', 'data-on-hand': r.dosesOnHand }, score(r.dosesOnHand)),
      h(
        'td',
        {},
        r.nextDoseLatestDay === null
          ? '—'
          : r.nextDoseLatestDay >= asOfDay
            ? `by ${r.nextDoseLatestDay}`
            : h('span', { class: 'muted' }, `chain ended ${r.nextDoseLatestDay}`),
      ),
      requestsCell(requests),
      h(
        'td',
        { class: 'alerts-cell' },
        r.alerts.length ? r.alerts.map((a) => [alertBadge(a), ' ']) : h('span', { class: 'muted' }, 'none'),
      ),
    ),
  );
}

export async function renderCaseload(): Promise<HTMLElement> {
  const [data, requests] = await Promise.all([api.caseload(), api.measureSummary()]);
  const urgent = data.rows.filter((r) => r.alerts.some((a) => a.severity === 'urgent')).length;
  const active = data.rows.filter((r) => r.phase !== 'completed' && r.phase !== 'discontinued').length;
  // A per-row demo badge only when real and demo patients are mixed; otherwise the page badge says it.
  const mixed = data.rows.some((r) => r.synthetic) && data.rows.some((r) => !r.synthetic);
  const tbody = h(
    'tbody',
    {},
    data.rows.map((r) => row(r, data.asOf.slice(0, 10), mixed, requests.patients[r.patientId])),
  );
  const toggle = on(h('input', { type: 'checkbox', id: 'hide-closed' }), 'change', (e) => {
    tbody.classList.toggle('hide-closed', (e.target as HTMLInputElement).checked);
  });
  return h(
    'section',
    { class: 'page caseload' },
    ...pageHeading(
      'Caseload',
      data.demo,
      `${data.rows.length} patients, ${active} in an active course, ${urgent} with an urgent alert. Status as of ${day(data.asOf)}.`,
    ),
    h('p', {}, h('label', {}, toggle, ' Hide completed and discontinued courses')),
    dataTable(
      { class: 'data caseload-table' },
      'Patients, most urgent first. Trend: change of the latest score since baseline (lower is better on both measures).',
      COLUMNS,
      tbody,
    ),
    h(
      'p',
      { class: 'muted small' },
      `Alerts come from the episode status at ${day(data.asOf)}: safety flags (e.g. PHQ-9 item 9 above "Not at all") until a review is recorded, overdue medical follow-ups, measures due, the critical-period chain about to break, low medication. Response and remission rates: `,
      link('/cohort', 'Cohort'),
      '.',
    ),
  );
}
