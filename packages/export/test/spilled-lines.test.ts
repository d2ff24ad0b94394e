import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Story } from '@kapkit/testing';
import { describe, expect, it, vi } from 'vitest';
import { interleave, ndjson, streamOf, tempDir } from './support.js';

/** Every file of an export folder, by name. */
function folder(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), 'latin1')]));
}

describe('lines of episodes under way spilled to a temporary file', () => {
  it('export exactly the files of an export that held them all in memory', async () => {
    const stories = Array.from({ length: 120 }, (_, k) =>
      new Story(`ep-${k}`, `pt-synthetic-${k}`, Date.parse('2026-03-02T10:00:00Z') + k * 60_000).fullCourse(),
    );
    const log = ndjson(interleave(...stories));
    const run = async () => {
      const { exportEvents } = await import('../src/index.js');
      const outDir = tempDir();
      let most = 0;
      await exportEvents(streamOf(log), {
        format: 'csv',
        outDir,
        deidentify: { key: 'a-test-key-that-is-not-secret-0123456789' },
        onProgress: (p) => (most = Math.max(most, p.openEpisodes)),
        progressEvery: 1,
      });
      return { files: folder(outDir), most };
    };
    const held = await run();
    // Spill from the first byte: every full chunk of every episode goes through the file.
    vi.resetModules();
    let spilledBytes = 0;
    vi.doMock('../src/stages/pending.js', async (original) => {
      const actual = await original<typeof import('../src/stages/pending.js')>();
      class CountingSpillFile extends actual.SpillFile {
        override append(bytes: Uint8Array): number {
          spilledBytes += bytes.length;
          return super.append(bytes);
        }
      }
      return { ...actual, SPILL_ABOVE_BYTES: -1, SpillFile: CountingSpillFile };
    });
    const spilled = await run();
    vi.doUnmock('../src/stages/pending.js');
    expect(held.most).toBeGreaterThan(100);
    expect(spilledBytes).toBeGreaterThan(log.length / 2);
    expect(Object.keys(spilled.files).sort()).toEqual([
      'assessments.csv',
      'codebook.md',
      'dosing_sessions.csv',
      'episodes.csv',
      'manifest.json',
    ]);
    expect(spilled.files).toEqual(held.files);
  });
});
