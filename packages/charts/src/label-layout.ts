import type { Chart, Plugin } from 'chart.js';
import { palette } from './palette.js';

/**
 * Chart labels that never overlap: a pure layout function ({@link layoutLabels}) and a chart.js plugin
 * ({@link chartLabelsPlugin}) that measures the labels a configuration lists in `options.plugins.kapkitLabels`,
 * lays them out and draws them. A label that finds no free place inside its bounds is left out (its fact stays
 * in the chart's text alternative), never drawn over another.
 */

/** A label to place: its wanted box (CSS pixels) and the band of y it may move within. */
export interface LabelRequest {
  readonly id: string;
  /** Left edge. */
  readonly x: number;
  /** Wanted top edge. */
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** The box must stay within [minY, maxY] (top ≥ minY, bottom ≤ maxY). */
  readonly minY: number;
  readonly maxY: number;
}

/** A placed label: its box, or `hidden` when no free place was found. */
export interface PlacedLabel {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly hidden: boolean;
}

/** Whether two boxes overlap (touching edges do not), with `gap` pixels of clearance. */
export function boxesOverlap(
  a: { readonly x: number; readonly y: number; readonly width: number; readonly height: number },
  b: { readonly x: number; readonly y: number; readonly width: number; readonly height: number },
  gap = 0,
): boolean {
  return (
    a.x < b.x + b.width + gap &&
    b.x < a.x + a.width + gap &&
    a.y < b.y + b.height + gap &&
    b.y < a.y + a.height + gap
  );
}

/**
 * Place labels in order (earlier ones win their wanted place): each goes to the free place nearest its wanted
 * `y` inside its `[minY, maxY]` band, moving only vertically; a label with no free place is `hidden`. Placed
 * boxes never overlap one another (with `gap` pixels between them).
 *
 * @example
 * ```ts
 * layoutLabels([
 *   { id: 'a', x: 0, y: 10, width: 50, height: 12, minY: 0, maxY: 100 },
 *   { id: 'b', x: 20, y: 12, width: 50, height: 12, minY: 0, maxY: 100 },
 * ]);
 * // [{ id: 'a', y: 10, hidden: false, … }, { id: 'b', y: 24, hidden: false, … }]
 * ```
 */
export function layoutLabels(requests: readonly LabelRequest[], gap = 2): PlacedLabel[] {
  const placed: PlacedLabel[] = [];
  const out: PlacedLabel[] = [];
  for (const r of requests) {
    const fits = (y: number) =>
      y >= r.minY - 1e-9 &&
      y + r.height <= r.maxY + 1e-9 &&
      !placed.some((p) => boxesOverlap({ ...r, y }, p, gap));
    // Candidates: the wanted place, the band's ends, and just above or below each placed box.
    const candidates = [r.y, r.minY, r.maxY - r.height];
    for (const p of placed) candidates.push(p.y - r.height - gap, p.y + p.height + gap);
    let best: number | null = null;
    for (const y of candidates) {
      if (!fits(y)) continue;
      if (best === null || Math.abs(y - r.y) < Math.abs(best - r.y)) best = y;
    }
    const label: PlacedLabel =
      best === null
        ? { id: r.id, x: r.x, y: r.y, width: r.width, height: r.height, hidden: true }
        : { id: r.id, x: r.x, y: best, width: r.width, height: r.height, hidden: false };
    if (!label.hidden) placed.push(label);
    out.push(label);
  }
  return out;
}

/** A label a chart configuration asks {@link chartLabelsPlugin} to draw. */
export interface ChartLabel {
  readonly id: string;
  /** Lines of text. */
  readonly text: readonly string[];
  /** Shorter lines for narrow charts (under {@link NARROW_CHART_PX} wide); default `text`. */
  readonly short?: readonly string[];
  /**
   * Where it sits: `band` at the left edge, vertically centred on [y, y2]; `line` at the right edge, just above
   * y (a horizontal threshold line); `marker` at x, from the top of the chart area (a vertical line).
   */
  readonly kind: 'band' | 'line' | 'marker';
  /** x in data units (`marker`). */
  readonly x?: number;
  /** y in data units (`band`, `line`). */
  readonly y?: number;
  readonly y2?: number;
  /** The y scale of its panel (`band`, `line`). */
  readonly yScaleID?: string;
  readonly color?: string;
  readonly background?: string;
}

/** Options of the labels plugin: `options.plugins.kapkitLabels`. */
export interface ChartLabelsOptions {
  readonly labels: readonly ChartLabel[];
}

/** Charts narrower than this (CSS pixels) use each label's `short` text. */
export const NARROW_CHART_PX = 600;

const FONT_SIZE = 11;
const LINE_HEIGHT = 13;
const PAD = 3;

/** Where the plugin put each label on the last draw, by chart (for tests and text alternatives). */
const lastLayout = new WeakMap<Chart, readonly (PlacedLabel & { readonly text: readonly string[] })[]>();

/** The labels as the plugin placed them on the chart's last draw (hidden ones flagged). */
export function placedLabels(chart: Chart): readonly (PlacedLabel & { readonly text: readonly string[] })[] {
  return lastLayout.get(chart) ?? [];
}

function requestsOf(chart: Chart, labels: readonly ChartLabel[]) {
  const area = chart.chartArea;
  const ctx = chart.ctx;
  const narrow = chart.width < NARROW_CHART_PX;
  const out: { request: LabelRequest; label: ChartLabel; text: readonly string[] }[] = [];
  for (const l of labels) {
    const text = narrow && l.short ? l.short : l.text;
    const width = Math.max(...text.map((t) => ctx.measureText(t).width)) + 2 * PAD;
    const height = text.length * LINE_HEIGHT + 2 * PAD - 2;
    if (l.kind === 'marker') {
      const x = chart.scales.x?.getPixelForValue(l.x ?? 0);
      if (x === undefined || x < area.left - 1 || x > area.right + 1) continue;
      const left = Math.min(Math.max(x - width / 2, area.left), area.right - width);
      out.push({
        label: l,
        text,
        request: { id: l.id, x: left, y: area.top + 1, width, height, minY: area.top, maxY: area.bottom },
      });
      continue;
    }
    const scale = l.yScaleID === undefined ? undefined : chart.scales[l.yScaleID];
    if (scale === undefined) continue;
    const top = Math.min(scale.top, scale.bottom);
    const bottom = Math.max(scale.top, scale.bottom);
    if (l.kind === 'band') {
      const y1 = scale.getPixelForValue(l.y ?? 0);
      const y2 = scale.getPixelForValue(l.y2 ?? l.y ?? 0);
      const centre = (y1 + y2) / 2;
      out.push({
        label: l,
        text,
        request: {
          id: l.id,
          x: area.left + 2,
          y: centre - height / 2,
          width,
          height,
          minY: top,
          maxY: bottom,
        },
      });
    } else {
      const y = scale.getPixelForValue(l.y ?? 0);
      out.push({
        label: l,
        text,
        request: {
          id: l.id,
          x: area.right - width - 2,
          y: y - height - 1,
          width,
          height,
          minY: top,
          maxY: bottom,
        },
      });
    }
  }
  // Threshold lines first, then markers, then band names: the most specific facts win their place.
  const rank = { line: 0, marker: 1, band: 2 } as const;
  return out.sort((a, b) => rank[a.label.kind] - rank[b.label.kind]);
}

/**
 * The chart.js plugin that draws `options.plugins.kapkitLabels.labels` without overlaps (see
 * {@link layoutLabels}). The outcome chart lists it in its configuration's `plugins`.
 */
export const chartLabelsPlugin: Plugin = {
  id: 'kapkitLabels',
  afterDraw(chart, _args, options) {
    const labels = (options as unknown as Partial<ChartLabelsOptions>).labels ?? [];
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = `${FONT_SIZE}px ${String(chart.options.font?.family ?? 'sans-serif')}`;
    const items = requestsOf(chart, labels);
    const placed = layoutLabels(items.map((i) => i.request));
    const result: (PlacedLabel & { readonly text: readonly string[] })[] = [];
    placed.forEach((p, i) => {
      const { label, text } = items[i]!;
      result.push({ ...p, text });
      if (p.hidden) return;
      ctx.fillStyle = label.background ?? 'rgba(255, 255, 255, 0.88)';
      ctx.fillRect(p.x, p.y, p.width, p.height);
      ctx.fillStyle = label.color ?? palette.text;
      ctx.textBaseline = 'top';
      ctx.textAlign = 'left';
      text.forEach((t, k) => {
        ctx.fillText(t, p.x + PAD, p.y + PAD + k * LINE_HEIGHT);
      });
    });
    ctx.restore();
    lastLayout.set(chart, result);
    const canvas = chart.canvas as { dataset?: Record<string, string | undefined> } | undefined;
    // In a browser, the layout is on the canvas too, so end-to-end tests can check it.
    if (canvas?.dataset !== undefined) {
      canvas.dataset.labelBoxes = JSON.stringify(
        result.map((r) => ({ id: r.id, x: r.x, y: r.y, width: r.width, height: r.height, hidden: r.hidden })),
      );
    }
  },
};
