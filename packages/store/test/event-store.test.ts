import {
  createEpisodeModel,
  EPISODE_MACHINE_VERSION,
  type EpisodeEventInput,
  KapkitError,
  parseEvent,
} from '@kapkit/core';
import { Story } from '@kapkit/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConcurrencyError,
  EventIdConflictError,
  EventRefusedError,
  InvalidArgumentError,
  PayloadTooLargeError,
  SchemaTooNewError,
  StoreClosedError,
} from '../src/errors.js';
import { SCHEMA_VERSION } from '../src/schema.js';
import { internalDb } from '../src/store.js';
import type { EventStore } from '../src/store-types.js';
import { allEvents, closeSharedPglite, createFixture, ENGINES, type Fixture, IN_CI } from './helpers.js';

/**
 * The EventStore contract, run against both engines. PostgreSQL connects to KAPKIT_TEST_DATABASE_URL; each
 * test gets a fresh schema (PGlite: in this file's on-disk PGlite, a temp dir; PostgreSQL: on the server).
 * Opening a PGlite data directory by `dataDir`, with its lock, is covered by lock.test.ts and the
 * reliability tests.
 */

const model = createEpisodeModel();
afterAll(closeSharedPglite);
// As the machine accepts it: version 1 events are upcast to the current schema first.
const parse = (e: EpisodeEventInput) => parseEvent(e).data;

/** Expect `promise` to reject with an error of `type`, and return it. */
async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect(error).toBeInstanceOf(KapkitError);
  return error as T;
}

describe.each(ENGINES)('EventStore on $name', (engine) => {
  if (engine.missing && IN_CI) {
    // In CI the PostgreSQL suite must run: .ci/run starts a server and sets KAPKIT_TEST_DATABASE_URL.
    it('has a PostgreSQL server to test against (KAPKIT_TEST_DATABASE_URL)', () => {
      throw new Error(`${engine.missing}: CI must run the PostgreSQL suite (see .ci/run)`);
    });
    return;
  }
  if (engine.missing) {
    // Outside CI a developer may have no PostgreSQL server: skip, and say so.
    console.warn(
      `[@kapkit/store] skipping the ${engine.name} suite: ${engine.missing}. Start one with scripts/with-postgres.sh (see packages/store/README.md).`,
    );
  }

  describe.skipIf(engine.missing !== null)(`${engine.name}`, () => {
    let fx: Fixture;
    let store: EventStore;
    beforeEach(async () => {
      fx = await createFixture(engine.kind);
      store = await fx.open();
    });
    afterEach(async () => {
      await store.close();
      await fx.cleanup();
    });

    it('appends a new episode and reads it back in version order, as the machine accepted it', async () => {
      const story = new Story().readyToDose();
      const r = await store.append('ep-1', story.events, { expectedVersion: 0 });
      expect(r.status).toBe('appended');
      if (r.status !== 'appended') return;
      expect(r.version).toBe(11);
      expect(r.events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const read = await store.readEpisode('ep-1');
      expect(read).toEqual(r.events);
      // Stored with the schema's defaults applied (e.g. contraindications: [], baseline: true).
      expect(read.map((e) => e.event)).toEqual(story.events.map(parse));
      expect(read[3]!.event).toMatchObject({ type: 'MedicalEvaluationCompleted', contraindications: [] });
      for (let i = 1; i < read.length; i++) expect(read[i]!.position).toBeGreaterThan(read[i - 1]!.position);
      expect(Number.isNaN(Date.parse(read[0]!.committedAt))).toBe(false);
      expect(await store.version('ep-1')).toBe(11);
      expect(await store.readEpisode('ep-1', { fromVersion: 10 })).toEqual(read.slice(9));
    });

    it('checks each append against the state the previous appends left', async () => {
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events, { expectedVersion: 0 });
      const from = story.events.length;
      story.dosingSession(14);
      const r = await store.append('ep-1', story.since(from), { expectedVersion: 11 });
      expect(r).toMatchObject({ status: 'appended', version: 16 });
      const loaded = await store.loadEpisode('ep-1');
      expect(loaded.version).toBe(16);
      expect(model.phaseOf(loaded.state)).toBe('dosing-course');
      expect(loaded.state.context).toEqual(model.replay(story.events).state.context);
    });

    it('loads an unknown episode as the initial state at version 0', async () => {
      const loaded = await store.loadEpisode('nobody');
      expect(loaded.version).toBe(0);
      expect(model.phaseOf(loaded.state)).toBe('not-opened');
      expect(await store.readEpisode('nobody')).toEqual([]);
    });

    it('throws ConcurrencyError with expected and actual versions on a stale expectedVersion, writing nothing', async () => {
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events.slice(0, 2), { expectedVersion: 0 });
      const error = await rejection(
        store.append('ep-1', story.events.slice(2, 4), { expectedVersion: 1 }),
        ConcurrencyError,
      );
      expect(error.code).toBe('concurrency-conflict');
      expect(error).toMatchObject({ episodeId: 'ep-1', expectedVersion: 1, actualVersion: 2 });
      expect((await store.readEpisode('ep-1')).length).toBe(2);
      // A new episode is expected at version 0.
      await rejection(store.append('ep-2', [], { expectedVersion: 3 }), ConcurrencyError);
    });

    it('treats a retried append of the same events as a no-op and reports it as a duplicate', async () => {
      const story = new Story().readyToDose();
      const first = await store.append('ep-1', story.events.slice(0, 4), { expectedVersion: 0 });
      await store.append('ep-1', story.events.slice(4, 6), { expectedVersion: 4 });
      const before = await allEvents(store);
      // The response of the first append was lost; the client retries it with its old expectedVersion.
      expect(await store.append('ep-1', story.events.slice(0, 4), { expectedVersion: 0 })).toEqual({
        status: 'duplicate',
        version: first.version,
      });
      // Same content, keys in another order and a default left out: still the same event.
      const reordered = story.events.slice(4, 6).map((e) => Object.fromEntries(Object.entries(e).reverse()));
      expect(await store.append('ep-1', reordered as EpisodeEventInput[], { expectedVersion: 0 })).toEqual({
        status: 'duplicate',
        version: 6,
      });
      expect(await allEvents(store)).toEqual(before);
    });

    it('throws EventIdConflictError for a different event under a stored id, writing nothing', async () => {
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events.slice(0, 2), { expectedVersion: 0 });
      const changed = { ...story.events[1]!, outcome: 'needs-more-discussion' } as EpisodeEventInput;
      const e1 = await rejection(
        store.append('ep-1', [changed], { expectedVersion: 2 }),
        EventIdConflictError,
      );
      expect(e1.code).toBe('event-id-conflict');
      expect(e1.conflicts).toEqual([
        { eventId: 'ep-1-e2', reason: 'different-content', storedEpisodeId: 'ep-1', storedVersion: 2 },
      ]);
      // The same id in another episode.
      const other = new Story('ep-2').add('EpisodeOpened').events[0]!;
      const e2 = await rejection(
        store.append('ep-2', [{ ...other, id: 'ep-1-e1' }], { expectedVersion: 0 }),
        EventIdConflictError,
      );
      expect(e2.conflicts[0]).toMatchObject({ eventId: 'ep-1-e1', reason: 'other-episode' });
      // A batch mixing a stored event with new ones is not a retry.
      const e3 = await rejection(
        store.append('ep-1', story.events.slice(1, 3), { expectedVersion: 2 }),
        EventIdConflictError,
      );
      expect(e3.conflicts[0]).toMatchObject({ eventId: 'ep-1-e2', reason: 'partial-batch' });
      expect((await allEvents(store)).length).toBe(2);
    });

    it('stores nothing of a batch whose 3rd event is refused (atomic append)', async () => {
      const story = new Story()
        .add('EpisodeOpened')
        .add('FitAssessed', { outcome: 'good-fit' })
        .add('DoseAdministered', {
          sessionId: 's1',
          kind: 'full',
          doseMg: 300,
          route: 'sublingual',
          formulation: 'sublingual-lozenge',
        });
      const error = await rejection(
        store.append('ep-1', story.events, { expectedVersion: 0 }),
        EventRefusedError,
      );
      expect(error.index).toBe(2);
      expect(error.refusal.code).toBe('not-eligible');
      expect(await store.version('ep-1')).toBe(0);
      expect(await allEvents(store)).toEqual([]);
    });

    it('never stores a refused event and returns the refusal with its code, message, event and index', async () => {
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events.slice(0, 1), { expectedVersion: 0 });
      const early = new Story().day(1).add('MedicalEvaluationScheduled', {
        id: 'early',
        scheduledFor: story.at(7),
        mode: 'telehealth',
      }).events[0]!;
      const error = await rejection(store.append('ep-1', [early], { expectedVersion: 1 }), EventRefusedError);
      expect(error.code).toBe('event-refused');
      expect(error.index).toBe(0);
      expect(error.refusal).toMatchObject({ code: 'fit-not-established', event: { id: 'early' } });
      expect(error.refusal.message).toMatch(/good-fit/);
      expect((await store.readEpisode('ep-1')).map((e) => e.event.id)).toEqual(['ep-1-e1']);
    });

    it('refuses an invalid event, an unknown type, another episode and an event after closing, leaving the store unchanged', async () => {
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events, { expectedVersion: 0 });
      const before = await allEvents(store);
      const base = story.events[1]! as Record<string, unknown>;

      const noTime: Record<string, unknown> = { ...base, id: 'x1' };
      delete noTime.at;
      const invalid = await rejection(
        store.append('ep-1', [noTime as EpisodeEventInput], { expectedVersion: 11 }),
        EventRefusedError,
      );
      expect(invalid.refusal.code).toBe('invalid-event');

      const unknown = await rejection(
        store.append('ep-1', [{ ...base, id: 'x2', type: 'KetamineTeleported' } as never], {
          expectedVersion: 11,
        }),
        EventRefusedError,
      );
      expect(unknown.refusal.code).toBe('invalid-event');

      const elsewhere = await rejection(
        store.append('ep-1', [{ ...base, id: 'x3', episodeId: 'ep-9' } as EpisodeEventInput], {
          expectedVersion: 11,
        }),
        EventRefusedError,
      );
      expect(elsewhere.refusal.code).toBe('wrong-episode');

      const close = new Story().day(20).add('EpisodeDiscontinued', { id: 'x4', reason: 'patient-choice' });
      await store.append('ep-1', close.events, { expectedVersion: 11 });
      const closed = await rejection(
        store.append(
          'ep-1',
          new Story().phq9(21, [1, 1, 1, 1, 1, 1, 1, 1, 0]).events.map((e) => ({ ...e, id: 'x5' })),
          {
            expectedVersion: 12,
          },
        ),
        EventRefusedError,
      );
      expect(closed.refusal.code).toBe('episode-closed');

      const after = await allEvents(store);
      expect(after.slice(0, before.length)).toEqual(before);
      expect(after.map((e) => e.event.id).slice(before.length)).toEqual(['x4']);
      await rejection(store.append('', story.events, { expectedVersion: 0 }), InvalidArgumentError);
      await rejection(store.append('ep-1', [], { expectedVersion: -1 }), InvalidArgumentError);
    });

    it('refuses an oversize event with PayloadTooLargeError before writing anything', async () => {
      const story = new Story().readyToDose();
      const huge = { ...story.events[0]!, note: 'x'.repeat(70 * 1024) } as EpisodeEventInput;
      const error = await rejection(
        store.append('ep-1', [huge, ...story.events.slice(1)], { expectedVersion: 0 }),
        PayloadTooLargeError,
      );
      expect(error).toMatchObject({ code: 'payload-too-large', index: 0, limit: 64 * 1024 });
      expect(error.bytes).toBeGreaterThan(70 * 1024);
      expect(await allEvents(store)).toEqual([]);

      // The limit is configurable and applies to events the machine would accept.
      await store.close();
      store = await fx.open({ maxEventBytes: 250 });
      const small = await rejection(
        store.append('ep-1', story.events.slice(0, 5), { expectedVersion: 0 }),
        PayloadTooLargeError,
      );
      expect(small).toMatchObject({ index: 4, limit: 250 }); // TreatmentPlanCreated, 263 bytes
      expect(await allEvents(store)).toEqual([]);
    });

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
        const r = await store.append(story.episodeId, story.events.slice(from, to), {
          expectedVersion: from,
        });
        if (r.status === 'appended') order.push(...r.events.map((e) => e.event.id));
      }
      const db = internalDb(store);
      const query = db.query.bind(db);
      const pages: number[] = [];
      db.query = async (text, params) => {
        const rows = await query(text, params);
        if (text.includes('LIMIT')) pages.push(rows.length);
        return rows as never;
      };
      const streamed = await allEvents(store, { batchSize: 4 });
      db.query = query;
      expect(streamed.map((e) => e.event.id)).toEqual(order);
      expect(pages).toEqual([...Array(8).fill(4), 1]); // 33 events: 8 full pages, then one of 1
      for (let i = 1; i < streamed.length; i++) {
        expect(streamed[i]!.position).toBeGreaterThan(streamed[i - 1]!.position);
      }
      // Resume after a position: exactly the rest.
      const resumed = await allEvents(store, { fromPosition: streamed[9]!.position, batchSize: 5 });
      expect(resumed).toEqual(streamed.slice(10));
      expect(() => store.streamAll({ batchSize: 0 })).toThrow(InvalidArgumentError);
    });

    it('reads every event of one patient across episodes, in commit order', async () => {
      const first = new Story('ep-1', 'pt-a').readyToDose();
      const other = new Story('ep-2', 'pt-b').readyToDose();
      const second = new Story('ep-3', 'pt-a', Date.parse('2026-09-01T10:00:00-05:00')).readyToDose();
      await store.append('ep-1', first.events.slice(0, 6), { expectedVersion: 0 });
      await store.append('ep-2', other.events, { expectedVersion: 0 });
      await store.append('ep-3', second.events.slice(0, 3), { expectedVersion: 0 });
      await store.append('ep-1', first.events.slice(6), { expectedVersion: 6 });
      const read = await store.readPatient('pt-a');
      expect(read.map((e) => e.event.id)).toEqual([
        ...first.events.slice(0, 6).map((e) => e.id),
        ...second.events.slice(0, 3).map((e) => e.id),
        ...first.events.slice(6).map((e) => e.id),
      ]);
      expect(read.every((e) => e.event.patientId === 'pt-a')).toBe(true);
      expect(await store.readPatient('pt-nobody')).toEqual([]);
    });

    it('loads an episode from its snapshot and replays only the events after it', async () => {
      await store.close();
      store = await fx.open({ snapshotEvery: 5, stateCacheSize: 0 });
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events, { expectedVersion: 0 }); // 11 ≥ 5: snapshot at 11
      const from = story.events.length;
      story.dosingSession(14);
      await store.append('ep-1', story.since(from).slice(0, 2), { expectedVersion: 11 }); // 2 < 5: none
      const loaded = await store.loadEpisode('ep-1');
      expect(loaded).toMatchObject({ version: 13, source: 'snapshot', replayed: 2 });
      expect(loaded.state.context).toEqual(model.replay(story.events.slice(0, 13)).state.context);

      // The state really comes from the snapshot row: a (synthetic) edit of it shows through.
      const db = internalDb(store);
      const [row] = await db.query<{ snapshot: { context: { plan: { plannedDosingSessions: number } } } }>(
        `SELECT snapshot FROM "${store.schema}".kapkit_snapshots WHERE episode_id = 'ep-1'`,
      );
      row!.snapshot.context.plan.plannedDosingSessions = 42;
      await db.query(`UPDATE "${store.schema}".kapkit_snapshots SET snapshot = $1::jsonb`, [
        JSON.stringify(row!.snapshot),
      ]);
      expect((await store.loadEpisode('ep-1')).state.context.plan?.plannedDosingSessions).toBe(42);
    });

    it('rebuilds an episode by replay when its snapshot was made by another machine version', async () => {
      await store.close();
      store = await fx.open({ snapshotEvery: 5, stateCacheSize: 0 });
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events, { expectedVersion: 0 });
      const db = internalDb(store);
      const snapshots = `"${store.schema}".kapkit_snapshots`;
      const expected = model.replay(story.events).state.context;

      // An older machine's snapshot: ignored, replaced by a replay, and rewritten for this machine.
      await db.query(`UPDATE ${snapshots} SET machine_version = $1, snapshot = '{"bogus":true}'::jsonb`, [
        EPISODE_MACHINE_VERSION - 1,
      ]);
      const rebuilt = await store.loadEpisode('ep-1');
      expect(rebuilt).toMatchObject({ version: 11, source: 'replay', replayed: 11 });
      expect(rebuilt.state.context).toEqual(expected);
      const [row] = await db.query<{ machine_version: number; version: number }>(
        `SELECT machine_version, version FROM ${snapshots}`,
      );
      expect(row).toEqual({ machine_version: EPISODE_MACHINE_VERSION, version: 11 });
      expect(await store.loadEpisode('ep-1')).toMatchObject({ source: 'snapshot', replayed: 0 });

      // A newer machine's snapshot: this machine cannot restore it, so it replays, and leaves it in place.
      await db.query(`UPDATE ${snapshots} SET machine_version = $1`, [EPISODE_MACHINE_VERSION + 1]);
      expect(await store.loadEpisode('ep-1')).toMatchObject({ source: 'replay', replayed: 11 });
      const [kept] = await db.query<{ machine_version: number }>(`SELECT machine_version FROM ${snapshots}`);
      expect(kept!.machine_version).toBe(EPISODE_MACHINE_VERSION + 1);

      // Appends still work from the replayed state.
      const from = story.events.length;
      story.dosingSession(14);
      expect(await store.append('ep-1', story.since(from), { expectedVersion: 11 })).toMatchObject({
        version: 16,
      });
    });

    it('records the schema version and each migration applied, once', async () => {
      expect(await store.schemaVersion()).toBe(SCHEMA_VERSION);
      const db = internalDb(store);
      const migrations = await db.query<{ version: number; name: string }>(
        `SELECT version, name FROM "${store.schema}".kapkit_migrations ORDER BY version`,
      );
      expect(migrations.map((m) => m.version)).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      await store.close();
      store = await fx.open(); // reopening applies nothing new
      expect(
        await internalDb(store).query(`SELECT version FROM "${store.schema}".kapkit_migrations`),
      ).toHaveLength(SCHEMA_VERSION);
    });

    it('refuses to open a store made by a newer kapkit, and leaves it untouched', async () => {
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events, { expectedVersion: 0 });
      await internalDb(store).query(`UPDATE "${store.schema}".kapkit_meta SET schema_version = $1`, [
        SCHEMA_VERSION + 1,
      ]);
      await store.close();
      const error = await rejection(fx.open(), SchemaTooNewError);
      expect(error).toMatchObject({
        code: 'schema-too-new',
        found: SCHEMA_VERSION + 1,
        supported: SCHEMA_VERSION,
      });
      // Still refused (the version was not rewritten), and nothing else was touched.
      await rejection(fx.open(), SchemaTooNewError);
      expect(await fx.sql(`SELECT count(*)::int AS n FROM "${fx.schema}".kapkit_events`)).toEqual([
        { n: 11 },
      ]);
      expect(await fx.sql(`SELECT schema_version FROM "${fx.schema}".kapkit_meta`)).toEqual([
        { schema_version: SCHEMA_VERSION + 1 },
      ]);
      // Put it back so that afterEach has a store to close.
      await fx.sql(`UPDATE "${fx.schema}".kapkit_meta SET schema_version = $1`, [SCHEMA_VERSION]);
      store = await fx.open();
    });

    it('lets exactly one of several concurrent appends at the same expectedVersion win', async () => {
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events.slice(0, 1), { expectedVersion: 0 });
      const attempts = Array.from({ length: 8 }, (_, i) =>
        store.append(
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
      expect((await store.readEpisode('ep-1')).map((e) => e.version)).toEqual([1, 2]);
    });

    it('gives one of two episodes racing for the same new event id the event, the other EventIdConflictError', async () => {
      const a = new Story('ep-a', 'pt-a').add('EpisodeOpened').events[0]!;
      const b = new Story('ep-b', 'pt-b').add('EpisodeOpened').events[0]!;
      for (let round = 0; round < 5; round++) {
        const id = `shared-${round}`;
        const results = await Promise.allSettled([
          store.append(`ep-a${round}`, [{ ...a, id, episodeId: `ep-a${round}` }], { expectedVersion: 0 }),
          store.append(`ep-b${round}`, [{ ...b, id, episodeId: `ep-b${round}` }], { expectedVersion: 0 }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        // Never a unique-key violation from the database: the append sees the stored id and says why.
        expect(lost.reason).toBeInstanceOf(EventIdConflictError);
        expect((lost.reason as EventIdConflictError).conflicts[0]!.reason).toBe('other-episode');
      }
      expect(await allEvents(store)).toHaveLength(5);
    });

    it("appends with expectedVersion 'any' on top of whatever is stored, still checked by the machine", async () => {
      const story = new Story().readyToDose();
      await store.append('ep-1', story.events.slice(0, 3), { expectedVersion: 0 });
      expect(await store.append('ep-1', story.events.slice(3), { expectedVersion: 'any' })).toMatchObject({
        status: 'appended',
        version: 11,
      });
      await rejection(
        store.append(
          'ep-1',
          story.events.slice(0, 1).map((e) => ({ ...e, id: 'again' })),
          {
            expectedVersion: 'any',
          },
        ),
        EventRefusedError,
      );
    });

    it('refuses every call after close with StoreClosedError', async () => {
      await store.close();
      await store.close(); // idempotent
      await rejection(store.readEpisode('ep-1'), StoreClosedError);
      await rejection(store.append('ep-1', [], { expectedVersion: 0 }), StoreClosedError);
      store = await fx.open();
    });
  });
});
