import type { KaplanMeierSummary, TrajectoryBin } from '@kapkit/analytics';
import type { InstrumentDefinition } from '@kapkit/core/instruments';
import type { ChartConfiguration, ChartDataset, LegendItem } from 'chart.js';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { type DescribedPoint, formatDays, formatScore } from './format.js';
import { linearAxis, lineChartConfig } from './line-chart.js';
import { categoryAxis, palette, withAlpha } from './palette.js';

/** Options of {@link trajectoryChartConfig}. */
export interface TrajectoryChartOptions {
  /** The instrument the bins are of: names the axis and sets its range. */
  readonly instrument?: InstrumentDefinition;
  readonly title?: string;
  /** Confidence level of the bins' intervals, for the legend; default 0.95 (as `trajectory`). */
  readonly confLevel?: number;
}

/** A point of a cohort chart. */
export interface CohortPoint extends DescribedPoint {}

/** Roles of the datasets of the cohort charts. */
export type CohortDatasetRole = 'ci-lower' | 'ci-upper' | 'mean' | 'survival' | 'censored';

export type CohortDataset = ChartDataset<'line', (CohortPoint | { x: number; y: number | null })[]> & {
  readonly kapkitRole: CohortDatasetRole;
};

/** The chart.js configuration of the cohort charts. */
export type CohortChartConfiguration = ChartConfiguration<
  'line',
  (CohortPoint | { x: number; y: number | null })[],
  string[]
>;

/** Legend filter: the lower bound of a band needs no entry of its own (the filled upper bound has one). */
function hideLowerBound(item: LegendItem): boolean {
  return !String(item.text).endsWith('(lower)');
}

/**
 * A confidence band as two datasets: its lower bound (no legend entry, see `hideLowerBound`) and its upper
 * bound filled down to the lower one. `line` says how the bounds are drawn (straight or stepped).
 */
function bandDatasets(
  level: number,
  upperLabel: string,
  lower: CohortDataset['data'],
  upper: CohortDataset['data'],
  line: { readonly tension: 0 } | { readonly stepped: 'before'; readonly spanGaps: false },
): CohortDataset[] {
  const bound = { borderColor: withAlpha(palette.series[0], 0.5), borderWidth: 1, pointRadius: 0 };
  return [
    { kapkitRole: 'ci-lower', label: `${level}% CI (lower)`, data: lower, ...bound, fill: false, ...line },
    {
      kapkitRole: 'ci-upper',
      label: upperLabel,
      data: upper,
      ...bound,
      backgroundColor: palette.confidenceBand,
      fill: '-1',
      ...line,
    },
  ];
}

function binLabel(b: TrajectoryBin): string {
  return b.upperEdge === null
    ? `${formatDays(b.bin)}+ d`
    : `${formatDays(b.bin)}–${formatDays(b.upperEdge)} d`;
}

/**
 * The cohort's mean score by bin of days since baseline (from `trajectory` in `@kapkit/analytics`), with its
 * confidence interval as a shaded band (the upper bound filled down to the lower one). Bins with fewer than
 * two patients have no interval; empty bins have no mean. The subtitle carries the caveat that observed-case
 * means are biased under dropout (docs/methods.md).
 *
 * @example
 * ```ts
 * const bins = analyzeOutcomes(records).instruments.phq9.trajectory;
 * const config = trajectoryChartConfig(bins, { instrument: phq9 });
 * config.data.datasets.map((d) => d.label); // ['95% CI (lower)', '95% CI', 'Mean PHQ-9']
 * ```
 */
export function trajectoryChartConfig(
  bins: readonly TrajectoryBin[],
  options: TrajectoryChartOptions = {},
): CohortChartConfiguration {
  const name = options.instrument?.name ?? 'score';
  const level = Math.round((options.confLevel ?? 0.95) * 100);
  const labels = bins.map((b) => [binLabel(b), `n = ${b.n}`]);
  const lower: CohortPoint[] = [];
  const upper: CohortPoint[] = [];
  const mean: CohortPoint[] = [];
  bins.forEach((b, i) => {
    if (b.mean === null) return;
    const ci =
      b.lower !== null && b.upper !== null
        ? `, ${level}% CI ${formatScore(Number(b.lower.toFixed(2)))} to ${formatScore(Number(b.upper.toFixed(2)))}`
        : ' (no interval: fewer than 2 patients)';
    const description = `Days ${binLabel(b)}: mean ${name} ${formatScore(Number(b.mean.toFixed(2)))}${ci}, ${b.n} patient(s)`;
    mean.push({ x: i, y: b.mean, description });
    if (b.lower !== null && b.upper !== null) {
      lower.push({ x: i, y: b.lower, description });
      upper.push({ x: i, y: b.upper, description });
    }
  });
  const datasets: CohortDataset[] = [
    ...bandDatasets(level, `${level}% CI of the mean`, lower, upper, { tension: 0 }),
    {
      kapkitRole: 'mean',
      label: `Mean ${name}`,
      data: mean,
      borderColor: palette.series[0],
      backgroundColor: palette.series[0],
      borderWidth: 2.5,
      pointRadius: 4,
      pointStyle: 'circle',
      fill: false,
      tension: 0,
    },
  ];
  return lineChartConfig({
    labels,
    datasets,
    x: categoryAxis('Days since baseline (bin)'),
    y: linearAxis(`Mean ${name}`, options.instrument?.range),
    title: options.title ?? `Cohort ${name} by days since baseline`,
    subtitle:
      'Observed-case means: patients who drop out are missing from later bins, and dropout is rarely random',
    legend: { filter: hideLowerBound },
  });
}

/** One row of a Kaplan–Meier curve (`kaplanMeier(...).curve`, or `analyzeOutcomes`' `timeToResponse.curve`). */
export type KaplanMeierRow = KaplanMeierSummary['curve'][number];

/** A Kaplan–Meier curve alone, or with its median (a `KaplanMeierResult` or `KaplanMeierSummary`). */
export type KaplanMeierChartInput =
  | readonly KaplanMeierRow[]
  | {
      readonly curve: readonly KaplanMeierRow[];
      readonly median?: number | null;
      readonly confLevel?: number;
    };

/** Options of {@link kaplanMeierChartConfig}. */
export interface KaplanMeierChartOptions {
  readonly title?: string;
  /** What the event is, for labels; default "response". */
  readonly event?: string;
}

/**
 * A Kaplan–Meier curve as a stepped line (S(t) holds until the next event time, then drops), starting at
 * (0, 1), with its pointwise confidence band ('log' interval, filled between the lower and upper steps; no
 * band where S = 0) and censoring marks (+) at the times where patients were censored. A dashed line marks
 * S = 0.5 and the median when it is reached.
 *
 * @example
 * ```ts
 * const km = kaplanMeier([{ time: 14, event: true }, { time: 28, event: false }, { time: 28, event: true }]);
 * const config = kaplanMeierChartConfig(km);
 * config.data.datasets.find((d) => d.kapkitRole === 'survival')?.data;
 * // [{ x: 0, y: 1 }, { x: 14, y: 0.667 }, { x: 28, y: 0 }] (with descriptions)
 * ```
 */
export function kaplanMeierChartConfig(
  km: KaplanMeierChartInput,
  options: KaplanMeierChartOptions = {},
): CohortChartConfiguration {
  const { curve, median, level } = kaplanMeierInput(km);
  const event = options.event ?? 'response';
  const maxTime = curve.length ? curve[curve.length - 1]!.time : 1;
  return lineChartConfig({
    datasets: kaplanMeierDatasets(curve, level, event),
    x: linearAxis('Days since baseline', { min: 0, max: maxTime }),
    y: linearAxis(`Proportion not yet in ${event}`, { min: 0, max: 1 }),
    title: options.title ?? `Time to first ${event} (Kaplan–Meier)`,
    legend: { usePointStyle: true, filter: hideLowerBound },
    annotations: kaplanMeierAnnotations(median),
  });
}

/** The curve, its median (when given) and its confidence level in percent (default 95). */
function kaplanMeierInput(km: KaplanMeierChartInput): {
  curve: readonly KaplanMeierRow[];
  median: number | null | undefined;
  level: number;
} {
  if (Array.isArray(km)) return { curve: km, median: undefined, level: 95 };
  const k = km as Exclude<KaplanMeierChartInput, readonly KaplanMeierRow[]>;
  return { curve: k.curve, median: k.median, level: Math.round((k.confLevel ?? 0.95) * 100) };
}

/** The band, the stepped survival curve from (0, 1) with a description per step, and the censoring marks. */
function kaplanMeierDatasets(
  curve: readonly KaplanMeierRow[],
  level: number,
  event: string,
): CohortDataset[] {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const describe = (r: KaplanMeierRow) =>
    `Day ${formatDays(r.time)}: ${pct(r.survival)} not yet in ${event}${
      r.lower !== null && r.upper !== null ? ` (${level}% CI ${pct(r.lower)} to ${pct(r.upper)})` : ''
    }; ${r.nRisk} at risk, ${r.nEvent} ${event}(s), ${r.nCensor} censored`;
  const start = { x: 0, y: 1, description: `Day 0: 100% not yet in ${event}` };
  const survival: CohortPoint[] = [
    start,
    ...curve.map((r) => ({ x: r.time, y: r.survival, description: describe(r) })),
  ];
  const lower = [{ x: 0, y: 1 }, ...curve.map((r) => ({ x: r.time, y: r.lower }))];
  const upper = [{ x: 0, y: 1 }, ...curve.map((r) => ({ x: r.time, y: r.upper }))];
  const censored: CohortPoint[] = curve
    .filter((r) => r.nCensor > 0)
    .map((r) => ({
      x: r.time,
      y: r.survival,
      description: `Censored: ${r.nCensor} at day ${formatDays(r.time)}`,
    }));
  return [
    ...bandDatasets(level, `${level}% CI (log)`, lower, upper, { stepped: 'before', spanGaps: false }),
    {
      kapkitRole: 'survival',
      label: `Not yet in ${event} (Kaplan–Meier)`,
      data: survival,
      stepped: 'before',
      borderColor: palette.series[0],
      backgroundColor: palette.series[0],
      borderWidth: 2.5,
      pointRadius: 0,
      pointHitRadius: 6,
      fill: false,
    },
    {
      kapkitRole: 'censored',
      label: '+ Censored',
      data: censored,
      showLine: false,
      pointStyle: 'cross',
      pointRadius: 6,
      borderColor: palette.text,
      backgroundColor: palette.text,
      borderWidth: 1.5,
    },
  ];
}

/** A dashed line at S = 0.5, and one down from it at the median when the curve reaches it. */
function kaplanMeierAnnotations(median: number | null | undefined): Record<string, AnnotationOptions> {
  const dashed = () => ({ borderColor: palette.mutedText, borderWidth: 1, borderDash: [4, 4] });
  const annotations: Record<string, AnnotationOptions> = {
    half: { type: 'line', yMin: 0.5, yMax: 0.5, ...dashed() },
  };
  if (median !== undefined && median !== null) {
    annotations.median = {
      type: 'line',
      xMin: median,
      xMax: median,
      yMin: 0,
      yMax: 0.5,
      ...dashed(),
      label: {
        display: true,
        content: `Median ${formatDays(median)} d`,
        position: 'end',
        color: palette.text,
        backgroundColor: 'rgba(255, 255, 255, 0.9)',
        font: { size: 11 },
      },
    };
  }
  return annotations;
}
