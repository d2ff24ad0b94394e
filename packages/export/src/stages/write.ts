import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventLogFold } from '@kapkit/core';
import { codebookMarkdown } from '../codebook.js';
import { activeColumns, type ColumnSelection, TABLE_NAMES, type TableName } from '../columns.js';
import { tableSchemaIds } from '../json-schema.js';
import { type ExportFormat, type ExportManifest, MANIFEST_VERSION, manifestSchema } from '../manifest.js';
import { PSEUDONYM_HEX_LENGTH } from '../pseudonym.js';
import {
  type FhirSink,
  openFhirSink,
  openTableSink,
  type PendingFile,
  type RowSink,
  TABLE_EXTENSIONS,
  writeSmallFile,
} from '../sinks.js';
import { tables } from '../tables.js';
import type { FoldStageResult } from './fold.js';
import type { EpisodeSinks } from './rows.js';

/*
 * Stage 4 of an export, files: the sinks are opened under temporary names before the fold; afterwards they are
 * closed, the codebook and the manifest written, and everything renamed into place, the manifest last.
 */

/** What is being written, as the export's options decided it. */
export interface ExportPlan {
  readonly format: ExportFormat;
  readonly outDir: string;
  readonly deidentified: boolean;
  readonly selection: ColumnSelection;
  readonly wanted: ReadonlySet<TableName>;
  readonly version: string;
  readonly rowGroupSize: number;
}

/** The files of one export, each under a temporary name until `commitExport`. */
export interface ExportFiles extends EpisodeSinks {
  readonly tables: Partial<Record<TableName, RowSink>>;
  readonly fhir: FhirSink | null;
  /** Every file opened so far (removed by `abortExport`). */
  readonly pending: PendingFile[];
  /** Paths already renamed into place (removed by `abortExport`). */
  readonly committed: string[];
}

/** Open the table or FHIR files of `plan`. Files opened before a failure are in `files.pending`. */
export async function openExportFiles(plan: ExportPlan, files: ExportFiles): Promise<void> {
  for (const name of TABLE_NAMES) {
    if (!plan.wanted.has(name)) continue;
    const sink = await openTableSink(
      plan.outDir,
      name,
      plan.format as 'ndjson' | 'csv' | 'parquet',
      activeColumns(tables[name], plan.selection),
      { rowGroupSize: plan.rowGroupSize },
    );
    files.tables[name] = sink;
    files.pending.push(sink);
  }
  if (plan.format === 'fhir') {
    const fhir = await openFhirSink(plan.outDir, { deidentified: plan.deidentified });
    (files as { fhir: FhirSink | null }).fhir = fhir;
    files.pending.push(fhir);
  }
}

/** An empty set of export files. */
export function noExportFiles(): ExportFiles {
  return { tables: {}, fhir: null, pending: [], committed: [] };
}

const DEIDENTIFICATION = {
  pseudonyms:
    'HMAC-SHA-256(secret key, prefix + id) as lowercase hex, truncated; prefixes patient:, episode:, session:, event:, actor:. The key is not part of the export.',
  pseudonymLength: PSEUDONYM_HEX_LENGTH,
  dates:
    'Calendar dates and times removed; every time is given as days since the episode baseline (EpisodeOpened = day 0).',
  freeText: 'Dropped: notes, clinician override reasons, adverse-event descriptions.',
  other:
    'kapkit events carry no names, contact details, addresses, ages or birth dates, and unknown fields are never read; medication lot numbers are not exported.',
};

/** What the manifest says about the input, besides the fold's counts. */
export interface InputSummary {
  readonly read: FoldStageResult;
  readonly fold: EventLogFold;
  readonly counts: {
    readonly episodes: number;
    readonly openAtEnd: number;
    readonly consentWithdrawn: number;
  };
  readonly sha256: string | null;
}

/**
 * Close every file (still under its temporary name), write the codebook, build the manifest; then commit: an
 * older manifest goes first, so that a directory is never described by a stale one, every file is renamed to
 * its final name, and the new manifest comes last.
 */
export async function commitExport(
  plan: ExportPlan,
  files: ExportFiles,
  input: InputSummary,
  checkAbort: () => void,
): Promise<ExportManifest> {
  const results = new Map<PendingFile, Awaited<ReturnType<PendingFile['close']>>>();
  for (const f of files.pending) results.set(f, await f.close());
  const codebook = await writeSmallFile(
    plan.outDir,
    'codebook.md',
    codebookMarkdown({
      kapkitVersion: plan.version,
      format: plan.format,
      selection: plan.selection,
      tables: TABLE_NAMES.filter((n) => plan.wanted.has(n)).map((n) => ({
        spec: tables[n],
        file: `${n}.${TABLE_EXTENSIONS[plan.format as 'ndjson']}`,
        columns: activeColumns(tables[n], plan.selection),
      })),
      ...(files.fhir ? { fhirFile: files.fhir.name } : {}),
    }),
  );
  files.pending.push(codebook);
  checkAbort();

  const listed: ExportManifest['files'] = [];
  const describe = (f: PendingFile, kind: 'table' | 'fhir-bundle', table: TableName | null) => {
    const r = results.get(f)!;
    listed.push({
      path: f.name,
      kind,
      table,
      schemas: table === null ? null : tableSchemaIds(table),
      rows: r.rows,
      bytes: r.bytes,
      sha256: r.sha256,
    });
  };
  for (const name of TABLE_NAMES) {
    const sink = files.tables[name];
    if (sink) describe(sink, 'table', name);
  }
  if (files.fhir) describe(files.fhir, 'fhir-bundle', null);
  listed.push({
    path: codebook.name,
    kind: 'codebook',
    table: null,
    schemas: null,
    rows: null,
    bytes: codebook.bytes,
    sha256: codebook.sha256,
  });

  const { fold, read, counts } = input;
  const excluded = fold.counts.refused + fold.counts.malformed;
  const manifest: ExportManifest = manifestSchema.parse({
    manifestVersion: MANIFEST_VERSION,
    kapkitVersion: plan.version,
    format: plan.format,
    deidentified: plan.deidentified,
    deidentification: plan.deidentified ? DEIDENTIFICATION : null,
    freeTextIncluded: plan.selection.includeFreeText && !plan.deidentified,
    dayZero: 'The episode’s EpisodeOpened event (its baseline).',
    files: listed,
    input: {
      lines: read.lines,
      records: fold.counts.records,
      accepted: fold.counts.accepted,
      refused: fold.counts.refused,
      malformed: fold.counts.malformed,
      excluded,
      voided: fold.voided,
      voidedIncluded: plan.selection.includeVoided === true,
      problemsByCode: read.byCode,
      problems: read.problems,
      problemsTruncated: excluded > read.problems.length,
      episodes: counts.episodes,
      episodesOpenAtEnd: counts.openAtEnd,
      episodesConsentWithdrawn: counts.consentWithdrawn,
      sha256: input.sha256,
    },
  });

  await rm(join(plan.outDir, 'manifest.json'), { force: true });
  for (const f of files.pending) {
    await f.commit();
    files.committed.push(join(plan.outDir, f.name));
  }
  const manifestFile = await writeSmallFile(
    plan.outDir,
    'manifest.json',
    `${JSON.stringify(manifest, null, 2)}\n`,
  );
  await manifestFile.commit();
  files.committed.push(join(plan.outDir, 'manifest.json'));
  return manifest;
}

/** Remove every temporary file, and whatever this run already renamed into place. Never throws. */
export async function abortExport(files: ExportFiles): Promise<void> {
  for (const f of files.pending) await f.abort().catch(() => {});
  for (const path of files.committed) await rm(path, { force: true }).catch(() => {});
}
