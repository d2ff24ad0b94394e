import { createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

/** The streams a command talks to; tests pass in-memory streams. */
export interface CliIO {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** A user-facing failure: printed as one line on stderr with the given exit code, no stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Check that a file argument names a readable file (not a directory), with a clear error otherwise. */
async function checkInputFile(file: string): Promise<void> {
  try {
    await access(file);
  } catch {
    throw new CliError(`cannot read input file "${file}": no such file or not readable`);
  }
  if ((await stat(file)).isDirectory()) {
    throw new CliError(`input "${file}" is a directory: give a file, or - for standard input`);
  }
}

/** Open a file argument (`-` or absent = stdin) as a stream, failing clearly when the file cannot be read. */
export async function openInput(file: string | undefined, io: CliIO): Promise<Readable> {
  if (file === undefined || file === '-') return io.stdin;
  await checkInputFile(file);
  return createReadStream(file, { encoding: 'utf8' });
}

/** The name of an input in messages: the file, or "standard input". */
export function inputName(file: string | undefined): string {
  return file === undefined || file === '-' ? 'standard input' : `"${file}"`;
}

/** Whether an error is a write to a closed pipe (e.g. `kapkit validate big.ndjson | head`). */
export function isClosedPipe(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'EPIPE';
}

/** Write a chunk, waiting for the stream to drain when its buffer is full. */
export async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        out.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        out.off('drain', onDrain);
        reject(e);
      };
      out.once('drain', onDrain);
      out.once('error', onError);
    });
  }
}

/**
 * Parse `--now`: the clock to check event times against (`future-event`): `now` for the system clock, or an ISO
 * 8601 date-time with a UTC offset. Undefined when the option is absent (no clock check).
 */
export function parseNow(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'now') return Date.now();
  const ms = /(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new CliError(
      `--now: expected "now" or an ISO 8601 date-time with a UTC offset, e.g. 2026-05-01T09:00:00-04:00, got "${value}"`,
    );
  }
  return ms;
}
