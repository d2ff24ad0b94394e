/** The patient page's vitals: the blood-pressure chart and the table of every reading. */

import { vitalsChartConfig } from '@kapkit/charts';
import type { ChartConfiguration } from 'chart.js';
import type { EpisodeView } from '../../../shared/api.js';
import { chartBox } from '../../charts.js';
import { h } from '../../dom.js';
import { dayTime } from '../../format.js';
import { dataTable } from '../../ui.js';

function vitalsTable(ep: EpisodeView): HTMLElement {
  if (ep.vitals.length === 0) return h('p', { class: 'muted' }, 'No vitals recorded.');
  return dataTable(
    { class: 'data vitals-table' },
    `Vitals by dosing session. Hold threshold: above ${ep.policy.holdSystolicAbove}/${ep.policy.holdDiastolicAbove} mmHg before a dose.`,
    ['Date', 'Dose no.', 'When', 'Blood pressure', 'Heart rate', 'SpO₂', 'Above hold'],
    h(
      'tbody',
      {},
      ep.vitals.map((v) =>
        h(
          'tr',
          {},
          h('td', {}, dayTime(v.at)),
          h('td', { class: 'num' }, v.doseNumber === null ? '—' : String(v.doseNumber)),
          h('td', {}, v.phase === 'pre' ? 'before dose' : v.phase === 'post' ? 'after dose' : 'during'),
          h('td', { class: 'num' }, `${v.systolic}/${v.diastolic} mmHg`),
          h('td', { class: 'num' }, v.heartRate === null ? '—' : `${v.heartRate} bpm`),
          h('td', { class: 'num' }, v.spo2 === null ? '—' : `${v.spo2}%`),
          h('td', { class: v.aboveHold ? 'flag' : null }, v.aboveHold ? 'yes' : 'no'),
        ),
      ),
    ),
  );
}

/** The vitals heading, chart (when there are readings) and table. */
export function vitalsSection(ep: EpisodeView): (HTMLElement | null)[] {
  return [
    h('h2', {}, 'Vitals'),
    ep.vitals.length > 0
      ? chartBox(
          'vitals-chart',
          'Blood pressure before and after each dose',
          vitalsChartConfig(ep.context) as unknown as ChartConfiguration,
          'medium',
        )
      : null,
    vitalsTable(ep),
  ];
}
