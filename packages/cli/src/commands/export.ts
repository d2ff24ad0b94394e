import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import {
  EXPORT_FORMATS,
  type ExportFormat,
  ExportOptionsError,
  type ExportResult,
  exportEvents,
  type InputProblem,
  MIN_KEY_LENGTH,
  moveIntoFolder,
  OutputFolderError,
  PseudonymKeyError,
  prepareOutputFolder,
  stagingFolderFor,
  TABLE_NAMES,
  type TableName,
  verifyExportFolder,
} from '@kapkit/export';
import cliProgress from 'cli-progress';
import { CliError, type CliIO, inputName, openInput, parseNow, write } from '../io.js';
import { isTty } from '../progress.js';
import { VERSION } from '../version.js';

export interface ExportCommandOptions {
  readonly format?: string;
  readonly out?: string;
  /** Replace an earlier kapkit export in `out` (only the files its manifest lists). */
  readonly force?: boolean;
  /** Verify this export folder against its manifest instead of exporting. */
  readonly verify?: string;
  readonly tables?: string;
  readonly deidentify?: boolean;
  readonly keyEnv?: string;
  readonly includeFreeText?: boolean;
  readonly includeVoided?: boolean;
  readonly allowInvalid?: boolean;
  /** Check event times against this clock (`now` or an ISO time): later events are refused `future-event`. */
  readonly now?: string;
  /** Environment to read the key from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Most problem lines printed on stderr; the manifest counts them all. */
const MAX_PRINTED = 1000;

/** Exit code of a file-system failure (sysexits EX_IOERR). */
const EXIT_IO_ERROR = 74;
/** Exit code after an interrupt (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

function parseFormat(format: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new CliError(`--format: expected one of ${EXPORT_FORMATS.join(', ')}, got "${format}"`);
  }
  return format as ExportFormat;
}

function parseTables(text: string | undefined, format: ExportFormat): TableName[] | undefined {
  if (text === undefined) return undefined;
  if (format === 'fhir')
    throw new CliError('--tables applies to the ndjson, csv and parquet formats, not to fhir');
  const names = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (names.length === 0) throw new CliError(`--tables: expected ${TABLE_NAMES.join(',')} or some of them`);
  for (const n of names) {
    if (!(TABLE_NAMES as readonly string[]).includes(n)) {
      throw new CliError(`--tables: unknown table "${n}" (tables: ${TABLE_NAMES.join(', ')})`);
    }
  }
  return [...new Set(names)] as TableName[];
}

/** What an environment variable name looks like (POSIX). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Why a pseudonymisation key is too weak, or null: at least `MIN_KEY_LENGTH` characters that are not
 * whitespace, and enough variety (at least 10 distinct characters: a hex key from `openssl rand -hex 32` has
 * about 16) that it is not a repeated or typed pattern.
 */
export function keyWeakness(key: string): string | null {
  const visible = key.replace(/\s/g, '');
  if (visible.length < MIN_KEY_LENGTH) {
    return `${visible.length} non-blank characters, at least ${MIN_KEY_LENGTH} are needed`;
  }
  if (new Set(visible).size < 10)
    return `only ${new Set(visible).size} distinct characters, at least 10 are needed`;
  return null;
}

/** The key for `--deidentify`, from the environment variable named by `--key-env`. Never printed. */
function readKey(options: ExportCommandOptions): string | null {
  if (!options.deidentify) {
    if (options.keyEnv !== undefined) throw new CliError('--key-env only applies together with --deidentify');
    return null;
  }
  if (options.includeFreeText) {
    throw new CliError(
      '--include-free-text cannot be combined with --deidentify: free text may identify people',
    );
  }
  if (options.keyEnv === undefined || options.keyEnv.trim() === '') {
    throw new CliError(
      '--deidentify needs --key-env <VAR>, the name of an environment variable holding the secret pseudonymisation key',
    );
  }
  // A name, never the key itself: a value that is not a variable name is refused without being echoed.
  if (!ENV_NAME.test(options.keyEnv)) {
    throw new CliError(
      '--key-env takes the NAME of an environment variable (e.g. KAPKIT_EXPORT_KEY), not the key itself; the value given is not repeated here. Put the key in the environment and pass its name.',
    );
  }
  const key = (options.env ?? process.env)[options.keyEnv];
  if (key === undefined || key === '') {
    throw new CliError(`--key-env: the environment variable ${options.keyEnv} is not set or is empty`);
  }
  const weakness = keyWeakness(key);
  if (weakness !== null) {
    throw new CliError(
      `--key-env: the key in ${options.keyEnv} is too weak: ${weakness} (e.g. use "openssl rand -hex 32")`,
    );
  }
  return key;
}

function summary(result: ExportResult, outDir: string): string {
  const m = result.manifest;
  const files = m.files
    .filter((f) => f.kind !== 'codebook')
    .map((f) => `${f.path} ${f.rows ?? 0} ${f.kind === 'fhir-bundle' ? 'resources' : 'rows'}`)
    .join(', ');
  const excluded = m.input.excluded
    ? `, ${m.input.excluded} line(s) excluded (see stderr and manifest.json)`
    : '';
  return `kapkit export: ${m.input.accepted} events accepted from ${m.input.episodes} episode(s)${excluded}; ${files}${m.deidentified ? '; de-identified' : ''} -> ${outDir}\n`;
}

/**
 * `kapkit export <events.ndjson|-> --format ndjson|csv|parquet|fhir --out <dir> [--deidentify --key-env VAR]
 * [--tables a,b] [--include-free-text] [--include-voided] [--allow-invalid]`. Streams the log into research tables or a FHIR R4
 * Bundle with `manifest.json` and `codebook.md`, written atomically. Excluded lines go to stderr with their line
 * numbers. Returns 0; 1 when lines were excluded (unless `--allow-invalid`); usage errors throw a `CliError`
 * (exit code 2), file-system failures exit 74, an interrupt 130 (no file is left behind in either case).
 */
export async function exportCommand(
  file: string | undefined,
  options: ExportCommandOptions,
  io: CliIO,
): Promise<number> {
  if (options.verify !== undefined) return verifyCommand(options.verify, io);
  if (options.format === undefined)
    throw new CliError("required option '-f, --format <format>' not specified");
  if (options.out === undefined || options.out.trim() === '') {
    throw new CliError("required option '-o, --out <dir>' not specified");
  }
  const format = parseFormat(options.format);
  const out = options.out;
  const tables = parseTables(options.tables, format);
  const key = readKey(options);
  const now = parseNow(options.now);
  // Refused before anything is read: a folder holding other files (an identified export next to a de-identified
  // manifest was possible before).
  try {
    await prepareOutputFolder(out, { force: options.force === true });
  } catch (e) {
    if (e instanceof OutputFolderError) throw new CliError(e.message);
    throw e;
  }
  // Written in a private staging folder beside --out (no temporary file is ever inside it), moved in when done.
  const staging = await stagingFolderFor(out);
  try {
    return await exportInto(file, { ...options, format, out }, tables, key, now, staging, io);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** `kapkit export --verify <dir>`: 0 when every file matches the manifest and nothing else is there, else 1. */
async function verifyCommand(dir: string, io: CliIO): Promise<number> {
  const report = await verifyExportFolder(dir);
  for (const p of report.problems) await write(io.stderr, `problem: ${p}\n`);
  await write(
    io.stdout,
    report.ok
      ? `ok: ${report.checked} file(s) match manifest.json; no other file in ${dir}\n`
      : `failed: ${report.problems.length} problem(s) in ${dir}\n`,
  );
  return report.ok ? 0 : 1;
}

async function exportInto(
  file: string | undefined,
  options: ExportCommandOptions & { readonly format: ExportFormat; readonly out: string },
  tables: ReturnType<typeof parseTables>,
  key: ReturnType<typeof readKey>,
  now: number | undefined,
  staging: string,
  io: CliIO,
): Promise<number> {
  const format = options.format;
  const stdin = file === undefined || file === '-';
  const first: Readable = await openInput(file, io);
  const size = stdin ? null : (await stat(file)).size;
  // A file is read twice (the export's first pass finds each episode's last line); standard input once, then
  // from the export's private spool. `reading` is the stream being read, for the progress bar.
  let reading: Readable = first;
  let opened = false;
  const input = stdin
    ? first
    : () => {
        if (opened) reading = createReadStream(file);
        opened = true;
        return reading;
      };

  const useBar = isTty(io.stderr);
  const bar = useBar
    ? new cliProgress.SingleBar(
        {
          stream: io.stderr as NodeJS.WritableStream,
          format:
            size === null
              ? 'kapkit export | {lines} lines | {rate} lines/s | {rows} rows | {excluded} excluded'
              : 'kapkit export [{bar}] {percentage}% | {lines} lines | {rate} lines/s | {rows} rows | {excluded} excluded | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const started = Date.now();
  bar?.start(size ?? 0, 0, { lines: 0, rate: 0, rows: 0, excluded: 0 });

  // With a bar on screen, problems are printed after it is cleared; otherwise as they are found.
  const held: string[] = [];
  let problems = 0;
  const printed: Promise<void>[] = [];
  const onProblem = (p: InputProblem) => {
    problems++;
    if (problems > MAX_PRINTED) return;
    const text = `line ${p.line}: ${p.code}: ${p.message}\n`;
    if (bar) held.push(text);
    else printed.push(write(io.stderr, text));
  };

  const controller = new AbortController();
  const onSigint = () => controller.abort(new DOMException('interrupted', 'AbortError'));
  process.once('SIGINT', onSigint);
  let result: ExportResult;
  try {
    result = await exportEvents(input, {
      format,
      outDir: staging,
      ...(tables ? { tables } : {}),
      deidentify: key === null ? null : { key },
      includeFreeText: options.includeFreeText === true,
      includeVoided: options.includeVoided === true,
      ...(now === undefined ? {} : { now }),
      kapkitVersion: VERSION,
      signal: controller.signal,
      onProblem,
      onProgress: (p) => {
        const bytes = (reading as { bytesRead?: number }).bytesRead ?? 0;
        const rate = Math.round(p.lines / Math.max((Date.now() - started) / 1000, 1e-3));
        bar?.update(size === null ? 0 : bytes, { lines: p.lines, rate, rows: p.rows, excluded: p.excluded });
      },
    });
  } catch (e) {
    bar?.stop();
    for (const text of held) await write(io.stderr, text);
    if (e instanceof ExportOptionsError || e instanceof PseudonymKeyError) throw new CliError(e.message);
    if ((e as Error).name === 'AbortError') {
      throw new CliError('export interrupted; no file was written', EXIT_INTERRUPTED);
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      throw new CliError(`export failed, no file was written: ${(e as Error).message}`, EXIT_IO_ERROR);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  await moveIntoFolder(
    staging,
    options.out,
    result.files.map((f) => basename(f)),
  );
  if (bar) {
    bar.update(size ?? 0);
    bar.stop();
  }
  await Promise.all(printed);
  for (const text of held) await write(io.stderr, text);
  if (problems > MAX_PRINTED) {
    await write(io.stderr, `… and ${problems - MAX_PRINTED} more excluded line(s); see manifest.json\n`);
  }
  await write(io.stderr, summary(result, options.out));
  if (result.manifest.input.records === 0) {
    await write(io.stderr, `kapkit export: no events in ${inputName(file)}; the export is empty\n`);
    return 1;
  }
  return problems > 0 && !options.allowInvalid ? 1 : 0;
}
