import { outcomeChartConfigFromData } from './outcome/config.js';
import { outcomeChartData } from './outcome/data.js';
import type { OutcomeChartConfiguration, OutcomeChartData, OutcomeChartInput } from './outcome/types.js';

export { outcomeChartConfigFromData, outcomeChartLabels } from './outcome/config.js';
export { outcomeChartData } from './outcome/data.js';
export { describeOutcomeChart } from './outcome/describe.js';
export * from './outcome/types.js';

/**
 * Build the outcome chart of one episode as a chart.js configuration (pure and deterministic: the same input
 * gives an equal configuration; no DOM, no clock). It shows one panel per instrument, stacked on one time
 * axis (the first instrument on top), each with its own score axis:
 *
 * - the instrument's totals (line and points; instruments differ by colour, point style and dash);
 * - its own severity bands as labelled background boxes, each from its `min` to the next band's `min` (bands
 *   are half-open, so prorated totals fall in exactly one): a GAD-7 total sits in GAD-7 bands, never in
 *   PHQ-9 ones;
 * - each dosing session as a labelled vertical line (dose number and mg) and a legend entry;
 * - each dose's critical period `[dose, dose + W)` as a translucent box across the panels: where two windows
 *   overlap the shade is darker (alpha stacking), and gaps stay unshaded; with `asOf`, a "today" line, and the
 *   shading stops at it;
 * - per instrument, the response line (its definition's fraction of baseline, from the baseline on) and the
 *   remission line, from `episodeOutcomes` of `@kapkit/analytics`;
 * - reliable change vs baseline (Jacobson–Truax) as triangles (▲ improvement, ▼ deterioration) and safety
 *   flags as ✕ (item answered > 0) or ◆ (safety item unanswered): distinct shapes, legend entries and
 *   tooltip sentences, never colour alone;
 * - text labels (thresholds, doses, today, band names) drawn by the labels plugin the configuration lists in
 *   `plugins`, laid out so that no two overlap (shorter forms on charts under 600 px wide).
 *
 * Register chart.js's line controller, the time scale with `chartjs-adapter-date-fns` (for `xAxis: 'time'`),
 * the Filler, Legend, Title, SubTitle and Tooltip plugins and `chartjs-plugin-annotation` before use
 * (`@kapkit/charts/render` does this for PNGs). Time-axis tick labels are formatted by the adapter in the
 * local time zone of the renderer; the data rows keep each timestamp's own UTC offset.
 *
 * @example
 * ```ts
 * import { Chart, registerables } from 'chart.js';
 * import annotationPlugin from 'chartjs-plugin-annotation';
 * import 'chartjs-adapter-date-fns';
 * Chart.register(...registerables, annotationPlugin);
 *
 * const { state } = replay(events);
 * new Chart(canvas, outcomeChartConfig({ context: state.context, xAxis: 'days-since-baseline' }));
 * ```
 * @throws {UnknownInstrumentError} for an instrument id the registry does not know.
 * @throws {InvalidTimestampError} when `asOf` is not an ISO 8601 date-time with an offset.
 */
export function outcomeChartConfig(input: OutcomeChartInput): OutcomeChartConfiguration {
  return outcomeChart(input).config;
}

/**
 * The outcome chart's configuration and the data it shows, computed once.
 *
 * @example
 * ```ts
 * const { config, data } = outcomeChart({ context });
 * renderTable(data.rows); // the same numbers as the chart, for screen readers
 * ```
 */
export function outcomeChart(input: OutcomeChartInput): {
  readonly config: OutcomeChartConfiguration;
  readonly data: OutcomeChartData;
} {
  const data = outcomeChartData(input);
  return { config: outcomeChartConfigFromData(data, input.title), data };
}
