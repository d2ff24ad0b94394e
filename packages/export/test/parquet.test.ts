import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DuckDBInstance } from '@duckdb/node-api';
import { KapkitError } from '@kapkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createParquetTableWriter,
  InvalidParquetValueError,
  type ParquetColumn,
} from '../src/writers/parquet.js';

let dir: string;
let duck: DuckDBInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kapkit-parquet-'));
  duck = await DuckDBInstance.create(':memory:');
});

afterAll(() => {
  duck?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

/** Every row of a Parquet file, as DuckDB reads it (BIGINT as bigint, NULL as null). */
async function readBack(file: string, sql = `SELECT * FROM read_parquet('${file}')`) {
  const connection = await duck.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS();
  } finally {
    connection.closeSync();
  }
}

/** A schema from column names and types, in order. */
function columnsOf(types: Record<string, ParquetColumn['type']>): ParquetColumn[] {
  return Object.entries(types).map(([name, type]) => ({ name, type }));
}

const allTypes = columnsOf({
  patient_ref: 'STRING',
  item: 'INT32',
  row_id: 'INT64',
  total: 'DOUBLE',
  flagged: 'BOOLEAN',
});

/** Deterministic rows covering every type, nulls in every column, edge values and non-ASCII text. */
function sampleRow(i: number): Record<string, unknown> {
  const strings = ['', 'pt-001', 'Zoë ✓ 🙂', 'a "quoted", comma', 'line\nbreak'];
  const ints = [0, -1, 2_147_483_647, -2_147_483_648, 27];
  const longs = [0n, -9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n, 2n ** 53n + 1n, 42n];
  const doubles = [0, 10.125, -3.5e-300, 1.7976931348623157e308, 0.1 + 0.2];
  return {
    patient_ref: i % 7 === 3 ? null : strings[i % strings.length],
    item: i % 11 === 5 ? undefined : ints[i % ints.length],
    // INT64 accepts a bigint or a safe-integer number.
    row_id: i % 13 === 4 ? null : i % 2 === 0 ? longs[i % longs.length] : i,
    total: i % 5 === 2 ? null : doubles[i % doubles.length],
    flagged: i % 3 === 1 ? null : i % 2 === 0,
    // Keys that are not columns are ignored.
    ignored: { nested: true },
  };
}

/** The row as DuckDB should read it back. */
function expectedRow(i: number): Record<string, unknown> {
  const row = sampleRow(i);
  return {
    patient_ref: row.patient_ref ?? null,
    item: row.item ?? null,
    row_id: typeof row.row_id === 'number' ? BigInt(row.row_id) : (row.row_id ?? null),
    total: row.total ?? null,
    flagged: row.flagged ?? null,
  };
}

/** Ten columns of every type, for the memory test. */
const wideColumns = columnsOf({
  patient_ref: 'STRING',
  episode_ref: 'STRING',
  instrument: 'STRING',
  item: 'INT32',
  answer: 'INT32',
  row_id: 'INT64',
  day: 'INT64',
  total: 'DOUBLE',
  change: 'DOUBLE',
  flagged: 'BOOLEAN',
});

function wideRow(i: number): Record<string, unknown> {
  return {
    patient_ref: `pt-${(i % 50_000).toString(36).padStart(6, '0')}`,
    episode_ref: `ep-${Math.floor(i / 20).toString(36)}`,
    instrument: i % 2 === 0 ? 'phq9' : 'gad7',
    item: (i % 9) + 1,
    answer: i % 17 === 0 ? null : i % 4,
    row_id: BigInt(i),
    day: i % 200,
    total: (i % 271) / 10,
    change: i % 23 === 0 ? null : Math.sin(i) * 10,
    flagged: i % 101 === 0,
  };
}

/**
 * Write `n` wide rows and measure, after a garbage collection at each checkpoint (a row count), the heap and
 * external memory retained since the start, in MB: what the writer holds, not how lazily V8 collects.
 */
async function writeMeasured(file: string, n: number, rowGroupSize: number, checkpoints: readonly number[]) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const baseline = process.memoryUsage();
  const retainedMb: number[] = [];
  let peakRss = baseline.rss;
  const out = createParquetTableWriter(file, wideColumns, { rowGroupSize });
  for (let i = 0; i < n; i++) {
    await out.write(wideRow(i));
    if (i % 10_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (checkpoints.includes(i + 1)) {
      gc();
      const after = process.memoryUsage();
      retainedMb.push((after.heapUsed + after.external - baseline.heapUsed - baseline.external) / 2 ** 20);
    }
  }
  const result = await out.close();
  const peakRssGrowthMb = (Math.max(peakRss, process.memoryUsage().rss) - baseline.rss) / 2 ** 20;
  return { ...result, retainedMb, peakRssGrowthMb };
}

describe('createParquetTableWriter: round trip', () => {
  it('writes every column type, with nulls, in several row groups that DuckDB reads back exactly', async () => {
    const file = join(dir, 'all-types.parquet');
    const out = createParquetTableWriter(file, allTypes, { rowGroupSize: 7 });
    const n = 100;
    for (let i = 0; i < n; i++) await out.write(sampleRow(i));
    const { rows, bytes } = await out.close();
    expect(rows).toBe(n);
    expect(bytes).toBe(statSync(file).size);

    const back = await readBack(file);
    expect(back).toHaveLength(n);
    for (let i = 0; i < n; i++) expect(back[i], `row ${i}`).toEqual(expectedRow(i));

    // ceil(100 / 7) = 15 row groups, and the declared types.
    const groups = await readBack(
      file,
      `SELECT count(DISTINCT row_group_id)::INTEGER AS groups, sum(row_group_num_rows)::INTEGER AS rows
         FROM (SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${file}'))`,
    );
    expect(groups).toEqual([{ groups: 15, rows: n }]);
    const types = await readBack(
      file,
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`,
    );
    expect(types).toEqual([
      { column_name: 'patient_ref', column_type: 'VARCHAR' },
      { column_name: 'item', column_type: 'INTEGER' },
      { column_name: 'row_id', column_type: 'BIGINT' },
      { column_name: 'total', column_type: 'DOUBLE' },
      { column_name: 'flagged', column_type: 'BOOLEAN' },
    ]);
  });

  it('writes a valid file with the schema and no rows', async () => {
    const file = join(dir, 'empty.parquet');
    const out = createParquetTableWriter(file, allTypes);
    expect(await out.close()).toEqual({ rows: 0, bytes: statSync(file).size });
    expect(await readBack(file)).toEqual([]);
    const count = await readBack(file, `SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`);
    expect(count).toEqual([{ n: 0 }]);
  });

  it('a last, partial row group and an exact multiple both round-trip', async () => {
    for (const n of [10, 12]) {
      const file = join(dir, `groups-${n}.parquet`);
      const out = createParquetTableWriter(file, allTypes, { rowGroupSize: 5 });
      for (let i = 0; i < n; i++) await out.write(sampleRow(i));
      await out.close();
      const back = await readBack(file);
      expect(back).toEqual(Array.from({ length: n }, (_, i) => expectedRow(i)));
    }
  });
});

describe('createParquetTableWriter: refusals', () => {
  it('refuses a value of the wrong type with a typed error naming the column and row, and keeps going', async () => {
    const file = join(dir, 'bad-value.parquet');
    const out = createParquetTableWriter(file, allTypes, { rowGroupSize: 2 });
    await out.write(sampleRow(0));
    await out.write(sampleRow(1));
    const error = await out.write({ ...sampleRow(2), item: 3.5 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidParquetValueError);
    expect(error).toBeInstanceOf(KapkitError);
    const typed = error as InvalidParquetValueError;
    expect(typed.code).toBe('invalid-parquet-value');
    expect(typed.column).toBe('item');
    expect(typed.row).toBe(3);
    expect(typed.message).toContain('"item"');
    expect(typed.message).toContain('row 3');
    expect(typed.message).toContain('3.5');

    const bad: [string, unknown][] = [
      ['patient_ref', 12],
      ['item', 2 ** 31],
      ['item', '4'],
      ['row_id', 2 ** 60],
      ['row_id', 2n ** 63n],
      ['row_id', 1.5],
      ['total', Number.NaN],
      ['total', Number.POSITIVE_INFINITY],
      ['total', '10'],
      ['flagged', 1],
      ['flagged', 'true'],
    ];
    for (const [column, value] of bad) {
      await expect(
        out.write({ ...sampleRow(0), [column]: value }),
        `${column} = ${String(value)}`,
      ).rejects.toMatchObject({
        code: 'invalid-parquet-value',
        column,
      });
    }
    await expect(out.write(null as unknown as Record<string, unknown>)).rejects.toMatchObject({
      code: 'invalid-parquet-value',
      column: null,
    });
    // Refused rows are not written; the writer goes on.
    await out.write(sampleRow(3));
    expect((await out.close()).rows).toBe(3);
    expect(await readBack(file)).toEqual([expectedRow(0), expectedRow(1), expectedRow(3)]);
    await expect(out.write(sampleRow(4))).rejects.toMatchObject({ code: 'writer-closed' });
  });

  it('refuses a bad schema before creating the file', () => {
    const file = join(dir, 'bad-schema.parquet');
    const cases: [readonly ParquetColumn[], number | undefined][] = [
      [[], undefined],
      [
        [
          { name: 'a', type: 'STRING' },
          { name: 'a', type: 'INT32' },
        ],
        undefined,
      ],
      [[{ name: '', type: 'STRING' }], undefined],
      [[{ name: 'a', type: 'FLOAT' as 'DOUBLE' }], undefined],
      [[{ name: 'a', type: 'STRING' }], 0],
    ];
    for (const [columns, rowGroupSize] of cases) {
      expect(() => createParquetTableWriter(file, columns, { rowGroupSize })).toThrow(KapkitError);
    }
    expect(existsSync(file)).toBe(false);
  });
});

describe('createParquetTableWriter: abort()', () => {
  it('abort() closes and removes the partial file', async () => {
    const file = join(dir, 'aborted.parquet');
    const out = createParquetTableWriter(file, allTypes, { rowGroupSize: 3 });
    for (let i = 0; i < 10; i++) await out.write(sampleRow(i));
    expect(statSync(file).size).toBeGreaterThan(0); // three row groups are already on disk
    await out.abort();
    expect(existsSync(file)).toBe(false);
    await expect(out.write(sampleRow(0))).rejects.toMatchObject({ code: 'writer-closed' });
    await expect(out.close()).rejects.toMatchObject({ code: 'writer-closed' });
    await out.abort(); // idempotent
  });

  it('abort() after close() leaves the finished file alone', async () => {
    const file = join(dir, 'kept.parquet');
    const out = createParquetTableWriter(file, allTypes);
    await out.write(sampleRow(0));
    const first = await out.close();
    expect(await out.close()).toEqual(first);
    await out.abort();
    expect(existsSync(file)).toBe(true);
  });
});

describe('createParquetTableWriter: memory', () => {
  // A guard against buffering the whole table, not a timing assertion. Rows go out in row groups of 5,000: the
  // heap the writer keeps (measured after a garbage collection) must not grow between 100,000 and 300,000
  // rows. A writer holding every row would keep 200,000 more rows of 10 columns, tens of MB; streaming keeps
  // one row group. Both sizes are small enough to write in seconds.
  it('keeps memory flat: no heap growth between 100,000 and 300,000 rows of 10 columns', async () => {
    const file = join(dir, 'flat.parquet');
    const n = 300_000;
    const { rows, retainedMb, peakRssGrowthMb } = await writeMeasured(file, n, 5_000, [100_000, n]);
    const growthMb = retainedMb[1]! - retainedMb[0]!;
    console.info(
      `heap retained after 100,000 rows ${retainedMb[0]!.toFixed(1)} MB, after 300,000 rows ${retainedMb[1]!.toFixed(1)} MB, ` +
        `peak RSS growth ${peakRssGrowthMb.toFixed(0)} MB`,
    );
    expect(rows).toBe(n);
    expect(growthMb).toBeLessThan(8);
    expect(Math.max(...retainedMb)).toBeLessThan(50);
    expect(peakRssGrowthMb).toBeLessThan(150);

    const check = await readBack(
      file,
      `SELECT count(*)::INTEGER AS n, count(answer)::INTEGER AS answered, max(row_id) AS last,
              count(DISTINCT patient_ref)::INTEGER AS patients
         FROM read_parquet('${file}')`,
    );
    expect(check).toEqual([{ n, answered: n - Math.ceil(n / 17), last: BigInt(n - 1), patients: 50_000 }]);
  });
});
