import type { ChartConfiguration, ChartDataset, LegendItem } from 'chart.js';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { describedTooltipLabel } from './format.js';
import { axisTitle, type categoryAxis, chartTitle, palette } from './palette.js';

/** A linear axis: its range when given, a title, and the palette's tick and grid colours. */
export function linearAxis(
  title: string,
  range?: { readonly min: number; readonly max: number },
  ticks: { readonly stepSize?: number } = {},
) {
  return {
    type: 'linear' as const,
    ...(range ? { min: range.min, max: range.max } : {}),
    title: axisTitle(title),
    ticks: { color: palette.text, ...ticks },
    grid: { color: palette.grid },
  };
}

/** What differs between the line charts (vitals, cohort trajectory, Kaplan–Meier); the rest is shared. */
export interface LineChartParts<TPoint> {
  /** Category labels (omitted for a linear x axis). */
  readonly labels?: string[][];
  readonly datasets: ChartDataset<'line', TPoint[]>[];
  readonly x: ReturnType<typeof categoryAxis> | ReturnType<typeof linearAxis>;
  readonly y: ReturnType<typeof linearAxis>;
  readonly title: string;
  readonly subtitle?: string | string[];
  /** Legend entries with point styles; a filter to leave entries out. */
  readonly legend: { readonly usePointStyle?: true; readonly filter?: (item: LegendItem) => boolean };
  readonly annotations?: Record<string, AnnotationOptions>;
}

/**
 * The chart.js configuration of a line chart of described points: unparsed data, the two axes, a bold title,
 * a muted subtitle when given, the legend at the bottom, tooltips from the points' descriptions and the
 * annotations when given.
 */
export function lineChartConfig<TPoint>(
  parts: LineChartParts<TPoint>,
): ChartConfiguration<'line', TPoint[], string[]> {
  const { usePointStyle, filter } = parts.legend;
  return {
    type: 'line',
    data: { ...(parts.labels ? { labels: parts.labels } : {}), datasets: parts.datasets },
    options: {
      parsing: false,
      scales: { x: parts.x, y: parts.y },
      plugins: {
        title: chartTitle(parts.title),
        ...(parts.subtitle !== undefined
          ? { subtitle: { display: true, text: parts.subtitle, color: palette.mutedText } }
          : {}),
        legend: {
          position: 'bottom',
          labels: {
            ...(usePointStyle ? { usePointStyle } : {}),
            color: palette.text,
            ...(filter ? { filter } : {}),
          },
        },
        tooltip: { callbacks: { label: describedTooltipLabel } },
        ...(parts.annotations ? { annotation: { annotations: parts.annotations } } : {}),
      },
    },
  };
}
