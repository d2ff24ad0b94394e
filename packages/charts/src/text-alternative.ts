import type { ChartConfiguration } from 'chart.js';

/** One line of a chart's text alternative: the series it belongs to and the point in words. */
export interface ChartTextRow {
  readonly series: string;
  readonly description: string;
}

/** A chart in words: its title and one row per distinct described point, from the same data it draws. */
export interface ChartTextAlternative {
  readonly title: string;
  readonly rows: readonly ChartTextRow[];
}

function textOf(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(' ');
  return typeof value === 'string' ? value : '';
}

/**
 * The text alternative of any kapkit chart configuration (outcome, item, vitals, trajectory, Kaplan–Meier):
 * its title and one row per point in words, read from the descriptions the builders put on every point
 * (`DescribedPoint.description`, or the item chart's `descriptions`). Render it as a (visually hidden) table
 * beside the canvas so screen-reader users get the same numbers; a point drawn twice (a confidence band's
 * edges repeat the mean's sentence) is listed once.
 *
 * @example
 * ```ts
 * const alt = chartTextAlternative(itemChartConfig({ responses: [0, 1, null, 2, 0, 0, 1, 0, 0] }, phq9));
 * alt.rows[2]; // { series: 'PHQ-9 answer', description: 'Item 3: Trouble falling or staying asleep…: unanswered' }
 * ```
 */
export function chartTextAlternative(
  // biome-ignore lint/suspicious/noExplicitAny: every chart type and data shape is accepted
  config: ChartConfiguration<any, any, any>,
): ChartTextAlternative {
  const rows: ChartTextRow[] = [];
  const seen = new Set<string>();
  const add = (series: string, description: unknown) => {
    if (typeof description !== 'string' || description === '' || seen.has(description)) return;
    seen.add(description);
    rows.push({ series, description });
  };
  for (const d of config.data.datasets as readonly Record<string, unknown>[]) {
    const series = textOf(d.label);
    const descriptions = d.descriptions;
    if (Array.isArray(descriptions)) {
      for (const text of descriptions) add(series, text);
      continue;
    }
    for (const point of (d.data as readonly unknown[] | undefined) ?? []) {
      if (point !== null && typeof point === 'object')
        add(series, (point as { description?: unknown }).description);
    }
  }
  const title = textOf(
    (config.options as { plugins?: { title?: { text?: unknown } } } | undefined)?.plugins?.title?.text,
  );
  return { title, rows };
}
