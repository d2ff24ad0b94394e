/*
 * The cells of a row group while it is being filled, one buffer per column. Numbers (DOUBLE and INT32 columns)
 * are kept unboxed in a Float64Array with a null flag per row, outside the JavaScript heap: a row group of the
 * export's three tables holds hundreds of thousands of cells at once, and as boxed numbers in JS arrays they
 * were most of the live heap of a Parquet export (so most of the heap V8 grows on top of it). Other types
 * (strings, booleans, bigints) keep their values as they are.
 */

/** First capacity of a numeric buffer, in rows (it doubles up to the row-group size). */
const FIRST_ROWS = 1024;

/** The buffered cells of one column. `null` is a null cell. */
export interface ColumnBuffer {
  push(value: unknown): void;
  /** The cells as hyparquet-writer takes them (`null` for nulls), and the buffer emptied for the next group. */
  take(): unknown[];
}

class NumberColumn implements ColumnBuffer {
  #values: Float64Array;
  #nulls: Uint8Array;
  #count = 0;

  constructor(private readonly maxRows: number) {
    this.#values = new Float64Array(Math.min(FIRST_ROWS, maxRows));
    this.#nulls = new Uint8Array(this.#values.length);
  }

  push(value: unknown): void {
    if (this.#count === this.#values.length) {
      const rows = Math.max(this.#count + 1, Math.min(this.#count * 2, this.maxRows));
      const values = new Float64Array(rows);
      values.set(this.#values);
      const nulls = new Uint8Array(rows);
      nulls.set(this.#nulls);
      this.#values = values;
      this.#nulls = nulls;
    }
    if (value === null) this.#nulls[this.#count] = 1;
    else {
      this.#nulls[this.#count] = 0;
      this.#values[this.#count] = value as number;
    }
    this.#count++;
  }

  take(): unknown[] {
    const out = new Array<unknown>(this.#count);
    for (let i = 0; i < this.#count; i++) out[i] = this.#nulls[i] === 1 ? null : this.#values[i];
    this.#count = 0;
    return out;
  }
}

class ValueColumn implements ColumnBuffer {
  #values: unknown[] = [];

  push(value: unknown): void {
    this.#values.push(value);
  }

  take(): unknown[] {
    const out = this.#values;
    this.#values = [];
    return out;
  }
}

/** A buffer for a column of `type`, holding at most `maxRows` rows at a time. */
export function columnBuffer(type: string, maxRows: number): ColumnBuffer {
  return type === 'DOUBLE' || type === 'INT32' ? new NumberColumn(maxRows) : new ValueColumn();
}
