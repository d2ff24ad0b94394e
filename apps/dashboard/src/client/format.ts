/** Formatting for people. Dates are shown in the UTC offset they were recorded in (as kapkit does). */

export function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : '—';
}

export function dayTime(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : '—';
}

/** Scores: integers as they are, prorated totals to 2 decimals. */
export function score(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, '');
}

/** A signed change with a real minus sign. */
export function change(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const s = score(Math.abs(value));
  return value < 0 ? `−${s}` : value > 0 ? `+${s}` : '0';
}

export function percent(rate: number | null | undefined, digits = 0): string {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(digits)}%`;
}

export function words(code: string): string {
  return code.replaceAll('-', ' ');
}

/** `2026-03-02T10:00` from a datetime-local input, with the browser's UTC offset: ISO 8601 for the API. */
export function localInputToIso(value: string): string {
  const d = new Date(value);
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${value.length === 16 ? `${value}:00` : value}${off}`;
}

/** The value for a datetime-local input: now (or `ms`), local wall clock, to the minute. */
export function localInputValue(ms = Date.now()): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
