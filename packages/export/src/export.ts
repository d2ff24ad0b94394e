import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import {
  createEpisodeModel,
  type EpisodeContext,
  type EpisodeState,
  type Refusal,
  refusalCodes,
} from '@kapkit/core';
import { codebookMarkdown } from './codebook.js';
import { activeColumns, type ColumnSelection, TABLE_NAMES, type TableName } from './columns.js';
import { tableSchemaIds } from './json-schema.js';
import { type ExportFormat, type ExportManifest, MANIFEST_VERSION, manifestSchema } from './manifest.js';
import { createPseudonymizer, type IdMapper, identityIds, PSEUDONYM_HEX_LENGTH } from './pseudonym.js';
import { assessmentRow, EpisodeTrack, episodeRow, sessionRow } from './rows.js';
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
  /** Export free text (notes, override reasons, adverse-event descriptions). Refused with `deidentify`. */
  readonly includeFreeText?: boolean;
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

interface OpenEpisode {
  state: EpisodeState;
  readonly track: EpisodeTrack;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** 48 bits of SHA-256 of an episode id: the set of closed episodes costs a number each, not the id. */
function closedKey(episodeId: string): number {
  return createHash('sha256').update(episodeId, 'utf8').digest().readUIntBE(0, 6);
}

/** A problem message that never repeats input values (for de-identified exports). */
function safeRefusalMessage(r: Refusal): string {
  const generic = refusalCodes[r.code] ?? r.code;
  // Only the top-level field: deeper path segments can be keys chosen by the writer of the event.
  const fields = (r.issues ?? []).map((i) => (typeof i.path[0] === 'string' ? i.path[0] : '(event)'));
  const positive = (r.safetyFlags ?? []).filter((f) => f.kind === 'positive').map((f) => f.rule);
  return `${generic}${fields.length ? ` Fields: ${[...new Set(fields)].join(', ')}.` : ''}${positive.length ? ` SAFETY: the refused record carries a positive safety flag (${positive.join(', ')}).` : ''}`;
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
    eventIds: c.eventIds.map(event),
    currentSessionId: c.currentSessionId === null ? null : session(c.currentSessionId),
    sessions: c.sessions.map((s) => ({
      ...s,
      sessionId: session(s.sessionId),
      doses: s.doses.map((d) => ({ ...d, eventId: event(d.eventId) })),
    })),
    assessments: c.assessments.map((a) => ({ ...a, eventId: event(a.eventId) })),
    safetyFlags: c.safetyFlags.map((f) => ({ ...f, assessmentEventId: event(f.assessmentEventId) })),
    adverseEvents: c.adverseEvents.map((a) => ({
      ...a,
      sessionId: a.sessionId === null ? null : session(a.sessionId),
    })),
  };
}

/**
 * Export a log of KAP episode events (NDJSON, one event per line; episodes may be interleaved) as research
 * tables (NDJSON, CSV or Parquet) or a FHIR R4 Bundle, with `manifest.json` and `codebook.md`.
 *
 * Streaming: the input is read line by line and rows are written as they are known. Each event is decided by
 * the episode machine (`decide`), which keeps one state per open episode; an assessment row is written as
 * soon as its event is accepted, a dosing-session row when the session ends, an episode row (and its FHIR
 * resources) when the episode is completed or discontinued, after which its state is dropped. Episodes still
 * open at the end of the input are written then. Memory therefore grows with the number of episodes open at
 * the same time, not with the length of the log.
 *
 * Atomic: every file is written under a hidden temporary name and renamed only when all of them are
 * complete, the manifest last. On any failure (or `signal` abort) the temporary files are removed and the
 * promise rejects; files of an earlier export in the same directory are left as they were.
 *
 * Lines that are not JSON, or events the episode machine refuses, are excluded, reported to `onProblem`, and
 * counted in the manifest.
 */
export async function exportEvents(input: Readable, options: ExportOptions): Promise<ExportResult> {
  const format = options.format;
  const deidentified = options.deidentify != null;
  if (deidentified && options.includeFreeText) {
    throw new ExportOptionsError('free text cannot be included in a de-identified export');
  }
  if (format === 'fhir' && options.tables !== undefined) {
    throw new ExportOptionsError('tables apply to the ndjson, csv and parquet formats, not to fhir');
  }
  const ids: IdMapper = deidentified ? createPseudonymizer(options.deidentify!.key) : identityIds;
  const selection: ColumnSelection = { deidentified, includeFreeText: options.includeFreeText === true };
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

  const counts = { lines: 0, records: 0, accepted: 0, refused: 0, malformed: 0, episodes: 0, openAtEnd: 0 };
  const byCode: Record<string, number> = {};
  const listed: { line: number; code: string }[] = [];
  let rows = 0;

  const problem = (line: number, code: string, message: string, refused: boolean) => {
    if (refused) counts.refused++;
    else counts.malformed++;
    byCode[code] = (byCode[code] ?? 0) + 1;
    if (listed.length < MAX_LISTED_PROBLEMS) listed.push({ line, code });
    options.onProblem?.({ line, code, message: oneLine(message) });
  };

  const abortError = () => {
    const reason = options.signal?.reason;
    return reason instanceof Error ? reason : new DOMException('The export was aborted', 'AbortError');
  };
  const checkAbort = () => {
    if (options.signal?.aborted) throw abortError();
  };

  let stop: (() => void) | null = null;
  try {
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

    /** Write what is left of an episode: sessions that had not ended, the episode row, its FHIR resources. */
    const finish = async (e: OpenEpisode) => {
      const c = e.state.context;
      if (c.openedAt === null) return;
      counts.episodes++;
      for (let i = 0; i < c.sessions.length; i++) {
        const s = c.sessions[i]!;
        const x = e.track.sessions.get(s.sessionId);
        if (x?.written) continue;
        if (x) x.written = true;
        await writeRow('dosing_sessions', sessionRow(c, s, i + 1, e.track, ids));
      }
      await writeRow('episodes', episodeRow(c, model.phaseOf(e.state), e.track));
      if (fhir) {
        const track = e.track;
        await fhir.addEpisode({
          patientRef: track.patientRef,
          episodeRef: track.episodeRef,
          context: contextForFhir(c, ids),
          dayOf: (iso: string) => track.dayOf(iso),
        });
      }
    };

    const open = new Map<string, OpenEpisode>();
    const closed = new Set<number>();
    if (inputHash) input.on('data', (chunk: Buffer | string) => inputHash.update(chunk));
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    // An abort also ends a read that is waiting for input (e.g. Ctrl-C on a quiet pipe).
    stop = () => {
      lines.close();
      input.destroy();
    };
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    let lineNo = 0;
    for await (let text of lines) {
      lineNo++;
      counts.lines++;
      if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (lineNo % progressEvery === 0) {
        checkAbort();
        options.onProgress?.({
          lines: counts.lines,
          accepted: counts.accepted,
          excluded: counts.refused + counts.malformed,
          rows,
          openEpisodes: open.size,
        });
      }
      if (text.trim() === '') continue;
      counts.records++;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        // The parser's message quotes the line, so it is not repeated.
        problem(lineNo, 'invalid-json', 'the line is not valid JSON', false);
        continue;
      }
      const episodeId = isRecord(value) && typeof value.episodeId === 'string' ? value.episodeId : '';
      if (episodeId === '') {
        problem(
          lineNo,
          'invalid-event',
          isRecord(value)
            ? 'the event has no episodeId (a non-empty string), so it belongs to no episode'
            : 'expected a JSON object per line',
          false,
        );
        continue;
      }
      let episode = open.get(episodeId);
      if (episode === undefined) {
        if (closed.has(closedKey(episodeId))) {
          problem(
            lineNo,
            'episode-closed',
            `${refusalCodes['episode-closed']} (It was completed or discontinued earlier in the input.)`,
            true,
          );
          continue;
        }
        episode = { state: model.initial, track: new EpisodeTrack(selection.includeFreeText) };
        open.set(episodeId, episode);
      }
      const d = model.decide(episode.state, value);
      if (!d.ok) {
        problem(
          lineNo,
          d.refusal.code,
          deidentified ? safeRefusalMessage(d.refusal) : d.refusal.message,
          d.refusal.code !== 'invalid-event',
        );
        continue;
      }
      counts.accepted++;
      episode.state = d.state;
      const e = d.event;
      const c = d.state.context;
      episode.track.observe(e, ids);
      switch (e.type) {
        case 'AssessmentRecorded':
          if (sinks.assessments) await writeRow('assessments', assessmentRow(c, e, episode.track, ids));
          break;
        case 'DosingSessionCompleted':
        case 'DosingSessionAborted': {
          const i = c.sessions.findIndex((s) => s.sessionId === e.sessionId);
          const x = episode.track.sessions.get(e.sessionId);
          if (i >= 0 && x && !x.written) {
            x.written = true;
            await writeRow('dosing_sessions', sessionRow(c, c.sessions[i]!, i + 1, episode.track, ids));
          }
          break;
        }
        case 'EpisodeCompleted':
        case 'EpisodeDiscontinued':
          await finish(episode);
          open.delete(episodeId);
          closed.add(closedKey(episodeId));
          break;
        default:
          break;
      }
    }
    checkAbort();
    for (const episode of open.values()) {
      if (episode.state.context.openedAt !== null) counts.openAtEnd++;
      await finish(episode);
    }
    open.clear();

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
              'HMAC-SHA-256(secret key, prefix + id) as lowercase hex, truncated; prefixes patient:, episode:, session:, event:. The key is not part of the export.',
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
        lines: counts.lines,
        records: counts.records,
        accepted: counts.accepted,
        refused: counts.refused,
        malformed: counts.malformed,
        excluded: counts.refused + counts.malformed,
        problemsByCode: byCode,
        problems: listed,
        problemsTruncated: counts.refused + counts.malformed > listed.length,
        episodes: counts.episodes,
        episodesOpenAtEnd: counts.openAtEnd,
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
    input.destroy?.();
    // Destroying the input on abort can surface as a stream error: report the abort itself.
    throw options.signal?.aborted ? abortError() : error;
  } finally {
    if (stop) options.signal?.removeEventListener('abort', stop);
  }
}
