import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/markdown.js';

/*
 * docs/recipes/duckdb.sql, run in DuckDB over the Parquet export of a demo cohort, gives the cohort figures of
 * `kapkit analyze --json` on the same log: counts exactly, means and SDs to 1e-9.
 */

const run = promisify(execFile);
const bin = join(repoRoot, 'packages', 'cli', 'bin', 'kapkit.js');
const work = mkdtempSync(join(tmpdir(), 'kapkit-duckdb-recipe-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function kapkit(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    maxBuffer: 256 * 2 ** 20,
  });
}

interface InstrumentFigures {
  patients: number;
  evaluable: number;
  baseline: { mean: number; sd: number };
  latest: { mean: number; sd: number };
  responders: number;
  remitters: number;
  reliableChange: { improved: number; deteriorated: number };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe('docs/recipes/duckdb.sql', () => {
  for (const deidentify of [true, false]) {
    it(`agrees with kapkit analyze --json on a demo cohort (${deidentify ? 'de-identified' : 'identified'} export)`, async () => {
      const log = join(work, `demo-${deidentify}.ndjson`);
      const out = join(work, `export-${deidentify}`);
      await kapkit(['demo-data', '--patients', '200', '--seed', 'duckdb', '-o', log]);
      await kapkit(
        [
          'export',
          log,
          '--format',
          'parquet',
          '-o',
          out,
          ...(deidentify ? ['--deidentify', '--key-env', 'KAPKIT_RECIPE_KEY'] : []),
        ],
        { KAPKIT_RECIPE_KEY: 'duckdb-recipe-test-key-0123456789abcdef' },
      );
      // A de-identified (research) export leaves out the episodes whose patient withdrew consent to research
      // use (counted in the manifest): analyze the same log without them.
      const lines = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
      const withdrawn = new Set(
        lines
          .map((l) => JSON.parse(l) as { type: string; episodeId: string; scope?: string[] })
          .filter((e) => e.type === 'ConsentWithdrawn' && e.scope?.includes('research-use'))
          .map((e) => e.episodeId),
      );
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.input.episodesConsentWithdrawn).toBe(deidentify ? withdrawn.size : 0);
      let analysedLog = log;
      if (deidentify) {
        expect(withdrawn.size).toBeGreaterThan(0);
        analysedLog = join(work, 'demo-research.ndjson');
        writeFileSync(
          analysedLog,
          `${lines.filter((l) => !withdrawn.has((JSON.parse(l) as { episodeId: string }).episodeId)).join('\n')}\n`,
        );
      }
      const analyzed = JSON.parse((await kapkit(['analyze', '--json', analysedLog])).stdout) as {
        instruments: Record<string, InstrumentFigures>;
      };

      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      try {
        await connection.run(`SET file_search_path = '${out.replaceAll("'", "''")}'`);
        const sql = readFileSync(join(repoRoot, 'docs', 'recipes', 'duckdb.sql'), 'utf8');
        const rows = (await connection.runAndReadAll(sql)).getRowObjectsJS();
        const byInstrument = new Map(rows.map((r) => [String(r.instrument), r]));
        const expected = Object.entries(analyzed.instruments);
        expect(expected.length).toBeGreaterThan(0);
        expect([...byInstrument.keys()].sort()).toEqual(expected.map(([id]) => id).sort());
        for (const [id, a] of expected) {
          const r = byInstrument.get(id)!;
          const n = (k: string) => Number(r[k]);
          expect({
            id,
            patients: n('patients'),
            evaluable: n('evaluable'),
            responders: n('responders'),
            remitters: n('remitters'),
            improved: n('reliable_improved'),
            deteriorated: n('reliable_deteriorated'),
          }).toEqual({
            id,
            patients: a.patients,
            evaluable: a.evaluable,
            responders: a.responders,
            remitters: a.remitters,
            improved: a.reliableChange.improved,
            deteriorated: a.reliableChange.deteriorated,
          });
          for (const [k, v] of [
            ['baseline_mean', a.baseline.mean],
            ['baseline_sd', a.baseline.sd],
            ['latest_mean', a.latest.mean],
            ['latest_sd', a.latest.sd],
          ] as const) {
            expect(close(n(k), v), `${id} ${k}: ${n(k)} vs ${v}`).toBe(true);
          }
        }
      } finally {
        connection.closeSync();
        db.closeSync();
      }
    });
  }
});
