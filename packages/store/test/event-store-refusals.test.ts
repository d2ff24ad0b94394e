import type { EpisodeEventInput } from '@kapkit/core';
import { Story } from '@kapkit/testing';
import { expect, it } from 'vitest';
import { EventRefusedError, InvalidArgumentError, PayloadTooLargeError } from '../src/errors.js';
import { allEvents, describeEngines, rejection, storePerTest } from './helpers.js';

/**
 * The EventStore contract, run against both engines, by topic (one file each, event-store*.test.ts): here
 * refused appends: what the machine refuses, invalid arguments, oversize events. PostgreSQL connects to
 * KAPKIT_TEST_DATABASE_URL; each test gets a fresh schema (PGlite: in this file's on-disk PGlite, a temp
 * dir; PostgreSQL: on the server). Opening a PGlite data directory by `dataDir`, with its lock, is covered
 * by lock.test.ts and the reliability tests.
 */

describeEngines('EventStore on $name', (engine) => {
  const each = storePerTest(engine.kind);

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
      each.store.append('ep-1', story.events, { expectedVersion: 0 }),
      EventRefusedError,
    );
    expect(error.index).toBe(2);
    expect(error.refusal.code).toBe('not-eligible');
    expect(await each.store.version('ep-1')).toBe(0);
    expect(await allEvents(each.store)).toEqual([]);
  });

  it('never stores a refused event and returns the refusal with its code, message, event and index', async () => {
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events.slice(0, 1), { expectedVersion: 0 });
    const early = new Story().day(1).add('MedicalEvaluationScheduled', {
      id: 'early',
      scheduledFor: story.at(7),
      mode: 'telehealth',
    }).events[0]!;
    const error = await rejection(
      each.store.append('ep-1', [early], { expectedVersion: 1 }),
      EventRefusedError,
    );
    expect(error.code).toBe('event-refused');
    expect(error.index).toBe(0);
    expect(error.refusal).toMatchObject({ code: 'fit-not-established', event: { id: 'early' } });
    expect(error.refusal.message).toMatch(/good-fit/);
    expect((await each.store.readEpisode('ep-1')).map((e) => e.event.id)).toEqual(['ep-1-e1']);
  });

  it('refuses an invalid event, an unknown type, another episode and an event after closing, leaving the store unchanged', async () => {
    const story = new Story().readyToDose();
    await each.store.append('ep-1', story.events, { expectedVersion: 0 });
    const before = await allEvents(each.store);
    const base = story.events[1]! as Record<string, unknown>;

    const noTime: Record<string, unknown> = { ...base, id: 'x1' };
    delete noTime.at;
    const invalid = await rejection(
      each.store.append('ep-1', [noTime as EpisodeEventInput], { expectedVersion: 11 }),
      EventRefusedError,
    );
    expect(invalid.refusal.code).toBe('invalid-event');

    const unknown = await rejection(
      each.store.append('ep-1', [{ ...base, id: 'x2', type: 'KetamineTeleported' } as never], {
        expectedVersion: 11,
      }),
      EventRefusedError,
    );
    expect(unknown.refusal.code).toBe('invalid-event');

    const elsewhere = await rejection(
      each.store.append('ep-1', [{ ...base, id: 'x3', episodeId: 'ep-9' } as EpisodeEventInput], {
        expectedVersion: 11,
      }),
      EventRefusedError,
    );
    expect(elsewhere.refusal.code).toBe('wrong-episode');

    const close = new Story().day(20).add('EpisodeDiscontinued', { id: 'x4', reason: 'patient-choice' });
    await each.store.append('ep-1', close.events, { expectedVersion: 11 });
    const closed = await rejection(
      each.store.append(
        'ep-1',
        new Story().phq9(21, [1, 1, 1, 1, 1, 1, 1, 1, 0]).events.map((e) => ({ ...e, id: 'x5' })),
        {
          expectedVersion: 12,
        },
      ),
      EventRefusedError,
    );
    expect(closed.refusal.code).toBe('episode-closed');

    const after = await allEvents(each.store);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.map((e) => e.event.id).slice(before.length)).toEqual(['x4']);
    await rejection(each.store.append('', story.events, { expectedVersion: 0 }), InvalidArgumentError);
    await rejection(each.store.append('ep-1', [], { expectedVersion: -1 }), InvalidArgumentError);
  });

  it('refuses an oversize event with PayloadTooLargeError before writing anything', async () => {
    const story = new Story().readyToDose();
    const huge = { ...story.events[0]!, note: 'x'.repeat(70 * 1024) } as EpisodeEventInput;
    const error = await rejection(
      each.store.append('ep-1', [huge, ...story.events.slice(1)], { expectedVersion: 0 }),
      PayloadTooLargeError,
    );
    expect(error).toMatchObject({ code: 'payload-too-large', index: 0, limit: 64 * 1024 });
    expect(error.bytes).toBeGreaterThan(70 * 1024);
    expect(await allEvents(each.store)).toEqual([]);

    // The limit is configurable and applies to events the machine would accept.
    await each.store.close();
    each.store = await each.fx.open({ maxEventBytes: 250 });
    const small = await rejection(
      each.store.append('ep-1', story.events.slice(0, 5), { expectedVersion: 0 }),
      PayloadTooLargeError,
    );
    expect(small).toMatchObject({ index: 4, limit: 250 }); // TreatmentPlanCreated, 263 bytes
    expect(await allEvents(each.store)).toEqual([]);
  });
});
