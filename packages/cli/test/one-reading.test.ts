import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoEvents } from '@kapkit/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ValidateReport } from '../src/commands/validate.js';
import { run } from './helpers.js';

/*
 * validate, analyze and export read a log the same way: the same BOM and CRLF handling, the same
 * machine-accepted events, an event id counted once, refused and voided events excluded and counted by reason.
 */

const dir = mkdtempSync(join(tmpdir(), 'kapkit-one-reading-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

type Event = Record<string, unknown> & { id: string; episodeId: string; type: string; at: string };
let events: Event[];
let clean: string;

beforeAll(() => {
  events = [...generateDemoEvents({ patients: 40, seed: 'one-reading' })] as unknown as Event[];
  clean = `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
}, 60_000);

/** The analyze --json document of a log. */
async function analyze(path: string) {
  const r = await run(['analyze', path, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as {
    input: Record<string, unknown> & { excludedByReason?: Record<string, number> };
    instruments: Record<string, { patients: number; responders: number; remitters: number }>;
  };
}

/** The cohort figures that must not change with the noise added to a log. */
const figures = (doc: Awaited<ReturnType<typeof analyze>>) =>
  Object.fromEntries(
    Object.entries(doc.instruments).map(([id, r]) => [id, JSON.stringify({ ...r, instrument: id })]),
  );

describe('one reading of a log for every command', () => {
  it('gives analyze the same cohort figures on a log with duplicates and post-closure assessments as on the clean log, reporting the exclusions', async () => {
    const noisy: Event[] = [...events];
    // 50 re-sent identical lines, a re-used event id with other content, and 5 assessments after completion.
    for (let i = 0; i < 50; i++) noisy.push(events[(i * 37) % events.length]!);
    const reused = events.find((e) => e.type === 'AssessmentRecorded')!;
    noisy.push({ ...reused, responses: [3, 3, 3, 3, 3, 3, 3, 3, 0] });
    const completions = events.filter((e) => e.type === 'EpisodeCompleted').slice(0, 5);
    expect(completions).toHaveLength(5);
    for (const [k, c] of completions.entries()) {
      const later = new Date(Date.parse(c.at) + 86_400_000).toISOString();
      noisy.push({
        ...reused,
        id: `after-close-${k}`,
        episodeId: c.episodeId,
        patientId: c.patientId,
        at: later,
        recordedAt: later,
        responses: [0, 0, 0, 0, 0, 0, 0, 0, 0],
      });
    }
    const a = await analyze(file('clean.ndjson', clean));
    const b = await analyze(file('noisy.ndjson', `${noisy.map((e) => JSON.stringify(e)).join('\n')}\n`));
    expect(figures(b)).toEqual(figures(a));
    expect(b.input).toMatchObject({ refused: 56, accepted: a.input.accepted });
    expect(b.input.excludedByReason).toEqual({ 'duplicate-event-id': 51, 'episode-closed': 5 });
    // validate and export refuse exactly the same lines.
    const v = JSON.parse(
      (await run(['validate', join(dir, 'noisy.ndjson'), '--json'])).stdout,
    ) as ValidateReport;
    expect(v.problemsByCode).toEqual(b.input.excludedByReason);
    const out = join(dir, 'noisy-export');
    await run(['export', join(dir, 'noisy.ndjson'), '--format', 'ndjson', '--out', out, '--allow-invalid']);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.input.problemsByCode).toEqual(b.input.excludedByReason);
  });

  it('reads BOM and CRLF files exactly like plain ones, in every command', async () => {
    const plain = file('plain.ndjson', clean);
    const bomCrlf = file('bom-crlf.ndjson', `\uFEFF${clean.replace(/\n/g, '\r\n')}`);
    for (const args of [
      ['validate', '--json'],
      ['analyze', '--json'],
    ]) {
      const [cmd, ...rest] = args as [string, ...string[]];
      const x = await run([cmd, plain, ...rest]);
      const y = await run([cmd, bomCrlf, ...rest]);
      expect(y.code).toBe(x.code);
      expect(y.stdout.replaceAll(bomCrlf, plain)).toBe(x.stdout);
    }
    const outA = join(dir, 'export-plain');
    const outB = join(dir, 'export-bom');
    expect((await run(['export', plain, '--format', 'csv', '--out', outA])).code).toBe(0);
    expect((await run(['export', bomCrlf, '--format', 'csv', '--out', outB])).code).toBe(0);
    for (const t of ['assessments.csv', 'dosing_sessions.csv', 'episodes.csv']) {
      expect(readFileSync(join(outB, t), 'utf8')).toBe(readFileSync(join(outA, t), 'utf8'));
    }
    // score reads its NDJSON input the same way.
    const answers =
      '{"id":"a","responses":[1,1,1,1,1,1,1,1,0]}\n{"id":"b","responses":[0,0,0,0,0,0,0,0,0]}\n';
    const s1 = await run(['score', '--instrument', 'PHQ-9', file('answers.ndjson', answers)]);
    const s2 = await run([
      'score',
      '--instrument',
      'PHQ-9',
      file('answers-bom.ndjson', `\uFEFF${answers.replace(/\n/g, '\r\n')}`),
    ]);
    expect(s2.stdout).toBe(s1.stdout);
    expect(s2.stdout.trim().split('\n')).toHaveLength(2);
  });
});

describe('kapkit validate reports the status of every episode', () => {
  it('prints each episode’s alerts at --as-of, and SAFETY on a refused line that carries a signal', async () => {
    const done = events.find((e) => e.type === 'EpisodeCompleted')!;
    const first = events.filter((e) => e.episodeId === done.episodeId);
    const lastAt = first[first.length - 1]!.at;
    const flagged = {
      ...first.find((e) => e.type === 'AssessmentRecorded')!,
      id: 'flag-after-close',
      at: new Date(Date.parse(lastAt) + 86_400_000).toISOString(),
      recordedAt: new Date(Date.parse(lastAt) + 86_400_000).toISOString(),
      responses: [1, 1, 1, 1, 1, 1, 1, 1, 3],
    };
    const log = [...first, flagged].map((e) => JSON.stringify(e)).join('\n');
    const path = file('alerts.ndjson', `${log}\n`);
    const text = await run(['validate', path]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /^line \d+: episode \S+: event flag-after-close: episode-closed: .*SAFETY: phq9-item9-positive \(item 9 = 3\)/m,
    );
    const json = JSON.parse((await run(['validate', path, '--json'])).stdout) as ValidateReport;
    expect(json.problems[0]?.safetyFlags?.[0]).toMatchObject({ rule: 'phq9-item9-positive', value: 3 });
    expect(json.asOf).toBe(lastAt);
    // Open episodes get alerts: cut the log before its first dose, and ask a month later.
    const beforeDose = first.slice(
      0,
      first.findIndex((e) => e.type === 'DoseAdministered'),
    );
    const open = file('open.ndjson', `${beforeDose.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const later = new Date(Date.parse(beforeDose[beforeDose.length - 1]!.at) + 30 * 86_400_000).toISOString();
    const report = JSON.parse(
      (await run(['validate', open, '--json', '--as-of', later])).stdout,
    ) as ValidateReport;
    expect(report.ok).toBe(true);
    expect(report.asOf).toBe(later);
    expect(report.episodeSummaries[0]?.alerts.map((a) => a.code)).toContain('measure-due');
    const printed = (await run(['validate', open, '--as-of', later])).stdout;
    expect(printed).toMatch(/^ {2}alert info measure-due: PHQ9 /m);
    expect((await run(['validate', open, '--as-of', 'yesterday'])).code).toBe(2);
  });
});

describe('--now: event times checked against a clock', () => {
  it('refuses a record dated by a typo in the future of the given clock in validate, analyze and export alike', async () => {
    // A PHQ-9 typed as 2027-03-01 while the log's own events end earlier; recordedAt equals at (as a version 1
    // event is upcast), so only a clock can tell. Without --now the log is not compared with any clock.
    const first = events.find((e) => e.type === 'AssessmentRecorded')!;
    const typo = {
      ...first,
      id: 'typo-2027',
      at: '2027-03-01T10:00:00-06:00',
      recordedAt: '2027-03-01T10:00:00-06:00',
      responses: [0, 0, 0, 0, 0, 0, 0, 0, 0],
    };
    const lastAt = events.reduce((m, e) => Math.max(m, Date.parse(e.at)), 0);
    const clock = new Date(Math.min(lastAt + 86_400_000, Date.parse('2027-02-01T00:00:00Z'))).toISOString();
    const later = events.filter((e) => Date.parse(e.at) > Date.parse(clock));
    const kept = events.filter((e) => Date.parse(e.at) <= Date.parse(clock));
    const path = file('typo.ndjson', `${[...kept, typo].map((e) => JSON.stringify(e)).join('\n')}\n`);
    expect(later.length).toBe(events.length - kept.length);

    const plain = JSON.parse((await run(['validate', path, '--json'])).stdout) as ValidateReport;
    expect(plain.problems.map((p) => p.code)).not.toContain('future-event');

    const checked = await run(['validate', path, '--json', '--now', clock]);
    expect(checked.code).toBe(1);
    const report = JSON.parse(checked.stdout) as ValidateReport;
    expect(report.problems.map((p) => [p.eventId, p.code])).toEqual([['typo-2027', 'future-event']]);

    const analyzed = await run(['analyze', path, '--json', '--now', clock]);
    expect(JSON.parse(analyzed.stdout).input.excludedByReason).toEqual({ 'future-event': 1 });

    const out = join(dir, 'typo-export');
    const exported = await run(['export', path, '--format', 'ndjson', '--out', out, '--now', clock]);
    expect(exported.code).toBe(1);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.input.problemsByCode).toEqual({ 'future-event': 1 });
  });

  it('says what it expects of --now', async () => {
    const r = await run(['validate', file('one.ndjson', clean), '--now', 'tomorrow']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--now: expected "now" or an ISO 8601 date-time with a UTC offset');
  });
});
