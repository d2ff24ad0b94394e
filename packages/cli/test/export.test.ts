import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { type ExportManifest, schemaFiles, scoreLineSchema } from '@kapkit/export';
import { generateDemoEvents } from '@kapkit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { ndjson, run } from './helpers.js';

const KEY_ENV = 'KAPKIT_EXPORT_TEST_KEY';
const KEY = 'cli-test-key-5e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b';

function temp(prefix = 'kapkit-cli-export-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function demoLog(patients = 12, seed = 'export'): string {
  return `${[...generateDemoEvents({ patients, seed })].map((e) => JSON.stringify(e)).join('\n')}\n`;
}

function writeTemp(text: string, name = 'events.ndjson'): string {
  const file = join(temp('kapkit-cli-input-'), name);
  writeFileSync(file, text);
  return file;
}

function manifestOf(dir: string): ExportManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
}

const log = demoLog();
const logFile = writeTemp(log);

/** Set the pseudonymisation key's environment variable around each test of the describe block. */
function keyInEnvironment(): void {
  beforeEach(() => {
    process.env[KEY_ENV] = KEY;
  });
  afterEach(() => {
    delete process.env[KEY_ENV];
  });
}

describe('kapkit export: formats and input', () => {
  keyInEnvironment();

  it.each(['ndjson', 'csv', 'parquet', 'fhir'])(
    'exports a demo log as %s: exit 0, the files, a manifest, a one-line summary on stderr',
    async (format) => {
      const out = join(temp(), 'export');
      const { code, stdout, stderr } = await run(['export', logFile, '--format', format, '--out', out]);
      expect(code).toBe(0);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^kapkit export: \d+ events accepted from 12 episode\(s\); /);
      const files = readdirSync(out).sort();
      expect(files).toContain('manifest.json');
      expect(files).toContain('codebook.md');
      if (format === 'fhir') expect(files).toContain('fhir-bundle.json');
      else expect(files).toContain(`assessments.${format}`);
      const m = manifestOf(out);
      expect(m.format).toBe(format);
      expect(m.input.excluded).toBe(0);
      expect(m.input.episodes).toBe(12);
      expect(m.kapkitVersion).toMatch(/^\d+\.\d+\.\d+/);
    },
  );

  it('reads standard input with -', async () => {
    const out = temp();
    const { code } = await run(
      ['export', '-', '--format', 'ndjson', '--out', out, '--tables', 'episodes'],
      log,
    );
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['codebook.md', 'episodes.ndjson', 'manifest.json']);
    expect(ndjson(readFileSync(join(out, 'episodes.ndjson'), 'utf8'))).toHaveLength(12);
  });
});

describe('kapkit export: de-identification', () => {
  keyInEnvironment();

  it('--deidentify --key-env VAR: pseudonymous ids, no dates, and the key is written nowhere', async () => {
    const out = temp();
    const { code, stderr } = await run([
      'export',
      logFile,
      '-f',
      'csv',
      '-o',
      out,
      '--deidentify',
      '--key-env',
      KEY_ENV,
    ]);
    expect(code).toBe(0);
    expect(stderr).toContain('de-identified');
    const all = readdirSync(out)
      .map((f) => readFileSync(join(out, f), 'utf8'))
      .join('\n');
    expect(all).not.toContain(KEY);
    expect(all).not.toContain('demo-pt-');
    expect(all).not.toContain('demo-ep-');
    expect(all).not.toMatch(/20\d\d-\d\d-\d\dT/);
    expect(stderr).not.toContain(KEY);
    expect(manifestOf(out).deidentified).toBe(true);
  });

  it.each([
    [['--deidentify'], /--key-env/],
    [['--deidentify', '--key-env', 'KAPKIT_EXPORT_TEST_UNSET'], /not set or is empty/],
    [['--deidentify', '--key-env', 'KAPKIT_EXPORT_TEST_EMPTY'], /not set or is empty/],
    [
      ['--deidentify', '--key-env', 'KAPKIT_EXPORT_TEST_SHORT'],
      /too weak: 9 non-blank characters, at least 32/,
    ],
    [['--key-env', KEY_ENV], /only applies together with --deidentify/],
    [['--deidentify', '--key-env', KEY_ENV, '--include-free-text'], /cannot be combined/],
    [['--tables', 'assessments,patients'], /unknown table "patients"/],
    [['--tables', ','], /--tables/],
  ])('usage error %j: exit 2, a message, and no file', async (extra, message) => {
    process.env.KAPKIT_EXPORT_TEST_EMPTY = '';
    process.env.KAPKIT_EXPORT_TEST_SHORT = 'short-key';
    const out = join(temp(), 'not-created');
    const { code, stderr } = await run(['export', logFile, '--format', 'csv', '--out', out, ...extra]);
    delete process.env.KAPKIT_EXPORT_TEST_EMPTY;
    delete process.env.KAPKIT_EXPORT_TEST_SHORT;
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('de-identified problem messages repeat no value of the input', async () => {
    const lines = log.trimEnd().split('\n');
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    lines.push(
      JSON.stringify({ ...first, id: 'x-Jane-Canarydoe', type: 'FitAssessed', at: 'Jane Canarydoe' }),
    );
    const file = writeTemp(`${lines.join('\n')}\n`);
    const { code, stderr } = await run([
      'export',
      file,
      '-f',
      'ndjson',
      '-o',
      temp(),
      '--deidentify',
      '--key-env',
      KEY_ENV,
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/line \d+: (invalid-event|episode-closed|out-of-order)/);
    expect(stderr).not.toContain('Canarydoe');
    expect(stderr).not.toContain('demo-');
  });
});

describe('kapkit export: usage errors and excluded lines', () => {
  keyInEnvironment();

  it('usage errors for the format and the arguments exit 2', async () => {
    const out = temp();
    expect((await run(['export', logFile, '--out', out])).code).toBe(2); // no --format
    expect((await run(['export', logFile, '--format', 'xlsx', '--out', out])).code).toBe(2);
    expect((await run(['export', logFile, '--format', 'csv'])).code).toBe(2); // no --out
    expect(
      (await run(['export', logFile, '--format', 'fhir', '--out', out, '--tables', 'episodes'])).code,
    ).toBe(2);
    const missing = await run(['export', join(out, 'nope.ndjson'), '--format', 'csv', '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read input file');
    expect(readdirSync(out)).toEqual([]);
  });

  it('reports excluded lines with their numbers on stderr and exits 1; --allow-invalid exits 0', async () => {
    const lines = log.trimEnd().split('\n');
    lines.splice(2, 0, 'this is not JSON'); // line 3
    lines.splice(6, 0, JSON.stringify({ ...JSON.parse(lines[0]!), id: 'again' })); // line 7: opened twice
    const file = writeTemp(`${lines.join('\n')}\n`);
    const out = temp();
    const bad = await run(['export', file, '--format', 'csv', '--out', out]);
    expect(bad.code).toBe(1);
    const problems = bad.stderr.split('\n').filter((l) => l.startsWith('line '));
    expect(problems).toEqual([
      'line 3: invalid-json: the line is not valid JSON',
      'line 7: already-opened: The episode is already open.', // identified: the full reason
    ]);
    expect(bad.stderr).toContain('2 line(s) excluded');
    expect(manifestOf(out).input).toMatchObject({ excluded: 2, malformed: 1, refused: 1 });

    const allowed = await run(['export', file, '--format', 'csv', '--out', temp(), '--allow-invalid']);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain('line 3: invalid-json');
  });
});

describe('kapkit export: progress', () => {
  keyInEnvironment();

  it('shows a progress bar only on a TTY', async () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    const chunks: Buffer[] = [];
    stderr.on('data', (b: Buffer) => chunks.push(b));
    const code = await runCli(['export', writeTemp(demoLog(60)), '-f', 'csv', '-o', temp()], {
      stdin: Readable.from(['']),
      stdout: new PassThrough(),
      stderr,
    });
    expect(code).toBe(0);
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text).toContain('kapkit export [');
    expect(text).toContain('rows');
    // Not on a pipe: the run above without a TTY printed the summary line only.
  });
});

describe('kapkit schema', () => {
  it('writes every JSON Schema in both dialects, the same files as docs/schemas', async () => {
    const out = temp('kapkit-cli-schema-');
    const { code, stdout } = await run(['schema', '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/wrote \d+ JSON Schemas \(draft 2020-12 and draft-07\)/);
    for (const [path, text] of schemaFiles()) expect(readFileSync(join(out, path), 'utf8'), path).toBe(text);
  });

  it('needs --out', async () => {
    expect((await run(['schema'])).code).toBe(2);
  });
});

describe('kapkit score output', () => {
  it('matches the published score-line schema, line by line', async () => {
    const input = [
      '{"id":"a","responses":[1,1,1,1,1,1,1,1,1]}',
      '{"id":"b","responses":[1,1,1,1,1,1,1,null,null]}',
      '{"responses":[1,1,1,null,null,null,1,1,0]}',
      '{"id":"d","responses":[9]}',
      'not json',
    ].join('\n');
    const { stdout } = await run(['score', '--instrument', 'phq9'], input);
    const lines = ndjson(stdout);
    expect(lines).toHaveLength(5);
    for (const line of lines)
      expect(scoreLineSchema.safeParse(line).success, JSON.stringify(line)).toBe(true);
  });
});
