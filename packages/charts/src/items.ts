import type { Comparison, InstrumentDefinition, SafetyRule } from '@kapkit/core/instruments';
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { describedTooltipLabel, formatScore, localDate, wrapText } from './format.js';
import { axisTitle, chartTitle, palette } from './palette.js';

/** The answers of one assessment: an `EpisodeAssessment`, or just `{ responses }`. */
export interface ItemChartAssessment {
  /** One answer per item, in item order; null = unanswered. */
  readonly responses: readonly (number | null)[];
  readonly at?: string;
  readonly total?: number | null;
  /** Severity band id. */
  readonly severity?: string | null;
}

/** A y-axis label: one line, or several. */
export type ItemLabel = string | string[];

/** The item chart's dataset, with one description per item for tooltips and tables. */
export type ItemDataset = ChartDataset<'bar', (number | null)[]> & {
  /** Per item: "Item 9: … : 2 (More than half the days); safety item: flag". */
  readonly descriptions: readonly string[];
  /** 1-based numbers of the safety items. */
  readonly safetyItems: readonly number[];
};

/** The chart.js configuration of the item chart. */
export type ItemChartConfiguration = ChartConfiguration<'bar', (number | null)[], ItemLabel>;

function compare(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

function safetyState(rule: SafetyRule, value: number | null): string {
  if (value === null) return 'unanswered: ask it again or assess risk directly';
  return compare(value, rule.op, rule.value)
    ? `answered ${formatScore(value)}: SAFETY FLAG, follow up whatever the total`
    : `answered ${formatScore(value)}: no flag`;
}

/**
 * The marks that keep an answer at the bottom of the scale apart from no answer: a bar of length 0 is
 * invisible, so a 0 gets a point and its value; an unanswered item gets a dashed empty row saying so.
 */
function answerMarkers(
  n: number,
  index: number,
  value: number | null,
  optionLabel: string | null,
  safety: boolean,
  scaleMin: number,
  scaleMax: number,
): Record<string, AnnotationOptions> {
  if (value !== null && value === scaleMin) {
    return {
      [`answered-min-${n}`]: {
        type: 'point',
        drawTime: 'afterDatasetsDraw',
        xValue: scaleMin,
        yValue: index,
        radius: 5,
        pointStyle: 'circle',
        backgroundColor: safety ? palette.safetyItem : palette.item,
        borderColor: safety ? palette.safety : palette.text,
        borderWidth: 1.5,
      },
      [`answered-min-label-${n}`]: {
        type: 'label',
        drawTime: 'afterDatasetsDraw',
        xValue: scaleMin,
        yValue: index,
        xAdjust: 14,
        content: `${formatScore(value)}${optionLabel ? ` (${optionLabel})` : ''}`,
        position: { x: 'start', y: 'center' },
        color: palette.text,
        font: { size: 11 },
      },
    };
  }
  if (value !== null) return {};
  return {
    [`unanswered-${n}`]: {
      type: 'box',
      drawTime: 'beforeDatasetsDraw',
      yMin: index - 0.35,
      yMax: index + 0.35,
      xMin: scaleMin,
      xMax: scaleMax,
      backgroundColor: 'rgba(255, 255, 255, 0)',
      borderColor: palette.mutedText,
      borderWidth: 1,
      borderDash: [2, 3],
      label: {
        display: true,
        content: 'unanswered',
        position: { x: 'start', y: 'center' },
        color: palette.mutedText,
        font: { size: 11, style: 'italic' },
        padding: 3,
      },
    },
  };
}

/**
 * An item-level horizontal bar chart of one assessment: one bar per item, its answer on the instrument's
 * scale. Items are labelled with their text when the instrument's licence lets kapkit ship it
 * (`licence.itemTextIncluded`), else "Item n". Safety items (e.g. PHQ-9 item 9) are marked by text
 * ("SAFETY ITEM" in the axis label and a label saying whether the answer raises a flag), a dashed box
 * around their row and a thick border: never by colour alone. An item answered at the bottom of the scale
 * (0), whose bar has no length, gets a round marker and the label "0" at the axis; an unanswered item has
 * neither bar nor marker but a dashed, empty row box labelled "unanswered" (and says so in its axis label):
 * the two never look alike.
 *
 * @example
 * ```ts
 * const config = itemChartConfig({ responses: [2, 1, 2, 1, 1, 0, 1, 0, 2] }, phq9);
 * config.data.labels?.[8]; // ['9. Thoughts that you would be better off dead or of', 'hurting yourself in some way', 'SAFETY ITEM']
 * ```
 */
export function itemChartConfig(
  assessment: ItemChartAssessment,
  definition: InstrumentDefinition,
): ItemChartConfiguration {
  const showText = definition.licence.itemTextIncluded;
  const safetyByItem = new Map<number, SafetyRule>();
  for (const rule of definition.safety ?? []) safetyByItem.set(rule.item, rule);
  const scaleMin = Math.min(
    definition.scale.min,
    ...definition.items.map((i) => i.scale?.min ?? definition.scale.min),
  );
  const scaleMax = Math.max(
    definition.scale.max,
    ...definition.items.map((i) => i.scale?.max ?? definition.scale.max),
  );

  const labels: ItemLabel[] = [];
  const values: (number | null)[] = [];
  const descriptions: string[] = [];
  const backgrounds: string[] = [];
  const borders: string[] = [];
  const borderWidths: number[] = [];
  const annotations: Record<string, AnnotationOptions> = {};

  definition.items.forEach((item, index) => {
    const n = index + 1;
    const value = assessment.responses[index] ?? null;
    const rule = safetyByItem.get(n);
    const text = showText && item.text ? item.text : null;
    const lines = text === null ? [`Item ${n}`] : wrapText(`${n}. ${text}`, 48);
    if (value === null) lines.push('(unanswered)');
    if (rule) lines.push('SAFETY ITEM');
    labels.push(lines.length === 1 ? lines[0]! : lines);
    values.push(value);
    const option = (item.scale ?? definition.scale).options?.find((o) => o.value === value);
    descriptions.push(
      `Item ${n}${text ? `: ${text}` : ''}: ${
        value === null ? 'unanswered' : `${formatScore(value)}${option ? ` (${option.label})` : ''}`
      }${rule ? `; safety item, ${safetyState(rule, value)}` : ''}`,
    );
    Object.assign(
      annotations,
      answerMarkers(n, index, value, option?.label ?? null, rule !== undefined, scaleMin, scaleMax),
    );
    backgrounds.push(rule ? palette.safetyItem : palette.item);
    borders.push(rule ? palette.safety : palette.item);
    borderWidths.push(rule ? 3 : 0);
    if (rule) {
      annotations[`safety-item-${n}`] = {
        type: 'box',
        drawTime: 'beforeDatasetsDraw',
        yMin: index - 0.5,
        yMax: index + 0.5,
        xMin: scaleMin,
        xMax: scaleMax,
        backgroundColor: 'rgba(255, 255, 255, 0)',
        borderColor: palette.safety,
        borderWidth: 2,
        borderDash: [6, 4],
        label: {
          display: true,
          content: `Safety item ${n}: ${safetyState(rule, value)}`,
          position: { x: 'end', y: 'center' },
          color: palette.text,
          font: { size: 11, weight: 'bold' },
          padding: 3,
        },
      };
    }
  });

  const options = definition.scale.options;
  const scaleText = options?.length
    ? options.map((o) => `${o.value} = ${o.label}`).join(' · ')
    : definition.scale.anchors
      ? `${scaleMin} = ${definition.scale.anchors.min} … ${scaleMax} = ${definition.scale.anchors.max}`
      : `Answer (${scaleMin}–${scaleMax})`;
  const severityLabel =
    assessment.severity == null
      ? null
      : (definition.bands?.find((b) => b.id === assessment.severity)?.label ?? assessment.severity);
  const subtitle: string[] = [];
  if (assessment.total != null) {
    subtitle.push(`Total ${formatScore(assessment.total)}${severityLabel ? ` (${severityLabel})` : ''}`);
  }
  if (!showText)
    subtitle.push(`Item text not shipped with kapkit (${definition.licence.holder}): items are numbered`);

  const dataset: ItemDataset = {
    label: `${definition.name} answer`,
    data: values,
    descriptions,
    safetyItems: [...safetyByItem.keys()],
    backgroundColor: backgrounds,
    borderColor: borders,
    borderWidth: borderWidths,
    borderSkipped: false,
    barPercentage: 0.7,
  };

  return {
    type: 'bar',
    data: { labels, datasets: [dataset] },
    options: {
      indexAxis: 'y',
      scales: {
        x: {
          type: 'linear',
          min: scaleMin,
          max: scaleMax,
          ticks: { stepSize: options?.length ? 1 : undefined, color: palette.text },
          title: axisTitle(scaleText),
          grid: { color: palette.grid },
        },
        y: { type: 'category', ticks: { color: palette.text, autoSkip: false }, grid: { display: false } },
      },
      plugins: {
        title: chartTitle(
          `${definition.name} answers${assessment.at ? ` on ${localDate(assessment.at)}` : ''}`,
        ),
        subtitle: { display: subtitle.length > 0, text: subtitle, color: palette.mutedText },
        legend: { display: false },
        tooltip: { callbacks: { label: describedTooltipLabel } },
        annotation: { annotations },
      },
    },
  };
}
