import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { ndjson, run } from './helpers.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('kapkit demo-data', () => {
  it('writes the same bytes for the same seed (and other bytes for another seed)', async () => {
    const a = await run(['demo-data', '--patients', '25', '--seed', '42', '--out', '-']);
    const b = await run(['demo-data', '--patients', '25', '--seed', '42', '--out', '-']);
    const c = await run(['demo-data', '--patients', '25', '--seed', '43', '--out', '-']);
    expect(a.code).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(1000);
    expect(sha256(b.stdout)).toBe(sha256(a.stdout));
    expect(sha256(c.stdout)).not.toBe(sha256(a.stdout));
  });

  it('writes the pinned bytes of the demo generator (@kapkit/testing)', async () => {
    // The same hash as the generator's own pin in packages/testing/test/demo-cohort.test.ts.
    const r = await run([
      'demo-data',
      '--patients',
      '5',
      '--seed',
      'pinned',
      '--start',
      '2026-01-05',
      '--out',
      '-',
    ]);
    expect(r.code).toBe(0);
    expect(sha256(r.stdout)).toBe('76fd32cae45670495f63c4c85033ea251ae14b39b61625f3099890d190e99672');
  });

  it('interleaves episodes in global time order by default; --no-interleave groups them by episode', async () => {
    const args = ['demo-data', '-n', '20', '-s', '5'];
    const interleaved = ndjson((await run(args)).stdout);
    const grouped = ndjson((await run([...args, '--no-interleave'])).stdout);
    const explicit = ndjson((await run([...args, '--interleave'])).stdout);
    expect(explicit).toEqual(interleaved);
    expect(grouped.length).toBe(interleaved.length);
    const times = interleaved.map((e) => Date.parse(e.at as string));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    const episodesOf = (events: Record<string, unknown>[]) =>
      events.map((e) => e.episodeId).filter((id, i, all) => i === 0 || all[i - 1] !== id);
    expect(episodesOf(grouped)).toEqual([...new Set(grouped.map((e) => e.episodeId))]);
    expect(episodesOf(interleaved).length).toBeGreaterThan(episodesOf(grouped).length);
    const key = (e: Record<string, unknown>) => e.id as string;
    expect(grouped.map(key).sort()).toEqual(interleaved.map(key).sort());
  });

  it('writes --out atomically to a file (no temporary file left) with a one-line summary on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kapkit-demo-'));
    const file = join(dir, 'events.ndjson');
    const r = await run(['demo-data', '--patients', '12', '--seed', '9', '--out', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir)).toEqual(['events.ndjson']);
    const text = readFileSync(file, 'utf8');
    const events = ndjson(text);
    expect(events.every((e) => e.synthetic === true)).toBe(true);
    expect(new Set(events.map((e) => e.patientId)).size).toBe(12);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`12 patients, 12 episodes, ${events.length} events, all synthetic`);
    const same = await run(['demo-data', '--patients', '12', '--seed', '9', '--out', '-']);
    expect(sha256(same.stdout)).toBe(sha256(text));
    // Overwriting an existing file works too.
    expect((await run(['demo-data', '-n', '3', '-s', '9', '-o', file])).code).toBe(0);
    expect(new Set(ndjson(readFileSync(file, 'utf8')).map((e) => e.patientId)).size).toBe(3);
  });

  it('follows a symbolic link, and writes a FIFO in place instead of renaming over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kapkit-demo-'));
    writeFileSync(join(dir, 'real.ndjson'), 'old\n');
    symlinkSync('real.ndjson', join(dir, 'link.ndjson'));
    expect((await run(['demo-data', '-n', '2', '-o', join(dir, 'link.ndjson')])).code).toBe(0);
    expect(lstatSync(join(dir, 'link.ndjson')).isSymbolicLink()).toBe(true);
    expect(ndjson(readFileSync(join(dir, 'real.ndjson'), 'utf8'))[0]?.type).toBe('EpisodeOpened');
    if (process.platform === 'win32') return;
    const fifo = join(dir, 'events.fifo');
    execFileSync('mkfifo', [fifo]);
    const received: Buffer[] = [];
    const reader = new Promise<void>((resolve, reject) => {
      createReadStream(fifo)
        .on('data', (b) => received.push(b as Buffer))
        .on('end', resolve)
        .on('error', reject);
    });
    const r = await run(['demo-data', '-n', '2', '-o', fifo]);
    await reader;
    expect(r.code).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(Buffer.concat(received).toString('utf8')).toBe((await run(['demo-data', '-n', '2'])).stdout);
  });

  it('stops quietly when the reader of stdout goes away (EPIPE)', async () => {
    let writes = 0;
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        writes++;
        if (writes < 2) callback();
        else callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const stderr = new PassThrough();
    const err: Buffer[] = [];
    stderr.on('data', (b: Buffer) => err.push(b));
    const code = await runCli(['demo-data', '-n', '500'], { stdin: Readable.from(['']), stdout, stderr });
    expect(code).toBe(0);
    expect(Buffer.concat(err).toString('utf8')).toContain('(output closed early)');
  });

  it('shifts the cohort with --start', async () => {
    const r = await run(['demo-data', '-n', '1', '-s', '1', '--start', '2024-06-03']);
    const first = ndjson(r.stdout)[0]!;
    expect((first.at as string).slice(0, 4)).toBe('2024');
    expect(first.type).toBe('EpisodeOpened');
  });

  it('fails with exit code 2 on bad options', async () => {
    for (const args of [
      ['--patients', '0'],
      ['--patients', 'ten'],
      ['--start', '2026-02-30'],
      ['--start', 'yesterday'],
      ['--out', '/nonexistent-dir/x.ndjson'],
    ]) {
      const r = await run(['demo-data', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^kapkit: /);
    }
  });

  it('documents every option in its help', async () => {
    const r = await run(['demo-data', '--help']);
    expect(r.code).toBe(0);
    for (const o of [
      '--patients <n>',
      '--seed <seed>',
      '--out <file>',
      '--start <date>',
      '--interleave',
      '--no-interleave',
    ]) {
      expect(r.stdout).toContain(o);
    }
  });
});
