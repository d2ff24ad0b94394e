import { gad7Answers, phq9Answers, Story } from '@kapkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boxesOverlap,
  type LabelRequest,
  layoutLabels,
  outcomeChart,
  outcomeChartLabels,
} from '../src/index.js';
import { COURSE, referenceStory, SESSION } from './reference-story.js';

const box = (id: string, x: number, y: number, width = 50, height = 12): LabelRequest => ({
  id,
  x,
  y,
  width,
  height,
  minY: 0,
  maxY: 100,
});

describe('layoutLabels: labels that never collide', () => {
  it('keeps a label that overlaps nothing at its wanted place', () => {
    const [a, b] = layoutLabels([box('a', 0, 10), box('b', 100, 10)]);
    expect(a).toMatchObject({ y: 10, hidden: false });
    expect(b).toMatchObject({ y: 10, hidden: false });
  });

  it('moves a colliding label to the nearest free place, the first one keeping its own', () => {
    const [a, b] = layoutLabels([box('a', 0, 10), box('b', 20, 12)], 2);
    expect(a).toMatchObject({ y: 10, hidden: false });
    expect(b).toMatchObject({ y: 24, hidden: false }); // just below a (10 + 12 + 2)
    expect(boxesOverlap(a!, b!, 2)).toBe(false);
  });

  it('hides a label that finds no free place inside its band, rather than drawing it over another', () => {
    const tight = (id: string): LabelRequest => ({ ...box(id, 0, 0), minY: 0, maxY: 20 });
    const [a, b] = layoutLabels([tight('a'), tight('b')]);
    expect(a!.hidden).toBe(false);
    expect(b!.hidden).toBe(true);
  });

  it('never places two boxes that overlap, and keeps every placed box inside its band (property)', () => {
    const request = fc.record({
      x: fc.integer({ min: 0, max: 400 }),
      y: fc.integer({ min: -20, max: 320 }),
      width: fc.integer({ min: 10, max: 250 }),
      height: fc.integer({ min: 8, max: 40 }),
      minY: fc.integer({ min: 0, max: 150 }),
      span: fc.integer({ min: 40, max: 300 }),
    });
    fc.assert(
      fc.property(fc.array(request, { maxLength: 30 }), fc.integer({ min: 0, max: 4 }), (list, gap) => {
        const requests = list.map((r, i) => ({ ...r, id: String(i), maxY: r.minY + r.span }));
        const placed = layoutLabels(requests, gap);
        expect(placed.map((p) => p.id)).toEqual(requests.map((r) => r.id));
        const shown = placed.filter((p) => !p.hidden);
        for (const [i, p] of shown.entries()) {
          const r = requests[Number(p.id)]!;
          expect(p.x).toBe(r.x);
          expect(p.y).toBeGreaterThanOrEqual(r.minY - 1e-9);
          expect(p.y + p.height).toBeLessThanOrEqual(r.maxY + 1e-9);
          for (const q of shown.slice(i + 1)) expect(boxesOverlap(p, q, gap)).toBe(false);
        }
      }),
    );
  });
});

describe('outcome chart labels', () => {
  it('lists each threshold, dose, today and band label once, with a short form for phones', () => {
    const { data } = outcomeChart({ context: referenceStory().context(), asOf: '2026-04-20T09:00:00-04:00' });
    const labels = outcomeChartLabels(data);
    const ids = labels.map((l) => l.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('today');
    expect(ids).toContain('response-gad7');
    expect(ids.filter((i) => i.startsWith('band-gad7-'))).toHaveLength(4);
    for (const l of labels.filter((x) => x.kind !== 'band' && x.id !== 'today')) {
      expect(l.short, l.id).toBeDefined();
      expect(l.short!.join('').length).toBeLessThan(l.text.join('').length);
    }
  });
});

describe('outcome chart: today', () => {
  const s = new Story().readyToDose(COURSE);
  s.phq9(12, phq9Answers(18), 120)
    .gad7(12, gad7Answers(14), 130)
    .dosingSession(14, SESSION)
    .phq9(20, phq9Answers(12));
  const context = s.context();
  const doseAt = context.sessions[0]!.doses[0]!.at;
  const today = new Date(Date.parse(doseAt) + 9 * 86_400_000).toISOString().replace('.000Z', 'Z');

  it('draws a today line at asOf and stops the critical-period shading there', () => {
    const { config, data } = outcomeChart({ context, asOf: today });
    expect(data.today).toEqual({ at: today, x: Date.parse(today) });
    const annotations = config.options!.plugins!.annotation!.annotations as Record<
      string,
      Record<string, unknown>
    >;
    expect(annotations.today).toMatchObject({
      type: 'line',
      xMin: Date.parse(today),
      xMax: Date.parse(today),
    });
    const w = data.windows[0]!;
    expect(w.xMax).toBe(Date.parse(doseAt) + 14 * 86_400_000); // the window itself still runs 14 days
    expect(w.drawnXMax).toBe(Date.parse(today)); // its shading stops at today
    expect(annotations['window-1']).toMatchObject({ xMin: w.xMin, xMax: Date.parse(today) });
    expect(config.data.datasets.some((d) => (d as { kapkitRole?: string }).kapkitRole === 'today')).toBe(
      true,
    );
  });

  it('has no today line without asOf (a finished record charted as of its last event)', () => {
    const { config, data } = outcomeChart({ context });
    expect(data.today).toBeNull();
    expect(
      (config.options!.plugins!.annotation!.annotations as Record<string, unknown>).today,
    ).toBeUndefined();
    expect(data.windows[0]!.drawnXMax).toBe(data.windows[0]!.xMax);
  });
});
