import type { Readable } from 'node:stream';
import { type EventLogFold, type LogProblem, ndjsonLines, type Refusal, refusalCodes } from '@kapkit/core';
import type { Scan } from './read.js';
import type { EpisodeRowWriter } from './rows.js';

/*
 * Stage 2 of an export, fold: every line decided by the episode model (`EventLogFold`, as every kapkit command
 * reads a log), problems reported as they are found, and each episode handed to the row writer once its last
 * line has been read, after which its state is dropped.
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
}

/** Fold every line of `source`, writing each episode as soon as its last line has been read. */
export async function foldStage(source: Readable, o: FoldStageOptions): Promise<FoldStageResult> {
  const { fold, scan, writer } = o;
  const listed: { line: number; code: string }[] = [];
  let lines = 0;
  const problem = (p: LogProblem) => {
    if (listed.length < MAX_LISTED_PROBLEMS) listed.push({ line: p.line, code: p.code });
    // The JSON parser's message quotes the line, so it is never repeated (it may hold anything).
    const message =
      o.deidentified && p.refusal
        ? safeRefusalMessage(p.refusal)
        : o.deidentified || p.code === 'invalid-json'
          ? safeLineMessage(p)
          : p.message;
    o.onProblem?.({ line: p.line, code: p.code, message: oneLine(message) });
  };
  for await (const l of ndjsonLines(source)) {
    lines = l.line;
    if (l.line % o.progressEvery === 0 || fold.counts.records % o.progressEvery === 0) {
      o.checkAbort();
      o.onProgress?.({
        lines: l.line,
        accepted: fold.counts.accepted,
        excluded: fold.counts.refused + fold.counts.malformed,
        rows: writer.rows,
        openEpisodes: fold.episodes.size,
      });
    }
    const r = fold.add(l);
    if (!r.ok) problem(r.problem);
    else if (o.includeVoided && r.event.type === 'AssessmentRecorded' && scan.voidTargets.has(r.event.id)) {
      writer.keepVoidable(r.episode.episodeId, r.event);
    }
    const episodeId = r.ok ? r.episode.episodeId : r.problem.episodeId;
    if (episodeId !== null && scan.lastLine.get(episodeId) === l.line) {
      const episode = fold.episodes.get(episodeId);
      if (episode) {
        await writer.finish(episode);
        fold.release(episodeId);
      }
    }
  }
  o.checkAbort();
  // Episodes whose last line the first pass did not see (it cannot happen with a file read twice).
  for (const episode of [...fold.episodes.values()]) {
    await writer.finish(episode);
    fold.release(episode.episodeId);
  }
  return { lines, problems: listed };
}
