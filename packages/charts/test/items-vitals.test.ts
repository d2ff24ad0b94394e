import { cadss6, gad7, phq9 } from '@kapkit/core/instruments';
import { phq9Answers, Story } from '@kapkit/testing';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { describe, expect, it } from 'vitest';
import { type ItemDataset, itemChartConfig, type VitalsDataset, vitalsChartConfig } from '../src/index.js';
import { COURSE, referenceStory, SESSION } from './reference-story.js';

describe('itemChartConfig', () => {
  const answers = [2, 1, 2, 1, 1, 0, 1, 0, 2];
  const config = itemChartConfig(
    { responses: answers, at: '2026-03-25T10:00:00-05:00', total: 10, severity: 'moderate' },
    phq9,
  );
  const dataset = config.data.datasets[0] as ItemDataset;
  const annotations = config.options!.plugins!.annotation!.annotations as Record<string, AnnotationOptions>;

  it('draws one bar per item with its answer, on the instrument scale', () => {
    expect(dataset.data).toEqual(answers);
    expect(config.data.labels).toHaveLength(9);
    expect(config.options?.indexAxis).toBe('y');
    expect(config.options?.scales?.x).toMatchObject({ min: 0, max: 3 });
    expect((config.options!.scales!.x!.title as { text: string }).text).toContain('3 = Nearly every day');
    expect(config.options?.plugins?.subtitle?.text).toEqual(['Total 10 (Moderate)']);
  });

  it('labels items with their text when the licence ships it, else "Item n"', () => {
    expect(phq9.licence.itemTextIncluded).toBe(true);
    expect(config.data.labels![0]).toBe('1. Little interest or pleasure in doing things');
    expect(dataset.descriptions[1]).toBe('Item 2: Feeling down, depressed, or hopeless: 1 (Several days)');
    expect(cadss6.licence.itemTextIncluded).toBe(false);
    const scoringOnly = itemChartConfig({ responses: [0, 1, 2, 3, 4, 0] }, cadss6);
    expect(scoringOnly.data.labels).toEqual(['Item 1', 'Item 2', 'Item 3', 'Item 4', 'Item 5', 'Item 6']);
    expect(String(scoringOnly.options?.plugins?.subtitle?.text)).toContain('Item text not shipped');
  });

  it('highlights the safety item by label, dashed box and border: not by colour alone', () => {
    const label = config.data.labels![8] as string[];
    expect(label.at(-1)).toBe('SAFETY ITEM');
    expect(dataset.safetyItems).toEqual([9]);
    const box = annotations['safety-item-9'] as Extract<AnnotationOptions, { type: 'box' }>;
    expect(box.type).toBe('box');
    expect(box).toMatchObject({ yMin: 7.5, yMax: 8.5, borderDash: [6, 4] });
    expect(box.label?.content).toBe('Safety item 9: answered 2: SAFETY FLAG, follow up whatever the total');
    const widths = dataset.borderWidth as number[];
    expect(widths[8]).toBeGreaterThan(0);
    expect(widths.slice(0, 8).every((w) => w === 0)).toBe(true);
    expect(dataset.descriptions[8]).toContain('safety item, answered 2: SAFETY FLAG');
    expect(Object.keys(annotations).filter((k) => k.startsWith('safety-'))).toEqual(['safety-item-9']);
  });

  it('says so when the safety item is 0 or unanswered', () => {
    const zero = itemChartConfig({ responses: [1, 1, 1, 1, 1, 1, 1, 1, 0] }, phq9);
    const zeroBox = (zero.options!.plugins!.annotation!.annotations as Record<string, AnnotationOptions>)[
      'safety-item-9'
    ];
    expect((zeroBox as { label: { content: string } }).label.content).toBe(
      'Safety item 9: answered 0: no flag',
    );
    const blank = itemChartConfig({ responses: [1, 1, 1, 1, 1, 1, 1, 1, null] }, phq9);
    expect(blank.data.labels![8]).toContain('(unanswered)');
    expect((blank.data.datasets[0] as ItemDataset).descriptions[8]).toContain('unanswered: ask it again');
    expect(blank.data.datasets[0]!.data[8]).toBeNull();
    // An instrument without safety rules has no highlight.
    const g = itemChartConfig({ responses: [1, 2, 3, 0, 1, 2, 3] }, gad7);
    const gAnnotations = g.options!.plugins!.annotation!.annotations as Record<string, unknown>;
    expect(Object.keys(gAnnotations).filter((k) => k.startsWith('safety-'))).toEqual([]);
  });
});

describe('vitalsChartConfig', () => {
  const context = referenceStory().context();
  const role = (config: ReturnType<typeof vitalsChartConfig>, r: VitalsDataset['kapkitRole']) =>
    (config.data.datasets as VitalsDataset[]).find((d) => d.kapkitRole === r)!;
  const hold = (config: ReturnType<typeof vitalsChartConfig>, id: string) =>
    (
      config.options!.plugins!.annotation!.annotations as Record<
        string,
        Extract<AnnotationOptions, { type: 'line' }>
      >
    )[id]!;

  it('shows pre- and post-dose systolic and diastolic per session', () => {
    const config = vitalsChartConfig(context);
    expect(config.data.labels).toHaveLength(6);
    expect(config.data.labels![0]).toEqual(['Dose 1', '2026-03-16']);
    expect(role(config, 'systolic-pre').data.map((p) => p.y)).toEqual([122, 138, 122, 122, 146, 122]);
    expect(role(config, 'diastolic-pre').data.map((p) => p.y)).toEqual([78, 88, 78, 78, 86, 78]);
    expect(role(config, 'systolic-post').data.map((p) => p.y)).toEqual([128, 128, 128, 128, 128, 128]);
    expect(role(config, 'diastolic-post').data.map((p) => [p.x, p.y])).toEqual(
      [0, 1, 2, 3, 4, 5].map((x) => [x, 80]),
    );
    expect(role(config, 'systolic-pre').pointStyle).not.toBe(role(config, 'systolic-post').pointStyle);
    expect(role(config, 'systolic-pre').data[4]!.description).toContain(
      'dose given with a clinician override',
    );
  });

  it('draws the hold thresholds at 140/90 by default', () => {
    const config = vitalsChartConfig(context);
    expect(hold(config, 'hold-systolic')).toMatchObject({ yMin: 140, yMax: 140 });
    expect(hold(config, 'hold-diastolic')).toMatchObject({ yMin: 90, yMax: 90 });
    expect(hold(config, 'hold-systolic').label?.content).toBe('Hold dosing if pre-dose systolic > 140 mmHg');
    // The override dose (146 systolic) is marked with a triangle: shape, not colour alone.
    const above = role(config, 'above-hold');
    expect(above.pointStyle).toBe('triangle');
    expect(above.data.map((p) => [p.x, p.y])).toEqual([[4, 146]]);
  });

  it("draws the policy's thresholds when the episode changed them, and shows sessions held for vitals", () => {
    const s = new Story().readyToDose({
      ...COURSE,
      policy: { holdSystolicAbove: 150, holdDiastolicAbove: 95 },
    });
    s.phq9(12, phq9Answers(15), 120)
      .dosingSession(14, SESSION)
      .heldSession(20, [162, 99])
      .dosingSession(21, { ...SESSION, vitals: [148, 92] });
    const config = vitalsChartConfig(s.context());
    expect(hold(config, 'hold-systolic')).toMatchObject({ yMin: 150, yMax: 150 });
    expect(hold(config, 'hold-diastolic')).toMatchObject({ yMin: 95, yMax: 95 });
    expect(config.data.labels).toEqual([
      ['Dose 1', '2026-03-16'],
      ['Aborted (vitals-hold)', '2026-03-22'],
      ['Dose 2', '2026-03-23'],
    ]);
    // 148/92 is above 140/90 but not above this episode's 150/95: only the held session is marked.
    expect(role(config, 'above-hold').data.map((p) => [p.x, p.y])).toEqual([
      [1, 162],
      [1, 99],
    ]);
    expect(role(config, 'systolic-post').data.map((p) => p.x)).toEqual([0, 2]);
    expect(config.options?.scales?.y?.max).toBeGreaterThanOrEqual(170);
  });

  it('leaves out readings after asOf', () => {
    const config = vitalsChartConfig(context, { asOf: '2026-04-01T00:00:00-05:00' });
    expect(config.data.labels).toHaveLength(2);
  });
});
