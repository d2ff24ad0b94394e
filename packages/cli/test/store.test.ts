import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EpisodeEventInput } from '@kapkit/core';
import { type EventStore, openAccounts, openStore, type StoredEvent } from '@kapkit/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './helpers.js';

/**
 * kapkit store check | backup | restore on PGlite directories (each new PGlite directory costs an initdb,
 * about 15 s on a 2-core machine: the suite makes two). Synthetic data only.
 */

const dirs: string[] = [];
const temp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

async function all(store: EventStore): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.streamAll()) out.push(e);
  return out;
}

/**
 * A synthetic episode: opened, then `count - 1` PHQ-9 assessments a day apart (schema version 1 events, which
 * the episode machine upcasts). Built here rather than by the demo generator, so that this suite tests the
 * store commands only.
 */
function syntheticEpisode(episodeId: string, patientId: string, count: number): EpisodeEventInput[] {
  const at = (day: number) => `${new Date(Date.UTC(2026, 2, 2 + day, 15)).toISOString().slice(0, 19)}-05:00`;
  return Array.from({ length: count }, (_, i) => ({
    id: `${episodeId}-e${i + 1}`,
    episodeId,
    patientId,
    type: i === 0 ? 'EpisodeOpened' : 'AssessmentRecorded',
    at: at(i),
    v: 1,
    synthetic: true,
    ...(i === 0 ? {} : { instrument: 'phq9', responses: [1, 2, 1, 0, 1, (i % 3) as number, 1, 0, 0] }),
  })) as unknown as EpisodeEventInput[];
}

/** The password of the source store's one account. */
const PASSWORD = 'a long enough passphrase';
let source: string;
let original: StoredEvent[];
let eventsFile: string;

beforeAll(async () => {
  source = join(temp('kapkit-cli-store-'), 'store');
  const store = await openStore({ dataDir: source });
  for (let e = 0; e < 3; e++) {
    const events = syntheticEpisode(`ep-cli-${e}`, `pt-synthetic-cli-${e}`, 40);
    for (let i = 0; i < events.length; i += 20) {
      await store.append(`ep-cli-${e}`, events.slice(i, i + 20), { expectedVersion: i });
    }
  }
  original = await all(store);
  await openAccounts(store).createUser({ email: 'cli@clinic.example', role: 'admin', password: PASSWORD }, 0);
  // Load the store command (and what it imports) here, under the hook's longer timeout, not in the first test.
  await import('../src/commands/store.js');
  // The events table's file, to damage a copy (through the store's internal database handle).
  const internal = store as unknown as { db: { query(text: string): Promise<{ f: string }[]> } };
  const rows = await internal.db.query(`SELECT pg_relation_filepath('kapkit_events') AS f`);
  eventsFile = rows[0]!.f;
  await store.close();
}, 180_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('kapkit store check', () => {
  // One check (one PGlite start) a test: each starts a database in this process, slow on a busy machine.
  it('reports a healthy store: events, episodes, amcheck, exit 0', async () => {
    const { code, stdout } = await run(['store', 'check', source]);
    expect(code).toBe(0);
    expect(stdout).toContain(`events: ${original.length} in 3 episodes, last position ${original.length}`);
    expect(stdout).toMatch(/amcheck: passed/);
    expect(stdout).toMatch(/^ok: /m);
  });

  it('reports a healthy store as JSON with --json', async () => {
    const json = await run(['store', 'check', source, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, events: original.length, problems: [] });
  });

  it('reports a damaged store with its problems and exit 1, without reading around the damage', async () => {
    const damaged = join(temp('kapkit-cli-damaged-'), 'store');
    cpSync(source, damaged, { recursive: true });
    truncateSync(join(damaged, 'pgdata', eventsFile), 8192);
    const { code, stdout } = await run(['store', 'check', damaged]);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /problem: counts: the events table holds \d+ events, the store recorded committing/,
    );
    expect(stdout).toMatch(/^damaged: .*kapkit store restore/m);
    // A backup of it is refused too.
    const backup = await run(['store', 'backup', damaged, join(temp('kapkit-cli-b-'), 'b.ndjson')]);
    expect(backup.code).toBe(1);
    expect(backup.stderr).toMatch(/store-damaged: .*Restore it from a backup/);
  });

  it('refuses a directory that holds no store, and does not create one (exit 2)', async () => {
    const missing = join(temp('kapkit-cli-missing-'), 'nothing-here');
    const { code, stderr } = await run(['store', 'check', missing]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/There is no kapkit store/);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('kapkit store backup and restore', () => {
  it('backs up to a file readable by its owner only, refuses to overwrite it, and restores the same events', {
    timeout: 240_000,
  }, async () => {
    const out = temp('kapkit-cli-backup-');
    const file = join(out, 'kapkit.backup.ndjson.gz');
    const backup = await run(['store', 'backup', source, file]);
    expect(backup.code).toBe(0);
    expect(backup.stderr).toMatch(new RegExp(`${original.length} events of 3 episodes`));
    expect(backup.stderr).toMatch(/; clinic tables: users 1; SHA-256 [0-9a-f]{64}\n/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect([...readFileSync(file).subarray(0, 2)]).toEqual([0x1f, 0x8b]); // gzip
    expect((await run(['store', 'backup', source, file])).code).toBe(2);
    expect((await run(['store', 'backup', source, file, '--force'])).code).toBe(0);

    const target = join(temp('kapkit-cli-restore-'), 'restored');
    const restore = await run(['store', 'restore', file, target]);
    expect(restore.stderr).toMatch(new RegExp(`${original.length} events of 3 episodes`));
    expect(restore.stderr).toMatch(/; clinic tables: users 1/);
    expect(restore.code).toBe(0);
    const restored = await openStore({ dataDir: target });
    try {
      expect(await all(restored)).toEqual(original);
      // The account came back with its password hash.
      expect(
        await openAccounts(restored).verifySignIn('cli@clinic.example', PASSWORD, 0, {
          maxFailures: 3,
          lockMs: 1,
        }),
      ).toMatchObject({ ok: true });
    } finally {
      await restored.close();
    }
    expect((await run(['store', 'check', target])).code).toBe(0);
    // Never over an existing store.
    const again = await run(['store', 'restore', file, target]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/it is not empty/);
  });

  it('refuses a truncated backup before creating anything (exit 2)', async () => {
    const out = temp('kapkit-cli-trunc-');
    const file = join(out, 'b.ndjson');
    expect((await run(['store', 'backup', source, file])).code).toBe(0);
    const lines = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, lines.slice(0, 5).join('\n'));
    const target = join(out, 'restored');
    const { code, stderr } = await run(['store', 'restore', file, target]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/invalid-backup: .*truncated/);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a PostgreSQL schema that holds no store (URL targets take --schema)', async (context) => {
    const url = process.env.KAPKIT_TEST_DATABASE_URL;
    if (!url) {
      if (process.env.CI) throw new Error('KAPKIT_TEST_DATABASE_URL is not set: CI must run this test');
      context.skip('KAPKIT_TEST_DATABASE_URL is not set');
      return;
    }
    const { code, stderr } = await run(['store', 'check', url, '--schema', `kapkit_cli_none_${process.pid}`]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/There is no kapkit store in schema "kapkit_cli_none_\d+"/);
  });
});
