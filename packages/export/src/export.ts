import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createEpisodeModel,
  type EpisodeContext,
  EventLogFold,
  type EventOf,
  type LogEpisode,
  type LogProblem,
  ndjsonLines,
  ndjsonTextLines,
  type Refusal,
  refusalCodes,
  researchConsentWithdrawn,
  safeScoreResponse,
} from '@kapkit/core';
import { codebookMarkdown } from './codebook.js';
import { activeColumns, type ColumnSelection, TABLE_NAMES, type TableName } from './columns.js';
import { tableSchemaIds } from './json-schema.js';
import { type ExportFormat, type ExportManifest, MANIFEST_VERSION, manifestSchema } from './manifest.js';
import { createPseudonymizer, type IdMapper, identityIds, PSEUDONYM_HEX_LENGTH } from './pseudonym.js';
import { type AssessmentFacts, assessmentRow, EpisodeTrack, episodeRow, sessionRow } from './rows.js';
import {
  type FhirSink,
  openFhirSink,
  openTableSink,
  type PendingFile,
  type RowSink,
  TABLE_EXTENSIONS,
  writeSmallFile,
} from './sinks.js';
import { tables } from './tables.js';
import { VERSION } from './version.js';

/** A line that was excluded from the export, and why. */
export interface InputProblem {
  /** 1-based line number in the input. */
  readonly line: number;
  /** A refusal code of the episode model (docs/episode.md), `invalid-json`, or `invalid-event`. */
  readonly code: string;
  /**
   * Why, in a sentence. In de-identified exports the sentence never repeats a value of the input (no ids,
   * no dates, no text): it is the generic description of the code, with the names of the fields at fault.
   */
  readonly message: string;
}

/** Progress, reported every few thousand lines. */
export interface ExportProgress {
  readonly lines: number;
  readonly accepted: number;
  readonly excluded: number;
  readonly rows: number;
  readonly openEpisodes: number;
}

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

const MAX_LISTED_PROBLEMS = 1000;
/**
 * Rows per Parquet row group. All three tables buffer a row group at once, ~50 columns each; measured on a
 * 100,000-assessment export, peak RSS was 187 / 213 / 269 / 340 MiB with 5,000 / 10,000 / 20,000 / 50,000 rows
 * per group, for files within 5% of each other in size (and 279 MiB with 10,000 on 1,000,000 assessments, too
 * close to the 300 MB target). kapkit default.
 */
export const PARQUET_ROW_GROUP_ROWS = 5_000;
const PROGRESS_EVERY = 4096;
const model = createEpisodeModel();

/** Where an export reads its events: a stream (read once, spooled to a private temporary file) or a way to open it. */
export type ExportInput = Readable | (() => Readable);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const EPISODE_ID = /"episodeId"\s*:\s*"([^"\\]*)"/;

/** What the first pass learns: the line of each episode's last event, and the ids that voids name. */
interface Scan {
  readonly lastLine: Map<string, number>;
  readonly voidTargets: Set<string>;
}

/**
 * First pass: the last line of each episode, so that an episode's rows are written once nothing more can come
 * for it (adverse events, reviews and voids are accepted after closure), and the ids voided events name (their
 * events are kept for `includeVoided`). Parses only what it must: the episode id by a pattern, JSON otherwise.
 */
async function scanInput(input: Readable): Promise<Scan> {
  const lastLine = new Map<string, number>();
  const voidTargets = new Set<string>();
  for await (const { line, text } of ndjsonTextLines(input)) {
    const m = EPISODE_ID.exec(text);
    let episodeId = m?.[1];
    const isVoid = text.includes('EventVoided');
    if (episodeId === undefined || isVoid) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        continue;
      }
      if (!isRecord(value)) continue;
      if (typeof value.episodeId === 'string') episodeId = value.episodeId;
      if (value.type === 'EventVoided' && typeof value.voidedEventId === 'string')
        voidTargets.add(value.voidedEventId);
    }
    if (episodeId) lastLine.set(episodeId, line);
  }
  return { lastLine, voidTargets };
}

/** Spool a one-shot stream to a private temporary file (outside the output directory), hashing it. */
async function spool(input: Readable, hash: ReturnType<typeof createHash> | null) {
  const dir = await mkdtemp(join(tmpdir(), 'kapkit-export-input-'));
  await chmod(dir, 0o700);
  const path = join(dir, 'input.ndjson');
  const out = createWriteStream(path, { mode: 0o600 });
  if (hash) input.on('data', (chunk: Buffer | string) => hash.update(chunk));
  await pipeline(input, out);
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A problem message that never repeats input values (for de-identified exports). */
function safeRefusalMessage(r: Refusal): string {
  const generic = refusalCodes[r.code] ?? r.code;
  // Only the top-level field: deeper path segments can be keys chosen by the writer of the event.
  const fields = (r.issues ?? []).map((i) => (typeof i.path[0] === 'string' ? i.path[0] : '(event)'));
  const positive = (r.safetyFlags ?? []).filter((f) => f.kind === 'positive').map((f) => f.rule);
  return `${generic}${fields.length ? ` Fields: ${[...new Set(fields)].join(', ')}.` : ''}${positive.length ? ` SAFETY: the refused record carries a positive safety flag (${positive.join(', ')}).` : ''}`;
}

/** A de-identified message for a line that never reached the machine (not JSON, no episode). */
function safeLineMessage(p: LogProblem): string {
  const positive = (p.safetyFlags ?? []).filter((f) => f.kind === 'positive').map((f) => f.rule);
  const what =
    p.code === 'invalid-json'
      ? 'the line is not valid JSON'
      : 'the line is not an event of any episode (a JSON object with a non-empty episodeId)';
  return `${what}${positive.length ? ` SAFETY: the refused record carries a positive safety flag (${positive.join(', ')}).` : ''}`;
}

/** A voided assessment, scored as it was when accepted (it is no longer in the episode's context). */
function voidedAssessment(e: EventOf<'AssessmentRecorded'>): AssessmentFacts {
  const d = model.registry.get(e.instrument);
  const r = safeScoreResponse(d, { responses: e.responses, supplementary: e.supplementary });
  const scored = r.ok ? r.value : null;
  return {
    assessment: {
      eventId: e.id,
      at: e.at,
      recordedAt: e.recordedAt,
      recordedBy: e.recordedBy,
      instrument: d.id,
      responses: e.responses,
      status: scored?.status ?? 'not-scorable',
      total: scored?.total ?? null,
      severity: scored?.severity ?? null,
      context: e.context ?? null,
    },
    flags: (scored?.safetyFlags ?? []).map((f) => ({ kind: f.kind, rule: f.rule })),
    note: e.note ?? null,
    actorId: e.actorId ?? null,
    voided: true,
  };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** The context handed to the FHIR writer: in de-identified exports every identifier is already a pseudonym. */
function contextForFhir(c: EpisodeContext, ids: IdMapper): EpisodeContext {
  if (!ids.deidentified) return c;
  const session = (s: string) => ids.id('session', s);
  const event = (e: string) => ids.id('event', e);
  return {
    ...c,
    episodeId: c.episodeId === null ? null : ids.id('episode', c.episodeId),
    patientId: c.patientId === null ? null : ids.id('patient', c.patientId),
    history: [],
    voidedEventIds: c.voidedEventIds.map(event),
    currentSessionId: c.currentSessionId === null ? null : session(c.currentSessionId),
    sessions: c.sessions.map((s) => ({
      ...s,
      sessionId: session(s.sessionId),
      doses: s.doses.map((d) => ({ ...d, eventId: event(d.eventId) })),
    })),
    assessments: c.assessments.map((a) => ({ ...a, eventId: event(a.eventId) })),
    safetyFlags: c.safetyFlags.map((f) => ({
      ...f,
      assessmentEventId: event(f.assessmentEventId),
      reviewed: f.reviewed && { ...f.reviewed, eventId: event(f.reviewed.eventId) },
    })),
    adverseEvents: c.adverseEvents.map((a) => ({
      ...a,
      eventId: event(a.eventId),
      sessionId: a.sessionId === null ? null : session(a.sessionId),
      reviewed: a.reviewed && { ...a.reviewed, eventId: event(a.reviewed.eventId) },
    })),
  };
}

/**
 * Export a log of KAP episode events (NDJSON, one event per line; episodes may be interleaved) as research
 * tables (NDJSON, CSV or Parquet) or a FHIR R4 Bundle, with `manifest.json` and `codebook.md`.
 *
 * The log is read as every kapkit command reads it (`EventLogFold`): each event decided by the episode
 * machine, refused lines excluded and counted by reason, voided events left out (or, with `includeVoided`,
 * marked). Two passes: the first finds each episode's last line (and the ids voids name); the second folds
 * the events, one state per episode under way, and writes an episode's rows, in clinical order, once its last
 * line has been read, after which its state is dropped. Memory therefore grows with the number of episodes
 * under way at the same time, not with the length of the log. A one-shot stream is first copied to a private
 * temporary file outside the output directory (removed afterwards); pass a function that opens the input to
 * read it twice instead.
 *
 * Atomic: every file is written under a hidden temporary name and renamed only when all of them are
 * complete, the manifest last. On any failure (or `signal` abort) the temporary files are removed and the
 * promise rejects; files of an earlier export in the same directory are left as they were.
 */
export async function exportEvents(input: ExportInput, options: ExportOptions): Promise<ExportResult> {
  const format = options.format;
  const deidentified = options.deidentify != null;
  if (deidentified && options.includeFreeText) {
    throw new ExportOptionsError('free text cannot be included in a de-identified export');
  }
  if (format === 'fhir' && options.tables !== undefined) {
    throw new ExportOptionsError('tables apply to the ndjson, csv and parquet formats, not to fhir');
  }
  const ids: IdMapper = deidentified ? createPseudonymizer(options.deidentify!.key) : identityIds;
  const selection: ColumnSelection = {
    deidentified,
    includeFreeText: options.includeFreeText === true,
    includeVoided: options.includeVoided === true,
  };
  const wanted = new Set<TableName>(format === 'fhir' ? [] : (options.tables ?? TABLE_NAMES));
  for (const t of wanted) {
    if (!TABLE_NAMES.includes(t)) throw new ExportOptionsError(`unknown table "${t}"`);
  }
  const version = options.kapkitVersion ?? VERSION;
  const progressEvery = Math.max(1, Math.floor(options.progressEvery ?? PROGRESS_EVERY));
  const outDir = options.outDir;
  await mkdir(outDir, { recursive: true });

  const pending: PendingFile[] = [];
  const sinks: Partial<Record<TableName, RowSink>> = {};
  let fhir: FhirSink | null = null;
  const committed: string[] = [];
  const inputHash = deidentified ? null : createHash('sha256');

  const counts = { episodes: 0, openAtEnd: 0, consentWithdrawn: 0 };
  let lastLineNo = 0;
  const listed: { line: number; code: string }[] = [];
  let rows = 0;
  const fold = new EventLogFold(options.now === undefined ? { model } : { model, now: options.now });

  const problem = (p: LogProblem) => {
    if (listed.length < MAX_LISTED_PROBLEMS) listed.push({ line: p.line, code: p.code });
    // The JSON parser's message quotes the line, so it is never repeated (it may hold anything).
    const message =
      deidentified && p.refusal
        ? safeRefusalMessage(p.refusal)
        : deidentified || p.code === 'invalid-json'
          ? safeLineMessage(p)
          : p.message;
    options.onProblem?.({ line: p.line, code: p.code, message: oneLine(message) });
  };

  const abortError = () => {
    const reason = options.signal?.reason;
    return reason instanceof Error ? reason : new DOMException('The export was aborted', 'AbortError');
  };
  const checkAbort = () => {
    if (options.signal?.aborted) throw abortError();
  };

  let stop: (() => void) | null = null;
  let spooled: Awaited<ReturnType<typeof spool>> | null = null;
  let current: Readable | null = null;
  try {
    checkAbort();
    let open: () => Readable;
    if (typeof input === 'function') {
      open = input;
    } else {
      current = input;
      stop = () => input.destroy();
      options.signal?.addEventListener('abort', stop, { once: true });
      spooled = await spool(input, inputHash);
      options.signal?.removeEventListener('abort', stop);
      const path = spooled.path;
      open = () => createReadStream(path);
    }
    checkAbort();

    for (const name of TABLE_NAMES) {
      if (!wanted.has(name)) continue;
      const sink = await openTableSink(
        outDir,
        name,
        format as 'ndjson' | 'csv' | 'parquet',
        activeColumns(tables[name], selection),
        { rowGroupSize: options.rowGroupSize ?? PARQUET_ROW_GROUP_ROWS },
      );
      sinks[name] = sink;
      pending.push(sink);
    }
    if (format === 'fhir') {
      fhir = await openFhirSink(outDir, { deidentified });
      pending.push(fhir);
    }

    const writeRow = async (table: TableName, row: Parameters<RowSink['write']>[0]) => {
      const sink = sinks[table];
      if (!sink) return;
      rows++;
      await sink.write(row);
    };

    /** Accepted events that a void names (kept for `includeVoided`), by episode. */
    const voidable = new Map<string, EventOf<'AssessmentRecorded'>[]>();

    /** Write an episode whose last line has been read: sessions, assessments, the episode row, FHIR. */
    const finish = async (e: LogEpisode) => {
      const c = e.state.context;
      if (c.openedAt === null) return;
      // A patient who withdrew consent to research use is left out of research (de-identified) exports.
      if (deidentified && researchConsentWithdrawn(c)) {
        counts.consentWithdrawn++;
        voidable.delete(e.episodeId);
        return;
      }
      counts.episodes++;
      if (c.closed === null) counts.openAtEnd++;
      const track = new EpisodeTrack(c, ids, selection.includeFreeText);
      const voidedEvents = selection.includeVoided
        ? (voidable.get(e.episodeId) ?? []).filter((x) => c.voidedEventIds.includes(x.id))
        : [];
      const voided = voidedEvents.map((x) => voidedAssessment(x));
      if (sinks.dosing_sessions) {
        for (let i = 0; i < c.sessions.length; i++) {
          await writeRow('dosing_sessions', sessionRow(c, c.sessions[i]!, i + 1, track, ids));
        }
      }
      if (sinks.assessments) {
        for (const a of c.assessments) {
          const facts = {
            assessment: a,
            flags: c.safetyFlags.filter((f) => f.assessmentEventId === a.eventId),
            note: track.assessmentEvents.get(a.eventId)?.note ?? null,
            actorId: track.assessmentEvents.get(a.eventId)?.actorId ?? null,
            voided: false,
          };
          await writeRow('assessments', assessmentRow(facts, track, ids));
        }
        for (const v of voided) await writeRow('assessments', assessmentRow(v, track, ids));
      }
      await writeRow('episodes', episodeRow(c, model.phaseOf(e.state), track));
      if (fhir) {
        await fhir.addEpisode({
          patientRef: track.patientRef,
          episodeRef: track.episodeRef,
          context: contextForFhir(c, ids),
          dayOf: (iso: string) => track.dayOf(iso),
          ...(voided.length
            ? {
                enteredInError: voided.map((v) => ({
                  ...v.assessment,
                  eventId: ids.id('event', v.assessment.eventId),
                })),
              }
            : {}),
        });
      }
      voidable.delete(e.episodeId);
    };

    const scan = await scanInput(open());
    checkAbort();
    current = open();
    const source = current;
    stop = () => source.destroy();
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    for await (const l of ndjsonLines(source)) {
      lastLineNo = l.line;
      if (l.line % progressEvery === 0 || fold.counts.records % progressEvery === 0) {
        checkAbort();
        options.onProgress?.({
          lines: l.line,
          accepted: fold.counts.accepted,
          excluded: fold.counts.refused + fold.counts.malformed,
          rows,
          openEpisodes: fold.episodes.size,
        });
      }
      const r = fold.add(l);
      if (!r.ok) problem(r.problem);
      else if (
        selection.includeVoided &&
        r.event.type === 'AssessmentRecorded' &&
        scan.voidTargets.has(r.event.id)
      ) {
        const list = voidable.get(r.episode.episodeId) ?? [];
        list.push(r.event);
        voidable.set(r.episode.episodeId, list);
      }
      const episodeId = r.ok ? r.episode.episodeId : r.problem.episodeId;
      if (episodeId !== null && scan.lastLine.get(episodeId) === l.line) {
        const episode = fold.episodes.get(episodeId);
        if (episode) {
          await finish(episode);
          fold.release(episodeId);
        }
      }
    }
    checkAbort();
    // Episodes whose last line the first pass did not see (it cannot happen with a file read twice).
    for (const episode of [...fold.episodes.values()]) {
      await finish(episode);
      fold.release(episode.episodeId);
    }

    // Close every file (still under its temporary name), then write the codebook.
    const results = new Map<PendingFile, Awaited<ReturnType<PendingFile['close']>>>();
    for (const f of pending) results.set(f, await f.close());
    const codebook = await writeSmallFile(
      outDir,
      'codebook.md',
      codebookMarkdown({
        kapkitVersion: version,
        format,
        selection,
        tables: TABLE_NAMES.filter((n) => wanted.has(n)).map((n) => ({
          spec: tables[n],
          file: `${n}.${TABLE_EXTENSIONS[format as 'ndjson']}`,
          columns: activeColumns(tables[n], selection),
        })),
        ...(fhir ? { fhirFile: fhir.name } : {}),
      }),
    );
    pending.push(codebook);
    checkAbort();

    const files: ExportManifest['files'] = [];
    for (const name of TABLE_NAMES) {
      const sink = sinks[name];
      if (!sink) continue;
      const r = results.get(sink)!;
      files.push({
        path: sink.name,
        kind: 'table',
        table: name,
        schemas: tableSchemaIds(name),
        rows: r.rows,
        bytes: r.bytes,
        sha256: r.sha256,
      });
    }
    if (fhir) {
      const r = results.get(fhir)!;
      files.push({
        path: fhir.name,
        kind: 'fhir-bundle',
        table: null,
        schemas: null,
        rows: r.rows,
        bytes: r.bytes,
        sha256: r.sha256,
      });
    }
    files.push({
      path: codebook.name,
      kind: 'codebook',
      table: null,
      schemas: null,
      rows: null,
      bytes: codebook.bytes,
      sha256: codebook.sha256,
    });

    const manifest: ExportManifest = manifestSchema.parse({
      manifestVersion: MANIFEST_VERSION,
      kapkitVersion: version,
      format,
      deidentified,
      deidentification: deidentified
        ? {
            pseudonyms:
              'HMAC-SHA-256(secret key, prefix + id) as lowercase hex, truncated; prefixes patient:, episode:, session:, event:, actor:. The key is not part of the export.',
            pseudonymLength: PSEUDONYM_HEX_LENGTH,
            dates:
              'Calendar dates and times removed; every time is given as days since the episode baseline (EpisodeOpened = day 0).',
            freeText: 'Dropped: notes, clinician override reasons, adverse-event descriptions.',
            other:
              'kapkit events carry no names, contact details, addresses, ages or birth dates, and unknown fields are never read; medication lot numbers are not exported.',
          }
        : null,
      freeTextIncluded: selection.includeFreeText && !deidentified,
      dayZero: 'The episode’s EpisodeOpened event (its baseline).',
      files,
      input: {
        lines: lastLineNo,
        records: fold.counts.records,
        accepted: fold.counts.accepted,
        refused: fold.counts.refused,
        malformed: fold.counts.malformed,
        excluded: fold.counts.refused + fold.counts.malformed,
        voided: fold.voided,
        voidedIncluded: selection.includeVoided === true,
        problemsByCode: fold.byCode,
        problems: listed,
        problemsTruncated: fold.counts.refused + fold.counts.malformed > listed.length,
        episodes: counts.episodes,
        episodesOpenAtEnd: counts.openAtEnd,
        episodesConsentWithdrawn: counts.consentWithdrawn,
        sha256: inputHash ? inputHash.digest('hex') : null,
      },
    });

    // Commit: an older manifest goes first, so that a directory is never described by a stale one; then
    // every file is renamed to its final name; the new manifest comes last.
    await rm(join(outDir, 'manifest.json'), { force: true });
    for (const f of pending) {
      await f.commit();
      committed.push(join(outDir, f.name));
    }
    const manifestFile = await writeSmallFile(
      outDir,
      'manifest.json',
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    await manifestFile.commit();
    committed.push(join(outDir, 'manifest.json'));
    return { manifest, files: committed };
  } catch (error) {
    for (const f of pending) await f.abort().catch(() => {});
    // A failure while renaming: remove what this run already put in place, so no partial export remains.
    for (const path of committed) await rm(path, { force: true }).catch(() => {});
    current?.destroy();
    // Destroying the input on abort can surface as a stream error: report the abort itself.
    throw options.signal?.aborted ? abortError() : error;
  } finally {
    if (stop) options.signal?.removeEventListener('abort', stop);
    await spooled?.remove();
  }
}
