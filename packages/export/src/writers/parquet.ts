import { closeSync, openSync, writeSync } from 'node:fs';
import { KapkitError } from '@kapkit/core';
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import { OrderedFileWrites, writeAt } from './file-output.js';
import { columnBuffer } from './parquet-columns.js';

/**
 * Streaming Parquet table writer on top of hyparquet-writer's incremental `ParquetWriter`.
 *
 * Memory stays flat whatever the number of rows: rows are transposed into per-column arrays as they arrive,
 * and every `rowGroupSize` rows the buffered columns are encoded as one row group, written to the file and
 * dropped. What stays in memory for the whole file is only the footer metadata (one small record per row
 * group and column chunk, plus the page offset index), which the Parquet format needs at the end.
 */

/** One column of a Parquet table. Every column is nullable (`OPTIONAL`). */
export interface ParquetColumn {
  readonly name: string;
  /**
   * `STRING` (UTF-8 `BYTE_ARRAY`), `INT32`, `INT64` (a `bigint`, or a safe-integer `number`), `DOUBLE` (a
   * finite number) or `BOOLEAN`.
   */
  readonly type: 'STRING' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN';
}

/** Options of {@link createParquetTableWriter}. */
export interface ParquetTableWriterOptions {
  /** Rows per row group, i.e. the most rows held in memory at once. Default {@link DEFAULT_PARQUET_ROW_GROUP_SIZE}. */
  readonly rowGroupSize?: number;
}

/** A streaming Parquet table writer, from {@link createParquetTableWriter}. */
export interface ParquetTableWriter {
  /**
   * Append one row (by column name; missing, `null` and `undefined` values are written as null, other keys are
   * ignored). Resolves once the row is buffered, or once its row group is on disk when it completed one: await
   * it, so a fast producer cannot run ahead of the disk.
   * @throws {InvalidParquetValueError} (as a rejection) when a value does not fit its column; the row is not written.
   */
  write(row: Readonly<Record<string, unknown>>): Promise<void>;
  /** Write the last row group and the footer, sync and close the file. Calling it again returns the same result. */
  close(): Promise<{ rows: number; bytes: number }>;
  /** Stop, close the file and delete it. Does nothing after a successful `close()`. */
  abort(): Promise<void>;
}

/** Default rows per row group. */
const DEFAULT_PARQUET_ROW_GROUP_SIZE = 50_000;

/** A value did not fit its Parquet column (wrong type, out of range, not finite). */
export class InvalidParquetValueError extends KapkitError {
  /** The column name, or null when the row itself is not an object. */
  readonly column: string | null;
  /** 1-based number of the row among the rows given to `write` (rejected rows count too). */
  readonly row: number;
  readonly expected: string;
  readonly received: string;
  constructor(column: string | null, row: number, expected: string, received: string) {
    super(
      'invalid-parquet-value',
      column === null
        ? `Parquet row ${row}: expected ${expected}, got ${received}.`
        : `Parquet column "${column}", row ${row}: expected ${expected}, got ${received}.`,
    );
    this.name = 'InvalidParquetValueError';
    this.column = column;
    this.row = row;
    this.expected = expected;
    this.received = received;
  }
}

const PARQUET_TYPES = new Set<ParquetColumn['type']>(['STRING', 'INT32', 'INT64', 'DOUBLE', 'BOOLEAN']);
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Encoded bytes buffered before a row group's output is spilled to the file mid-group. */
const SPILL_BYTES = 8 * 1024 * 1024;

function schemaElement(column: ParquetColumn): SchemaElement {
  return column.type === 'STRING'
    ? { name: column.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' }
    : { name: column.name, type: column.type, repetition_type: 'OPTIONAL' };
}

/** A short rendering of an offending value for an error message. */
function describe(value: unknown): string {
  if (typeof value === 'bigint') return `bigint ${value}`;
  if (typeof value === 'number') return `number ${value}`;
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** What a column of each type accepts, for error messages. */
const EXPECTED: Readonly<Record<ParquetColumn['type'], string>> = {
  STRING: 'a string or null',
  BOOLEAN: 'a boolean or null',
  DOUBLE: 'a finite number or null',
  INT32: `an integer from ${INT32_MIN} to ${INT32_MAX}, or null`,
  INT64: 'a bigint in the signed 64-bit range, a safe integer number, or null',
};

/** Returned by {@link coerce} for a value that does not fit its column. */
const MISFIT: unique symbol = Symbol('misfit');

/**
 * The value to store for a cell (`null` stores a null), or {@link MISFIT}. Called for every cell: it allocates
 * nothing but the `bigint` of an INT64 number.
 */
function coerce(type: ParquetColumn['type'], value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? value : MISFIT;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : MISFIT;
    case 'DOUBLE':
      return typeof value === 'number' && Number.isFinite(value) ? value : MISFIT;
    case 'INT32':
      return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX
        ? value
        : MISFIT;
    case 'INT64':
      if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) return value;
      // hyparquet-writer encodes INT64 from bigints; a number beyond 2^53 has already lost precision.
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : MISFIT;
  }
}

function writeAtSync(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/**
 * hyparquet-writer's `Writer` backed by a file descriptor. `ParquetWriter` calls `flush()` after each row group
 * and `finish()` at the end: both hand the buffered bytes to an asynchronous positional write and reset the
 * buffer. The caller awaits them before encoding more, so the buffer is never reused while a write is pending.
 * A row group whose encoded output grows past {@link SPILL_BYTES} is spilled synchronously while it is being
 * encoded (as hyparquet-writer's own `fileWriter` does), so the buffer stays bounded however wide the rows are.
 */
class FileSink extends ByteWriter {
  readonly #fd: number;
  #position = 0;

  constructor(fd: number) {
    super(64 * 1024);
    this.#fd = fd;
  }

  override ensure(size: number): void {
    if (this.index >= SPILL_BYTES && this.index + size > this.buffer.byteLength) {
      writeAtSync(this.#fd, new Uint8Array(this.buffer, 0, this.index), this.#position);
      this.#position += this.index;
      this.index = 0;
    }
    super.ensure(size);
  }

  flush(): Promise<void> {
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    const position = this.#position;
    this.#position += this.index;
    this.index = 0;
    return writeAt(this.#fd, bytes, position);
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

/** Refuse a schema hyparquet-writer could not write: no columns, an empty or duplicate name, an unknown type. */
function checkColumns(columns: readonly ParquetColumn[]): void {
  if (columns.length === 0)
    throw new KapkitError('invalid-parquet-schema', 'A Parquet table needs at least one column.');
  const seen = new Set<string>();
  for (const column of columns) {
    if (typeof column.name !== 'string' || column.name === '') {
      throw new KapkitError('invalid-parquet-schema', 'Parquet column names must be non-empty strings.');
    }
    if (seen.has(column.name)) {
      throw new KapkitError('invalid-parquet-schema', `Duplicate Parquet column name "${column.name}".`);
    }
    seen.add(column.name);
    if (!PARQUET_TYPES.has(column.type)) {
      throw new KapkitError(
        'invalid-parquet-schema',
        `Parquet column "${column.name}" has unsupported type ${JSON.stringify(column.type)}; expected one of ${[...PARQUET_TYPES].join(', ')}.`,
      );
    }
  }
}

/**
 * Stream rows into a Parquet file at `path` (created or truncated now; the caller renames temporary files).
 * Columns are nullable and typed; a value of the wrong type is refused with an {@link InvalidParquetValueError}
 * naming the column and row. At most `rowGroupSize` rows are buffered: each full row group is encoded
 * (dictionary/RLE as hyparquet-writer chooses, Snappy-compressed, with min/max statistics) and written before
 * the next one is buffered. A file with no rows is still a valid Parquet file with the schema and no row group.
 *
 * @example
 * ```ts
 * const out = createParquetTableWriter('scores.parquet.tmp', [
 *   { name: 'patient_ref', type: 'STRING' },
 *   { name: 'total', type: 'DOUBLE' },
 * ]);
 * try {
 *   for (const row of rows) await out.write(row);
 *   await out.close();
 *   await rename('scores.parquet.tmp', 'scores.parquet');
 * } catch (error) {
 *   await out.abort();
 *   throw error;
 * }
 * ```
 * @throws {KapkitError} `invalid-parquet-schema` for no columns, an empty or duplicate column name, an unknown
 *   type or a bad `rowGroupSize`; the file system's error when `path` cannot be opened.
 */
export function createParquetTableWriter(
  path: string,
  columns: readonly ParquetColumn[],
  options: ParquetTableWriterOptions = {},
): ParquetTableWriter {
  const rowGroupSize = options.rowGroupSize ?? DEFAULT_PARQUET_ROW_GROUP_SIZE;
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
    throw new KapkitError(
      'invalid-parquet-schema',
      `rowGroupSize must be a positive integer, got ${rowGroupSize}.`,
    );
  }
  checkColumns(columns);
  const specs = columns.map((c) => ({ name: c.name, type: c.type }));
  const schema: SchemaElement[] = [{ name: 'root', num_children: specs.length }, ...specs.map(schemaElement)];

  const fd = openSync(path, 'w');
  let pq: ParquetWriter;
  let sink: FileSink;
  try {
    sink = new FileSink(fd);
    // The constructor only appends the "PAR1" magic to the in-memory buffer.
    pq = new ParquetWriter({ writer: sink, schema, createdBy: 'kapkit @kapkit/export (hyparquet-writer)' });
  } catch (error) {
    closeSync(fd);
    throw error;
  }

  /** Row groups and the footer are written strictly in order. */
  const file = new OrderedFileWrites(fd, path, 'Parquet', 'rows can be written');
  let result: { rows: number; bytes: number } | undefined;
  /** Rows handed to `write`, accepted or not (for 1-based row numbers in errors). */
  let offered = 0;
  let rows = 0;
  let buffered = 0;
  const buffers = specs.map((spec) => columnBuffer(spec.type, rowGroupSize));

  /** Hand the buffered rows to the queue as one row group, and start buffering afresh. */
  const flushGroup = (): Promise<void> => {
    if (buffered === 0) return file.enqueue(() => undefined);
    const columnData = specs.map((spec, c) => ({ name: spec.name, data: buffers[c]!.take() }));
    const count = buffered;
    buffered = 0;
    return file.enqueue(() => pq.write({ columnData, rowGroupSize: count }));
  };

  const scratch = new Array<unknown>(specs.length);
  return {
    async write(row) {
      file.refuseIfNotOpen();
      const rowNumber = ++offered;
      if (typeof row !== 'object' || row === null || Array.isArray(row)) {
        throw new InvalidParquetValueError(null, rowNumber, 'an object keyed by column name', describe(row));
      }
      // One scratch row, checked whole before any cell is buffered (a refused row leaves nothing behind).
      const values = scratch;
      for (let c = 0; c < specs.length; c++) {
        const spec = specs[c]!;
        const raw = Object.hasOwn(row, spec.name) ? row[spec.name] : undefined;
        const cell = coerce(spec.type, raw);
        if (cell === MISFIT)
          throw new InvalidParquetValueError(spec.name, rowNumber, EXPECTED[spec.type], describe(raw));
        values[c] = cell;
      }
      for (let c = 0; c < specs.length; c++) buffers[c]!.push(values[c]);
      rows++;
      buffered++;
      if (buffered >= rowGroupSize) await flushGroup();
    },

    async close() {
      if (file.state === 'closed' && result) return result;
      file.refuseIfNotOpen();
      file.state = 'closing';
      try {
        await flushGroup();
        await file.enqueue(async () => {
          await pq.finish();
          await file.syncAndClose();
        });
        result = { rows, bytes: sink.offset };
        // An abort() that raced this close wins: it deletes the file.
        if (file.state === 'closing') file.state = 'closed';
        return result;
      } catch (error) {
        if (file.state === 'closing') file.state = 'failed';
        file.failure ??= error;
        throw error;
      }
    },

    async abort() {
      if (file.state !== 'closed') for (const b of buffers) b.take();
      await file.abort();
    },
  };
}
