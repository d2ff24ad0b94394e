import * as z from 'zod';

/**
 * One column of a research table. Everything a reader needs is declared here once, and everything else is
 * derived from it: the zod row schema (and so the JSON Schemas), the CSV header, the Parquet column types and
 * the codebook.
 */
export interface ColumnSpec {
  readonly name: string;
  /** `integer` and `number` are JSON numbers; Parquet stores them as INT32 and DOUBLE. */
  readonly type: 'string' | 'integer' | 'number' | 'boolean';
  /** May be null (an empty cell in CSV). */
  readonly nullable: boolean;
  /** What the value means, in a sentence or two. */
  readonly description: string;
  readonly unit?: string;
  /** Allowed values of a string column. */
  readonly values?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  /** An ISO 8601 date-time with a UTC offset (only in exports that are not de-identified). */
  readonly dateTime?: boolean;
  /** Where the value comes from: the event field, or the derivation. */
  readonly source: string;
  /**
   * When the column is exported: `always`; `identified`: only without `--deidentify` (calendar dates and
   * times); `free-text`: only with `--include-free-text` (never with `--deidentify`); `voided`: only with
   * `--include-voided`.
   */
  readonly presence: 'always' | 'identified' | 'free-text' | 'voided';
  /** An identifier that `--deidentify` replaces by a keyed pseudonym of `<prefix>:<id>`; the prefix. */
  readonly pseudonymised?: 'patient' | 'episode' | 'session' | 'event' | 'actor';
}

/** A research table: its name, what one row is, and its columns in order. */
export interface TableSpec {
  readonly name: TableName;
  readonly title: string;
  /** What one row is and when it is written. */
  readonly description: string;
  readonly columns: readonly ColumnSpec[];
}

/** The research tables, in the order they are written. */
export const TABLE_NAMES = ['assessments', 'dosing_sessions', 'episodes'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** What a column's presence allows in one export. */
export interface ColumnSelection {
  readonly deidentified: boolean;
  readonly includeFreeText: boolean;
  /** Voided events are exported too, marked as such. */
  readonly includeVoided?: boolean;
}

/** The columns of a table present in an export with these settings, in order. */
export function activeColumns(table: TableSpec, selection: ColumnSelection): ColumnSpec[] {
  return table.columns.filter(
    (c) =>
      c.presence === 'always' ||
      (c.presence === 'identified' && !selection.deidentified) ||
      (c.presence === 'free-text' && selection.includeFreeText && !selection.deidentified) ||
      (c.presence === 'voided' && selection.includeVoided === true),
  );
}

/** The range of a numeric column as text, e.g. `0 to 27`, `≥ 0`. */
export function rangeText(c: ColumnSpec): string | null {
  if (c.minimum !== undefined && c.maximum !== undefined)
    return `${String(c.minimum)} to ${String(c.maximum)}`;
  if (c.minimum !== undefined) return `≥ ${String(c.minimum)}`;
  if (c.maximum !== undefined) return `≤ ${String(c.maximum)}`;
  return null;
}

/** The JSON Schema description of a column: meaning, unit, range, source, de-identification. */
function columnDescription(c: ColumnSpec): string {
  const parts = [c.description.trim()];
  if (c.unit) parts.push(`Unit: ${c.unit}.`);
  const range = rangeText(c);
  if (range) parts.push(`Range: ${range}.`);
  parts.push(`Source: ${c.source.trim()}${/[.)]$/.test(c.source.trim()) ? '' : '.'}`);
  if (c.pseudonymised)
    parts.push(
      `With --deidentify: HMAC-SHA-256(key, "${c.pseudonymised}:" + id) as lowercase hex, first 32 characters.`,
    );
  if (c.presence === 'identified') parts.push('Absent from de-identified exports.');
  if (c.presence === 'free-text')
    parts.push('Free text: present only with --include-free-text, never in de-identified exports.');
  return parts.join(' ');
}

function columnType(c: ColumnSpec): z.ZodType {
  let t: z.ZodType;
  switch (c.type) {
    case 'string':
      if (c.values) t = z.enum(c.values as [string, ...string[]]);
      else if (c.dateTime) t = z.iso.datetime({ offset: true });
      else t = z.string();
      break;
    case 'integer':
    case 'number': {
      let n = c.type === 'integer' ? z.int() : z.number();
      if (c.minimum !== undefined) n = n.min(c.minimum);
      if (c.maximum !== undefined) n = n.max(c.maximum);
      t = n;
      break;
    }
    case 'boolean':
      t = z.boolean();
      break;
  }
  if (c.nullable) t = t.nullable();
  if (c.presence !== 'always') t = t.optional();
  return t.meta({ description: columnDescription(c) });
}

/**
 * The zod schema of one row of a table: a strict object (no other property is allowed, so a column that
 * should not be there fails validation). Columns that depend on the export settings are optional.
 */
export function rowSchema(table: TableSpec): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const c of table.columns) shape[c.name] = columnType(c);
  return z.strictObject(shape).meta({ title: table.title, description: table.description });
}

/** Parquet physical types of the columns (all nullable), for the Parquet writer. */
export function parquetType(c: ColumnSpec): 'STRING' | 'INT32' | 'DOUBLE' | 'BOOLEAN' {
  switch (c.type) {
    case 'string':
      return 'STRING';
    case 'integer':
      return 'INT32';
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
  }
}
