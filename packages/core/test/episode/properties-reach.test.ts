import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectCountsAbove } from '../../../../test-support/counts.js';
import { statusAt } from '../../src/episode/status.js';
import { commands } from './prop/commands.js';
import { type Happenings, noHappenings } from './prop/facts.js';
import { DAY, T0 } from './prop/payloads.js';
import { run, V3_NO_SIGNAL_CODES } from './prop/run.js';

/*
 * Property tests of the episode model: random event sequences, mostly valid and sometimes not, folded with
 * `decide`. Invariants are re-derived from the accepted events themselves (a `Ledger` built only from them, in
 * clinical order), then compared with what the episode context, the read-side projection and `statusAt` say.
 *
 * The reach of the generator: the states and refusals random logs come to (see ./properties.test.ts).
 */

describe('random episode logs folded with decide', () => {
  it('reach the interesting states often enough to mean something', () => {
    // Not a property: a guard against a generator that stopped producing accepted doses, or the facts of machine
    // versions 2 and 3 (booking ahead, cancelling, reporting while paused or closed, late entries, voids, stops).
    // Runs with at least one dose, booster, second dose, fourth dose; closed; paused with a follow-up overdue.
    const runs = { dosed: 0, boosters: 0, secondDoses: 0, fourDoses: 0, closed: 0, pausedOverdue: 0 };
    const codes = new Set<string>();
    const alerts = new Map<string, number>();
    // Runs in which each fact happened at least once.
    const happened = noHappenings();
    for (const cmds of fc.sample(commands, { numRuns: 150, seed: 42 })) {
      const r = run(cmds);
      for (const c of r.refusals) codes.add(c);
      for (const [k, n] of Object.entries(r.happened) as [keyof Happenings, number][])
        if (n > 0) happened[k]++;
      const doses = r.ledger.dosedOrder.flatMap((id) => r.ledger.sessions.get(id)!.doses);
      if (doses.length > 0) runs.dosed++;
      if (doses.some((d) => d.kind === 'booster')) runs.boosters++;
      if (r.ledger.dosedOrder.length >= 2) runs.secondDoses++;
      if (r.ledger.dosedOrder.length >= 4) runs.fourDoses++;
      if (r.ledger.closed) runs.closed++;
      const s = statusAt(r.fold.state, new Date(Math.max(r.ledger.lastAtMs, T0) + DAY).toISOString());
      for (const code of new Set(s.alerts.map((a) => a.code))) alerts.set(code, (alerts.get(code) ?? 0) + 1);
      // A paused course keeps its follow-up alert (120 days on, any follow-up interval has passed).
      if (r.ledger.paused && r.ledger.dosedOrder.length > 0) {
        const later = statusAt(r.fold.state, new Date(r.ledger.lastAtMs + 120 * DAY).toISOString());
        if (later.phase === 'paused' && later.alerts.some((a) => a.code === 'follow-up-overdue'))
          runs.pausedOverdue++;
      }
    }
    expectCountsAbove(runs, {
      dosed: 30,
      secondDoses: 8,
      fourDoses: 0,
      boosters: 5,
      closed: 5,
      pausedOverdue: 0,
    });
    expectCountsAbove(happened, {
      bookedAhead: 20,
      sessionWorkWhileBooked: 20,
      startedByVitals: 40,
      cancelled: 8,
      adverseWhilePaused: 5,
      medicalWhilePaused: 1,
      reportedWhenClosed: 8,
      unknownSessionKept: 5,
      lateEntries: 20,
      voids: 20,
      reopened: 2,
      stopLifted: 1,
      upcast: 100,
    });
    for (const code of [
      // Refusals of the envelope and of the policy, which the model-based test's samples do not produce.
      'invalid-event',
      'wrong-episode',
      'wrong-patient',
      'duplicate-event-id',
      'out-of-order',
      'episode-not-opened',
      'episode-closed',
      'episode-paused',
      'vitals-hold',
      'no-medication-on-hand',
      'integration-required',
      'invalid-assessment',
      'follow-up-overdue',
      'session-in-progress',
      'no-session-in-progress',
      'unknown-session',
      'duplicate-session',
      // Machine version 3.
      'not-permitted',
      'future-event',
      ...V3_NO_SIGNAL_CODES,
    ]) {
      expect(codes, code).toContain(code);
    }
    for (const code of [
      'adverse-event',
      'late-entry',
      'treatment-stopped',
      'vitals-alert',
      'no-response',
      'reliable-deterioration',
      'severe-symptoms',
      'follow-up-overdue',
      'safety-flag',
    ]) {
      expect(alerts.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  }, 60_000);
});
