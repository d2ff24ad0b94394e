import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { generateDemoEvents } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { run } from './helpers.js';

/** Progress goes to stderr on a terminal only; piped, the commands print what they always printed. */

function logFile(patients: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kapkit-cli-progress-')), 'events.ndjson');
  writeFileSync(
    file,
    `${[...generateDemoEvents({ patients, seed: 'progress' })].map((e) => JSON.stringify(e)).join('\n')}\n`,
  );
  return file;
}

async function onTty(argv: string[]) {
  const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  const stdout = new PassThrough();
  const err: Buffer[] = [];
  const out: Buffer[] = [];
  stderr.on('data', (b: Buffer) => err.push(b));
  stdout.on('data', (b: Buffer) => out.push(b));
  const code = await runCli(argv, { stdin: Readable.from(['']), stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

describe('progress on stderr', () => {
  const file = logFile(40);

  for (const command of ['validate', 'analyze'] as const) {
    it(`${command}: a bar with records, rate and ETA on a terminal; the same stdout as piped`, async () => {
      const argv = [command, file, '--json'];
      const tty = await onTty(argv);
      const piped = await run(argv);
      expect(tty.code).toBe(piped.code);
      expect(tty.stderr).toContain(`kapkit ${command} [`);
      expect(tty.stderr).toMatch(/\d+ records \| [\d,]+ records\/s \| ETA/);
      // stdout is the same whatever stderr is.
      expect(tty.stdout).toBe(piped.stdout);
      // Piped: no bar (analyze may report excluded lines, never a bar).
      expect(piped.stderr).not.toContain(`kapkit ${command} [`);
      expect(piped.stderr).not.toContain('records/s');
    });
  }

  it('export: the bar shows the rate too', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kapkit-cli-progress-out-'));
    const tty = await onTty(['export', file, '-f', 'csv', '-o', join(out, 'x')]);
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/lines\/s/);
  });
});
