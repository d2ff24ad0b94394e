import { afterAll, expect, it } from 'vitest';
import { closeSharedPglite, describeEngine, ENGINES } from './helpers.js';
import { raw, readyEpisodePerTest, refused, sent, story } from './ready-episode.js';

/*
 * The store's part of clinical time, on both engines: appends are checked against the store's clock; a retry
 * written later is still the same event. (Safety signals of refused submissions: safety-signals.test.ts.)
 */

afterAll(closeSharedPglite);

/** A scored assessment (version 2 of the event) a therapist records: `fields` name the instrument, answers and times. */
const assessment = (id: string, fields: Record<string, unknown>) =>
  sent(id, 'AssessmentRecorded', { ...fields, v: 2, recordedBy: 'therapist' });

for (const engine of ENGINES) {
  describeEngine(engine, () => {
    const each = readyEpisodePerTest(engine.kind);

    it('refuses an event dated after the store’s clock (a typo of 2027, an event of 2062)', async () => {
      for (const at of ['2027-03-01T10:00:00-05:00', '2062-01-01T00:00:00Z']) {
        const typo = assessment(`typo-${at.slice(0, 4)}`, {
          instrument: 'phq9',
          responses: [1, 1, 1, 1, 1, 1, 1, 1, 0],
          at,
          recordedAt: at,
        });
        const error = await refused(each.store.append('ep-1', [raw(typo)], { expectedVersion: 'any' }));
        expect(error.refusal.code).toBe('future-event');
      }
      expect(await each.store.version('ep-1')).toBe(story.events.length);
    });

    it('answers duplicate to a retry whose writer stamped another recording time', async () => {
      const event = assessment('retried', {
        instrument: 'gad7',
        responses: [1, 1, 1, 1, 1, 1, 1],
        at: story.at(12.9),
        recordedAt: story.at(12.9),
      });
      expect((await each.store.append('ep-1', [raw(event)], { expectedVersion: 'any' })).status).toBe(
        'appended',
      );
      const again = await each.store.append('ep-1', [raw({ ...event, recordedAt: story.at(12.95) })], {
        expectedVersion: 'any',
      });
      expect(again.status).toBe('duplicate');
      // Other content under the same id is still a conflict.
      await expect(
        each.store.append('ep-1', [raw({ ...event, responses: [0, 0, 0, 0, 0, 0, 0] })], {
          expectedVersion: 'any',
        }),
      ).rejects.toThrow(/other content|different/);
    });
  });
}
