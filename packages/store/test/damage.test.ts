import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Story } from '@kapkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStore } from '../src/check.js';
import { StoreDamagedError } from '../src/errors.js';
import { LOCK_FILE } from '../src/lock.js';
import { openStore } from '../src/open.js';
import { migrations, SCHEMA_VERSION, tablesIn } from '../src/schema.js';
import type { EventStore } from '../src/store-types.js';
import { batchOf10, opened } from './fixtures/log.mjs';
import { allEvents, copyTemplate, createFixture, describeEngines, type Fixture } from './helpers.js';

/**
 * Damage is detected, not read around. Positions are contiguous (taken from the meta row in the append's
 * transaction) and the meta row counts the events committed, so a reader that finds a gap, or fewer events
 * than recorded, fails with StoreDamagedError; a PGlite directory is checked when it opens, and PGlite's
 * opaque start-up failures are reported as a damaged directory.
 */

const all = (store: EventStore) => allEvents(store, { batchSize: 50 });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
}

/** Three synthetic episodes of 61 events each (183 events, a dozen table pages). */
async function populate(store: EventStore): Promise<void> {
  for (let e = 0; e < 3; e++) {
    const id = `ep-${e}`;
    const patient = `pt-synthetic-${e}`;
    let { version } = await store.append(id, [opened(id, patient)], { expectedVersion: 0 });
    for (let b = 0; b < 6; b++) {
      ({ version } = await store.append(id, batchOf10(id, patient, `${id}-b${b}`, version), {
        expectedVersion: version,
      }));
    }
  }
}

describe('a damaged PGlite directory', () => {
  let populated: string;
  let eventsFile: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    populated = copyTemplate();
    dirs.push(populated);
    const store = await openStore({ dataDir: populated });
    await populate(store);
    await store.close();
    const pg = await PGlite.create(join(populated, 'pgdata'));
    const [row] = (await pg.query<{ f: string }>(`SELECT pg_relation_filepath('kapkit_events') AS f`)).rows;
    await pg.close();
    eventsFile = row!.f;
  }, 120_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const damagedCopy = (damage: (pgdata: string) => void): string => {
    const dir = mkdtempSync(join(tmpdir(), 'kapkit-store-damaged-'));
    dirs.push(dir);
    cpSync(populated, dir, { recursive: true });
    damage(join(dir, 'pgdata'));
    return dir;
  };
  const halve = (pgdata: string) => {
    const file = join(pgdata, eventsFile);
    truncateSync(file, 8192 * 4); // the first 4 pages of a dozen
  };

  it('refuses to open a store whose events table was cut short, naming the directory and the way out', async () => {
    const dir = damagedCopy(halve);
    const error = await rejection(openStore({ dataDir: dir }));
    expect(error).toBeInstanceOf(StoreDamagedError);
    expect(error).toMatchObject({ code: 'store-damaged', location: dir });
    const message = (error as Error).message;
    expect(message).toContain(dir);
    expect(message).toMatch(/Restore it from a backup/);
    expect(message).toMatch(/the store recorded committing 183/);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false); // the lock was released
  });

  it('makes streamAll, readEpisode and loadEpisode throw instead of returning part of the events', async () => {
    const dir = damagedCopy(halve);
    const store = await openStore({ dataDir: dir, checkOnOpen: false });
    try {
      const error = await rejection(all(store));
      expect(error).toBeInstanceOf(StoreDamagedError);
      // Either the page read hits the missing table pages (SQLSTATE XX001) or the stream stops short of
      // the last position recorded: both are reported as damage.
      expect((error as Error).message).toMatch(
        /streamAll(: the events stop at position \d+, the store recorded committing up to 183| failed: could not read block)/,
      );
      await expect(store.readEpisode('ep-2')).rejects.toBeInstanceOf(StoreDamagedError);
      await expect(store.loadEpisode('ep-2')).rejects.toBeInstanceOf(StoreDamagedError);
      const report = await checkStore(store);
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.area)).toContain('counts');
    } finally {
      await store.close();
    }
  });

  it('refuses a store whose events table file is empty, instead of reading nothing and appending on top', async () => {
    const dir = damagedCopy((pgdata) => truncateSync(join(pgdata, eventsFile), 0));
    const error = await rejection(openStore({ dataDir: dir }));
    expect(error).toMatchObject({ code: 'store-damaged' });
    expect((error as StoreDamagedError).problems).toContain(
      'the events table holds 0 events, the store recorded committing 183',
    );
  });

  it('refuses to upgrade a schema-1 store whose events table lost its last pages (no counts existed yet)', async () => {
    const dir = copyTemplate();
    dirs.push(dir);
    const t = tablesIn('legacy');
    const pg = await PGlite.create(join(dir, 'pgdata'));
    let file: string;
    try {
      await pg.exec(`CREATE SCHEMA legacy`);
      for (const statement of migrations[0]!.statements(t)) await pg.exec(statement);
      await pg.query(`INSERT INTO ${t.meta} (id, schema_version) VALUES (true, 1)`);
      await pg.query(`INSERT INTO ${t.migrations} (version, name) VALUES (1, 'events, snapshots, meta')`);
      // 200 rows of a schema-1 store (positions from its identity column), a dozen pages.
      await pg.query(
        `INSERT INTO ${t.events} (episode_id, version, event_id, patient_id, type, at, payload)
         SELECT 'ep-' || (g % 4), g / 4 + 1, 'e-' || g, 'pt-synthetic', 'AssessmentRecorded', now(),
           jsonb_build_object('id', 'e-' || g, 'filler', repeat('x', 300))
         FROM generate_series(0, 199) AS g`,
      );
      file = (await pg.query<{ f: string }>(`SELECT pg_relation_filepath('${t.events}') AS f`)).rows[0]!.f;
    } finally {
      await pg.close();
    }
    truncateSync(join(dir, 'pgdata', file), 8192 * 3);
    const error = await rejection(openStore({ dataDir: dir, schema: 'legacy' }));
    expect(error).toBeInstanceOf(StoreDamagedError);
    expect((error as Error).message).toMatch(/could not read block/);
  });

  it('reports a damaged pg_control or WAL (PGlite: "failed to initialize" / "Aborted()") as a damaged directory', async () => {
    const scribble = (file: string, offset: number, length: number) => {
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.alloc(length, 0x5a), 0, length, offset);
      closeSync(fd);
    };
    const control = damagedCopy((pgdata) => scribble(join(pgdata, 'global', 'pg_control'), 16, 64));
    const wal = damagedCopy((pgdata) =>
      scribble(join(pgdata, 'pg_wal', '000000010000000000000001'), 0, 32768),
    );
    for (const dir of [control, wal]) {
      const error = await rejection(openStore({ dataDir: dir }));
      expect(error).toBeInstanceOf(StoreDamagedError);
      expect((error as Error).message).toContain(`PGlite cannot start on ${join(dir, 'pgdata')}`);
      expect((error as Error).message).toMatch(/Restore it from a backup/);
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    }
  });
});

describeEngines('damage found by readers on $name', (engine) => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await createFixture(engine.kind);
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('keeps positions contiguous when an append fails after its INSERT (rolled back, no gap)', async () => {
    const store = await fx.open({ snapshotEvery: 1 });
    try {
      const story = new Story('ep-roll', 'pt-synthetic-roll').readyToDose();
      await store.append('ep-roll', story.events.slice(0, 2), { expectedVersion: 0 });
      // Make the snapshot write of the next append fail after its events were inserted.
      await fx.sql(`CREATE FUNCTION "${fx.schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'snapshot write refused for the test'; END $$`);
      await fx.sql(`CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON "${fx.schema}".kapkit_snapshots
        FOR EACH ROW EXECUTE FUNCTION "${fx.schema}".refuse()`);
      await expect(store.append('ep-roll', story.events.slice(2, 4), { expectedVersion: 2 })).rejects.toThrow(
        /snapshot write refused/,
      );
      await fx.sql(`DROP TRIGGER refuse ON "${fx.schema}".kapkit_snapshots`);
      await store.append('ep-roll', story.events.slice(2, 4), { expectedVersion: 2 });
      expect((await all(store)).map((e) => e.position)).toEqual([1, 2, 3, 4]);
    } finally {
      await store.close();
    }
  });

  it('fails streamAll, readEpisode, readPatient and loadEpisode on a missing event, naming it', async () => {
    const fx2 = await createFixture(engine.kind);
    const store = await fx2.open();
    try {
      await populate(store);
      // Version 55 of ep-1 is lost; so is its snapshot row (a cache), so a rebuild replays every event.
      await fx2.sql(`DELETE FROM "${fx2.schema}".kapkit_events WHERE episode_id = 'ep-1' AND version = 55`);
      const [before] = await fx2.sql<{ position: number }>(
        `SELECT position FROM "${fx2.schema}".kapkit_events WHERE episode_id = 'ep-1' AND version = 54`,
      );
      const position = Number(before!.position) + 1;
      const error = await rejection(all(store));
      expect(error).toBeInstanceOf(StoreDamagedError);
      expect((error as Error).message).toContain(`streamAll: position ${position} is missing`);
      await expect(store.readEpisode('ep-1')).rejects.toThrow(/episode "ep-1": version 55 is missing/);
      await expect(store.readPatient('pt-synthetic-1')).rejects.toThrow(/version 55 is missing/);
      // A store without this process's cached state rebuilds the episode from the table, and finds it.
      await fx2.sql(`DELETE FROM "${fx2.schema}".kapkit_snapshots WHERE episode_id = 'ep-1'`);
      const fresh = await fx2.open({ stateCacheSize: 0, checkOnOpen: false });
      try {
        await expect(fresh.loadEpisode('ep-1')).rejects.toThrow(
          /episode "ep-1" is at version 61, but 60 of its events 1..61 can be read/,
        );
      } finally {
        await fresh.close();
      }
      // Episodes untouched by the damage still read.
      expect((await store.readEpisode('ep-0')).length).toBe(61);
      const report = await checkStore(store, { amcheck: false });
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.area)).toEqual(
        expect.arrayContaining(['counts', 'positions', 'versions']),
      );
    } finally {
      await store.close();
      await fx2.cleanup();
    }
  });

  it('fails streamAll when the last events are missing: it stops short of the last position recorded', async () => {
    const fx2 = await createFixture(engine.kind);
    const store = await fx2.open();
    try {
      await store.append('ep-t', [opened('ep-t', 'pt-synthetic-t')], { expectedVersion: 0 });
      await store.append('ep-t', batchOf10('ep-t', 'pt-synthetic-t', 't-b1', 1), { expectedVersion: 1 });
      await fx2.sql(`DELETE FROM "${fx2.schema}".kapkit_events WHERE position > 9`);
      await expect(all(store)).rejects.toThrow(
        'streamAll: the events stop at position 9, the store recorded committing up to 11',
      );
    } finally {
      await store.close();
      await fx2.cleanup();
    }
  });

  it('migrates a schema-1 store with gaps in its positions: old gaps are allowed, missing events are not', async () => {
    const fx3 = await createFixture(engine.kind);
    try {
      const t = tablesIn(fx3.schema);
      await fx3.sql(`CREATE SCHEMA "${fx3.schema}"`);
      for (const statement of migrations[0]!.statements(t)) await fx3.sql(statement);
      await fx3.sql(`INSERT INTO ${t.migrations} (version, name) VALUES (1, 'events, snapshots, meta')`);
      await fx3.sql(`INSERT INTO ${t.meta} (id, schema_version) VALUES (true, 1)`);
      const story = new Story('ep-old', 'pt-synthetic-old').readyToDose();
      // Positions 1, 2, 5 (3 and 4 were used by rolled-back appends of schema 1).
      for (const [i, position] of [1, 2, 5].entries()) {
        // As a schema-1 store holds them: events of schema version 1 (upcast by the machine on replay).
        const e = story.events[i] as { id: string; type: string; at: string };
        await fx3.sql(
          `INSERT INTO ${t.events} (position, episode_id, version, event_id, patient_id, type, at, payload)
           OVERRIDING SYSTEM VALUE VALUES ($1, 'ep-old', $2, $3, 'pt-synthetic-old', $4, $5, $6)`,
          [position, i + 1, e.id, e.type, e.at, JSON.stringify(e)],
        );
      }
      const store = await fx3.open();
      try {
        expect(await store.schemaVersion()).toBe(SCHEMA_VERSION);
        expect((await all(store)).map((e) => e.position)).toEqual([1, 2, 5]);
        await store.append('ep-old', story.events.slice(3, 5), { expectedVersion: 3 });
        expect((await all(store)).map((e) => e.position)).toEqual([1, 2, 5, 6, 7]);
        expect((await checkStore(store, { amcheck: false })).ok).toBe(true);
        // An old event lost: the count of events up to the old positions no longer matches.
        await fx3.sql(`DELETE FROM ${t.events} WHERE position = 2`);
        await expect(all(store)).rejects.toThrow('2 events up to position 5, the store recorded 3');
      } finally {
        await store.close();
      }
    } finally {
      await fx3.cleanup();
    }
  });
});
