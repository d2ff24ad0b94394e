import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { replay } from '@kapkit/core';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kapkit-examples-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs an example as a user would (`node examples/<name> ...`), in a scratch working directory. */
async function example(name: string, args: string[] = [], env: Record<string, string> = {}) {
  return run(process.execPath, [join(here, name), ...args], {
    cwd: work,
    env: { ...process.env, ...env },
  });
}

describe('the examples run on the synthetic data they ship with', () => {
  it('lists every example program here, so none is left untested', () => {
    const programs = readdirSync(here).filter((f) => f.endsWith('.mjs'));
    expect(programs.sort()).toEqual([
      'analyze-cohort.mjs',
      'episode-status.mjs',
      'export-deidentified.mjs',
      'render-chart.mjs',
      'score-file.mjs',
    ]);
  });

  it('ships a synthetic event log whose every event the episode machine accepts', () => {
    const log = readFileSync(join(here, 'demo-events.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { episodeId: string; synthetic?: boolean });
    expect(log.every((e) => e.synthetic === true)).toBe(true);
    const episodes = new Map<string, unknown[]>();
    for (const e of log) episodes.set(e.episodeId, [...(episodes.get(e.episodeId) ?? []), e]);
    expect(episodes.size).toBe(8);
    for (const [id, events] of episodes) expect(replay(events).refusals, id).toEqual([]);
  });

  it('score-file prints one line per record, prorates a missing item, flags item 9 and exits 1 on an invalid record', async () => {
    const failure = await example('score-file.mjs').then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(failure?.code).toBe(1); // the synthetic file's last record answers item 9 with a 4
    const lines = failure!.stdout.trim().split('\n');
    expect(lines).toEqual([
      'synthetic-01: complete total 10 (moderate)',
      'synthetic-02: complete total 19 (moderately-severe) SAFETY: phq9-item9-positive',
      'synthetic-03: prorated total 4.5 (minimal)',
      'synthetic-04: complete total 2 (minimal)',
      'synthetic-05: not-scorable total - (no band)',
      'record 6: invalid: responses[8] (item 9, phq9_9): expected an integer from 0 to 3, or null if unanswered, got 4 (out of range)',
    ]);
  });

  it('episode-status replays the first episode and prints its phase and doses', async () => {
    const { stdout } = await example('episode-status.mjs');
    expect(stdout).toMatch(/^episode demo-ep-0001: \d+ events accepted, 0 refused$/m);
    expect(stdout).toMatch(/^status at \S+: phase (completed|discontinued)$/m); // the log covers whole courses
    expect(stdout).toMatch(/^doses given \d+ of \d+ planned/m);
  });

  it('episode-status takes another episode and day from its arguments', async () => {
    const log = join(here, 'demo-events.ndjson');
    const { stdout } = await example('episode-status.mjs', [log, 'demo-ep-0004', '2026-06-01T12:00:00Z']);
    expect(stdout).toMatch(/^episode demo-ep-0004: \d+ events accepted, 0 refused$/m);
    expect(stdout).toMatch(/^status at 2026-06-01T12:00:00Z: phase /m);
  });

  it('analyze-cohort reports response and remission per instrument', async () => {
    const { stdout } = await example('analyze-cohort.mjs');
    expect(stdout).toMatch(/^\d+ scored assessments$/m);
    expect(stdout).toMatch(/^phq9: \d+ patients, response \d+%, remission \d+%, mean change -?\d/m);
    expect(stdout).toMatch(/^gad7: \d+ patients/m);
  });

  it('export-deidentified writes CSV tables, a codebook and a manifest without patient ids', async () => {
    const { stdout } = await example('export-deidentified.mjs', [], {
      KAPKIT_EXPORT_KEY: 'k'.repeat(16) + 'x'.repeat(16),
    });
    expect(stdout).toMatch(/^assessments\.csv: \d+ rows$/m);
    const dir = join(work, 'kapkit-export');
    expect(existsSync(join(dir, 'manifest.json'))).toBe(true);
    expect(existsSync(join(dir, 'codebook.md'))).toBe(true);
    const csv = readFileSync(join(dir, 'assessments.csv'), 'utf8');
    expect(csv).not.toMatch(/demo-pt-/);
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).deidentified).toBe(true);
  });

  it('render-chart writes a PNG of the outcome chart', async () => {
    const { stdout } = await example('render-chart.mjs', [
      join(here, 'demo-events.ndjson'),
      'demo-ep-0003',
      'chart.png',
    ]);
    expect(stdout).toMatch(/^chart\.png: \d+ bytes, \d+ points$/m);
    const png = readFileSync(join(work, 'chart.png'));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});
