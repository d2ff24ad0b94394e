import { rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { Story } from '@kapkit/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  backupStore,
  inspectBackup,
  restoreStore,
} from '../src/backup.js';
import { checkStore } from '../src/check.js';
import { InvalidBackupError, StoreConfigError, StoreDamagedError } from '../src/errors.js';
import { openStore } from '../src/open.js';
import { SCHEMA_VERSION } from '../src/schema.js';
import type { EventStore } from '../src/store-types.js';
import { batchOf10, opened } from './fixtures/log.mjs';
import {
  allEvents,
  copyTemplate,
  createFixture,
  describeEngines,
  ENGINES,
  type Fixture,
  PG_URL,
  requireEngine,
} from './helpers.js';

/**
 * Backups (logical NDJSON: header, one line per event with position, version and commit time, a trailer
 * with the count and a SHA-256) and the full check. A restore gives back exactly the same stream of events;
 * a truncated or altered backup, a non-empty target and a damaged source are refused.
 */

/** Every event, read in batches of 7 (a batch boundary falls inside the stream). */
const all = (store: EventStore) => allEvents(store, { batchSize: 7 });

/** A backup of `store` as text. */
async function backupText(store: EventStore): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await backupStore(store, out, { batchSize: 9 });
  out.end();
  return Buffer.concat(chunks).toString('utf8');
}

const linesOf = (text: string) => text.split('\n').filter((l) => l !== '');

/** Two synthetic patients: one episode through two dosing sessions, one opened with an assessment batch. */
async function populate(store: EventStore): Promise<void> {
  const story = new Story('ep-a', 'pt-synthetic-a')
    .readyToDose()
    .dosingSession(14)
    .integration(15)
    .dosingSession(21);
  for (let i = 0; i < story.events.length; i += 5) {
    await store.append('ep-a', story.events.slice(i, i + 5), { expectedVersion: i });
  }
  await store.append('ep-b', [opened('ep-b', 'pt-synthetic-b')], { expectedVersion: 0 });
  await store.append('ep-b', batchOf10('ep-b', 'pt-synthetic-b', 'b-b1', 1), { expectedVersion: 1 });
}

describeEngines('backup, restore and check on $name', (engine) => {
  let source: Fixture;
  let target: Fixture;
  let store: EventStore;
  let restored: EventStore;
  beforeEach(async () => {
    source = await createFixture(engine.kind);
    target = await createFixture(engine.kind);
    store = await source.open();
    restored = await target.open();
  });
  afterEach(async () => {
    await store.close();
    await restored.close();
    await source.cleanup();
    await target.cleanup();
  });

  it('restores a backup to exactly the same stream of events, and the restored store appends after it', async () => {
    await populate(store);
    const text = await backupText(store);
    const lines = linesOf(text);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      schemaVersion: SCHEMA_VERSION,
    });
    const original = await all(store);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ end: true, events: original.length });
    expect(lines.length).toBe(original.length + 2);

    const summary = await restoreStore(restored, PassThrough.from([text]), { batchSize: 4 });
    expect(summary).toMatchObject({ events: original.length, episodes: 2, lastPosition: original.length });
    expect(await all(restored)).toEqual(original);
    expect((await restored.loadEpisode('ep-a')).state.context).toEqual(
      (await store.loadEpisode('ep-a')).state.context,
    );
    const next = await restored.append('ep-b', batchOf10('ep-b', 'pt-synthetic-b', 'b-b2', 11), {
      expectedVersion: 11,
    });
    expect(next.status === 'appended' && next.events[0]!.position).toBe(original.length + 1);
    expect((await checkStore(restored, { amcheck: false })).ok).toBe(true);
  });

  it('refuses a truncated backup and leaves the target empty', async () => {
    await populate(store);
    const lines = linesOf(await backupText(store));
    // Without a store, the file alone: complete, or not.
    expect(await inspectBackup([`${lines.join('\n')}\n`])).toMatchObject({
      events: 33,
      episodes: 2,
      lastPosition: 33,
    });
    for (const cut of [lines.slice(0, -1), lines.slice(0, 10), [lines[0]!]]) {
      await expect(inspectBackup([cut.join('\n')])).rejects.toThrow(/truncated/);
      const error = await restoreStore(restored, [cut.join('\n')]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidBackupError);
      expect((error as Error).message).toMatch(/truncated/);
      expect(await all(restored)).toEqual([]);
    }
    expect((await checkStore(restored, { amcheck: false })).ok).toBe(true);
  });

  it('refuses a backup whose events were altered (SHA-256) or whose episode the machine refuses', async () => {
    await populate(store);
    const lines = linesOf(await backupText(store));
    const k = lines.findIndex((l) => l.includes('"responses":['));
    const altered = lines.map((l, i) =>
      i === k ? l.replace(/"responses":\[[^\]]*\]/, '"responses":[0,0,0,0,0,0,0,0,0]') : l,
    );
    expect(k).toBeGreaterThan(0);
    expect(altered[k]).not.toBe(lines[k]);
    await expect(restoreStore(restored, [altered.join('\n')])).rejects.toThrow(/SHA-256.*altered/);
    // An event out of its episode's order: version 2 of ep-a removed, the rest kept.
    const gap = lines.filter((l) => !(l.includes('"episodeId":"ep-a"') && l.includes('"version":2,')));
    await expect(restoreStore(restored, [gap.join('\n')])).rejects.toThrow(/version 3 where 2 was expected/);
    expect(await all(restored)).toEqual([]);
  });

  it('restores only into an empty store', async () => {
    await populate(store);
    const text = await backupText(store);
    await expect(restoreStore(store, [text])).rejects.toBeInstanceOf(StoreConfigError);
  });

  it('refuses to back up a damaged store rather than write an incomplete backup', async () => {
    await populate(store);
    await source.sql(`DELETE FROM "${source.schema}".kapkit_events WHERE position = 4`);
    const error = await backupText(store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreDamagedError);
    expect((error as Error).message).toMatch(/position 4 is missing/);
  });

  it('checks every event: parse, agreement with its row, replay, positions and versions', async () => {
    await populate(store);
    const healthy = await checkStore(store);
    expect(healthy).toMatchObject({
      ok: true,
      events: 33,
      episodes: 2,
      lastPosition: 33,
      schemaVersion: SCHEMA_VERSION,
    });
    expect(healthy.problems).toEqual([]);
    const t = `"${source.schema}".kapkit_events`;
    // An event that no longer parses, one whose row disagrees with it, one the machine refuses on replay.
    await source.sql(`UPDATE ${t} SET payload = payload - 'at' WHERE episode_id = 'ep-b' AND version = 3`);
    await source.sql(`UPDATE ${t} SET event_id = 'other-id' WHERE episode_id = 'ep-b' AND version = 4`);
    await source.sql(
      `UPDATE ${t} SET payload = jsonb_set(payload, '{type}', '"EpisodeOpened"') WHERE episode_id = 'ep-b' AND version = 5`,
    );
    const report = await checkStore(store, { amcheck: false });
    expect(report.ok).toBe(false);
    const found = report.problems.map((p) => [p.area, p.episodeId, p.version]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['event', 'ep-b', 3],
        ['replay', 'ep-b', 3],
        ['event', 'ep-b', 4],
        ['event', 'ep-b', 5],
        ['replay', 'ep-b', 5],
      ]),
    );
    // Codes and paths only, never what was answered.
    for (const p of report.problems) expect(p.message).not.toMatch(/responses|\[1,2/);
  });

  it('runs amcheck where the extension can be created, and leaves no extension behind', async (context) => {
    requireEngine(engine, context);
    await populate(store);
    const before = await source.sql<{ n: unknown }>(
      `SELECT count(*) AS n FROM pg_extension WHERE extname = 'amcheck'`,
    );
    const report = await checkStore(store);
    const after = await source.sql<{ n: unknown }>(
      `SELECT count(*) AS n FROM pg_extension WHERE extname = 'amcheck'`,
    );
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n));
    if (engine.kind === 'postgres') {
      // Debian's postgresql package ships amcheck (contrib); the test server's user is a superuser.
      expect(report.amcheck.status).toBe('passed');
      expect(report.amcheck.detail).toMatch(/indexes checked with bt_index_check/);
    } else {
      // This file's PGlite was started without the extension: the check says so and goes on.
      expect(report.amcheck.status).toBe('unavailable');
      expect(report.ok).toBe(true);
    }
  });
});

describe('backup and check across engines and on a PGlite directory', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('restores a PGlite backup into PostgreSQL with the same stream of events', async (context) => {
    requireEngine(ENGINES.find((e) => e.kind === 'postgres')!, context);
    const dir = copyTemplate();
    dirs.push(dir);
    const pglite = await openStore({ dataDir: dir });
    const target = await createFixture('postgres');
    const server = await target.open();
    try {
      await populate(pglite);
      await restoreStore(server, [await backupText(pglite)]);
      expect(await all(server)).toEqual(await all(pglite));
    } finally {
      await pglite.close();
      await server.close();
      await target.cleanup();
    }
    expect(PG_URL).toBeDefined();
  });

  it('runs the full check with amcheck on a PGlite directory it opens itself, without creating stores', async () => {
    const dir = copyTemplate();
    dirs.push(dir);
    const store = await openStore({ dataDir: dir });
    await populate(store);
    await store.close();
    const report = await checkStore({ dataDir: dir });
    expect(report).toMatchObject({ ok: true, engine: 'pglite', location: dir, events: 33 });
    expect(report.amcheck.status).toBe('passed');
    await expect(checkStore({ dataDir: `${dir}-missing` })).rejects.toThrow(/There is no kapkit store/);
  });
});
