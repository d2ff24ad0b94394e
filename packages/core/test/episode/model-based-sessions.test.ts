import { describe, expect, it } from 'vitest';
import { inProgress } from './model/abstraction.js';
import { BETWEEN_SESSIONS, expectAmong, IN_SESSION, sessionIndex, traverseMachine } from './model/probes.js';

// Model-based tests, continued: booking, starting and cancelling dosing sessions (the model and its traversal: ./model/).

describe('the episode machine, traversed with xstate/graph', () => {
  const { edges, probe } = traverseMachine();

  it('books a dosing session without starting it: the state stays where it was, between sessions or in a session', () => {
    const bookings = edges.filter((x) => x.event.type === 'DosingSessionScheduled');
    expect(new Set(bookings.map((x) => x.fromWhere))).toEqual(
      new Set(['preparation', 'dosing-course', 'dosing-session']),
    );
    for (const x of bookings) {
      expect(x.to.value).toEqual(x.from.value);
      expect(x.toWhere).toBe(x.fromWhere);
      expect(x.to.sessions).toEqual([...x.from.sessions, 'booked']);
    }
    // Booking ahead while a session is in progress.
    expect(bookings.some((x) => x.from.sessions.some(inProgress))).toBe(true);
    // Booking before plan and prescription are in place is not explored, but accepted too.
    const { acceptedIn } = probe();
    for (const where of ['planning', 'preparation', 'dosing-course', 'dosing-session'])
      expect(acceptedIn.has(`${where}:DosingSessionScheduled`), where).toBe(true);
  }, 60_000);

  it('records preparation and integration sessions while a dosing session is booked ahead', () => {
    for (const type of ['PreparationSessionCompleted', 'IntegrationSessionCompleted']) {
      const withBooking = edges.filter(
        (x) =>
          x.event.type === type && x.from.sessions.includes('booked') && !x.from.sessions.some(inProgress),
      );
      expect(withBooking.length, type).toBeGreaterThan(0);
      for (const x of withBooking) {
        expect(x.to.value).toEqual(BETWEEN_SESSIONS);
        expect(x.to.sessions).toEqual(x.from.sessions);
      }
    }
    // …but not while a session is in progress.
    expect([...probe().acceptedIn]).not.toEqual(
      expect.arrayContaining(['dosing-session:PreparationSessionCompleted']),
    );
    expectAmong(probe().refusedIn, [
      'dosing-session:PreparationSessionCompleted:session-in-progress',
      'dosing-session:IntegrationSessionCompleted:session-in-progress',
    ]);
  }, 60_000);

  it('accepts in-session events only for the session in progress, or, when none is, for a booked one', () => {
    const inSession = edges.filter((x) => IN_SESSION.includes(x.event.type));
    expect(new Set(inSession.map((x) => x.event.type))).toEqual(new Set(IN_SESSION));
    for (const x of inSession) {
      const i = sessionIndex(x.event);
      const current = x.from.sessions.findIndex(inProgress);
      if (current >= 0) expect(i).toBe(current);
      else expect(x.from.sessions[i]).toBe('booked');
    }
  });

  it('starts a booked session with its pre-dose vitals, and in no other way', () => {
    const { refusedIn } = probe();
    let starts = 0;
    for (const x of edges) {
      if (x.to.sessions === undefined || x.from.sessions === undefined) continue;
      const started = x.to.sessions.findIndex(inProgress);
      if (started < 0 || x.from.sessions.some(inProgress)) continue;
      starts++;
      // With the default policy a dose needs pre-dose vitals first, so only those start a session.
      expect(x.event.type).toBe('VitalsRecorded');
      expect(x.event.type === 'VitalsRecorded' && x.event.phase).toBe('pre');
      expect(sessionIndex(x.event)).toBe(started);
      expect(x.from.sessions[started]).toBe('booked');
      expect(x.from.value).toEqual(BETWEEN_SESSIONS);
      expect(x.to.value).toEqual({ open: { treatment: { dosingSession: 'awaitingDose' } } });
      expect(x.toWhere).toBe('dosing-session');
    }
    expect(starts).toBeGreaterThan(0);
    // Starting the second booked session first is allowed too.
    expect(
      edges.some((x) => x.from.sessions?.[0] === 'booked' && x.to.sessions && inProgress(x.to.sessions[1]!)),
    ).toBe(true);
    // What the other in-session events say about a booked session that has not started.
    expectAmong(refusedIn, [
      'preparation:VitalsRecorded:vitals-before-dose',
      'preparation:DoseAdministered:pre-dose-vitals-required',
      'preparation:DoseAdministered:booster-without-dose',
      'preparation:DosingSessionCompleted:no-session-in-progress',
      'dosing-course:VitalsRecorded:no-session-in-progress',
      'dosing-course:VitalsRecorded:unknown-session',
      'dosing-session:VitalsRecorded:session-in-progress',
      'dosing-session:DoseAdministered:session-in-progress',
    ]);
  }, 60_000);

  it('cancels a booked session that never started, staying between sessions; a session in progress is aborted', () => {
    const { refusedIn } = probe();
    const aborts = edges.filter((x) => x.event.type === 'DosingSessionAborted');
    const cancels = aborts.filter((x) => !x.from.sessions.some(inProgress));
    expect(cancels.length).toBeGreaterThan(0);
    for (const x of aborts) {
      const i = sessionIndex(x.event);
      // A cancel names the booked session; an abort names the session in progress.
      if (cancels.includes(x)) expect(x.from.sessions[i]).toBe('booked');
      else expect(inProgress(x.from.sessions[i]!)).toBe(true);
      expect(x.to.sessions).toEqual(x.from.sessions.map((s, j) => (j === i ? 'ended' : s)));
      expect(x.to.value).toEqual(BETWEEN_SESSIONS);
    }
    // A booked session cannot be cancelled while another one is in progress, nor an ended one again.
    expectAmong(refusedIn, [
      'dosing-session:DosingSessionAborted:session-in-progress',
      'dosing-course:DosingSessionAborted:no-session-in-progress',
      'preparation:DosingSessionAborted:unknown-session',
    ]);
  }, 60_000);
});
