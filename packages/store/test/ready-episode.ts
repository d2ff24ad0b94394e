import type { EpisodeEventInput } from '@kapkit/core';
import { Story } from '@kapkit/testing';
import { expect } from 'vitest';
import { EventRefusedError } from '../src/errors.js';
import { type EngineKind, storePerTest, type TestStore } from './helpers.js';

/** An episode ready to dose (ep-1 of pt-synthetic-1) in a store whose clock reads the day after it. */

export const story = new Story().readyToDose();
// The store's clock: the day after the story's last event.
const nowMs = Date.parse(story.at(13));

/** A hand-made (possibly invalid) event, as a client could send it. */
export const raw = (x: unknown) => x as EpisodeEventInput;

/** An event of the story's episode and patient (the ids of its last event), as a client sends it. */
export const sent = (id: string, type: string, fields: Record<string, unknown>) => ({
  ...story.events.at(-1)!,
  id,
  type,
  ...fields,
});

/** For each test of the enclosing block: a store on `engine` whose clock is `nowMs`, holding the story as ep-1. */
export function readyEpisodePerTest(engine: EngineKind): TestStore {
  return storePerTest(
    engine,
    async ({ store }) => {
      await store.append('ep-1', story.events, { expectedVersion: 0 });
    },
    { clock: () => nowMs },
  );
}

/** Expect `p` to be refused by the episode machine, and return the refusal. */
export async function refused(p: Promise<unknown>): Promise<EventRefusedError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EventRefusedError);
  return error as EventRefusedError;
}
