/**
 * CSV as RFC 4180: UTF-8 without a byte-order mark, a header row, CRLF after every record, fields quoted
 * with `"` when they contain a comma, a quote, CR or LF (quotes doubled inside). Nulls are empty fields; an
 * empty string is written as `""`, so the two stay apart. Booleans are `true`/`false`; numbers as JavaScript
 * prints them (shortest round-trip form, e.g. `0.5`, `12.041666666666666`, `1e-7`).
 *
 * Spreadsheet formula injection: a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return
 * would be executed by Excel, LibreOffice or Google Sheets as a formula (OWASP, "CSV Injection"). Such a cell
 * is written with a leading apostrophe (`'=1+1`), which spreadsheets show as text; the original value is the
 * cell without that first apostrophe. Only text is neutralised: numbers are written as numbers, so a negative
 * number keeps its minus sign and is read as a number, not as a formula.
 */

/** Characters that make a spreadsheet treat a cell as a formula when they come first (OWASP). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** A text cell made safe to open in a spreadsheet: prefixed with `'` when it would start a formula. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One CSV field (without the separator). */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') {
    if (value === '') return '""';
    const safe = neutraliseFormula(value);
    return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return '';
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return csvField(JSON.stringify(value));
}

/** One CSV record, CRLF-terminated, with the fields of `row` in the order of `columns`. */
export function csvRecord(row: Readonly<Record<string, unknown>>, columns: readonly string[]): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) line += ',';
    line += csvField(row[columns[i]!]);
  }
  return `${line}\r\n`;
}

/** The header record. */
export function csvHeader(columns: readonly string[]): string {
  return `${columns.map((c) => csvField(c)).join(',')}\r\n`;
}
