import { PassThrough } from 'node:stream';
import { Story } from '@kapkit/testing';
import { afterAll, expect, it } from 'vitest';
import { backupStore, restoreStore } from '../src/backup.js';
import { InvalidArgumentError } from '../src/errors.js';
import type { EventStore } from '../src/store-types.js';
import { closeSharedPglite, createFixture, describeEngine, ENGINES } from './helpers.js';
import { raw, readyEpisodePerTest, refused, sent, story } from './ready-episode.js';

/*
 * The store's part of the safety layer, on both engines: a refused submission that carries a safety signal
 * leaves the signal (and nothing else of it) in the store, reviewable by a clinician. (The store's clock:
 * store-clock.test.ts.)
 */

afterAll(closeSharedPglite);

const POSITIVE_ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 3];

/** Close the episode; a PHQ-9 with a positive item 9 sent after that is refused (`episode-closed`). */
async function phq9AfterClosing(store: EventStore, extra: Record<string, unknown>) {
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
}

for (const engine of ENGINES) {
  describeEngine(engine, () => {
    const each = readyEpisodePerTest(engine.kind);

    it('keeps the item-9 signal of a refused PHQ-9 (and nothing else of it), once, until a clinician reviews it', async () => {
      const phq9 = await phq9AfterClosing(each.store, {
        id: 'late-phq9',
        note: 'free text that must not be kept',
      });
      const error = await refused(each.store.append('ep-1', [raw(phq9)], { expectedVersion: 'any' }));
      expect(error.refusal.code).toBe('episode-closed');
      expect(error.safetySignalId).toMatch(/^[0-9a-f]{32}$/);
      // A retry of the same refused submission keeps one signal.
      await refused(each.store.append('ep-1', [raw(phq9)], { expectedVersion: 'any' }));
      const signals = await each.store.safetySignals({ patientId: 'pt-synthetic-1' });
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
      expect((await each.store.readEpisode('ep-1')).map((e) => e.event.id)).not.toContain('late-phq9');

      // Only a clinician reviews it, once.
      const at = story.at(13);
      await expect(
        each.store.reviewSafetySignal(s.id, {
          outcome: 'no-current-risk',
          reviewedBy: 'patient' as never,
          at,
        }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      const reviewed = await each.store.reviewSafetySignal(s.id, {
        outcome: 'safety-plan',
        reviewedBy: 'medical',
        at,
      });
      expect(reviewed.review).toMatchObject({ outcome: 'safety-plan', reviewedBy: 'medical' });
      expect(await each.store.safetySignals({ unreviewed: true })).toEqual([]);
      await expect(
        each.store.reviewSafetySignal(s.id, { outcome: 'escalated', reviewedBy: 'therapist', at }),
      ).rejects.toThrow(/already reviewed/);
    });

    it('records who recorded the refused submission: a patient-reported positive item 9 says patient', async () => {
      const fromPatient = await phq9AfterClosing(each.store, { id: 'patient-phq9', recordedBy: 'patient' });
      const byClinician = { ...fromPatient, id: 'clinician-phq9', recordedBy: 'therapist' };
      const unknownRole = { ...fromPatient, id: 'odd-phq9', recordedBy: 'visitor' };
      for (const e of [fromPatient, byClinician, unknownRole]) {
        await refused(each.store.append('ep-1', [raw(e)], { expectedVersion: 'any' }));
      }
      const kept = await each.store.safetySignals({ episodeId: 'ep-1' });
      expect(Object.fromEntries(kept.map((k) => [k.eventId, k.recordedBy]))).toEqual({
        'patient-phq9': 'patient',
        'clinician-phq9': 'therapist',
        'odd-phq9': null,
      });
      expect(kept.every((k) => k.signals.some((f) => f.rule === 'phq9-item9-positive'))).toBe(true);
    });

    it('carries the signals and their reviews through a backup and a restore', async () => {
      const ae = sent('ae-closed', 'AdverseEventReported', {
        recordedBy: 'medical',
        episodeId: 'ep-elsewhere',
        code: 'dizziness',
        severity: 'severe',
        at: story.at(12.9),
      });
      const error = await refused(each.store.append('ep-1', [raw(ae)], { expectedVersion: 'any' }));
      await each.store.reviewSafetySignal(error.safetySignalId!, {
        outcome: 'no-current-risk',
        reviewedBy: 'therapist',
        at: story.at(13),
      });
      const chunks: string[] = [];
      const out = new PassThrough();
      out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
      const summary = await backupStore(each.store, out);
      expect(summary.safetySignals).toBe(1);
      expect((await each.store.safetySignals())[0]!.recordedBy).toBe('medical');
      const target = await createFixture(engine.kind);
      const restored = await target.open();
      try {
        await restoreStore(restored, [chunks.join('')]);
        expect(await restored.safetySignals()).toEqual(await each.store.safetySignals());
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
      const ae = sent('ae-wrong-episode', 'AdverseEventReported', {
        episodeId: 'ep-other',
        code: 'suicidal-ideation',
        severity: 'serious',
        at: story.at(12.9),
      });
      const error = await refused(each.store.append('ep-1', [raw(ae)], { expectedVersion: 'any' }));
      expect(error.refusal.code).toBe('wrong-episode');
      const vitals = sent('v-unknown', 'VitalsRecorded', {
        sessionId: 'no-such-session',
        phase: 'pre',
        systolic: 212,
        diastolic: 124,
        at: story.at(12.9),
      });
      await refused(each.store.append('ep-1', [raw(vitals)], { expectedVersion: 'any' }));
      const signals = await each.store.safetySignals({ episodeId: 'ep-1' });
      expect(signals.map((s) => [s.refusalCode, s.signals.map((f) => f.rule)])).toEqual([
        ['wrong-episode', ['adverse-event-suicidal-ideation']],
        ['unknown-session', ['vitals-systolic-alert', 'vitals-diastolic-alert']],
      ]);
      // A refusal without a signal keeps nothing.
      const plain = sent('plain', 'EpisodeResumed', { at: story.at(12.95) });
      const e2 = await refused(each.store.append('ep-1', [raw(plain)], { expectedVersion: 'any' }));
      expect(e2.safetySignalId).toBeUndefined();
      expect(await each.store.safetySignals()).toHaveLength(2);
    });
  });
}
