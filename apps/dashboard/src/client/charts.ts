/**
 * chart.js, registered with only what the @kapkit/charts configurations use (line and bar charts, linear,
 * category and time scales, filler, legend, titles, tooltips, annotations), so the bundle stays small.
 */
import * as chartjs from 'chart.js';
import annotationPlugin from 'chartjs-plugin-annotation';
import 'chartjs-adapter-date-fns';
import { chartTextAlternative } from '@kapkit/charts';
import { h } from './dom.js';
import { onLeave } from './lifecycle.js';

chartjs.Chart.register(
  chartjs.BarController,
  chartjs.BarElement,
  chartjs.CategoryScale,
  chartjs.Filler,
  chartjs.Legend,
  chartjs.LinearScale,
  chartjs.LineController,
  chartjs.LineElement,
  chartjs.PointElement,
  chartjs.SubTitle,
  chartjs.TimeScale,
  chartjs.Title,
  chartjs.Tooltip,
  annotationPlugin,
);

/** Draw `config` on `canvas` (labelled for screen readers by `label`); destroyed on the next page. */
function drawChart(
  canvas: HTMLCanvasElement,
  config: chartjs.ChartConfiguration,
  label: string,
): chartjs.Chart {
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const merged = {
    ...config,
    options: {
      ...(config.options ?? {}),
      responsive: true,
      maintainAspectRatio: false,
      animation: false as const,
    },
  } as chartjs.ChartConfiguration;
  const chart = new chartjs.Chart(canvas, merged);
  onLeave(() => chart.destroy());
  return chart;
}

/**
 * A chart with its text alternative: the canvas (role img, labelled by `label`) and a visually hidden table
 * of every point in words, generated from the same configuration (`chartTextAlternative`), that the canvas
 * names with `aria-describedby`. `visibleTable`: the page shows the numbers in a table of its own already,
 * so only the label is needed.
 */
export function chartBox(
  id: string,
  label: string,
  config: chartjs.ChartConfiguration,
  height = 'tall',
  visibleTable = false,
): HTMLElement {
  const canvas = h('canvas', { id });
  const alt = visibleTable ? null : chartTextAlternative(config as never);
  const table =
    alt === null
      ? null
      : h(
          'table',
          { class: 'chart-text', id: `${id}-text` },
          h('caption', {}, `${label}: the chart's points in words`),
          h(
            'thead',
            {},
            h('tr', {}, h('th', { scope: 'col' }, 'Series'), h('th', { scope: 'col' }, 'Point')),
          ),
          h(
            'tbody',
            {},
            alt.rows.map((r) => h('tr', {}, h('td', {}, r.series), h('td', {}, r.description))),
          ),
        );
  if (table) canvas.setAttribute('aria-describedby', `${id}-text`);
  const box = h('div', { class: `chart-box ${height}` }, canvas);
  // Draw once the canvas is in the document (it needs a size).
  requestAnimationFrame(() => {
    if (canvas.isConnected) drawChart(canvas, config, label);
  });
  // The hidden box is a div: a table ignores a 1px width and would widen the page.
  return h(
    'div',
    { class: 'chart-figure' },
    box,
    table ? h('div', { class: 'visually-hidden' }, table) : null,
  );
}
