import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { exportEvents, TABLE_NAMES } from '../src/index.js';
import { cohort, exportCollectingProblems, interleave, ndjson, streamOf, tempDir } from './support.js';

/** The rows of each table of an NDJSON export, sorted (the order of episodes differs between logs). */
function sortedTables(dir: string): Record<string, string[]> {
  return Object.fromEntries(
    TABLE_NAMES.map((t) => [
      t,
      readFileSync(join(dir, `${t}.ndjson`), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ]),
  );
}

describe('an interleaved log (episodes under way at the same time)', () => {
  it('exports the same rows as the same episodes one after another, with 200 episodes under way at once', async () => {
    // Enrolled a minute apart: every episode is under way while the others are.
    const stories = Array.from({ length: 200 }, (_, k) =>
      new Story(`ep-${k}`, `pt-synthetic-${k}`, Date.parse('2026-03-02T10:00:00Z') + k * 60_000).fullCourse(),
    );
    const grouped = tempDir();
    const interleaved = tempDir();
    const a = await exportEvents(streamOf(ndjson(stories.flatMap((s) => s.events))), {
      format: 'ndjson',
      outDir: grouped,
    });
    let most = 0;
    const b = await exportEvents(streamOf(ndjson(interleave(...stories))), {
      format: 'ndjson',
      outDir: interleaved,
      progressEvery: 1,
      onProgress: (p) => (most = Math.max(most, p.openEpisodes)),
    });
    expect(most).toBeGreaterThan(150);
    expect(b.manifest.input.accepted).toBe(a.manifest.input.accepted);
    expect(b.manifest.input.episodes).toBe(stories.length);
    expect(sortedTables(interleaved)).toEqual(sortedTables(grouped));
  });

  it('reports excluded lines in line order, although an episode is decided only once its last line is read', async () => {
    const events: (Record<string, unknown> | string)[] = interleave(...cohort(6));
    const first = events[0] as Record<string, unknown>;
    // Line 3: ep-1 opened twice (decided when ep-1 ends, near the end of the log).
    events.splice(2, 0, { ...first, id: 'ep-1-again' });
    events.splice(5, 0, '{"not json'); // line 6
    events.splice(9, 0, '[1]'); // line 10
    // Line 12: an episode id only in a nested object is no episode's: the line is refused on its own.
    events.splice(11, 0, { id: 'stray', type: 'FitAssessed', meta: { episodeId: 'ep-2' } });
    const { manifest, problems } = await exportCollectingProblems(ndjson(events), {
      format: 'csv',
      outDir: tempDir(),
    });
    expect(problems.map((p) => [p.line, p.code])).toEqual([
      [3, 'already-opened'],
      [6, 'invalid-json'],
      [10, 'invalid-event'],
      [12, 'invalid-event'],
    ]);
    expect(manifest.input.problems).toEqual(problems.map(({ line, code }) => ({ line, code })));
    // Codes in the order of their first line, as a reader of the log meets them.
    expect(Object.entries(manifest.input.problemsByCode)).toEqual([
      ['already-opened', 1],
      ['invalid-json', 1],
      ['invalid-event', 2],
    ]);
    expect(manifest.input.episodes).toBe(6);
  });
});
