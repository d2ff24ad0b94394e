import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, initialEpisodeState } from '../../src/episode/decide.js';
import { eventTypes } from '../../src/episode/events.js';
import { statusAt } from '../../src/episode/status.js';
import { commands } from './prop/commands.js';
import { MINUTE, pick, T0 } from './prop/payloads.js';
import { countAlerts, expectedAlerts, run, runs } from './prop/run.js';

/*
 * Property tests of the episode model: random event sequences, mostly valid and sometimes not, folded with
 * `decide`. Invariants are re-derived from the accepted events themselves (a `Ledger` built only from them, in
 * clinical order), then compared with what the episode context, the read-side projection and `statusAt` say.
 *
 * The status at any later time, and junk input (see ./properties.test.ts; the generator's reach:
 * ./properties-reach.test.ts).
 */

describe('random episode logs folded with decide', () => {
  it('give a status at any later time without throwing, with the alerts the ledger derives', () => {
    fc.assert(
      fc.property(commands, fc.integer({ min: 0, max: 200 * 1440 }), (cmds, later) => {
        const r = run(cmds);
        const l = r.ledger;
        const asOfMs = Math.max(l.lastAtMs, T0) + later * MINUTE;
        const s = statusAt(r.fold.state, new Date(asOfMs).toISOString());
        expect(s.dosesGiven).toBe(l.dosedOrder.length);
        expect(s.dosesOnHand).toBe(l.delivered - l.used);
        // Low medication: fewer doses on hand than the policy's threshold, in an active, prescribed course.
        const active = l.opened && !l.closed && !l.paused;
        const initial = l.dosedOrder.filter((id) => !l.sessions.get(id)!.maintenance).length;
        // The initial course is done at its planned sessions; maintenance sessions need medication too.
        const courseDone = l.plannedSessions !== null && initial >= l.plannedSessions;
        expect(s.lowMedication).toBe(
          active &&
            l.prescription !== null &&
            l.stopInForce() === null &&
            (!courseDone || l.maintenance) &&
            l.delivered - l.used < l.policy.lowSupplyDoses,
        );
        expect(s.alerts.some((a) => a.code === 'low-medication')).toBe(s.lowMedication);
        // Critical periods of the initial course; the maintenance doses' apart.
        expect(s.criticalPeriods.analysis.windows).toHaveLength(initial);
        expect(s.maintenance?.criticalPeriods.windows.length ?? 0).toBe(l.dosedOrder.length - initial);
        expect(countAlerts(s.alerts)).toEqual(expectedAlerts(l, asOfMs));
        // Severity: urgent for safety flags, gating adverse events, late entries and alarming readings.
        for (const a of s.alerts) {
          expect(a.message.length).toBeGreaterThan(0);
          if (['safety-flag', 'late-entry', 'vitals-alert', 'vitals-hold'].includes(a.code))
            expect(a.severity, a.code).toBe('urgent');
        }
        const adverse = s.alerts.filter((a) => a.code === 'adverse-event');
        const gating = [...l.adverse.values()].filter((a) => a.gates && a.reviews.length === 0).length;
        expect(adverse.filter((a) => a.severity === 'urgent')).toHaveLength(gating);
        expect(adverse.filter((a) => a.severity === 'warning')).toHaveLength(adverse.length - gating);
      }),
      runs(80),
    );
  }, 60_000);

  it('refuse anything that is not an event with invalid-event, without throwing', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({
            type: pick([...eventTypes, 'Bogus']),
            instrument: fc.string(),
            responses: fc.anything(),
          }),
        ),
        (junk) => {
          const d = decide(initialEpisodeState, junk);
          expect(d.ok).toBe(false);
          if (!d.ok) expect(d.refusal.code).toBe('invalid-event');
        },
      ),
      { numRuns: 200 },
    );
  }, 30_000);
});
