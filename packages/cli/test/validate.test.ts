import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoEvents } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import type { ValidateReport } from '../src/commands/validate.js';
import { run } from './helpers.js';

const envelope = (id: string, type: string, at: string) => ({
  id,
  episodeId: 'bad-ep',
  patientId: 'demo-pt-bad',
  type,
  at,
  v: 1,
  synthetic: true,
});

/** A generated, interleaved log of 8 episodes with problems injected at known lines. */
function logWithProblems() {
  const events = [...generateDemoEvents({ patients: 8, seed: 'validate' })];
  const switches = events.filter((e, i) => i > 0 && e.episodeId !== events[i - 1]!.episodeId).length;
  expect(switches).toBeGreaterThan(20); // episodes really are interleaved
  const lines = events.map((e) => JSON.stringify(e));
  const total = lines.length;
  const insert = (at: number, value: unknown) =>
    lines.splice(at, 0, typeof value === 'string' ? value : JSON.stringify(value));
  // Inserted from the front, so each line number is its final index + 1.
  insert(2, envelope('bad-1', 'EpisodeOpened', '2026-01-10T09:00:00-05:00')); // line 3
  insert(3, 'this is not JSON'); // line 4
  insert(5, { ...envelope('bad-2', 'FitAssessed', '2026-01-10T10:00:00-05:00'), outcome: 'good-fit' }); // line 6
  insert(8, {
    ...envelope('bad-3', 'DoseAdministered', '2026-01-11T10:00:00-05:00'),
    sessionId: 'bad-s1',
    kind: 'full',
    doseMg: 300,
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
  }); // line 9: a dose before the medical evaluation found the patient eligible
  // line 13: dated before the episode opened (line 3), so at its place in clinical time there is no episode yet
  insert(12, { ...envelope('bad-4', 'FitAssessed', '2026-01-09T10:00:00-05:00'), outcome: 'good-fit' });
  insert(15, { id: 'orphan-1', type: 'EpisodeOpened', at: '2026-01-10T09:00:00-05:00', v: 1 }); // line 16: no episodeId
  insert(17, '[1, 2, 3]'); // line 18
  return { text: `${lines.join('\n')}\n`, generated: total, lines: lines.length };
}

function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kapkit-validate-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('kapkit validate', () => {
  it('accepts a generated log: exit 0, one summary line per episode, totals', async () => {
    const text = `${[...generateDemoEvents({ patients: 15, seed: 3 })].map((e) => JSON.stringify(e)).join('\n')}\n`;
    const { code, stdout } = await run(['validate', writeTemp('ok.ndjson', text)]);
    expect(code).toBe(0);
    const out = stdout.trim().split('\n');
    expect(out.filter((l) => l.startsWith('line '))).toEqual([]);
    const episodes = out.filter((l) => l.startsWith('episode '));
    expect(episodes).toHaveLength(15);
    expect(episodes[0]).toMatch(
      /^episode demo-ep-0001: (completed|discontinued); \d+ dose\(s\) given( of \d planned)?; critical-period coverage (\d+\.\d%|-), longest chain (\d+ dose\(s\)|-) \(\d+ chain\(s\)\); \d+ accepted, 0 refused/,
    );
    const events = text.trim().split('\n').length;
    expect(out[out.length - 1]).toMatch(
      new RegExp(
        `^total: ${events} lines, ${events} events in 15 episodes: ${events} accepted, 0 refused, 0 malformed; phases: `,
      ),
    );
  });

  it('reports refused and malformed lines with their line numbers and exits 1', async () => {
    const { text, generated, lines } = logWithProblems();
    const { code, stdout } = await run(['validate', '-'], text);
    expect(code).toBe(1);
    const problems = stdout.split('\n').filter((l) => l.startsWith('line '));
    expect(problems.map((l) => l.split(': ').slice(0, 4).join(': '))).toEqual([
      'line 4: episode -: event -: invalid-json',
      'line 9: episode bad-ep: event bad-3: not-eligible',
      'line 13: episode bad-ep: event bad-4: episode-not-opened',
      'line 16: episode -: event orphan-1: invalid-event',
      'line 18: episode -: event -: invalid-event',
    ]);
    expect(problems[1]).toContain('the medical evaluation has not found the patient eligible');
    expect(problems[3]).toContain('no episodeId');
    // The generated episodes, interleaved with each other and with the bad one, are all accepted.
    const summary = stdout.split('\n').filter((l) => l.startsWith('episode '));
    expect(summary).toHaveLength(9);
    expect(summary.filter((l) => l.includes(', 0 refused'))).toHaveLength(8);
    expect(summary.find((l) => l.startsWith('episode bad-ep:'))).toMatch(
      /^episode bad-ep: medical-evaluation; 0 dose\(s\) given; critical-period coverage -, longest chain - \(0 chain\(s\)\); 2 accepted, 2 refused/,
    );
    expect(stdout).toContain(
      `total: ${lines} lines, ${generated + 4} events in 9 episodes: ${generated + 2} accepted, 2 refused, 3 malformed`,
    );
  });

  it('prints a JSON report with --json', async () => {
    const { text, generated } = logWithProblems();
    const { code, stdout } = await run(['validate', '--json'], text);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as ValidateReport;
    expect(report.ok).toBe(false);
    expect(report).toMatchObject({ events: generated + 4, refused: 2, malformed: 3, episodes: 9 });
    expect(report.problems.map((p) => [p.line, p.code])).toEqual([
      [4, 'invalid-json'],
      [9, 'not-eligible'],
      [13, 'episode-not-opened'],
      [16, 'invalid-event'],
      [18, 'invalid-event'],
    ]);
    const bad = report.episodeSummaries.find((e) => e.episodeId === 'bad-ep');
    expect(bad).toMatchObject({ phase: 'medical-evaluation', accepted: 2, refused: 2, dosesGiven: 0 });
    const good = report.episodeSummaries.filter((e) => e.episodeId.startsWith('demo-ep-'));
    expect(good).toHaveLength(8);
    for (const e of good) {
      expect(e.refused).toBe(0);
      expect(e.synthetic).toBe(true);
      if (e.dosesGiven > 0) {
        expect(e.criticalPeriodCoverage).toBeGreaterThan(0);
        expect(e.criticalPeriodCoverage).toBeLessThanOrEqual(1);
        expect(e.longestChainDoses).toBeGreaterThan(0);
      }
    }
  });

  it('fails with exit code 2 for a missing file, and has help for every option', async () => {
    const missing = await run(['validate', '/nonexistent/events.ndjson']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read input file');
    const help = await run(['validate', '--help']);
    expect(help.stdout).toContain('--json');
    expect(help.stdout).toContain('[file]');
  });
});
