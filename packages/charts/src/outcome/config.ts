import { DAY_MS } from '@kapkit/core/time';
import type { ChartData, LegendItem, Plugin } from 'chart.js';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { describedTooltipLabel, formatDays, formatScore, localDate, localDateTime } from '../format.js';
import { type ChartLabel, chartLabelsPlugin, NARROW_CHART_PX } from '../label-layout.js';
import { palette, withAlpha } from '../palette.js';
import { rcNote } from './describe.js';
import {
  OUTCOME_POINT_STYLES,
  type OutcomeChartConfiguration,
  type OutcomeChartData,
  type OutcomeChartInstrument,
  type OutcomeChartRow,
  type OutcomeDataset,
  type OutcomeDatasetRole,
  type OutcomePoint,
} from './types.js';

/**
 * A y-scale id that no scale has: annotations given it span the whole chart area (every panel), as the
 * annotation plugin falls back to the chart area for a scale it does not find.
 */
const ALL_PANELS = 'all-panels';

/** The panel a row's marker goes on: its own instrument's, else (an uncharted instrument's flag) the top one. */
function panelOf(data: OutcomeChartData, r: OutcomeChartRow): OutcomeChartInstrument {
  return data.instruments.find((i) => i.id === r.instrument) ?? data.instruments[0]!;
}

function pointOf(data: OutcomeChartData, r: OutcomeChartRow): OutcomePoint {
  return {
    x: r.x,
    y: r.total ?? panelOf(data, r).range.min,
    description: r.description,
    eventId: r.eventId,
    instrument: r.instrument,
  };
}

/** Marker datasets of one role: one per panel that has such markers, the legend entry on the first only. */
function markerDatasets(
  data: OutcomeChartData,
  rows: readonly OutcomeChartRow[],
  role: OutcomeDatasetRole,
  style: Omit<OutcomeDataset, 'kapkitRole' | 'data' | 'label'> & { readonly label: string },
): OutcomeDataset[] {
  const out: OutcomeDataset[] = [];
  for (const inst of data.instruments) {
    const mine = rows.filter((r) => panelOf(data, r).id === inst.id);
    if (mine.length === 0) continue;
    out.push({
      ...style,
      kapkitRole: role,
      data: mine.map((r) => pointOf(data, r)),
      yAxisID: inst.scaleId,
      ...(out.length > 0 ? { kapkitLegend: false as const } : {}),
    });
  }
  return out;
}

function instrumentDatasets(data: OutcomeChartData): OutcomeDataset[] {
  return data.instruments.map((inst, i) => ({
    kapkitRole: 'instrument',
    instrument: inst.id,
    label: `${inst.name} total`,
    data: data.rows
      .filter((r) => r.instrument === inst.id && r.total !== null && r.charted)
      .map((r) => pointOf(data, r)),
    yAxisID: inst.scaleId,
    borderColor: inst.color,
    backgroundColor: inst.color,
    borderWidth: 2.5,
    borderDash: i === 0 ? [] : [7, 4],
    pointStyle: OUTCOME_POINT_STYLES.instrument[i % OUTCOME_POINT_STYLES.instrument.length]!,
    pointRadius: 4,
    pointHoverRadius: 6,
    tension: 0,
    order: 3,
  }));
}

function datasetsOf(data: OutcomeChartData): OutcomeDataset[] {
  const top = data.instruments[0]!;
  const datasets: OutcomeDataset[] = instrumentDatasets(data);
  datasets.push({
    kapkitRole: 'dose',
    label: 'Dosing session (dose number, mg)',
    data: data.doses.map((d) => ({ x: d.x, y: top.range.max, description: d.description })),
    yAxisID: top.scaleId,
    showLine: false,
    pointStyle: OUTCOME_POINT_STYLES.dose,
    pointRotation: 90,
    pointRadius: 8,
    pointHoverRadius: 10,
    borderColor: palette.dose,
    backgroundColor: palette.dose,
    borderWidth: 4,
    clip: false,
    order: 2,
  });
  datasets.push({
    kapkitRole: 'critical-period',
    label: `Critical period (${formatDays(data.criticalPeriodDays)} d per dose; darker = overlap${data.today ? '; to today' : ''})`,
    data: [],
    yAxisID: top.scaleId,
    showLine: false,
    pointStyle: 'rect',
    backgroundColor: withAlpha(palette.criticalPeriod, 0.35),
    borderColor: palette.criticalPeriodBorder,
    borderWidth: 1,
    order: 4,
  });
  if (data.today !== null) {
    datasets.push({
      kapkitRole: 'today',
      label: `Today (${localDate(data.today.at)})`,
      data: [],
      yAxisID: top.scaleId,
      showLine: false,
      pointStyle: 'line',
      borderColor: palette.text,
      backgroundColor: palette.text,
      borderWidth: 2,
      order: 4,
    });
  }
  const scored = data.rows.filter((r) => r.total !== null);
  const marker = { showLine: false, pointRadius: 8, pointHoverRadius: 10, order: 1 } as const;
  datasets.push(
    ...markerDatasets(
      data,
      scored.filter((r) => r.reliableChange === 'improved'),
      'reliable-improvement',
      {
        ...marker,
        label: '▲ Reliable improvement (Jacobson–Truax)',
        pointStyle: OUTCOME_POINT_STYLES.reliableImprovement,
        backgroundColor: palette.improved,
        borderColor: '#ffffff',
        borderWidth: 1,
      },
    ),
    ...markerDatasets(
      data,
      scored.filter((r) => r.reliableChange === 'deteriorated'),
      'reliable-deterioration',
      {
        ...marker,
        label: '▼ Reliable deterioration (Jacobson–Truax)',
        pointStyle: OUTCOME_POINT_STYLES.reliableDeterioration,
        pointRotation: 180,
        backgroundColor: palette.deteriorated,
        borderColor: '#ffffff',
        borderWidth: 1,
      },
    ),
  );
  const positive = data.rows.filter((r) => r.safetyFlag?.kind === 'positive');
  const items = [...new Set(positive.map((r) => `${r.instrumentName} item ${r.safetyFlag!.item}`))];
  datasets.push(
    ...markerDatasets(data, positive, 'safety-positive', {
      label: `✕ Safety flag: ${items.join(', ')} answered above 0`,
      showLine: false,
      pointStyle: OUTCOME_POINT_STYLES.safetyPositive,
      pointRadius: 10,
      pointHoverRadius: 12,
      backgroundColor: palette.safety,
      borderColor: palette.safety,
      borderWidth: 3.5,
      clip: false,
      order: 0,
    }),
    ...markerDatasets(
      data,
      data.rows.filter((r) => r.safetyFlag?.kind === 'unanswered'),
      'safety-unanswered',
      {
        label: '◆ Safety item left unanswered',
        showLine: false,
        pointStyle: OUTCOME_POINT_STYLES.safetyUnanswered,
        pointRadius: 8,
        pointHoverRadius: 10,
        backgroundColor: 'rgba(255, 255, 255, 0.9)',
        borderColor: palette.safety,
        borderWidth: 2.5,
        clip: false,
        order: 0,
      },
    ),
  );
  return datasets;
}

/** A horizontal threshold line across one measure's panel (response, remission), in the measure's colour. */
function thresholdLine(inst: OutcomeChartInstrument, y: number, borderDash: number[]): AnnotationOptions {
  return {
    type: 'line',
    drawTime: 'beforeDatasetsDraw',
    z: 2,
    yScaleID: inst.scaleId,
    yMin: y,
    yMax: y,
    borderColor: inst.color,
    borderWidth: 1.5,
    borderDash,
  };
}

/** A vertical line across every panel at `x` (a dose, today). */
function verticalLine(
  x: number,
  z: number,
  drawTime: 'beforeDatasetsDraw' | 'afterDatasetsDraw',
  style: { readonly borderColor: string; readonly borderWidth: number; readonly borderDash?: number[] },
): AnnotationOptions {
  return { type: 'line', drawTime, z, yScaleID: ALL_PANELS, xMin: x, xMax: x, ...style };
}

/** Bands, critical periods, thresholds, doses and today as annotation boxes and lines (labels: see labelsOf). */
function annotationsOf(data: OutcomeChartData): Record<string, AnnotationOptions> {
  const annotations: Record<string, AnnotationOptions> = {};
  for (const inst of data.instruments) {
    for (const b of inst.bands) {
      annotations[`band-${inst.id}-${b.id}`] = {
        type: 'box',
        drawTime: 'beforeDatasetsDraw',
        z: 0,
        yScaleID: inst.scaleId,
        yMin: b.yMin,
        yMax: b.yMax,
        backgroundColor: b.color,
        borderWidth: 0,
      };
    }
  }
  for (const w of data.windows) {
    annotations[`window-${w.doseNumber}`] = {
      type: 'box',
      drawTime: 'beforeDatasetsDraw',
      z: 1,
      yScaleID: ALL_PANELS,
      xMin: w.xMin,
      xMax: w.drawnXMax,
      backgroundColor: palette.criticalPeriod,
      borderWidth: 0,
    };
  }
  for (const inst of data.instruments) {
    if (inst.responseThreshold !== null && inst.baseline !== null) {
      const baseX = data.rows.find((r) => r.eventId === inst.baseline!.eventId)?.x;
      annotations[`response-${inst.id}`] = {
        ...thresholdLine(inst, inst.responseThreshold, [8, 4]),
        ...(baseX === undefined ? {} : { xMin: baseX }),
      };
    }
    if (inst.remissionBelow !== null) {
      annotations[`remission-${inst.id}`] = thresholdLine(inst, inst.remissionBelow, [2, 3]);
    }
  }
  for (const d of data.doses) {
    annotations[`dose-${d.doseNumber}`] = verticalLine(d.x, 3, 'beforeDatasetsDraw', {
      borderColor: palette.dose,
      // A dose step (titration) is drawn heavier.
      borderWidth: d.step ? 2.5 : 1.5,
      borderDash: [4, 3],
    });
  }
  if (data.today !== null) {
    annotations.today = verticalLine(data.today.x, 4, 'afterDatasetsDraw', {
      borderColor: palette.text,
      borderWidth: 2,
    });
  }
  return annotations;
}

/**
 * The chart's text labels, laid out without overlaps by the labels plugin (`layoutLabels`): thresholds first,
 * then doses and today, then band names; each with a short form for narrow charts.
 */
export function outcomeChartLabels(data: OutcomeChartData): ChartLabel[] {
  const labels: ChartLabel[] = [];
  for (const inst of data.instruments) {
    if (inst.responseThreshold !== null && inst.baseline !== null) {
      labels.push({
        id: `response-${inst.id}`,
        kind: 'line',
        yScaleID: inst.scaleId,
        y: inst.responseThreshold,
        text: [
          `${inst.name} response ≤ ${formatScore(inst.responseThreshold)} (${formatScore((inst.responseFraction ?? 0) * 100)}% of baseline ${formatScore(inst.baseline.total)})`,
        ],
        short: [`response ≤ ${formatScore(inst.responseThreshold)}`],
      });
    }
    if (inst.remissionBelow !== null) {
      labels.push({
        id: `remission-${inst.id}`,
        kind: 'line',
        yScaleID: inst.scaleId,
        y: inst.remissionBelow,
        text: [`${inst.name} remission < ${formatScore(inst.remissionBelow)}`],
        short: [`remission < ${formatScore(inst.remissionBelow)}`],
      });
    }
  }
  if (data.today !== null) {
    labels.push({ id: 'today', kind: 'marker', x: data.today.x, text: ['Today'] });
  }
  for (const d of data.doses) {
    labels.push({
      id: `dose-${d.doseNumber}`,
      kind: 'marker',
      x: d.x,
      text: [
        `${d.maintenance ? 'Maint. dose' : 'Dose'} ${d.doseNumber}`,
        `${formatScore(d.doseMg)}${d.boostersMg.map((m) => `+${formatScore(m)}`).join('')} mg${
          d.step === 'up' ? ' ▲' : d.step === 'down' ? ' ▼' : ''
        }`,
      ],
      short: [
        `${d.maintenance ? 'M' : ''}${d.doseNumber}${d.step === 'up' ? '▲' : d.step === 'down' ? '▼' : ''}`,
      ],
      background: 'rgba(255, 255, 255, 0.9)',
    });
  }
  for (const inst of data.instruments) {
    for (const b of inst.bands) {
      labels.push({
        id: `band-${inst.id}-${b.id}`,
        kind: 'band',
        yScaleID: inst.scaleId,
        y: b.yMin,
        y2: b.yMax,
        text: [`${b.label} (${b.min}–${b.max})`],
        short: [b.label],
        background: 'rgba(255, 255, 255, 0.55)',
      });
    }
  }
  return labels;
}

function timeUnit(spanDays: number): 'day' | 'week' | 'month' {
  return spanDays <= 21 ? 'day' : spanDays <= 150 ? 'week' : 'month';
}

function xScaleOf(data: OutcomeChartData) {
  const spanDays = data.xAxis === 'time' ? (data.x.max - data.x.min) / DAY_MS : data.x.max - data.x.min;
  const origin = data.origin;
  const primaryName = data.instruments[0]!.name;
  if (data.xAxis === 'time') {
    return {
      type: 'time' as const,
      min: data.x.min,
      max: data.x.max,
      time: {
        unit: timeUnit(spanDays),
        tooltipFormat: 'yyyy-MM-dd HH:mm',
        displayFormats: { day: 'MMM d', week: 'MMM d', month: 'MMM yyyy' },
      },
      title: { display: true, text: 'Date', color: palette.mutedText },
      grid: { color: palette.grid },
      ticks: { color: palette.text, autoSkip: true, maxRotation: 0 },
    };
  }
  return {
    type: 'linear' as const,
    min: data.x.min,
    max: data.x.max,
    ticks: {
      stepSize: spanDays <= 91 ? 7 : spanDays <= 200 ? 14 : 28,
      includeBounds: false,
      color: palette.text,
    },
    title: {
      display: true,
      text:
        origin.kind === 'baseline'
          ? `Days since ${primaryName} baseline (${localDate(origin.at!)})`
          : origin.kind === 'first-dose'
            ? `Days since the first dose (${localDate(origin.at!)})`
            : origin.kind === 'opened'
              ? `Days since the episode opened (${localDate(origin.at!)})`
              : 'Days',
      color: palette.mutedText,
    },
    grid: { color: palette.grid },
  };
}

/** One y scale per instrument, stacked top to bottom in one column (chart.js stacks the last-listed on top). */
function yScalesOf(data: OutcomeChartData) {
  const scales: Record<string, object> = {};
  for (const inst of [...data.instruments].reverse()) {
    scales[inst.scaleId] = {
      type: 'linear',
      position: 'left',
      stack: 'panels',
      stackWeight: 1,
      offset: data.instruments.length > 1,
      min: inst.range.min,
      max: inst.range.max,
      title: {
        display: true,
        text: `${inst.name} ${inst.direction === 'higher-is-worse' ? '(↑ worse)' : '(↑ better)'}`,
        color: palette.mutedText,
      },
      grid: { color: palette.grid },
      border: { color: inst.color, width: 2 },
      ticks: { color: palette.text, maxTicksLimit: 6 },
    };
  }
  return scales;
}

function subtitleOf(data: OutcomeChartData): string[] {
  const subtitle: string[] = [];
  if (data.synthetic) subtitle.push('SYNTHETIC DEMO DATA: not a real patient');
  const bandSources = data.instruments
    .filter((i) => i.bands.length > 0)
    .map((i) => `${i.name} bands${i.bandsSource ? `: ${i.bandsSource}` : ''}`);
  subtitle.push(
    [
      data.asOf === null ? null : `As of ${localDateTime(data.asOf)}`,
      `critical period ${formatDays(data.criticalPeriodDays)} d`,
    ]
      .filter((s) => s !== null)
      .join(' · '),
  );
  if (bandSources.length) subtitle.push(`Severity bands: ${bandSources.join(' · ')}`);
  const rc = rcNote(data);
  if (rc !== null) subtitle.push(rc);
  return subtitle;
}

/** Chart.js scriptable option: true on charts at least {@link NARROW_CHART_PX} wide. */
function wide(ctx: { readonly chart: { readonly width: number } }): boolean {
  return ctx.chart.width >= NARROW_CHART_PX;
}

/** Chart.js scriptable font: smaller on narrow charts (phones). */
function titleFont(ctx: { readonly chart: { readonly width: number } }) {
  return { size: wide(ctx) ? 16 : 13, weight: 'bold' as const };
}
function legendFont(ctx: { readonly chart: { readonly width: number } }) {
  return { size: wide(ctx) ? 12 : 10 };
}

/** Legend in dataset order (chart.js would sort by `order`, which here sets drawing order). */
function legendByIndex(a: LegendItem, b: LegendItem): number {
  return (a.datasetIndex ?? 0) - (b.datasetIndex ?? 0);
}

/** One legend entry per role: a further panel's markers of a role already listed are left out. */
function legendFilter(item: LegendItem, chartData: ChartData): boolean {
  const d = chartData.datasets[item.datasetIndex ?? 0] as Partial<OutcomeDataset> | undefined;
  return d?.kapkitLegend !== false;
}

/** Build the configuration from {@link outcomeChartData}'s result (see {@link outcomeChartConfig}). */
export function outcomeChartConfigFromData(
  data: OutcomeChartData,
  title?: string,
): OutcomeChartConfiguration {
  return {
    type: 'line',
    data: { datasets: datasetsOf(data) },
    plugins: [chartLabelsPlugin as Plugin<'line'>],
    options: {
      parsing: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: { x: xScaleOf(data), ...yScalesOf(data) },
      plugins: {
        title: {
          display: true,
          text:
            title ??
            `${data.instruments.map((i) => i.name).join(' and ')}: patient ${data.patientId ?? '-'}, episode ${data.episodeId ?? '-'}`,
          color: palette.text,
          font: titleFont,
        },
        // On a phone the subtitle's sources would be squeezed unreadable: they stay in the text alternative.
        subtitle: { display: wide, text: subtitleOf(data), color: palette.mutedText, padding: { bottom: 8 } },
        legend: {
          position: 'bottom',
          labels: {
            usePointStyle: true,
            boxHeight: 10,
            sort: legendByIndex,
            filter: legendFilter,
            color: palette.text,
            font: legendFont,
            padding: 14,
          },
        },
        tooltip: { callbacks: { label: describedTooltipLabel } },
        annotation: { clip: true, annotations: annotationsOf(data) },
        kapkitLabels: { labels: outcomeChartLabels(data) },
      },
    } as unknown as OutcomeChartConfiguration['options'],
  };
}
