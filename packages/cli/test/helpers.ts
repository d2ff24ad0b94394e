import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../src/index.js';
import type { CliIO } from '../src/io.js';

/** Run a command in-process with a string as stdin; collect stdout (as bytes) and stderr. */
export async function capture(
  command: (io: CliIO) => Promise<number>,
  stdin = '',
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const code = await command({ stdin: Readable.from([stdin]), stdout, stderr });
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
}

/** Run the CLI in-process with a string as stdin; collect stdout and stderr. */
export async function run(
  argv: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await capture((io) => runCli(argv, io), stdin);
  return { ...r, stdout: r.stdout.toString('utf8') };
}

export function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
