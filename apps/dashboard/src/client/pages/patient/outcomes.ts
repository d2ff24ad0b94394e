/** The patient page's outcomes: the chart, its numbers as a table, and each measure's status with definitions. */

import type { OutcomeChartData, OutcomeChartInstrument } from '@kapkit/charts';
import { describeOutcomeChart, itemChartConfig, outcomeChartConfigFromData } from '@kapkit/charts';
import type { ChartConfiguration } from 'chart.js';
import type { EpisodeView } from '../../../shared/api.js';
import { chartBox } from '../../charts.js';
import { h } from '../../dom.js';
import { change, day, dayTime, percent, score, words } from '../../format.js';
import { instrument } from '../../instruments.js';
import { dataTable, fact } from '../../ui.js';

const yesNo = (v: boolean | null | undefined) => (v === true ? 'yes' : v === false ? 'no' : '—');

function outcomeTable(chart: OutcomeChartData, ep: EpisodeView): HTMLElement {
  const rows = chart.rows.filter((r) => r.charted);
  const reportedBy = new Map(ep.assessments.map((a) => [a.eventId, a.recordedBy]));
  return dataTable(
    { class: 'data outcome-table', id: 'outcome-table' },
    'Outcome chart data: every assessment the chart shows, with the same numbers.',
    [
      'Date',
      'Measure',
      'Total',
      'Severity',
      'Dose no.',
      'Days since dose',
      'In critical period',
      'Reliable change',
      'Response',
      'Remission',
      'Safety',
      'Reported by',
    ],
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          { 'data-event': r.eventId, 'data-instrument': r.instrument },
          h('td', {}, dayTime(r.at)),
          h('td', {}, r.instrumentName),
          h('td', { class: 'num' }, score(r.total)),
          h('td', {}, r.severityLabel ?? '—'),
          h('td', { class: 'num' }, String(r.doseNumber)),
          h('td', { class: 'num' }, r.daysSinceLastDose === null ? '—' : r.daysSinceLastDose.toFixed(1)),
          h('td', {}, yesNo(r.inCriticalPeriod)),
          h('td', {}, r.reliableChange ? words(r.reliableChange) : '—'),
          h('td', {}, yesNo(r.response)),
          h('td', {}, yesNo(r.remission)),
          h(
            'td',
            { class: r.safetyFlag?.kind === 'positive' && !r.safetyFlag.reviewed ? 'flag' : null },
            r.safetyFlag
              ? `${r.safetyFlag.kind === 'positive' ? `item ${r.safetyFlag.item} = ${r.safetyFlag.value}` : `item ${r.safetyFlag.item} unanswered`}${r.safetyFlag.reviewed ? ' (reviewed)' : ' (not reviewed)'}`
              : '—',
          ),
          reportedBy.get(r.eventId) === 'patient'
            ? h('td', { class: 'reported-by' }, h('span', { class: 'tag' }, 'patient-reported'))
            : h('td', { class: 'reported-by' }, reportedBy.get(r.eventId) ?? '—'),
        ),
      ),
    ),
  );
}

function outcomeStatus(chart: OutcomeChartData, inst: OutcomeChartInstrument): HTMLElement {
  const rows = chart.rows.filter((r) => r.instrument === inst.id && r.total !== null && r.charted);
  const last = rows[rows.length - 1];
  const base = inst.baseline;
  const rc = inst.reliableChange;
  const latestClass = last && base && last.eventId !== base.eventId ? last.reliableChange : null;
  return h(
    'section',
    { class: 'card outcome-status', 'data-instrument': inst.id },
    h('h3', {}, inst.name),
    h(
      'dl',
      { class: 'facts' },
      fact('Baseline', base ? `${score(base.total)} on ${day(base.at)}` : '—'),
      fact(
        'Latest',
        last
          ? `${score(last.total)} on ${day(last.at)}${last.severityLabel ? ` (${last.severityLabel})` : ''}`
          : '—',
      ),
      fact('Change', last && last.change !== null ? change(last.change) : '—'),
      fact('Response', inst.responseFraction === null ? 'not defined' : yesNo(inst.outcome?.response), {
        'data-status': 'response',
      }),
      fact('Remission', inst.remissionBelow === null ? 'not defined' : yesNo(inst.outcome?.remission), {
        'data-status': 'remission',
      }),
      fact('Reliable change', latestClass ? words(latestClass) : '—', { 'data-status': 'reliable-change' }),
    ),
    h(
      'details',
      { class: 'definitions', open: true },
      h('summary', {}, 'Definitions'),
      h(
        'ul',
        {},
        h(
          'li',
          {},
          'Baseline: the last assessment on or before the first dose (the first assessment before any dose).',
        ),
        inst.responseFraction !== null
          ? h(
              'li',
              {},
              `Response: latest ≤ ${percent(inst.responseFraction)} of baseline (baseline > 0). Source: ${inst.responseSource}.`,
            )
          : null,
        inst.remissionBelow !== null
          ? h('li', {}, `Remission: latest < ${inst.remissionBelow}. Source: ${inst.remissionSource ?? '—'}.`)
          : null,
        rc
          ? h(
              'li',
              {},
              `Reliable change (Jacobson & Truax 1991): a change of at least ${rc.pointsNeeded.toFixed(2)} points = ${rc.critical} × √2 × SD × √(1 − r), with r = ${rc.reliability} (${rc.reliabilitySource}) and SD = ${rc.sd.toFixed(2)} (${rc.sdSource === 'given' ? 'SD of baseline scores in this clinic’s cohort' : rc.sdSource}).`,
            )
          : null,
        inst.notDefined.map((text) =>
          h('li', { class: 'not-defined' }, `${text[0]!.toUpperCase()}${text.slice(1)}.`),
        ),
      ),
    ),
  );
}

/** The outcome chart, its legend, each measure's status and the data table; a note when nothing is scored. */
export function outcomesSection(ep: EpisodeView): (HTMLElement | HTMLElement[])[] {
  const chart = ep.chart;
  return [
    h('h2', {}, 'Outcomes'),
    chart.rows.some((r) => r.charted && r.total !== null)
      ? [
          chartBox(
            'outcome-chart',
            describeOutcomeChart(chart),
            outcomeChartConfigFromData(
              chart,
              chart.instruments.map((i) => i.name).join(' and '),
            ) as unknown as ChartConfiguration,
            chart.instruments.length > 1 ? 'panels' : 'tall',
            true,
          ),
          h(
            'p',
            { class: 'muted small' },
            'One panel per measure, each with its own severity bands. Shaded columns: critical periods (darker where they overlap), up to today; the solid vertical line: today; dashed vertical lines: doses; dashed horizontal lines: response and remission thresholds; ▲▼ reliable change; ✕ safety flag. The table below gives the same numbers.',
          ),
          h(
            'div',
            { class: 'status-grid' },
            chart.instruments.map((i) => outcomeStatus(chart, i)),
          ),
          h('h3', {}, 'Data table'),
          outcomeTable(chart, ep),
        ]
      : h('p', { class: 'muted' }, 'No scored assessment yet.'),
  ];
}

/**
 * The latest PHQ-9's answers by item as a bar chart; null without a PHQ-9. Its chart draws on the next frame:
 * mount it in the same task.
 */
export async function latestItemsSection(ep: EpisodeView): Promise<HTMLElement[] | null> {
  const latestPhq9 = ep.latestAssessments.find((a) => a.instrument === 'phq9');
  const phq9Def = latestPhq9 ? await instrument('phq9') : undefined;
  if (!latestPhq9 || !phq9Def) return null;
  return [
    h('h3', {}, `Latest PHQ-9 answers by item (${day(latestPhq9.at)})`),
    chartBox(
      'item-chart',
      `PHQ-9 answers by item on ${day(latestPhq9.at)}`,
      itemChartConfig(latestPhq9, phq9Def) as unknown as ChartConfiguration,
      'items',
    ),
  ];
}
