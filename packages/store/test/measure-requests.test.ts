import { afterAll, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import type { NewMeasureRequest } from '../src/measure-request-types.js';
import { hashMeasureToken, type MeasureRequestStore, openMeasureRequests } from '../src/measure-requests.js';
import { closeSharedPglite, describeEngine, ENGINES, storePerTest } from './helpers.js';

/*
 * Measure requests, their links, patient contacts and the e-mail outbox, on both engines. Every time is the
 * caller's (`atMs`): expiry and back-off are checked without waiting.
 */

afterAll(closeSharedPglite);

const T0 = Date.parse('2026-03-02T09:00:00Z');
const DAY = 86_400_000;
const TTL = 7 * DAY;
const EP = { episodeId: 'test-ep-mr', patientId: 'test-pt-mr' };

/** A request a clinician makes: a link to hand over, and an e-mail. */
const byClinician = (instruments: string[], atMs: number): NewMeasureRequest => ({
  ...EP,
  instruments,
  origin: 'clinician',
  createdBy: 'usr-1',
  atMs,
  ttlMs: TTL,
  issueLink: true,
  email: true,
});

/** A request the schedule makes: an e-mail only. */
const bySchedule = (instruments: string[], atMs: number): NewMeasureRequest => ({
  ...EP,
  instruments,
  origin: 'automatic',
  atMs,
  ttlMs: TTL,
  issueLink: false,
  email: true,
});

for (const engine of ENGINES) {
  describeEngine(engine, () => {
    let requests: MeasureRequestStore;
    const each = storePerTest(engine.kind, (opened) => {
      requests = openMeasureRequests(opened.store);
    });

    const clinician = (instruments: string[], atMs = T0) => requests.create(byClinician(instruments, atMs));
    const automatic = (instruments: string[], atMs = T0) => requests.create(bySchedule(instruments, atMs));

    it('stores only the hash of a 256-bit link token and finds the request by it', async () => {
      const made = await clinician(['phq9', 'gad7']);
      const token = made!.token!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const stored = await each.fx.sql<{ token_hash: string }>(
        `SELECT token_hash FROM "${each.fx.schema}".kapkit_measure_links`,
      );
      expect(stored).toEqual([{ token_hash: hashMeasureToken(token) }]);
      const dump = JSON.stringify(
        await each.fx.sql(`SELECT * FROM "${each.fx.schema}".kapkit_measure_requests`),
      );
      expect(dump).not.toContain(token);
      expect(await requests.byToken(token, T0)).toMatchObject({
        id: made!.request.id,
        instruments: ['phq9', 'gad7'],
        status: 'sent',
        expiresAt: new Date(T0 + TTL).toISOString(),
      });
      // One character changed (never to itself: a token ending in A would otherwise be looked up unchanged).
      const other = token.endsWith('A') ? 'B' : 'A';
      expect(await requests.byToken(`${token.slice(0, -1)}${other}`, T0)).toBeNull();
    });

    it('creates at most one open automatic request per measure of an episode, however often it runs', async () => {
      const first = await automatic(['phq9', 'gad7']);
      expect(first!.request.instruments).toEqual(['phq9', 'gad7']);
      expect(await automatic(['phq9', 'gad7'])).toBeNull();
      expect(await automatic(['gad7', 'who5'])).toMatchObject({ request: { instruments: ['who5'] } });
      // Completing frees the measures: the next due measure gets a new request.
      await requests.complete(first!.request.id, T0 + DAY, ['ev-1', 'ev-2']);
      expect(await automatic(['phq9'], T0 + 2 * DAY)).toMatchObject({ request: { instruments: ['phq9'] } });
      expect(
        await each.fx.sql(`SELECT count(*)::int AS n FROM "${each.fx.schema}".kapkit_measure_requests`),
      ).toEqual([{ n: 3 }]);
    });

    it('reads a request past its expiry as expired, refuses its submission, and frees its measures when expired', async () => {
      const made = await automatic(['phq9']);
      const id = made!.request.id;
      const link = await requests.issueLink(id, T0, 'link');
      expect(link).not.toBeNull();
      expect((await requests.byToken(link!, T0 + TTL - 1))?.status).toBe('sent');
      expect((await requests.byToken(link!, T0 + TTL))?.status).toBe('expired');
      expect(await requests.beginSubmission(id, T0 + TTL)).toBeNull();
      expect(await requests.issueLink(id, T0 + TTL, 'link')).toBeNull();
      expect(await requests.expireDue(T0 + TTL)).toBe(1);
      expect(await automatic(['phq9'], T0 + TTL)).not.toBeNull();
    });

    it('keeps the first submission time for a retry and marks the request completed once', async () => {
      const made = await clinician(['phq9']);
      const id = made!.request.id;
      await requests.markOpened(id, T0 + 1000);
      const first = await requests.beginSubmission(id, T0 + 2000);
      expect(first).toEqual({ submittedAt: new Date(T0 + 2000).toISOString() });
      expect(await requests.beginSubmission(id, T0 + 9000)).toEqual(first);
      await requests.complete(id, T0 + 3000, ['ev-1']);
      // A retry of a completed submission keeps its time (the store then answers `duplicate`).
      expect(await requests.beginSubmission(id, T0 + 60_000)).toEqual(first);
      expect(await requests.get(id, T0 + 60_000)).toMatchObject({
        status: 'completed',
        openedAt: new Date(T0 + 1000).toISOString(),
        completedAt: new Date(T0 + 3000).toISOString(),
        eventIds: ['ev-1'],
      });
      // A completed request cannot be revoked or given new links.
      await expect(requests.revoke(id, T0 + 60_000, 'usr-1')).rejects.toThrow(InvalidArgumentError);
      expect(await requests.issueLink(id, T0 + 60_000, 'link')).toBeNull();
    });

    it('revokes an open request: its links stop opening it and its unsent e-mail is cancelled', async () => {
      await requests.setContact(EP.patientId, 'patient@example.org', T0);
      const made = await clinician(['phq9']);
      expect(made!.request.email).toMatchObject({ status: 'pending', recipient: 'patient@example.org' });
      const revoked = await requests.revoke(made!.request.id, T0 + 1000, 'usr-1');
      expect(revoked).toMatchObject({ status: 'revoked', email: { status: 'cancelled' } });
      expect((await requests.byToken(made!.token!, T0 + 2000))?.status).toBe('revoked');
      expect(await requests.beginSubmission(made!.request.id, T0 + 2000)).toBeNull();
      expect(await requests.claimDue(T0 + 2000)).toEqual([]);
    });

    it('queues one e-mail per request, claims it before sending, backs off after a failure and never sends twice', async () => {
      await requests.setContact(EP.patientId, 'patient@example.org', T0);
      const made = await automatic(['phq9']);
      expect(await automatic(['phq9'])).toBeNull();
      const [claimed, ...more] = await requests.claimDue(T0);
      expect(more).toEqual([]);
      expect(claimed).toMatchObject({ status: 'sending', attempts: 1, requestId: made!.request.id });
      // Claimed messages are not claimed again.
      expect(await requests.claimDue(T0)).toEqual([]);
      await requests.markFailed(claimed!.id, '421', T0 + 60_000);
      expect(await requests.claimDue(T0 + 59_999)).toEqual([]);
      const [again] = await requests.claimDue(T0 + 60_000);
      expect(again).toMatchObject({ attempts: 2, lastError: '421' });
      await requests.markSent(again!.id, T0 + 61_000);
      expect(await requests.claimDue(T0 + 10 * DAY)).toEqual([]);
      expect(await requests.outbox()).toMatchObject([
        { status: 'sent', sentAt: new Date(T0 + 61_000).toISOString() },
      ]);
    });

    it('marks a message left sending by a crash uncertain instead of sending it again', async () => {
      await requests.setContact(EP.patientId, 'patient@example.org', T0);
      await automatic(['phq9']);
      await requests.claimDue(T0);
      expect(await requests.markInterrupted(T0)).toBe(0);
      expect(await requests.markInterrupted(T0 + 1)).toBe(1);
      expect(await requests.outbox()).toMatchObject([{ status: 'uncertain', lastError: 'interrupted' }]);
      expect(await requests.claimDue(T0 + DAY)).toEqual([]);
    });

    it('summarises a patient’s requests by status and rejects bad input with the field named', async () => {
      const a = await clinician(['phq9']);
      await clinician(['gad7']);
      await requests.markOpened(a!.request.id, T0 + 1);
      const summary = await requests.summaries([EP.patientId, 'nobody'], T0 + 2);
      expect(summary.get(EP.patientId)).toMatchObject({ sent: 1, opened: 1, completed: 0, expired: 0 });
      expect(summary.has('nobody')).toBe(false);
      expect((await requests.summaries([EP.patientId], T0 + TTL)).get(EP.patientId)).toMatchObject({
        expired: 2,
      });
      await expect(clinician(['PHQ-9'])).rejects.toThrow(/instruments\[0\]|canonical/);
      await expect(clinician([])).rejects.toThrow(InvalidArgumentError);
      await expect(requests.setContact(EP.patientId, 'not an address', T0)).rejects.toThrow(/e-mail/);
      await requests.setContact(EP.patientId, 'p@example.org', T0);
      expect(await requests.contact(EP.patientId)).toBe('p@example.org');
      await requests.setContact(EP.patientId, null, T0);
      expect(await requests.contact(EP.patientId)).toBeNull();
    });
  });
}
