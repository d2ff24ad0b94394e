import { PassThrough } from 'node:stream';
import type { EpisodeEventInput } from '@kapkit/core';
import { Story } from '@kapkit/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupStore, restoreStore } from '../src/backup.js';
import { EventRefusedError, InvalidArgumentError } from '../src/errors.js';
import type { EventStore } from '../src/store-types.js';
import { closeSharedPglite, createFixture, ENGINES, type Fixture } from './helpers.js';

/*
 * The store's part of the safety layer and of clinical time, on both engines: a refused submission that carries
 * a safety signal leaves the signal (and nothing else of it) in the store, reviewable by a clinician; appends
 * are checked against the store's clock; a retry written later is still the same event.
 */

afterAll(closeSharedPglite);

const POSITIVE_ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 3];
/** A hand-made (possibly invalid) event, as a client could send it. */
const raw = (x: unknown) => x as EpisodeEventInput;

for (const engine of ENGINES) {
  describe.skipIf(engine.missing !== null)(engine.name, () => {
    let fx: Fixture;
    let store: EventStore;
    const story = new Story().readyToDose();
    // The store's clock: the day after the story's last event.
    const nowMs = Date.parse(story.at(13));

    beforeEach(async () => {
      fx = await createFixture(engine.kind);
      store = await fx.open({ clock: () => nowMs });
      await store.append('ep-1', story.events, { expectedVersion: 0 });
    });
    afterEach(async () => {
      await store.close();
      await fx.cleanup();
    });

    const refused = async (p: Promise<unknown>) => {
      const error = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(EventRefusedError);
      return error as EventRefusedError;
    };

    /** Close the episode; a PHQ-9 with a positive item 9 sent after that is refused (`episode-closed`). */
    const phq9AfterClosing = async (extra: Record<string, unknown>) => {
      const closed = new Story().day(12.5).add('EpisodeDiscontinued', { reason: 'patient-choice' });
      await store.append('ep-1', [raw({ ...closed.events.at(-1)!, id: 'closing' })], {
        expectedVersion: 'any',
      });
      return {
        ...closed.events.at(-1)!,
        type: 'AssessmentRecorded',
        instrument: 'phq9',
        responses: POSITIVE_ITEM9,
        at: story.at(12.8),
        ...extra,
      };
    };

    it('keeps the item-9 signal of a refused PHQ-9 (and nothing else of it), once, until a clinician reviews it', async () => {
      const phq9 = await phq9AfterClosing({ id: 'late-phq9', note: 'free text that must not be kept' });
      const error = await refused(store.append('ep-1', [raw(phq9)], { expectedVersion: 'any' }));
      expect(error.refusal.code).toBe('episode-closed');
      expect(error.safetySignalId).toMatch(/^[0-9a-f]{32}$/);
      // A retry of the same refused submission keeps one signal.
      await refused(store.append('ep-1', [raw(phq9)], { expectedVersion: 'any' }));
      const signals = await store.safetySignals({ patientId: 'pt-synthetic-1' });
      expect(signals).toHaveLength(1);
      const s = signals[0]!;
      expect(s).toMatchObject({
        id: error.safetySignalId,
        episodeId: 'ep-1',
        patientId: 'pt-synthetic-1',
        eventId: 'late-phq9',
        eventType: 'AssessmentRecorded',
        refusalCode: 'episode-closed',
        review: null,
      });
      expect(s.signals.map((f) => [f.rule, f.value, f.item])).toEqual([['phq9-item9-positive', 3, 9]]);
      expect(JSON.stringify(s)).not.toContain('free text');
      expect(JSON.stringify(s)).not.toContain('responses');
      // Nothing of it is in the event log.
      expect((await store.readEpisode('ep-1')).map((e) => e.event.id)).not.toContain('late-phq9');

      // Only a clinician reviews it, once.
      const at = story.at(13);
      await expect(
        store.reviewSafetySignal(s.id, { outcome: 'no-current-risk', reviewedBy: 'patient' as never, at }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      const reviewed = await store.reviewSafetySignal(s.id, {
        outcome: 'safety-plan',
        reviewedBy: 'medical',
        at,
      });
      expect(reviewed.review).toMatchObject({ outcome: 'safety-plan', reviewedBy: 'medical' });
      expect(await store.safetySignals({ unreviewed: true })).toEqual([]);
      await expect(
        store.reviewSafetySignal(s.id, { outcome: 'escalated', reviewedBy: 'therapist', at }),
      ).rejects.toThrow(/already reviewed/);
    });

    it('records who recorded the refused submission: a patient-reported positive item 9 says patient', async () => {
      const fromPatient = await phq9AfterClosing({ id: 'patient-phq9', recordedBy: 'patient' });
      const byClinician = { ...fromPatient, id: 'clinician-phq9', recordedBy: 'therapist' };
      const unknownRole = { ...fromPatient, id: 'odd-phq9', recordedBy: 'visitor' };
      for (const e of [fromPatient, byClinician, unknownRole]) {
        await refused(store.append('ep-1', [raw(e)], { expectedVersion: 'any' }));
      }
      const kept = await store.safetySignals({ episodeId: 'ep-1' });
      expect(Object.fromEntries(kept.map((k) => [k.eventId, k.recordedBy]))).toEqual({
        'patient-phq9': 'patient',
        'clinician-phq9': 'therapist',
        'odd-phq9': null,
      });
      expect(kept.every((k) => k.signals.some((f) => f.rule === 'phq9-item9-positive'))).toBe(true);
    });

    it('carries the signals and their reviews through a backup and a restore', async () => {
      const ae = {
        ...story.events.at(-1)!,
        id: 'ae-closed',
        type: 'AdverseEventReported',
        recordedBy: 'medical',
        episodeId: 'ep-elsewhere',
        code: 'dizziness',
        severity: 'severe',
        at: story.at(12.9),
      };
      const error = await refused(store.append('ep-1', [raw(ae)], { expectedVersion: 'any' }));
      await store.reviewSafetySignal(error.safetySignalId!, {
        outcome: 'no-current-risk',
        reviewedBy: 'therapist',
        at: story.at(13),
      });
      const chunks: string[] = [];
      const out = new PassThrough();
      out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
      const summary = await backupStore(store, out);
      expect(summary.safetySignals).toBe(1);
      expect((await store.safetySignals())[0]!.recordedBy).toBe('medical');
      const target = await createFixture(engine.kind);
      const restored = await target.open();
      try {
        await restoreStore(restored, [chunks.join('')]);
        expect(await restored.safetySignals()).toEqual(await store.safetySignals());
        // A backup that lost its signal line is refused as altered.
        const cut = chunks
          .join('')
          .split('\n')
          .filter((l) => !l.includes('"safetySignal"'))
          .join('\n');
        const again = await createFixture(engine.kind);
        const empty = await again.open();
        try {
          await expect(restoreStore(empty, [cut])).rejects.toThrow(/altered/);
        } finally {
          await empty.close();
          await again.cleanup();
        }
      } finally {
        await restored.close();
        await target.cleanup();
      }
    });

    it('keeps the signals of a serious adverse event sent to another episode, and of alarming vitals', async () => {
      const ae = {
        ...story.events.at(-1)!,
        id: 'ae-wrong-episode',
        type: 'AdverseEventReported',
        episodeId: 'ep-other',
        code: 'suicidal-ideation',
        severity: 'serious',
        at: story.at(12.9),
      };
      const error = await refused(store.append('ep-1', [raw(ae)], { expectedVersion: 'any' }));
      expect(error.refusal.code).toBe('wrong-episode');
      const vitals = {
        ...story.events.at(-1)!,
        id: 'v-unknown',
        type: 'VitalsRecorded',
        sessionId: 'no-such-session',
        phase: 'pre',
        systolic: 212,
        diastolic: 124,
        at: story.at(12.9),
      };
      await refused(store.append('ep-1', [raw(vitals)], { expectedVersion: 'any' }));
      const signals = await store.safetySignals({ episodeId: 'ep-1' });
      expect(signals.map((s) => [s.refusalCode, s.signals.map((f) => f.rule)])).toEqual([
        ['wrong-episode', ['adverse-event-suicidal-ideation']],
        ['unknown-session', ['vitals-systolic-alert', 'vitals-diastolic-alert']],
      ]);
      // A refusal without a signal keeps nothing.
      const plain = { ...story.events.at(-1)!, id: 'plain', type: 'EpisodeResumed', at: story.at(12.95) };
      const e2 = await refused(store.append('ep-1', [raw(plain)], { expectedVersion: 'any' }));
      expect(e2.safetySignalId).toBeUndefined();
      expect(await store.safetySignals()).toHaveLength(2);
    });

    it('refuses an event dated after the store’s clock (a typo of 2027, an event of 2062)', async () => {
      for (const at of ['2027-03-01T10:00:00-05:00', '2062-01-01T00:00:00Z']) {
        const typo = {
          ...story.events.at(-1)!,
          id: `typo-${at.slice(0, 4)}`,
          type: 'AssessmentRecorded',
          instrument: 'phq9',
          responses: [1, 1, 1, 1, 1, 1, 1, 1, 0],
          at,
          recordedAt: at,
          v: 2,
          recordedBy: 'therapist',
        };
        const error = await refused(store.append('ep-1', [raw(typo)], { expectedVersion: 'any' }));
        expect(error.refusal.code).toBe('future-event');
      }
      expect(await store.version('ep-1')).toBe(story.events.length);
    });

    it('answers duplicate to a retry whose writer stamped another recording time', async () => {
      const event = {
        ...story.events.at(-1)!,
        id: 'retried',
        type: 'AssessmentRecorded',
        instrument: 'gad7',
        responses: [1, 1, 1, 1, 1, 1, 1],
        at: story.at(12.9),
        recordedAt: story.at(12.9),
        v: 2,
        recordedBy: 'therapist',
      };
      expect((await store.append('ep-1', [raw(event)], { expectedVersion: 'any' })).status).toBe('appended');
      const again = await store.append('ep-1', [raw({ ...event, recordedAt: story.at(12.95) })], {
        expectedVersion: 'any',
      });
      expect(again.status).toBe('duplicate');
      // Other content under the same id is still a conflict.
      await expect(
        store.append('ep-1', [raw({ ...event, responses: [0, 0, 0, 0, 0, 0, 0] })], {
          expectedVersion: 'any',
        }),
      ).rejects.toThrow(/other content|different/);
    });
  });
}
