import { phq9 } from '@kapkit/core/instruments';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { describe, expect, it } from 'vitest';
import {
  chartTextAlternative,
  type ItemDataset,
  itemChartConfig,
  kaplanMeierChartConfig,
  outcomeChartConfig,
  trajectoryChartConfig,
} from '../src/index.js';
import { referenceCharts, referenceStory } from './reference-story.js';

describe('item chart: an item answered 0 is not drawn like an unanswered item', () => {
  const config = itemChartConfig({ responses: [0, 1, null, 2, 0, 0, 1, 0, 0] }, phq9);
  const annotations = config.options!.plugins!.annotation!.annotations as Record<string, AnnotationOptions>;

  it('marks each 0 answer with a point and its value at the axis', () => {
    for (const n of [1, 5, 6, 8, 9]) {
      expect(annotations[`answered-min-${n}`]).toMatchObject({ type: 'point', xValue: 0, yValue: n - 1 });
      expect(annotations[`answered-min-label-${n}`]).toMatchObject({
        type: 'label',
        content: '0 (Not at all)',
      });
      expect(annotations[`unanswered-${n}`]).toBeUndefined();
    }
  });

  it('draws an unanswered item as an empty dashed row labelled "unanswered", with no point', () => {
    const box = annotations['unanswered-3'] as Extract<AnnotationOptions, { type: 'box' }>;
    expect(box).toMatchObject({ type: 'box', yMin: 2 - 0.35, yMax: 2 + 0.35, borderDash: [2, 3] });
    expect(box.label?.content).toBe('unanswered');
    expect(annotations['answered-min-3']).toBeUndefined();
    expect((config.data.datasets[0] as ItemDataset).data[2]).toBeNull();
    // Answered items above 0 have a bar and neither marker.
    expect(annotations['answered-min-2']).toBeUndefined();
    expect(annotations['unanswered-2']).toBeUndefined();
  });
});

describe('chartTextAlternative: every chart in words, from the same data', () => {
  const context = referenceStory().context();

  it('lists every item of the item chart, answered or not', () => {
    const alt = chartTextAlternative(itemChartConfig({ responses: [0, 1, null, 2, 0, 0, 1, 0, 0] }, phq9));
    expect(alt.title).toBe('PHQ-9 answers');
    expect(alt.rows).toHaveLength(9);
    expect(alt.rows[0]!.description).toBe(
      'Item 1: Little interest or pleasure in doing things: 0 (Not at all)',
    );
    expect(alt.rows[2]!.description).toContain(': unanswered');
  });

  it('describes trajectory and Kaplan–Meier charts point by point, each point once', () => {
    const trajectory = trajectoryChartConfig([
      { bin: 0, upperEdge: 14, n: 10, mean: 16, sd: 4, lower: 13.1, upper: 18.9 },
      { bin: 14, upperEdge: null, n: 8, mean: 10, sd: 5, lower: 5.8, upper: 14.2 },
    ]);
    const t = chartTextAlternative(trajectory);
    expect(t.rows).toHaveLength(2); // the CI band's edges repeat the mean's sentence: listed once
    expect(t.rows[0]!.description).toMatch(/^Days 0–14 d: mean score 16/);
    const km = chartTextAlternative(
      kaplanMeierChartConfig(
        [
          { time: 14, nRisk: 3, nEvent: 1, nCensor: 0, survival: 2 / 3, lower: 0.3, upper: 1 },
          { time: 28, nRisk: 2, nEvent: 1, nCensor: 1, survival: 1 / 3, lower: 0.06, upper: 1 },
        ],
        { event: 'response' },
      ),
    );
    expect(km.rows.length).toBeGreaterThanOrEqual(3);
    expect(km.rows[0]!.description).toBe('Day 0: 100% not yet in response');
  });

  it('describes the outcome and vitals charts with the sentences of their tooltips', () => {
    const outcome = chartTextAlternative(outcomeChartConfig({ context }));
    expect(outcome.rows.some((r) => r.description.startsWith('PHQ-9 18 (moderately severe)'))).toBe(true);
    expect(outcome.rows.some((r) => r.description.startsWith('Dose 1: full dose 300 mg'))).toBe(true);
    const vitals = chartTextAlternative(referenceCharts(context).vitals);
    expect(vitals.rows.length).toBeGreaterThan(0);
    expect(vitals.rows[0]!.description).toMatch(/mmHg/);
  });
});
