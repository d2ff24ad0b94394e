import type { TooltipItem } from 'chart.js';

/** A chart point that carries its own accessible description (used by tooltips and data tables). */
export interface DescribedPoint {
  readonly x: number;
  readonly y: number;
  /** One sentence for people: what the point is, in words, with its numbers. */
  readonly description: string;
}

/**
 * A score for people: integers as they are, prorated (non-integer) totals to 2 decimals with
 * `Number.prototype.toFixed` (halves away from zero on the decimal string; the exact value stays in the data).
 */
export function formatScore(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, '');
}

/** A number of days for people, to 1 decimal (`toFixed`), without a trailing `.0`. */
export function formatDays(days: number): string {
  return days.toFixed(1).replace(/\.0$/, '');
}

/** The calendar date of an ISO 8601 timestamp in its own UTC offset (`2026-03-02T23:00:00-05:00` → `2026-03-02`). */
export function localDate(iso: string): string {
  return iso.slice(0, 10);
}

/** Date and time of an ISO 8601 timestamp in its own UTC offset, to the minute (`2026-03-02 23:00`). */
export function localDateTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** Minus sign for people (U+2212), not a hyphen. */
export function signed(value: number, digits = 2): string {
  const s = Math.abs(value).toFixed(digits);
  return value < 0 ? `−${s}` : `+${s}`;
}

/**
 * Tooltip label of every kapkit chart: the point's own `description` when it has one, else the dataset's
 * `descriptions[dataIndex]` (bar charts of plain numbers), else chart.js's usual "label: value". A named, shared function, so that building the same chart twice gives equal
 * configurations.
 */
export function describedTooltipLabel(item: TooltipItem<'line'> | TooltipItem<'bar'>): string {
  const raw = item.raw as Partial<DescribedPoint> | null;
  if (raw && typeof raw === 'object' && typeof raw.description === 'string') return raw.description;
  const descriptions = (item.dataset as { descriptions?: readonly string[] }).descriptions;
  const d = descriptions?.[item.dataIndex];
  if (typeof d === 'string') return d;
  return `${item.dataset.label ?? ''}: ${item.formattedValue}`;
}

/** Wrap text into lines of at most `width` characters (words are not split unless longer than a line). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
