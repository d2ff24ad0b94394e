/**
 * chart.js, registered with only what the @kapkit/charts configurations use (line and bar charts, linear,
 * category and time scales, filler, legend, titles, tooltips, annotations), so the bundle stays small.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  SubTitle,
  TimeScale,
  Title,
  Tooltip,
} from 'chart.js';
import annotationPlugin from 'chartjs-plugin-annotation';
import 'chartjs-adapter-date-fns';
import { onLeave } from './lifecycle.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  SubTitle,
  TimeScale,
  Title,
  Tooltip,
  annotationPlugin,
);

/** Draw `config` on `canvas` (labelled for screen readers by `label`); destroyed on the next page. */
export function drawChart(canvas: HTMLCanvasElement, config: ChartConfiguration, label: string): Chart {
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
  } as ChartConfiguration;
  const chart = new Chart(canvas, merged);
  onLeave(() => chart.destroy());
  return chart;
}
