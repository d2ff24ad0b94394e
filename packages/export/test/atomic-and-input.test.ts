import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, exportEvents, isTempName } from '../src/index.js';
import {
  cohort,
  exportCollectingProblems,
  interleave,
  listFiles,
  ndjson,
  streamOf,
  tempDir,
} from './support.js';

/** A stream that gives `text` for a while, then fails like a broken disk or network would. */
function failingAfter(text: string, chunks: number): Readable {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += 2048) parts.push(text.slice(i, i + 2048));
  let n = 0;
  return new Readable({
    read() {
      if (n < chunks && n < parts.length) this.push(parts[n++]);
      else this.destroy(new Error('simulated read failure'));
    },
  });
}

const log = ndjson(interleave(...cohort(12)));

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(listFiles(dir).map((f) => [f, readFileSync(join(dir, f), 'latin1')]));
}

describe('atomic writes', () => {
  it.each(EXPORT_FORMATS)('a failure mid-export leaves no file, final or temporary (%s)', async (format) => {
    const dir = tempDir();
    await expect(exportEvents(failingAfter(log, 40), { format, outDir: dir })).rejects.toThrow(
      'simulated read failure',
    );
    expect(listFiles(dir)).toEqual([]);
  });

  it.each(EXPORT_FORMATS)(
    'an earlier export in the same directory survives a failed one intact (%s)',
    async (format) => {
      const dir = tempDir();
      await exportEvents(streamOf(log), { format, outDir: dir });
      const before = snapshot(dir);
      await expect(exportEvents(failingAfter(log, 40), { format, outDir: dir })).rejects.toThrow();
      expect(snapshot(dir)).toEqual(before);
    },
  );

  it('an abort (Ctrl-C in the CLI) removes the temporary files and rejects with an AbortError', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const run = exportEvents(streamOf(log), {
      format: 'csv',
      outDir: dir,
      signal: controller.signal,
      progressEvery: 50,
      onProgress: (p) => {
        if (p.lines >= 200) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(listFiles(dir)).toEqual([]);
  });

  it('an abort while the input is idle (a quiet pipe) ends the export too', async () => {
    const dir = tempDir();
    const input = new PassThrough();
    input.write(log.slice(0, 5000));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(
      exportEvents(input, { format: 'ndjson', outDir: dir, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(listFiles(dir)).toEqual([]);
  });

  it('a failure while renaming removes what this run had already renamed (no partial export)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'episodes.csv')); // the rename of the third table will fail
    await expect(exportEvents(streamOf(log), { format: 'csv', outDir: dir })).rejects.toThrow();
    expect(listFiles(join(dir))).toEqual([]); // assessments.csv and dosing_sessions.csv were rolled back
    expect(listFiles(dir).filter(isTempName)).toEqual([]);
  });

  it('files appear only at the end: while rows are being written, only hidden temporary files exist', async () => {
    const dir = tempDir();
    const seen: string[][] = [];
    await exportEvents(streamOf(log), {
      format: 'ndjson',
      outDir: dir,
      progressEvery: 100,
      onProgress: () => seen.push(listFiles(dir)),
    });
    expect(seen.length).toBeGreaterThan(2);
    for (const files of seen) expect(files.every(isTempName)).toBe(true);
    expect(listFiles(dir).some(isTempName)).toBe(false);
  });
});

describe('the copy of a one-shot input', () => {
  /** The spooled copies (of this and any concurrent export) in the system's temporary folder, by folder. */
  function spooledCopies(): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const d of readdirSync(tmpdir()).filter((n) => n.startsWith('kapkit-export-input-'))) {
      const file = join(tmpdir(), d, 'input.ndjson');
      try {
        if (existsSync(file)) out.set(d, readFileSync(file));
      } catch {}
    }
    return out;
  }

  it('is encrypted on disk while the export reads it, and gone afterwards', async () => {
    const before = new Set(spooledCopies().keys());
    const seen: Buffer[] = [];
    const seenDirs: string[] = [];
    const dir = tempDir();
    await exportEvents(streamOf(log), {
      format: 'ndjson',
      outDir: dir,
      progressEvery: 1,
      onProgress: () => {
        if (seen.length > 0) return;
        for (const [d, bytes] of spooledCopies()) {
          if (before.has(d)) continue;
          seen.push(bytes);
          seenDirs.push(d);
        }
      },
    });
    expect(seen.length).toBeGreaterThan(0);
    for (const bytes of seen) {
      expect(bytes.length).toBeGreaterThan(0);
      expect(bytes.includes('pt-synthetic')).toBe(false);
      expect(bytes.includes('"episodeId"')).toBe(false);
    }
    expect(log).toContain('pt-synthetic');
    // Read back in clear: the export has every episode.
    expect(readFileSync(join(dir, 'episodes.ndjson'), 'utf8').trim().split('\n')).toHaveLength(12);
    for (const d of seenDirs) expect(existsSync(join(tmpdir(), d)), d).toBe(false);
  });
});

describe('bad input', () => {
  const good = new Story('ep-1', 'pt-1').fullCourse().events;

  function withProblems() {
    const lines: (Record<string, unknown> | string)[] = [...good];
    lines.splice(3, 0, '{"broken": '); // line 4
    lines.splice(5, 0, ''); // line 6: blank, skipped
    lines.splice(7, 0, '[1,2,3]'); // line 8
    lines.splice(9, 0, { ...good[0], id: 'ep-1-x', type: 'FitAssessed', outcome: 'maybe' }); // line 10: invalid
    lines.splice(11, 0, { ...good[6], id: 'ep-1-again', type: 'EpisodeOpened' }); // line 12: opened twice
    // Second to last, before the completion: dated before the episode was opened.
    lines.splice(lines.length - 1, 0, { ...good[2], id: 'late', at: '2026-01-01T00:00:00Z' });
    return lines;
  }

  it('reports every excluded line with its number, code and reason, and still exports the rest', async () => {
    const dir = tempDir();
    const { manifest, problems } = await exportCollectingProblems(
      `\ufeff${ndjson(withProblems()).replace(/\n/g, '\r\n')}`,
      { format: 'ndjson', outDir: dir },
    );
    expect(problems.map((p) => [p.line, p.code])).toEqual([
      [4, 'invalid-json'],
      [8, 'invalid-event'],
      [10, 'invalid-event'],
      [12, 'already-opened'],
      [good.length + 5, 'episode-not-opened'],
    ]);
    expect(problems[2]!.message).toContain('outcome');
    expect(problems[4]!.message).toContain('2026-01-01T00:00:00Z'); // identified exports say exactly why
    expect(manifest.input).toMatchObject({
      lines: good.length + 6,
      records: good.length + 5,
      accepted: good.length,
      refused: 2,
      malformed: 3,
      excluded: 5,
      problemsByCode: { 'invalid-json': 1, 'invalid-event': 2, 'already-opened': 1, 'episode-not-opened': 1 },
      problemsTruncated: false,
      episodes: 1,
    });
    expect(manifest.input.problems).toEqual(problems.map(({ line, code }) => ({ line, code })));
    expect(readFileSync(join(dir, 'assessments.ndjson'), 'utf8').trim().split('\n')).toHaveLength(6);
  });

  it('lists at most 1,000 excluded lines in the manifest and counts them all', async () => {
    const text = `${Array.from({ length: 1200 }, (_, i) => `not json ${i}`).join('\n')}\n`;
    const { manifest } = await exportEvents(streamOf(text), { format: 'csv', outDir: tempDir() });
    expect(manifest.input.malformed).toBe(1200);
    expect(manifest.input.problems).toHaveLength(1000);
    expect(manifest.input.problemsTruncated).toBe(true);
  });

  it('an empty input gives empty tables (header only in CSV), a codebook and a manifest', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'unrelated.txt'), 'left alone');
    const { manifest } = await exportEvents(streamOf(''), { format: 'csv', outDir: dir });
    expect(manifest.files.map((f) => f.rows)).toEqual([0, 0, 0, null]);
    expect(readFileSync(join(dir, 'episodes.csv'), 'utf8').split('\r\n')).toHaveLength(2);
    expect(readFileSync(join(dir, 'unrelated.txt'), 'utf8')).toBe('left alone');
  });
});
