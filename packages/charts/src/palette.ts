/**
 * Colours of every kapkit chart, with the WCAG 2.x contrast arithmetic used to check them. Colour is never
 * the only carrier of meaning: each series also differs by point style or dash pattern, and bands and
 * markers carry text labels. The test suite checks the contrast ratios documented here.
 */

/** An sRGB colour with alpha, channels 0–255, alpha 0–1. */
export interface Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
}

/**
 * The kapkit chart palette.
 *
 * - `text` on white and on any band tint, even under three overlapping critical-period shades: contrast
 *   ≥ 4.5:1 (WCAG AA for text); `mutedText` (axis titles, subtitles, outside the plot area) on white ≥ 4.5:1.
 * - `series`, `dose`, `safety`, `improved`, `deteriorated`, `hold`, `vitals` against the same backgrounds as
 *   `text`: ≥ 3:1 (WCAG 1.4.11, non-text contrast).
 * - `bands`: light tints from "least severe" to "most severe" (green → red), distinct in lightness too, so a
 *   greyscale print keeps their order.
 *
 * @example
 * ```ts
 * contrastRatio(palette.text, palette.bands[4]); // ≈ 10: dark text on the "severe" tint
 * ```
 */
export const palette = {
  /** Text of labels and titles. */
  text: '#1f2328',
  /** Secondary text (axis titles, notes). */
  mutedText: '#4a5058',
  /** Grid lines. */
  grid: 'rgba(31, 35, 40, 0.12)',
  /** Background of the rendered image. */
  background: '#ffffff',
  /** Severity band tints, least to most severe. */
  bands: ['#e4f3e1', '#eeefcf', '#f9e3bf', '#f7d2bd', '#f2c2c2', '#eab0bc'],
  /** Line colours of the instruments, in the order they are charted. */
  series: ['#17427d', '#7a3b00', '#1f5522', '#6b2c7b', '#333333'],
  /** Dosing-session marker lines. */
  dose: '#3b4452',
  /** Shade of one critical-period window; overlapping windows stack (alpha compositing) and look darker. */
  criticalPeriod: 'rgba(52, 96, 200, 0.13)',
  /** Border of a critical-period window. */
  criticalPeriodBorder: 'rgba(52, 96, 200, 0.45)',
  /** Safety-flag markers (e.g. PHQ-9 item 9 > 0). */
  safety: '#9a0018',
  /** Reliable improvement markers. */
  improved: '#08522a',
  /** Reliable deterioration markers. */
  deteriorated: '#5a2a8a',
  /** Vital-sign lines: systolic, diastolic. */
  vitals: ['#7a3b00', '#17427d'],
  /** Hold-threshold lines. */
  hold: '#9a0018',
  /** Confidence bands of cohort charts. */
  confidenceBand: 'rgba(23, 66, 125, 0.16)',
  /** Item bars; the safety item's bar. */
  item: '#5b7fb5',
  safetyItem: '#f2b8c0',
} as const;

/**
 * Parse `#rgb`, `#rrggbb`, `rgb(r, g, b)` or `rgba(r, g, b, a)`.
 *
 * @example
 * ```ts
 * parseColor('rgba(52, 96, 200, 0.13)'); // { r: 52, g: 96, b: 200, a: 0.13 }
 * ```
 * @throws {TypeError} for any other form.
 */
export function parseColor(color: string): Rgba {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (hex) {
    const h = hex[1]!;
    const full =
      h.length === 3
        ? h
            .split('')
            .map((c) => c + c)
            .join('')
        : h;
    return {
      r: Number.parseInt(full.slice(0, 2), 16),
      g: Number.parseInt(full.slice(2, 4), 16),
      b: Number.parseInt(full.slice(4, 6), 16),
      a: 1,
    };
  }
  const fn = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(
    color.trim(),
  );
  if (fn) {
    return {
      r: Number(fn[1]),
      g: Number(fn[2]),
      b: Number(fn[3]),
      a: fn[4] === undefined ? 1 : Number(fn[4]),
    };
  }
  throw new TypeError(`parseColor: unsupported colour "${color}"`);
}

/** `color` as `rgba(r, g, b, a)` with a new alpha. */
export function withAlpha(color: string, alpha: number): string {
  const c = parseColor(color);
  return `rgba(${c.r}, ${c.g}, ${c.b}, ${alpha})`;
}

/**
 * Source-over compositing of `top` on an opaque `bottom` (what the canvas does when a translucent shape is
 * drawn over another).
 *
 * @example
 * ```ts
 * compositeOver(palette.criticalPeriod, '#ffffff'); // one window over white
 * compositeOver(palette.criticalPeriod, compositeOver(palette.criticalPeriod, '#ffffff')); // two: darker
 * ```
 */
export function compositeOver(top: string | Rgba, bottom: string | Rgba): Rgba {
  const t = typeof top === 'string' ? parseColor(top) : top;
  const b = typeof bottom === 'string' ? parseColor(bottom) : bottom;
  const mix = (x: number, y: number) => x * t.a + y * (1 - t.a);
  return { r: mix(t.r, b.r), g: mix(t.g, b.g), b: mix(t.b, b.b), a: 1 };
}

/** WCAG 2.x relative luminance of an opaque colour. */
export function relativeLuminance(color: string | Rgba): number {
  const c = typeof color === 'string' ? parseColor(color) : color;
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

/**
 * WCAG 2.x contrast ratio of two opaque colours, from 1 to 21.
 *
 * @example
 * ```ts
 * contrastRatio('#000000', '#ffffff'); // 21
 * ```
 */
export function contrastRatio(a: string | Rgba, b: string | Rgba): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * `n` band tints, least to most severe, spread over the palette's band colours (so 4 bands use the first,
 * second, fourth and fifth tints rather than the first four).
 */
export function bandTints(n: number): string[] {
  const all = palette.bands.slice(0, 5);
  if (n <= 1) return n === 1 ? [all[0]!] : [];
  if (n > all.length)
    return Array.from({ length: n }, (_, i) => palette.bands[Math.min(i, palette.bands.length - 1)]!);
  return Array.from({ length: n }, (_, i) => all[Math.round((i * (all.length - 1)) / (n - 1))]!);
}

/** The colour of the i-th charted instrument. */
export function seriesColor(i: number): string {
  return palette.series[i % palette.series.length]!;
}

/** A chart's title as every kapkit chart shows it (16 px bold, in the text colour). */
export function chartTitle(text: string) {
  return { display: true, text, color: palette.text, font: { size: 16, weight: 'bold' as const } };
}

/** An axis title (in the muted text colour). */
export function axisTitle(text: string) {
  return { display: true, text, color: palette.mutedText };
}

/** An x axis of labelled categories (cohort bins, dosing sessions) that shows every label. */
export function categoryAxis(title: string) {
  return {
    type: 'category' as const,
    offset: true,
    ticks: { color: palette.text, autoSkip: false },
    title: axisTitle(title),
    grid: { color: palette.grid },
  };
}
