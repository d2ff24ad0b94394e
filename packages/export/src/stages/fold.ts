import type { Readable } from 'node:stream';
import {
  type EventLogFold,
  type LogProblem,
  type NdjsonLine,
  type Refusal,
  refusalCodes,
} from '@kapkit/core';
import { lineText, ndjsonByteLines } from './lines.js';
import { PendingEpisode, SPILL_ABOVE_BYTES, SpillFile } from './pending.js';
import { ProblemQueue } from './problems.js';
import { episodeOfBytes, type Scan } from './read.js';
import type { EpisodeRowWriter } from './rows.js';

/*
 * Stage 2 of an export, fold: every line decided by the episode model (`EventLogFold`, as every kapkit command
 * reads a log). An episode's lines are held as bytes (`PendingEpisode`, spilled to a private temporary file beyond a few MiB) until its last line has been read; then
 * they are decided in one go and the episode handed to the row writer, after which its state is dropped. So at
 * most one episode state exists at a time, however many episodes are under way in an interleaved log, and an
 * intermediate state lives only for the next line of the same episode (it never outlives a young-generation
 * collection). Problems are reported in line order (see `ProblemQueue`).
 */

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

const MAX_LISTED_PROBLEMS = 1000;

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

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** What the fold stage needs besides the input. */
export interface FoldStageOptions {
  readonly fold: EventLogFold;
  readonly scan: Scan;
  readonly writer: EpisodeRowWriter;
  readonly deidentified: boolean;
  readonly includeVoided: boolean;
  readonly progressEvery: number;
  readonly checkAbort: () => void;
  readonly onProgress?: ((p: ExportProgress) => void) | undefined;
  readonly onProblem?: ((p: InputProblem) => void) | undefined;
}

/** What the fold stage read: the last line number and the first problems (for the manifest). */
export interface FoldStageResult {
  readonly lines: number;
  readonly problems: readonly { readonly line: number; readonly code: string }[];
  /** Excluded lines by code, the codes in the order of their first line. */
  readonly byCode: Readonly<Record<string, number>>;
}

/** The line as `ndjsonLines` of @kapkit/core gives it: parsed, or why it is not JSON. */
function parsedLine(line: number, text: string): NdjsonLine {
  try {
    return { line, ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { line, ok: false, message: `not valid JSON (${(e as Error).message})` };
  }
}

/** Fold every line of `source`, writing each episode as soon as its last line has been read. */
export async function foldStage(source: Readable, o: FoldStageOptions): Promise<FoldStageResult> {
  const { fold, scan, writer } = o;
  const pending = new Map<string, PendingEpisode>();
  const queue = new ProblemQueue(MAX_LISTED_PROBLEMS, (p) => o.onProblem?.(p));
  const problem = (p: LogProblem) => {
    // The JSON parser's message quotes the line, so it is never repeated (it may hold anything).
    const message =
      o.deidentified && p.refusal
        ? safeRefusalMessage(p.refusal)
        : o.deidentified || p.code === 'invalid-json'
          ? safeLineMessage(p)
          : p.message;
    queue.add({ line: p.line, code: p.code, message: oneLine(message) });
  };
  const decide = (l: NdjsonLine) => {
    const r = fold.add(l);
    if (!r.ok) problem(r.problem);
    else if (o.includeVoided && r.event.type === 'AssessmentRecorded' && scan.voidTargets.has(r.event.id)) {
      writer.keepVoidable(r.episode.episodeId, r.event);
    }
  };
  /** Bytes of memory taken by the lines held in `pending`; beyond SPILL_ABOVE_BYTES, chunks go to `spill`. */
  let heldBytes = 0;
  let spill: SpillFile | null = null;
  const finish = async (episodeId: string, held: PendingEpisode) => {
    pending.delete(episodeId);
    heldBytes -= held.bytes;
    for (const { line, text } of held.lines(spill)) decide(parsedLine(line, text));
    const episode = fold.episodes.get(episodeId);
    if (episode) {
      await writer.finish(episode);
      fold.release(episodeId);
    }
  };
  const oldestPending = () => {
    for (const held of pending.values()) return held.firstLine;
    return Number.POSITIVE_INFINITY;
  };
  let lines = 0;
  let read = 0;
  try {
    for await (const l of ndjsonByteLines(source)) {
      const line = l.line;
      lines = line;
      if (line % o.progressEvery === 0 || read % o.progressEvery === 0) {
        o.checkAbort();
        o.onProgress?.({
          lines: line,
          accepted: fold.counts.accepted,
          excluded: fold.counts.refused + fold.counts.malformed,
          rows: writer.rows,
          openEpisodes: pending.size,
        });
      }
      read++;
      const route = episodeOfBytes(l);
      if (route.episodeId === null) {
        // Not an event of any episode: decided now (its state is no episode's).
        const value = route.value;
        decide(value === undefined ? parsedLine(line, route.text ?? lineText(l)) : { line, ok: true, value });
      } else {
        let held = pending.get(route.episodeId);
        if (held === undefined) {
          held = new PendingEpisode(line);
          pending.set(route.episodeId, held);
        }
        if (heldBytes > SPILL_ABOVE_BYTES) spill ??= new SpillFile();
        heldBytes += held.add(line, l, heldBytes > SPILL_ABOVE_BYTES ? spill : null);
        if (scan.lastLine.get(route.episodeId) === line) await finish(route.episodeId, held);
      }
      queue.release(oldestPending());
    }
    o.checkAbort();
    // Episodes whose last line the first pass did not see (the input changed between the two reads).
    for (const [episodeId, held] of [...pending]) await finish(episodeId, held);
  } finally {
    (spill as SpillFile | null)?.close();
  }
  // A stray state (a line routed to another episode that still named this one): written as it stands.
  for (const episode of [...fold.episodes.values()]) {
    await writer.finish(episode);
    fold.release(episode.episodeId);
  }
  queue.release(Number.POSITIVE_INFINITY);
  return { lines, problems: queue.listed, byCode: queue.byCode };
}
