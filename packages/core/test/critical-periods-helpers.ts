import fc from 'fast-check';
import { analyzeCriticalPeriods, DAY_MS, type DoseTime } from '../src/episode/critical-periods.js';

// Shared by the critical-periods tests: instants built without the module under test, and random courses.

export const HOUR_MS = 3_600_000;
export const W14 = 14 * DAY_MS;
/** Day 0 of the hand-computed examples: 2026-03-01T10:00:00Z. */
export const BASE = Date.UTC(2026, 2, 1, 10);

/** ISO string of an instant in a fixed offset (minutes east of UTC), built without the module under test. */
export function isoAt(ms: number, offsetMinutes = 0): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().replace('Z', '').replace('.000', '');
  if (offsetMinutes === 0) return `${local}Z`;
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** ISO string of day `n` (fractional allowed) after BASE, in UTC. */
export const day = (n: number) => isoAt(BASE + n * DAY_MS);
export const dosesOnDays = (...days: number[]): DoseTime[] => days.map((n) => ({ at: day(n) }));

/** Courses of doses on whole hours within ~30 days, in assorted offsets, with whole-hour windows. */
export const course = fc.record({
  hours: fc.array(fc.integer({ min: 0, max: 720 }), { maxLength: 25 }),
  offsets: fc.array(fc.constantFrom(0, -300, -480, 60, 330, 345, 840), { minLength: 25, maxLength: 25 }),
  windowHours: fc.integer({ min: 1, max: 400 }),
  untilHours: fc.option(fc.integer({ min: -50, max: 1200 }), { nil: undefined }),
});
export const build = (c: {
  hours: number[];
  offsets: number[];
  windowHours: number;
  untilHours: number | undefined;
}) => {
  const doses = c.hours.map((h, i) => ({
    at: isoAt(BASE + h * HOUR_MS, c.offsets[i]),
    sessionId: `s${i}`,
  }));
  const until = c.untilHours === undefined ? undefined : isoAt(BASE + c.untilHours * HOUR_MS, -300);
  return analyzeCriticalPeriods(doses, { windowMs: c.windowHours * HOUR_MS, until });
};
