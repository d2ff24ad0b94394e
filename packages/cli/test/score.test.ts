import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ndjson, run } from './helpers.js';

const input = [
  '{"id":"a","responses":[1,2,1,1,0,1,0,0,0]}',
  '{"id":"b","responses":[3,3,3,3,3,3,3,null,1]}',
  '{"responses":[1,2]}',
  'not json at all',
  '',
  '{"id":"e","responses":[0,0,0,0,0,0,0,9,2]}',
  '{"id":"f","responses":[null,null,null,0,0,0,0,0,0]}',
].join('\n');

describe('kapkit score', () => {
  it('writes one result per input record, in order, and exits 1 when a line was invalid', async () => {
    const { code, stdout } = await run(['score', '--instrument', 'PHQ-9', '-'], input);
    const lines = ndjson(stdout);
    expect(code).toBe(1);
    expect(lines.map((l) => l.id)).toEqual(['a', 'b', null, null, 'e', 'f']);
    expect(lines[0]).toEqual({
      id: 'a',
      instrument: 'phq9',
      status: 'complete',
      total: 6,
      severity: 'mild',
      safetyFlags: [],
    });
    expect(lines[1]).toMatchObject({ status: 'prorated', total: (22 * 9) / 8, severity: 'severe' });
    expect(lines[5]).toMatchObject({ status: 'not-scorable', total: null, severity: null });
  });

  it('gives a malformed line an errors entry with its line number and reason, and goes on', async () => {
    const lines = ndjson((await run(['score', '-i', 'phq9'], input)).stdout);
    expect(lines[2]?.errors).toEqual([
      expect.objectContaining({ line: 3, path: 'responses', code: 'wrong-length' }),
    ]);
    expect(lines[3]?.errors).toEqual([expect.objectContaining({ line: 4, code: 'invalid-json' })]);
    expect(lines[4]?.errors).toEqual([
      expect.objectContaining({ line: 6, path: 'responses[7]', code: 'out-of-range' }),
    ]);
  });

  it('reports a positive item 9 in safetyFlags, even on a line that is invalid elsewhere', async () => {
    const lines = ndjson((await run(['score', '-i', 'phq9'], input)).stdout);
    expect(lines[1]?.safetyFlags).toEqual([
      expect.objectContaining({ rule: 'phq9-item9-positive', kind: 'positive', value: 1 }),
    ]);
    expect(lines[4]?.safetyFlags).toEqual([expect.objectContaining({ kind: 'positive', value: 2 })]);
    expect(lines[0]?.safetyFlags).toEqual([]);
  });

  it('exits 0 when every line is valid, and accepts case-insensitive ids without hyphens', async () => {
    const { code, stdout, stderr } = await run(
      ['score', '--instrument', 'Gad7'],
      '{"responses":[1,1,1,1,1,1,1]}\n',
    );
    expect(code).toBe(0);
    expect(ndjson(stdout)[0]).toMatchObject({ instrument: 'gad7', total: 7, severity: 'mild' });
    expect(stderr).toContain('1 records (GAD-7): 1 complete');
  });

  it('reads a file argument', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kapkit-score-'));
    const file = join(dir, 'in.ndjson');
    writeFileSync(file, '{"id":"z","responses":[0,0,0,0,0,0,0,0,0]}\n');
    const { code, stdout } = await run(['score', '-i', 'phq9', file]);
    expect(code).toBe(0);
    expect(ndjson(stdout)[0]).toMatchObject({ id: 'z', total: 0, severity: 'minimal' });
  });

  it('fails with exit code 2 and a clear message for an unknown instrument or a missing file', async () => {
    const unknown = await run(['score', '-i', 'BDI-II'], '');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown instrument "BDI-II".*phq9/);
    const missing = await run(['score', '-i', 'phq9', '/nonexistent/answers.ndjson']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read input file "/nonexistent/answers.ndjson"');
  });

  it('requires --instrument', async () => {
    const { code, stderr } = await run(['score'], '');
    expect(code).toBe(2);
    expect(stderr).toContain("required option '-i, --instrument <id>' not specified");
  });
});

describe('kapkit binary', () => {
  it('prints help through the installed bin script', async () => {
    const bin = join(import.meta.dirname, '..', 'bin', 'kapkit.js');
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--help']);
    expect(stdout).toContain('Usage: kapkit');
    expect(stdout).toContain('score [options] [file]');
  });

  it('lists instruments', async () => {
    const { code, stdout } = await run(['instruments', '--json']);
    expect(code).toBe(0);
    const ids = (JSON.parse(stdout) as { id: string }[]).map((r) => r.id);
    expect(ids).toContain('phq9');
    expect(ids).toContain('gad7');
  });
});
