import { createEpisodeModel, EPISODE_MACHINE_VERSION } from '@kapkit/core';
import { Story } from '@kapkit/testing';
import { expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { internalDb } from '../src/store.js';
import { allEvents, describeEngines, storePerTest } from './helpers.js';

/**
 * The EventStore contract, run against both engines, by topic (one file each, event-store*.test.ts): here
 * reading: the stream of every event, a patient's events, snapshots and replay. PostgreSQL connects to
 * KAPKIT_TEST_DATABASE_URL; each test gets a fresh schema (PGlite: in this file's on-disk PGlite, a temp
 * dir; PostgreSQL: on the server). Opening a PGlite data directory by `dataDir`, with its lock, is covered
 * by lock.test.ts and the reliability tests.
 */

const model = createEpisodeModel();

describeEngines('EventStore on $name', (engine) => {
  const each = storePerTest(engine.kind);

  it('streams every event in commit order, one page of batchSize at a time', async () => {
    const a = new Story('ep-a', 'pt-a').readyToDose();
    const b = new Story('ep-b', 'pt-b').readyToDose();
    const c = new Story('ep-c', 'pt-c').readyToDose();
    const order: string[] = [];
    for (const [story, from, to] of [
      [a, 0, 5],
      [b, 0, 7],
      [a, 5, 11],
      [c, 0, 11],
      [b, 7, 11],
    ] as const) {
      const r = await each.store.append(story.episodeId, story.events.slice(from, to), {
        expectedVersion: from,
      });
      if (r.status === 'appended') order.push(...r.events.map((e) => e.event.id));
    }
    const db = internalDb(each.store);
    const query = db.query.bind(db);
    const pages: number[] = [];
    db.query = async (text, params) => {
      const rows = await query(text, params);
      if (text.includes('LIMIT')) pages.push(rows.length);
      return rows as never;
    };
    const streamed = await allEvents(each.store, { batchSize: 4 });
    db.query = query;
    expect(streamed.map((e) => e.event.id)).toEqual(order);
    expect(pages).toEqual([...Array(8).fill(4), 1]); // 33 events: 8 full pages, then one of 1
    for (let i = 1; i < streamed.length; i++) {
      expect(streamed[i]!.position).toBeGreaterThan(streamed[i - 1]!.position);
    }
    // Resume after a position: exactly the rest.
    const resumed = await allEvents(each.store, { fromPosition: streamed[9]!.position, batchSize: 5 });
    expect(resumed).toEqual(streamed.slice(10));
    expect(() => each.store.streamAll({ batchSize: 0 })).toThrow(InvalidArgumentError);
  });

  it('reads every event of one patient across episodes, in commit order', async () => {
    const first = new Story('ep-1', 'pt-a').readyToDose();
    const other = new Story('ep-2', 'pt-b').readyToDose();
    const second = new Story('ep-3', 'pt-a', Date.parse('2026-09-01T10:00:00-05:00')).readyToDose();
    await each.store.append('ep-1', first.events.slice(0, 6), { expectedVersion: 0 });
    await each.store.append('ep-2', other.events, { expectedVersion: 0 });
    await each.store.append('ep-3', second.events.slice(0, 3), { expectedVersion: 0 });
    await each.store.append('ep-1', first.events.slice(6), { expectedVersion: 6 });
    const read = await each.store.readPatient('pt-a');
    expect(read.map((e) => e.event.id)).toEqual([
      ...first.events.slice(0, 6).map((e) => e.id),
      ...second.events.slice(0, 3).map((e) => e.id),
      ...first.events.slice(6).map((e) => e.id),
    ]);
    expect(read.every((e) => e.event.patientId === 'pt-a')).toBe(true);
    expect(await each.store.readPatient('pt-nobody')).toEqual([]);
  });

  it('loads an episode from its snapshot and replays only the events after it', async () => {
    await each.store.close();
    each.store = await each.fx.open({ snapshotEvery: 5, stateCacheSize: 0 });
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events, { expectedVersion: 0 }); // 11 ≥ 5: snapshot at 11
    const from = story.events.length;
    story.dosingSession(14);
    await each.store.append('ep-1', story.since(from).slice(0, 2), { expectedVersion: 11 }); // 2 < 5: none
    const loaded = await each.store.loadEpisode('ep-1');
    expect(loaded).toMatchObject({ version: 13, source: 'snapshot', replayed: 2 });
    expect(loaded.state.context).toEqual(model.replay(story.events.slice(0, 13)).state.context);

    // The state really comes from the snapshot row: a (synthetic) edit of it shows through.
    const db = internalDb(each.store);
    const [row] = await db.query<{ snapshot: { context: { plan: { plannedDosingSessions: number } } } }>(
      `SELECT snapshot FROM "${each.store.schema}".kapkit_snapshots WHERE episode_id = 'ep-1'`,
    );
    row!.snapshot.context.plan.plannedDosingSessions = 42;
    await db.query(`UPDATE "${each.store.schema}".kapkit_snapshots SET snapshot = $1::jsonb`, [
      JSON.stringify(row!.snapshot),
    ]);
    expect((await each.store.loadEpisode('ep-1')).state.context.plan?.plannedDosingSessions).toBe(42);
  });

  it('rebuilds an episode by replay when its snapshot was made by another machine version', async () => {
    await each.store.close();
    each.store = await each.fx.open({ snapshotEvery: 5, stateCacheSize: 0 });
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events, { expectedVersion: 0 });
    const db = internalDb(each.store);
    const snapshots = `"${each.store.schema}".kapkit_snapshots`;
    const expected = model.replay(story.events).state.context;

    // An older machine's snapshot: ignored, replaced by a replay, and rewritten for this machine.
    await db.query(`UPDATE ${snapshots} SET machine_version = $1, snapshot = '{"bogus":true}'::jsonb`, [
      EPISODE_MACHINE_VERSION - 1,
    ]);
    const rebuilt = await each.store.loadEpisode('ep-1');
    expect(rebuilt).toMatchObject({ version: 11, source: 'replay', replayed: 11 });
    expect(rebuilt.state.context).toEqual(expected);
    const [row] = await db.query<{ machine_version: number; version: number }>(
      `SELECT machine_version, version FROM ${snapshots}`,
    );
    expect(row).toEqual({ machine_version: EPISODE_MACHINE_VERSION, version: 11 });
    expect(await each.store.loadEpisode('ep-1')).toMatchObject({ source: 'snapshot', replayed: 0 });

    // A newer machine's snapshot: this machine cannot restore it, so it replays, and leaves it in place.
    await db.query(`UPDATE ${snapshots} SET machine_version = $1`, [EPISODE_MACHINE_VERSION + 1]);
    expect(await each.store.loadEpisode('ep-1')).toMatchObject({ source: 'replay', replayed: 11 });
    const [kept] = await db.query<{ machine_version: number }>(`SELECT machine_version FROM ${snapshots}`);
    expect(kept!.machine_version).toBe(EPISODE_MACHINE_VERSION + 1);

    // Appends still work from the replayed state.
    const from = story.events.length;
    story.dosingSession(14);
    expect(await each.store.append('ep-1', story.since(from), { expectedVersion: 11 })).toMatchObject({
      version: 16,
    });
  });
});
