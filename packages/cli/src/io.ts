import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
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

/** Open a file argument (`-` or absent = stdin) as a stream, failing clearly when the file cannot be read. */
export async function openInput(file: string | undefined, io: CliIO): Promise<Readable> {
  if (file === undefined || file === '-') return io.stdin;
  try {
    await access(file);
  } catch {
    throw new CliError(`cannot read input file "${file}": no such file or not readable`);
  }
  return createReadStream(file, { encoding: 'utf8' });
}

/** One line of an NDJSON input: its 1-based number and either the parsed value or why it did not parse. */
export type NdjsonLine =
  | { readonly line: number; readonly ok: true; readonly value: unknown }
  | { readonly line: number; readonly ok: false; readonly message: string };

/**
 * Read NDJSON line by line (memory stays flat). Blank lines are skipped; a line that is not JSON yields an
 * error entry instead of stopping the read.
 */
export async function* readNdjson(input: Readable): AsyncGenerator<NdjsonLine> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield { line, ok: true, value: JSON.parse(text) as unknown };
    } catch (e) {
      yield { line, ok: false, message: `not valid JSON (${(e as Error).message})` };
    }
  }
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
