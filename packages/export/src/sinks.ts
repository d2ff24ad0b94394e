import { join } from 'node:path';
import type { ColumnSpec } from './columns.js';
import { parquetType } from './columns.js';
import { csvHeader, csvRecord } from './csv.js';
import { AtomicFile, AtomicTextFile, type FileDigest } from './files.js';
import type { Row } from './rows.js';
import type { FhirEpisodeInput } from './writers/fhir.js';

/** A file being written under a temporary name: closed, then committed (renamed) or aborted (removed). */
export interface PendingFile {
  /** File name inside the output directory. */
  readonly name: string;
  close(): Promise<FileDigest & { readonly rows: number }>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A table file that takes rows. */
export interface RowSink extends PendingFile {
  write(row: Row): Promise<void>;
}

/** Table file formats. */
export type TableFormat = 'ndjson' | 'csv' | 'parquet';

/** File extension of each table format. */
export const TABLE_EXTENSIONS: Readonly<Record<TableFormat, string>> = {
  ndjson: 'ndjson',
  csv: 'csv',
  parquet: 'parquet',
};

class TextRowSink implements RowSink {
  readonly #file: AtomicTextFile;
  readonly #names: readonly string[];
  readonly #format: 'ndjson' | 'csv';
  #rows = 0;

  constructor(
    dir: string,
    readonly name: string,
    format: 'ndjson' | 'csv',
    columns: readonly ColumnSpec[],
  ) {
    this.#file = new AtomicTextFile(join(dir, name));
    this.#names = columns.map((c) => c.name);
    this.#format = format;
  }

  async start(): Promise<this> {
    if (this.#format === 'csv') await this.#file.write(csvHeader(this.#names));
    return this;
  }

  async write(row: Row): Promise<void> {
    this.#rows++;
    if (this.#format === 'csv') {
      await this.#file.write(csvRecord(row, this.#names));
      return;
    }
    // Only the columns of this export, in column order (the row may hold columns this export leaves out).
    const out: Row = {};
    for (const n of this.#names) out[n] = row[n] ?? null;
    await this.#file.write(`${JSON.stringify(out)}\n`);
  }

  async close() {
    return { ...(await this.#file.close()), rows: this.#rows };
  }

  commit() {
    return this.#file.commit();
  }

  abort() {
    return this.#file.abort();
  }
}

class ParquetRowSink implements RowSink {
  readonly #file: AtomicFile;
  readonly #writer: Awaited<ReturnType<typeof openParquet>>;
  #rows = 0;

  constructor(
    readonly name: string,
    file: AtomicFile,
    writer: Awaited<ReturnType<typeof openParquet>>,
  ) {
    this.#file = file;
    this.#writer = writer;
  }

  async write(row: Row): Promise<void> {
    this.#rows++;
    // The writer reads its columns by name and ignores the others (e.g. date-times of a de-identified export).
    await this.#writer.write(row);
  }

  async close() {
    await this.#writer.close();
    return { ...(await this.#file.close()), rows: this.#rows };
  }

  commit() {
    return this.#file.commit();
  }

  async abort() {
    await this.#writer.abort().catch(() => {});
    await this.#file.abort();
  }
}

async function openParquet(path: string, columns: readonly ColumnSpec[], rowGroupSize?: number) {
  // Loaded on demand: only Parquet exports pay for the Parquet encoder.
  const { createParquetTableWriter } = await import('./writers/parquet.js');
  return createParquetTableWriter(
    path,
    columns.map((c) => ({ name: c.name, type: parquetType(c) })),
    rowGroupSize === undefined ? {} : { rowGroupSize },
  );
}

/** Open a table file of `format` in `dir`, under a temporary name. */
export async function openTableSink(
  dir: string,
  table: string,
  format: TableFormat,
  columns: readonly ColumnSpec[],
  options: { rowGroupSize?: number } = {},
): Promise<RowSink> {
  const name = `${table}.${TABLE_EXTENSIONS[format]}`;
  if (format === 'parquet') {
    const file = new AtomicFile(join(dir, name));
    const writer = await openParquet(file.tempPath, columns, options.rowGroupSize);
    return new ParquetRowSink(name, file, writer);
  }
  return new TextRowSink(dir, name, format, columns).start();
}

/** A FHIR R4 Bundle file that takes one episode at a time. */
export interface FhirSink extends PendingFile {
  addEpisode(input: FhirEpisodeInput): Promise<void>;
}

/** File name of the FHIR export. */
export const FHIR_BUNDLE_FILE = 'fhir-bundle.json';

/** Open the FHIR Bundle file in `dir`, under a temporary name. */
export async function openFhirSink(dir: string, options: { deidentified: boolean }): Promise<FhirSink> {
  const { createFhirBundleWriter } = await import('./writers/fhir.js');
  const file = new AtomicFile(join(dir, FHIR_BUNDLE_FILE));
  const writer = createFhirBundleWriter(file.tempPath, { deidentified: options.deidentified });
  let episodes = 0;
  return {
    name: FHIR_BUNDLE_FILE,
    async addEpisode(input) {
      episodes++;
      await writer.addEpisode(input);
    },
    async close() {
      const { resources } = await writer.close();
      return { ...(await file.close()), rows: resources ?? episodes };
    },
    commit: () => file.commit(),
    async abort() {
      await writer.abort().catch(() => {});
      await file.abort();
    },
  };
}

/** A finished text file written whole (codebook, manifest), under a temporary name until committed. */
export async function writeSmallFile(
  dir: string,
  name: string,
  text: string,
): Promise<PendingFile & FileDigest> {
  const file = new AtomicTextFile(join(dir, name));
  try {
    await file.write(text);
    const digest = await file.close();
    return {
      name,
      ...digest,
      close: async () => ({ ...digest, rows: 0 }),
      commit: () => file.commit(),
      abort: () => file.abort(),
    };
  } catch (e) {
    await file.abort();
    throw e;
  }
}
