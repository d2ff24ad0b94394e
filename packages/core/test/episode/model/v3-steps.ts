import type { Story } from '@kapkit/testing';
import { decide, type EpisodeState } from '../../../src/episode/decide.js';
import { statusAt } from '../../../src/episode/status.js';
import { accepted, fullDose } from '../helpers.js';

// Steps shared by the machine version 3 tests (machine-v3-*.test.ts).

export const doseOf = fullDose;
export const PRE = { phase: 'pre', systolic: 120, diastolic: 80 };
/** The story with session `id` booked on day `d` and started by normal pre-dose vitals. */
export const startSession = (s: Story, d: number, id = 'x') =>
  s
    .day(d)
    .add('DosingSessionScheduled', { sessionId: id, scheduledFor: s.at(d), mode: 'in-person' })
    .add('VitalsRecorded', { sessionId: id, ...PRE }, 60);
/** Refusal of `event` after `log` (all accepted), or null. */
export const refusalAfter = (log: readonly unknown[], event: unknown) => {
  const d = decide(accepted(log), event);
  return d.ok ? null : d.refusal;
};
/** The alert codes of `state` at `asOf`. */
export const alertsAt = (state: EpisodeState, asOf: string) => statusAt(state, asOf).alerts;

export function refusalCode(state: EpisodeState, event: unknown): string | null {
  const d = decide(state, event);
  return d.ok ? null : d.refusal.code;
}
