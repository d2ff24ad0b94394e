import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createEpisodeModel, EventLogFold } from '@kapkit/core';
import { type ColumnSelection, TABLE_NAMES, type TableName } from './columns.js';
import type { ExportFormat, ExportManifest } from './manifest.js';
import { createPseudonymizer, type IdMapper, identityIds } from './pseudonym.js';
import { type ExportProgress, foldStage, type InputProblem } from './stages/fold.js';
import { type ExportInput, type ReopenableInput, reopenable, scanInput } from './stages/read.js';
import { EpisodeRowWriter } from './stages/rows.js';
import {
  abortExport,
  commitExport,
  type ExportPlan,
  noExportFiles,
  openExportFiles,
} from './stages/write.js';
import { VERSION } from './version.js';

export type { ExportInput, ExportProgress, InputProblem };

export interface ExportOptions {
  readonly format: ExportFormat;
  /** Output directory (created if needed). Files already there with other names are left alone. */
  readonly outDir: string;
  /** Tables to write (ndjson, csv, parquet); default all three. */
  readonly tables?: readonly TableName[];
  /** De-identify with this key (at least 32 characters; never written anywhere). */
  readonly deidentify?: { readonly key: string } | null;
  /**
   * The clock to check event times against (epoch ms or ISO instant): an event dated or recorded later than it
   * (beyond the policy clock tolerance) is excluded as `future-event`. Default: no clock check.
   */
  readonly now?: number | string;
  /** Export free text (notes, override reasons, adverse-event descriptions). Refused with `deidentify`. */
  readonly includeFreeText?: boolean;
  /**
   * Also export voided events (entered in error): assessments rows with `voided = true`, FHIR resources with
   * status `entered-in-error`. Default: left out, like refused events.
   */
  readonly includeVoided?: boolean;
  /** Version written in the manifest and codebook (default: this package's version). */
  readonly kapkitVersion?: string;
  /** Stops the export: temporary files are removed and the promise rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ExportProgress) => void;
  /** Lines between progress reports (default 4096). */
  readonly progressEvery?: number;
  /** Called for every excluded line, as it is found. */
  readonly onProblem?: (p: InputProblem) => void;
  /** Rows per Parquet row group (default {@link PARQUET_ROW_GROUP_ROWS}). */
  readonly rowGroupSize?: number;
}

export interface ExportResult {
  readonly manifest: ExportManifest;
  /** Paths of the files written, the manifest last. */
  readonly files: readonly string[];
}

/** Options that do not go together, or values that cannot be used. */
export class ExportOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportOptionsError';
  }
}

/**
 * Rows per Parquet row group. All three tables buffer a row group at once, ~50 columns each; measured on a
 * 100,000-assessment export, peak RSS was 187 / 213 / 269 / 340 MiB with 5,000 / 10,000 / 20,000 / 50,000 rows
 * per group, for files within 5% of each other in size (and 279 MiB with 10,000 on 1,000,000 assessments, too
 * close to the 300 MB target). kapkit default.
 */
export const PARQUET_ROW_GROUP_ROWS = 5_000;
const PROGRESS_EVERY = 4096;
const model = createEpisodeModel();

/** Check the options and decide what the export writes (no file is touched). */
function planExport(options: ExportOptions): ExportPlan {
  const format = options.format;
  const deidentified = options.deidentify != null;
  if (deidentified && options.includeFreeText) {
    throw new ExportOptionsError('free text cannot be included in a de-identified export');
  }
  if (format === 'fhir' && options.tables !== undefined) {
    throw new ExportOptionsError('tables apply to the ndjson, csv and parquet formats, not to fhir');
  }
  const selection: ColumnSelection = {
    deidentified,
    includeFreeText: options.includeFreeText === true,
    includeVoided: options.includeVoided === true,
  };
  const wanted = new Set<TableName>(format === 'fhir' ? [] : (options.tables ?? TABLE_NAMES));
  for (const t of wanted) {
    if (!TABLE_NAMES.includes(t)) throw new ExportOptionsError(`unknown table "${t}"`);
  }
  return {
    format,
    outDir: options.outDir,
    deidentified,
    selection,
    wanted,
    version: options.kapkitVersion ?? VERSION,
    rowGroupSize: options.rowGroupSize ?? PARQUET_ROW_GROUP_ROWS,
  };
}

/**
 * Export a log of KAP episode events (NDJSON, one event per line; episodes may be interleaved) as research
 * tables (NDJSON, CSV or Parquet) or a FHIR R4 Bundle, with `manifest.json` and `codebook.md`.
 *
 * The log is read as every kapkit command reads it (`EventLogFold`): each event decided by the episode
 * machine, refused lines excluded and counted by reason, voided events left out (or, with `includeVoided`,
 * marked). Two passes: the first finds each episode's last line (and the ids voids name); the second holds
 * each episode's lines as bytes until its last line has been read, then folds them and writes the episode's
 * rows, in clinical order, after which its state is dropped. One episode state exists at a time: memory grows
 * only with the episodes under way at the same time (beyond 16 MiB of held lines, one 4 KiB chunk and 12 bytes
 * a line each; the rest of their lines wait, encrypted, in a private temporary file, unlinked as soon as it is
 * open), not with the length of the log. Excluded lines are reported in line order. A one-shot stream is first
 * copied, encrypted, to a private temporary file outside the output directory (removed afterwards); pass a
 * function that opens the input to read it twice instead.
 *
 * Atomic: every file is written under a hidden temporary name and renamed only when all of them are
 * complete, the manifest last. On any failure (or `signal` abort) the temporary files are removed and the
 * promise rejects; files of an earlier export in the same directory are left as they were.
 */
export async function exportEvents(input: ExportInput, options: ExportOptions): Promise<ExportResult> {
  const plan = planExport(options);
  const ids: IdMapper = plan.deidentified ? createPseudonymizer(options.deidentify!.key) : identityIds;
  const progressEvery = Math.max(1, Math.floor(options.progressEvery ?? PROGRESS_EVERY));
  await mkdir(plan.outDir, { recursive: true });
  const abortError = () => {
    const reason = options.signal?.reason;
    return reason instanceof Error ? reason : new DOMException('The export was aborted', 'AbortError');
  };
  const checkAbort = () => {
    if (options.signal?.aborted) throw abortError();
  };

  const files = noExportFiles();
  const inputHash = plan.deidentified ? null : createHash('sha256');
  let reader: ReopenableInput | null = null;
  let source: ReturnType<ReopenableInput['open']> | null = null;
  const stop = () => source?.destroy();
  try {
    checkAbort();
    // 1. read: readable twice, scanned once.
    reader = await reopenable(input, inputHash, options.signal);
    checkAbort();
    await openExportFiles(plan, files);
    const scan = await scanInput(reader.open());
    checkAbort();
    // 2. fold and 3. rows: episode by episode, each written once its last line has been read.
    const fold = new EventLogFold(options.now === undefined ? { model } : { model, now: options.now });
    const writer = new EpisodeRowWriter(model, files, ids, plan.selection);
    source = reader.open();
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    const read = await foldStage(source, {
      fold,
      scan,
      writer,
      deidentified: plan.deidentified,
      includeVoided: plan.selection.includeVoided === true,
      progressEvery,
      checkAbort,
      onProgress: options.onProgress,
      onProblem: options.onProblem,
    });
    // 4. files: closed, described, renamed into place, the manifest last.
    const manifest = await commitExport(
      plan,
      files,
      { read, fold, counts: writer.counts, sha256: inputHash ? inputHash.digest('hex') : null },
      checkAbort,
    );
    return { manifest, files: files.committed };
  } catch (error) {
    await abortExport(files);
    if (typeof input !== 'function') input.destroy();
    source?.destroy();
    // Destroying the input on abort can surface as a stream error: report the abort itself.
    throw options.signal?.aborted ? abortError() : error;
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await reader?.remove();
  }
}
