import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateDemoEvents } from '@kapkit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from './helpers.js';

/*
 * Export folders (issue 12): a non-empty folder is refused unless --force, which removes only what the previous
 * export's manifest lists; temporary files never live in the output folder; --verify checks a folder.
 */

const KEY_ENV = 'KAPKIT_FOLDER_TEST_KEY';
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const logFile = join(temp('kapkit-cli-folder-input-'), 'events.ndjson');
writeFileSync(
  logFile,
  `${[...generateDemoEvents({ patients: 6, seed: 'folders' })].map((e) => JSON.stringify(e)).join('\n')}\n`,
);

describe('kapkit export folders', () => {
  beforeEach(() => {
    process.env[KEY_ENV] = 'folder-test-key-0123456789abcdef0123456789';
  });
  afterEach(() => {
    delete process.env[KEY_ENV];
  });

  it('refuses a non-empty folder without --force, and writes nothing there', async () => {
    const out = temp('kapkit-cli-folder-');
    writeFileSync(join(out, 'notes.txt'), 'not kapkit’s');
    const r = await run(['export', logFile, '--format', 'csv', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not empty \(notes\.txt\)/);
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });

  it('replaces an identified export by a de-identified one with --force: no identified file is left', async () => {
    const out = temp('kapkit-cli-folder-');
    expect(
      (await run(['export', logFile, '--format', 'csv', '--out', out, '--include-free-text'])).code,
    ).toBe(0);
    const identified = readdirSync(out).sort();
    expect(identified).toContain('dosing_sessions.csv');
    const narrower = [
      'export',
      logFile,
      '--format',
      'csv',
      '--out',
      out,
      '--deidentify',
      '--key-env',
      KEY_ENV,
    ];
    expect((await run([...narrower, '--tables', 'assessments'])).code).toBe(2); // not empty
    expect((await run([...narrower, '--tables', 'assessments', '--force'])).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['assessments.csv', 'codebook.md', 'manifest.json']);
    expect(readFileSync(join(out, 'assessments.csv'), 'utf8')).not.toMatch(/demo-pt-/);
    expect((await run(['export', '--verify', out])).code).toBe(0);
  });

  it('refuses --force when the folder holds a file no manifest listed', async () => {
    const out = temp('kapkit-cli-folder-');
    expect((await run(['export', logFile, '--format', 'ndjson', '--out', out])).code).toBe(0);
    writeFileSync(join(out, 'analysis.R'), 'x <- 1');
    const r = await run(['export', logFile, '--format', 'ndjson', '--out', out, '--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/analysis\.R/);
    expect(readdirSync(out)).toContain('episodes.ndjson');
  });

  it('keeps temporary files outside the output folder, and removes them when the export fails', async () => {
    const parent = temp('kapkit-cli-folder-parent-');
    const out = join(parent, 'export');
    const bad = join(dirname(logFile), 'refused.ndjson');
    writeFileSync(bad, 'not json\n');
    expect((await run(['export', bad, '--format', 'csv', '--out', out, '--allow-invalid'])).code).toBe(0);
    expect(readdirSync(out).some((n) => n.includes('kapkit-tmp'))).toBe(false);
    expect(readdirSync(parent)).toEqual(['export']); // the staging folder is gone
    const missing = await run([
      'export',
      join(parent, 'nope.ndjson'),
      '--format',
      'csv',
      '--out',
      join(parent, 'b'),
    ]);
    expect(missing.code).toBe(2);
    expect(readdirSync(parent)).toEqual(['export']);
  });

  it('--verify fails on a changed file and on a file the manifest does not list', async () => {
    const out = temp('kapkit-cli-folder-');
    expect((await run(['export', logFile, '--format', 'csv', '--out', out])).code).toBe(0);
    const ok = await run(['export', '--verify', out]);
    expect(ok.stdout).toMatch(/^ok: 4 file\(s\) match manifest\.json/);
    appendFileSync(join(out, 'episodes.csv'), 'extra,row\n');
    writeFileSync(join(out, 'episodes.csv.bak'), '');
    const bad = await run(['export', '--verify', out]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/episodes\.csv: \d+ bytes, the manifest says \d+/);
    expect(bad.stderr).toMatch(/episodes\.csv\.bak: not listed in the manifest/);
  });
});
