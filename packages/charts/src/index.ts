/**
 * @kapkit/charts: chart.js configuration builders for KAP outcome charts. Pure and browser-safe: every
 * builder returns a plain `ChartConfiguration` (deterministic, no DOM, no clock, no Node built-ins). Render
 * the configurations with chart.js in a browser, or to PNG on a server with `@kapkit/charts/render`.
 *
 * In a browser, register what the charts use once:
 *
 * ```ts
 * import { Chart, registerables } from 'chart.js';
 * import annotationPlugin from 'chartjs-plugin-annotation';
 * import 'chartjs-adapter-date-fns'; // the time axis of the outcome chart
 * Chart.register(...registerables, annotationPlugin);
 * ```
 * @packageDocumentation
 */

export {
  type CohortChartConfiguration,
  type CohortDataset,
  type CohortDatasetRole,
  type CohortPoint,
  type KaplanMeierChartInput,
  type KaplanMeierChartOptions,
  type KaplanMeierRow,
  kaplanMeierChartConfig,
  type TrajectoryChartOptions,
  trajectoryChartConfig,
} from './cohort.js';
export { type DescribedPoint, describedTooltipLabel, formatScore } from './format.js';
export {
  type ItemChartAssessment,
  type ItemChartConfiguration,
  type ItemDataset,
  type ItemLabel,
  itemChartConfig,
} from './items.js';
export {
  boxesOverlap,
  type ChartLabel,
  type ChartLabelsOptions,
  chartLabelsPlugin,
  type LabelRequest,
  layoutLabels,
  NARROW_CHART_PX,
  type PlacedLabel,
  placedLabels,
} from './label-layout.js';
export {
  describeOutcomeChart,
  OUTCOME_POINT_STYLES,
  type OutcomeChartBand,
  type OutcomeChartConfiguration,
  type OutcomeChartData,
  type OutcomeChartDose,
  type OutcomeChartInput,
  type OutcomeChartInstrument,
  type OutcomeChartRow,
  type OutcomeChartWindow,
  type OutcomeDataset,
  type OutcomeDatasetRole,
  type OutcomePoint,
  type OutcomeSafetyFlag,
  type OutcomeXAxis,
  outcomeChart,
  outcomeChartConfig,
  outcomeChartConfigFromData,
  outcomeChartData,
  outcomeChartLabels,
} from './outcome.js';
export {
  bandTints,
  compositeOver,
  contrastRatio,
  palette,
  parseColor,
  type Rgba,
  relativeLuminance,
  seriesColor,
  withAlpha,
} from './palette.js';
export { type ChartTextAlternative, type ChartTextRow, chartTextAlternative } from './text-alternative.js';
export {
  type VitalsChartConfiguration,
  type VitalsChartOptions,
  type VitalsDataset,
  type VitalsDatasetRole,
  type VitalsPoint,
  vitalsChartConfig,
} from './vitals.js';
