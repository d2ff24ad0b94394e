import { createEpisodeModel, type EpisodeEventInput, parseEvent } from '@kapkit/core';
import { Story } from '@kapkit/testing';
import { expect, it } from 'vitest';
import { ConcurrencyError, EventIdConflictError, EventRefusedError } from '../src/errors.js';
import { allEvents, describeEngines, rejection, storePerTest } from './helpers.js';

/**
 * The EventStore contract, run against both engines, by topic (one file each, event-store*.test.ts): here
 * appends, read back, their versions and event ids. PostgreSQL connects to KAPKIT_TEST_DATABASE_URL; each
 * test gets a fresh schema (PGlite: in this file's on-disk PGlite, a temp dir; PostgreSQL: on the server).
 * Opening a PGlite data directory by `dataDir`, with its lock, is covered by lock.test.ts and the
 * reliability tests.
 */

const model = createEpisodeModel();
// As the machine accepts it: version 1 events are upcast to the current schema first.
const parse = (e: EpisodeEventInput) => parseEvent(e).data;

describeEngines('EventStore on $name', (engine) => {
  const each = storePerTest(engine.kind);

  it('appends a new episode and reads it back in version order, as the machine accepted it', async () => {
    const story = new Story().readyToDose();
    const r = await each.store.append('ep-1', story.events, { expectedVersion: 0 });
    expect(r.status).toBe('appended');
    if (r.status !== 'appended') return;
    expect(r.version).toBe(11);
    expect(r.events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const read = await each.store.readEpisode('ep-1');
    expect(read).toEqual(r.events);
    // Stored with the schema's defaults applied (e.g. contraindications: [], baseline: true).
    expect(read.map((e) => e.event)).toEqual(story.events.map(parse));
    expect(read[3]!.event).toMatchObject({ type: 'MedicalEvaluationCompleted', contraindications: [] });
    for (let i = 1; i < read.length; i++) expect(read[i]!.position).toBeGreaterThan(read[i - 1]!.position);
    expect(Number.isNaN(Date.parse(read[0]!.committedAt))).toBe(false);
    expect(await each.store.version('ep-1')).toBe(11);
    expect(await each.store.readEpisode('ep-1', { fromVersion: 10 })).toEqual(read.slice(9));
  });

  it('checks each append against the state the previous appends left', async () => {
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events, { expectedVersion: 0 });
    const from = story.events.length;
    story.dosingSession(14);
    const r = await each.store.append('ep-1', story.since(from), { expectedVersion: 11 });
    expect(r).toMatchObject({ status: 'appended', version: 16 });
    const loaded = await each.store.loadEpisode('ep-1');
    expect(loaded.version).toBe(16);
    expect(model.phaseOf(loaded.state)).toBe('dosing-course');
    expect(loaded.state.context).toEqual(model.replay(story.events).state.context);
  });

  it('loads an unknown episode as the initial state at version 0', async () => {
    const loaded = await each.store.loadEpisode('nobody');
    expect(loaded.version).toBe(0);
    expect(model.phaseOf(loaded.state)).toBe('not-opened');
    expect(await each.store.readEpisode('nobody')).toEqual([]);
  });

  it('throws ConcurrencyError with expected and actual versions on a stale expectedVersion, writing nothing', async () => {
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events.slice(0, 2), { expectedVersion: 0 });
    const error = await rejection(
      each.store.append('ep-1', story.events.slice(2, 4), { expectedVersion: 1 }),
      ConcurrencyError,
    );
    expect(error.code).toBe('concurrency-conflict');
    expect(error).toMatchObject({ episodeId: 'ep-1', expectedVersion: 1, actualVersion: 2 });
    expect((await each.store.readEpisode('ep-1')).length).toBe(2);
    // A new episode is expected at version 0.
    await rejection(each.store.append('ep-2', [], { expectedVersion: 3 }), ConcurrencyError);
  });

  it('treats a retried append of the same events as a no-op and reports it as a duplicate', async () => {
    const story = new Story().readyToDose();
    const first = await each.store.append('ep-1', story.events.slice(0, 4), { expectedVersion: 0 });
    await each.store.append('ep-1', story.events.slice(4, 6), { expectedVersion: 4 });
    const before = await allEvents(each.store);
    // The response of the first append was lost; the client retries it with its old expectedVersion.
    expect(await each.store.append('ep-1', story.events.slice(0, 4), { expectedVersion: 0 })).toEqual({
      status: 'duplicate',
      version: first.version,
    });
    // Same content, keys in another order and a default left out: still the same event.
    const reordered = story.events.slice(4, 6).map((e) => Object.fromEntries(Object.entries(e).reverse()));
    expect(await each.store.append('ep-1', reordered as EpisodeEventInput[], { expectedVersion: 0 })).toEqual(
      {
        status: 'duplicate',
        version: 6,
      },
    );
    expect(await allEvents(each.store)).toEqual(before);
  });

  it('throws EventIdConflictError for a different event under a stored id, writing nothing', async () => {
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events.slice(0, 2), { expectedVersion: 0 });
    const changed = { ...story.events[1]!, outcome: 'needs-more-discussion' } as EpisodeEventInput;
    const e1 = await rejection(
      each.store.append('ep-1', [changed], { expectedVersion: 2 }),
      EventIdConflictError,
    );
    expect(e1.code).toBe('event-id-conflict');
    expect(e1.conflicts).toEqual([
      { eventId: 'ep-1-e2', reason: 'different-content', storedEpisodeId: 'ep-1', storedVersion: 2 },
    ]);
    // The same id in another episode.
    const other = new Story('ep-2').add('EpisodeOpened').events[0]!;
    const e2 = await rejection(
      each.store.append('ep-2', [{ ...other, id: 'ep-1-e1' }], { expectedVersion: 0 }),
      EventIdConflictError,
    );
    expect(e2.conflicts[0]).toMatchObject({ eventId: 'ep-1-e1', reason: 'other-episode' });
    // A batch mixing a stored event with new ones is not a retry.
    const e3 = await rejection(
      each.store.append('ep-1', story.events.slice(1, 3), { expectedVersion: 2 }),
      EventIdConflictError,
    );
    expect(e3.conflicts[0]).toMatchObject({ eventId: 'ep-1-e2', reason: 'partial-batch' });
    expect((await allEvents(each.store)).length).toBe(2);
  });

  it("appends with expectedVersion 'any' on top of whatever is stored, still checked by the machine", async () => {
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events.slice(0, 3), { expectedVersion: 0 });
    expect(await each.store.append('ep-1', story.events.slice(3), { expectedVersion: 'any' })).toMatchObject({
      status: 'appended',
      version: 11,
    });
    await rejection(
      each.store.append(
        'ep-1',
        story.events.slice(0, 1).map((e) => ({ ...e, id: 'again' })),
        {
          expectedVersion: 'any',
        },
      ),
      EventRefusedError,
    );
  });
});
