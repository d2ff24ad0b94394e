import type { Writable } from 'node:stream';
import {
  DEMO_DEFAULT_START,
  DEMO_MAX_PATIENTS,
  generateDemoCohort,
  mergeByTime,
  type TimedRun,
} from '@kapkit/testing';
import { writeFileAtomically } from '../atomic-write.js';
import { CliError, type CliIO, write } from '../io.js';

export interface DemoDataOptions {
  /** Number of patients (one episode each). */
  readonly patients: number;
  readonly seed: string;
  /** Output file, or `-` for standard output. */
  readonly out: string;
  /** First enrolment day (`YYYY-MM-DD`); default 2026-01-05 (`DEMO_DEFAULT_START` of @kapkit/testing). */
  readonly start?: string;
  /** Interleave episodes in global time order (default true). */
  readonly interleave?: boolean;
}

/** Parse `--patients`: a whole number from 1 to 100,000. */
export function parsePatients(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > DEMO_MAX_PATIENTS) {
    throw new CliError(`--patients must be a whole number from 1 to ${DEMO_MAX_PATIENTS}, got "${value}"`);
  }
  return n;
}

/** Parse `--start`: a date `YYYY-MM-DD` or an ISO 8601 date-time (its date is used). */
export function parseStart(value: string): string {
  const date = value.slice(0, 10);
  const ok =
    /^\d{4}-\d{2}-\d{2}$/.test(date) &&
    (value.length === 10 || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) &&
    new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) === date;
  if (!ok || !Number.isFinite(Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value))) {
    throw new CliError(`--start must be an ISO 8601 date such as 2026-01-05, got "${value}"`);
  }
  return date;
}

const CHUNK = 1 << 16;

/** Join NDJSON lines into chunks of about 64 KiB. */
function* ndjsonChunks(lines: Iterable<string>, count: { events: number }): Generator<string> {
  let buffer = '';
  for (const line of lines) {
    buffer += line;
    count.events++;
    if (buffer.length >= CHUNK) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer !== '') yield buffer;
}

/**
 * Write `chunks` to a stream; stops quietly when the reader goes away (EPIPE, e.g. `| head`). Returns
 * whether everything was written.
 */
async function writeToStream(out: Writable, chunks: Iterable<string>): Promise<boolean> {
  let failed: NodeJS.ErrnoException | null = null;
  const onError = (e: NodeJS.ErrnoException) => {
    failed ??= e;
  };
  out.on('error', onError);
  try {
    for (const chunk of chunks) {
      if (failed !== null) break;
      await write(out, chunk);
    }
  } catch (e) {
    failed ??= e as NodeJS.ErrnoException;
  } finally {
    out.off('error', onError);
  }
  const error = failed as NodeJS.ErrnoException | null;
  if (error !== null && error.code !== 'EPIPE')
    throw new CliError(`cannot write to stdout: ${error.message}`);
  return error === null;
}

/**
 * `kapkit demo-data --patients N --seed S --out FILE`: a deterministic synthetic cohort as NDJSON events
 * (same options → same bytes). A regular file is written atomically (temporary file in the same directory,
 * then renamed). One summary line goes to stderr. Returns the exit code.
 */
export async function demoDataCommand(options: DemoDataOptions, io: CliIO): Promise<number> {
  const start = options.start ?? DEMO_DEFAULT_START;
  const episodes = { count: 0 };
  // Each episode is serialised as soon as it is generated: only the lines of episodes under way are held.
  const runs = (function* (): Generator<TimedRun<string>> {
    for (const ep of generateDemoCohort({ patients: options.patients, seed: options.seed, start })) {
      episodes.count++;
      yield {
        index: ep.index,
        notBeforeMs: ep.notBeforeMs,
        times: ep.times,
        items: ep.events.map((e) => `${JSON.stringify(e)}\n`),
      };
    }
  })();
  const lines =
    options.interleave === false
      ? (function* () {
          for (const run of runs) yield* run.items;
        })()
      : mergeByTime(runs);
  const count = { events: 0 };
  const chunks = ndjsonChunks(lines, count);

  let complete = true;
  if (options.out === '-') complete = await writeToStream(io.stdout, chunks);
  else await writeFileAtomically(options.out, chunks);
  await write(
    io.stderr,
    `kapkit demo-data: ${options.patients} patients, ${episodes.count} episodes, ${count.events} events, all synthetic (seed ${JSON.stringify(options.seed)}, start ${start}${options.interleave === false ? ', grouped by episode' : ', interleaved'}) -> ${options.out === '-' ? 'stdout' : options.out}${complete ? '' : ' (output closed early)'}\n`,
  );
  return 0;
}
