import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDemoEvents } from '@kapkit/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyWeakness } from '../src/commands/export.js';
import { VERSION } from '../src/version.js';
import { run } from './helpers.js';

/*
 * Command-line conventions: - for standard input everywhere, a quiet stop on a closed pipe, clear errors for
 * directories and empty inputs, -V/--version, required options marked, and a pseudonymisation key checked
 * for strength and never echoed.
 */

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');
const dir = mkdtempSync(join(tmpdir(), 'kapkit-conventions-'));
let log: string;
let logPath: string;

beforeAll(() => {
  log = `${[...generateDemoEvents({ patients: 30, seed: 'conventions' })].map((e) => JSON.stringify(e)).join('\n')}\n`;
  logPath = join(dir, 'events.ndjson');
  writeFileSync(logPath, log);
}, 60_000);

describe('standard input, pipes, directories and empty inputs', () => {
  it('analyses an event log from standard input (-), as from a file', async () => {
    const fromFile = JSON.parse((await run(['analyze', logPath, '--json'])).stdout);
    const fromStdin = await run(['analyze', '-', '--json'], log);
    expect(fromStdin.code).toBe(0);
    const doc = JSON.parse(fromStdin.stdout);
    expect(doc.instruments).toEqual(fromFile.instruments);
    expect(doc.input.file).toBe('-');
  });

  it('analyses a tidy CSV from standard input with --csv', async () => {
    const csv = 'patient_id,instrument,day,score\np1,phq9,0,20\np1,phq9,28,8\np2,phq9,0,15\np2,phq9,30,14\n';
    const r = await run(['analyze', '-', '--csv', '--json'], csv);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).instruments.phq9.responders).toBe(1);
  });

  it('stops quietly with exit code 0 when the reader closes the pipe (| head)', async () => {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'validate', logPath], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
      });
      // Read one chunk, then close our end of the pipe, as `head -1` does.
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (c) => resolve({ code: c, stderr: err }));
    });
    expect(stderr).not.toContain('EPIPE');
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
  });

  it('says a directory is a directory, in every command that reads a file', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    for (const args of [
      ['validate', folder],
      ['analyze', folder],
      ['score', '-i', 'phq9', folder],
      ['export', folder, '-f', 'csv', '-o', join(dir, 'out-dir')],
    ]) {
      const r = await run(args);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr, args[0]).toContain(`input "${folder}" is a directory`);
      expect(r.stderr).not.toContain('EISDIR');
    }
  });

  it('says "no events" for an empty input and exits 1, in validate, analyze, score and export', async () => {
    const empty = join(dir, 'empty.ndjson');
    writeFileSync(empty, '');
    const cases: [string[], string][] = [
      [['validate', empty], 'no events in'],
      [['analyze', empty], 'no events in'],
      [['score', '-i', 'phq9', empty], 'no records in'],
      [['export', empty, '-f', 'ndjson', '-o', join(dir, 'empty-out')], 'no events in'],
    ];
    for (const [args, text] of cases) {
      const r = await run(args);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr, args[0]).toContain(text);
      expect(r.stdout, args[0]).not.toMatch(/outcome summary/);
    }
    const fromStdin = await run(['validate', '-'], '');
    expect(fromStdin.stderr).toContain('no events in standard input');
  });
});

describe('version, help and keys', () => {
  it('prints the version with -V, -v and --version', async () => {
    for (const flag of ['-V', '-v', '--version']) {
      const r = await run([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stdout.trim(), flag).toBe(VERSION);
    }
  });

  it('marks required options in the help', async () => {
    const score = await run(['score', '--help']);
    expect(score.stdout).toMatch(/-i, --instrument <id>\s+required:/);
    const exp = await run(['export', '--help']);
    expect(exp.stdout).toMatch(/-f, --format <format>\s+required:/);
    expect(exp.stdout).toMatch(/-o, --out <dir>\s+required:/);
  });

  it('refuses a weak key: whitespace, too short, or too little variety', () => {
    expect(keyWeakness(' '.repeat(40))).toMatch(/0 non-blank characters/);
    expect(keyWeakness('a'.repeat(40))).toMatch(/only 1 distinct characters/);
    expect(keyWeakness('abcd'.repeat(10))).toMatch(/only 4 distinct/);
    expect(keyWeakness('0123456789abcdef'.repeat(4))).toBeNull();
  });

  /** A de-identified CSV export of the log into `out`, its key read from the environment variable `keyEnv`. */
  const deidentifiedExport = (out: string, keyEnv: string) =>
    run(['export', logPath, '-f', 'csv', '-o', join(dir, out), '--deidentify', '--key-env', keyEnv]);

  it('refuses a key passed to --key-env in place of a variable name, without echoing it', async () => {
    const secret = 'a3f9c2e1-77b4-4d5e-9c1a-0f2e8d7c6b5a-secret-key';
    const r = await deidentifiedExport('k', secret);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('takes the NAME of an environment variable');
    expect(r.stderr).not.toContain(secret);
    expect(r.stdout).not.toContain(secret);
  });

  it('refuses a key of 32 spaces in the environment', async () => {
    process.env.KAPKIT_TEST_WEAK_KEY = ' '.repeat(32);
    try {
      const r = await deidentifiedExport('w', 'KAPKIT_TEST_WEAK_KEY');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('too weak');
    } finally {
      delete process.env.KAPKIT_TEST_WEAK_KEY;
    }
  });
});
