import type { EpisodeEventInput } from '@kapkit/core';
import { Story } from '@kapkit/testing';
import { expect, it } from 'vitest';
import {
  ConcurrencyError,
  EventIdConflictError,
  SchemaTooNewError,
  StoreClosedError,
} from '../src/errors.js';
import { SCHEMA_VERSION } from '../src/schema.js';
import { internalDb } from '../src/store.js';
import { allEvents, describeEngines, rejection, storePerTest } from './helpers.js';

/**
 * The EventStore contract, run against both engines, by topic (one file each, event-store*.test.ts): here
 * the schema and its migrations, racing appends, close. PostgreSQL connects to KAPKIT_TEST_DATABASE_URL;
 * each test gets a fresh schema (PGlite: in this file's on-disk PGlite, a temp dir; PostgreSQL: on the
 * server). Opening a PGlite data directory by `dataDir`, with its lock, is covered by lock.test.ts and the
 * reliability tests.
 */

describeEngines('EventStore on $name', (engine) => {
  const each = storePerTest(engine.kind);

  it('records the schema version and each migration applied, once', async () => {
    expect(await each.store.schemaVersion()).toBe(SCHEMA_VERSION);
    const db = internalDb(each.store);
    const migrations = await db.query<{ version: number; name: string }>(
      `SELECT version, name FROM "${each.store.schema}".kapkit_migrations ORDER BY version`,
    );
    expect(migrations.map((m) => m.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    await each.store.close();
    each.store = await each.fx.open(); // reopening applies nothing new
    expect(
      await internalDb(each.store).query(`SELECT version FROM "${each.store.schema}".kapkit_migrations`),
    ).toHaveLength(SCHEMA_VERSION);
  });

  it('refuses to open a store made by a newer kapkit, and leaves it untouched', async () => {
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events, { expectedVersion: 0 });
    await internalDb(each.store).query(`UPDATE "${each.store.schema}".kapkit_meta SET schema_version = $1`, [
      SCHEMA_VERSION + 1,
    ]);
    await each.store.close();
    const error = await rejection(each.fx.open(), SchemaTooNewError);
    expect(error).toMatchObject({
      code: 'schema-too-new',
      found: SCHEMA_VERSION + 1,
      supported: SCHEMA_VERSION,
    });
    // Still refused (the version was not rewritten), and nothing else was touched.
    await rejection(each.fx.open(), SchemaTooNewError);
    expect(await each.fx.sql(`SELECT count(*)::int AS n FROM "${each.fx.schema}".kapkit_events`)).toEqual([
      { n: 11 },
    ]);
    expect(await each.fx.sql(`SELECT schema_version FROM "${each.fx.schema}".kapkit_meta`)).toEqual([
      { schema_version: SCHEMA_VERSION + 1 },
    ]);
    // Put it back so that afterEach has a store to close.
    await each.fx.sql(`UPDATE "${each.fx.schema}".kapkit_meta SET schema_version = $1`, [SCHEMA_VERSION]);
    each.store = await each.fx.open();
  });

  it('lets exactly one of several concurrent appends at the same expectedVersion win', async () => {
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events.slice(0, 1), { expectedVersion: 0 });
    const attempts = Array.from({ length: 8 }, (_, i) =>
      each.store.append(
        'ep-1',
        [{ ...(story.events[1] as Record<string, unknown>), id: `race-${i}` } as EpisodeEventInput],
        { expectedVersion: 1 },
      ),
    );
    const results = await Promise.allSettled(attempts);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    expect((await each.store.readEpisode('ep-1')).map((e) => e.version)).toEqual([1, 2]);
  });

  it('gives one of two episodes racing for the same new event id the event, the other EventIdConflictError', async () => {
    const a = new Story('ep-a', 'pt-a').add('EpisodeOpened').events[0]!;
    const b = new Story('ep-b', 'pt-b').add('EpisodeOpened').events[0]!;
    for (let round = 0; round < 5; round++) {
      const id = `shared-${round}`;
      const results = await Promise.allSettled([
        each.store.append(`ep-a${round}`, [{ ...a, id, episodeId: `ep-a${round}` }], { expectedVersion: 0 }),
        each.store.append(`ep-b${round}`, [{ ...b, id, episodeId: `ep-b${round}` }], { expectedVersion: 0 }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      // Never a unique-key violation from the database: the append sees the stored id and says why.
      expect(lost.reason).toBeInstanceOf(EventIdConflictError);
      expect((lost.reason as EventIdConflictError).conflicts[0]!.reason).toBe('other-episode');
    }
    expect(await allEvents(each.store)).toHaveLength(5);
  });

  it('refuses every call after close with StoreClosedError', async () => {
    await each.store.close();
    await each.store.close(); // idempotent
    await rejection(each.store.readEpisode('ep-1'), StoreClosedError);
    await rejection(each.store.append('ep-1', [], { expectedVersion: 0 }), StoreClosedError);
    each.store = await each.fx.open();
  });
});
