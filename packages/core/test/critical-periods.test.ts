import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeCriticalPeriods,
  CRITICAL_PERIOD_DEFAULTS,
  DAY_MS,
  type DoseTime,
  formatInOffset,
  InvalidTimestampError,
  locateInCriticalPeriods,
  offsetOf,
  windowMsFromDays,
  windowMsFromHours,
  wouldKeepChain,
} from '../src/episode/critical-periods.js';
import { KapkitError } from '../src/errors.js';

const HOUR_MS = 3_600_000;
const W14 = 14 * DAY_MS;
const W48H = 48 * HOUR_MS;
/** Day 0 of the hand-computed examples: 2026-03-01T10:00:00Z. */
const BASE = Date.UTC(2026, 2, 1, 10);

/** ISO string of an instant in a fixed offset (minutes east of UTC), built without the module under test. */
function isoAt(ms: number, offsetMinutes = 0): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().replace('Z', '').replace('.000', '');
  if (offsetMinutes === 0) return `${local}Z`;
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** ISO string of day `n` (fractional allowed) after BASE, in UTC. */
const day = (n: number) => isoAt(BASE + n * DAY_MS);
const dosesOnDays = (...days: number[]): DoseTime[] => days.map((n) => ({ at: day(n) }));

describe('constants and window lengths', () => {
  it('defines a day as 86,400,000 ms and cites 14 days (seed) and 48 hours (Nardou et al. 2023)', () => {
    expect(DAY_MS).toBe(86_400_000);
    expect(CRITICAL_PERIOD_DEFAULTS).toEqual({ seedWindowDays: 14, researchWindowHours: 48 });
  });

  it('converts days and hours to whole milliseconds', () => {
    expect(windowMsFromDays(14)).toBe(1_209_600_000);
    expect(windowMsFromHours(48)).toBe(172_800_000);
    expect(windowMsFromDays(1.5)).toBe(129_600_000);
    expect(windowMsFromHours(CRITICAL_PERIOD_DEFAULTS.researchWindowHours)).toBe(windowMsFromDays(2));
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e-12, '14' as unknown as number])(
    'rejects a window of %s with code invalid-window',
    (bad) => {
      for (const f of [windowMsFromDays, windowMsFromHours]) {
        expect(() => f(bad)).toThrow(KapkitError);
        try {
          f(bad);
        } catch (e) {
          expect((e as KapkitError).code).toBe('invalid-window');
        }
      }
    },
  );

  it.each([0, -DAY_MS, 1.5, Number.NaN])('rejects options.windowMs = %s', (bad) => {
    expect(() => analyzeCriticalPeriods(dosesOnDays(0), { windowMs: bad })).toThrow(
      expect.objectContaining({ code: 'invalid-window' }),
    );
  });
});

describe('timestamps and offsets', () => {
  it('reads the offset of a timestamp', () => {
    expect(offsetOf('2026-03-02T10:00:00-05:00')).toBe('-05:00');
    expect(offsetOf('2026-03-02T10:00:00+05:30')).toBe('+05:30');
    expect(offsetOf('2026-03-02T15:00:00.123Z')).toBe('Z');
  });

  it('formats an instant in a fixed offset, with milliseconds only when not zero', () => {
    expect(formatInOffset(Date.UTC(2026, 2, 16, 7, 30), '-08:00')).toBe('2026-03-15T23:30:00-08:00');
    expect(formatInOffset(Date.UTC(2026, 2, 2, 15, 0, 0, 250), 'Z')).toBe('2026-03-02T15:00:00.250Z');
    expect(formatInOffset(Date.UTC(2026, 11, 31, 23, 0), '+01:00')).toBe('2027-01-01T00:00:00+01:00');
    expect(formatInOffset(Date.UTC(2026, 2, 2, 4, 15), '+05:45')).toBe('2026-03-02T10:00:00+05:45');
  });

  it('rejects an offset that is not Z or ±HH:MM', () => {
    expect(() => formatInOffset(0, '+0100')).toThrow(InvalidTimestampError);
    expect(() => formatInOffset(0, 'UTC')).toThrow(InvalidTimestampError);
  });

  it('round-trips every formatted instant through Date.parse', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.integer({ min: -12 * 4, max: 14 * 4 }).map((q) => q * 15),
        (ms, off) => {
          const offset = offsetOf(isoAt(0, off));
          const s = formatInOffset(ms, offset);
          expect(Date.parse(s)).toBe(ms);
          expect(offsetOf(s)).toBe(offset);
        },
      ),
    );
  });

  it.each([
    ['2026-03-02', 'a date without a time'],
    ['2026-03-02T10:00:00', 'no offset'],
    ['2026-02-30T10:00:00Z', 'February 30'],
    ['2026-13-01T10:00:00Z', 'month 13'],
    ['2026-03-02T24:00:00Z', 'hour 24'],
    ['2026-03-02T10:00:00+0100', 'an offset without a colon'],
    ['next tuesday', 'free text'],
    ['', 'an empty string'],
  ])('rejects %s (%s) with an InvalidTimestampError naming the index and the value', (bad) => {
    const doses = [{ at: day(0) }, { at: day(3) }, { at: bad }];
    let caught: unknown;
    try {
      analyzeCriticalPeriods(doses, { windowMs: W14 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidTimestampError);
    expect(caught).toBeInstanceOf(KapkitError);
    const err = caught as InvalidTimestampError;
    expect(err.code).toBe('invalid-timestamp');
    expect(err.index).toBe(2);
    expect(err.value).toBe(bad);
    expect(err.message).toContain('doses[2].at');
    expect(err.message).toContain(JSON.stringify(bad));
  });

  it('names the input index, not the sorted position, of a bad timestamp', () => {
    expect(() =>
      analyzeCriticalPeriods([{ at: day(9) }, { at: 'soon' }, { at: day(1) }], { windowMs: W14 }),
    ).toThrow(/doses\[1\]\.at.*"soon"/);
  });

  it('accepts a timestamp without seconds and with more than millisecond precision', () => {
    const a = analyzeCriticalPeriods(
      [{ at: '2026-03-01T10:00-05:00' }, { at: '2026-03-02T10:00:00.1234567Z' }],
      {
        windowMs: DAY_MS,
      },
    );
    expect(a.windows.map((w) => w.startMs)).toEqual([
      Date.UTC(2026, 2, 1, 15),
      Date.UTC(2026, 2, 2, 10, 0, 0, 123),
    ]);
    expect(a.windows[0]?.end).toBe('2026-03-02T10:00:00-05:00');
    expect(a.windows[1]?.end).toBe('2026-03-03T10:00:00.123Z');
  });

  it('rejects an invalid until, at or plannedAt, naming the parameter', () => {
    expect(() => analyzeCriticalPeriods(dosesOnDays(0), { windowMs: W14, until: 'now' })).toThrow(
      /options\.until/,
    );
    const a = analyzeCriticalPeriods(dosesOnDays(0), { windowMs: W14 });
    expect(() => locateInCriticalPeriods(a, '2026-03-05')).toThrow(InvalidTimestampError);
    expect(() => wouldKeepChain(a, '2026-03-05T10:00:00')).toThrow(/plannedAt/);
  });
});

describe('analyzeCriticalPeriods: windows, overlaps and chains', () => {
  it('returns empty arrays and nulls for no doses', () => {
    expect(analyzeCriticalPeriods([], { windowMs: W14, until: day(30) })).toEqual({
      windowMs: W14,
      windows: [],
      overlaps: [],
      chains: [],
      longestChain: null,
      coverage: null,
      gaps: [],
      nextDoseDeadline: null,
    });
  });

  it('opens a window [at, at + W) per dose, ending in the dose offset, keeping the session id', () => {
    const a = analyzeCriticalPeriods([{ at: '2026-03-02T10:00:00-05:00', sessionId: 's1' }], {
      windowMs: W14,
    });
    expect(a.windows).toEqual([
      {
        doseNumber: 1,
        sessionId: 's1',
        start: '2026-03-02T10:00:00-05:00',
        end: '2026-03-16T10:00:00-05:00',
        startMs: Date.UTC(2026, 2, 2, 15),
        endMs: Date.UTC(2026, 2, 16, 15),
      },
    ]);
    expect('sessionId' in analyzeCriticalPeriods(dosesOnDays(0), { windowMs: W14 }).windows[0]!).toBe(false);
  });

  it('treats a dose on day 13 as overlapping the previous 14-day window and one on day 14 as breaking the chain', () => {
    const d13 = analyzeCriticalPeriods(dosesOnDays(0, 13), { windowMs: W14 });
    expect(d13.overlaps).toEqual([{ from: 1, to: 2, overlapMs: DAY_MS }]);
    expect(d13.chains.map((c) => c.doses)).toEqual([[1, 2]]);

    const d14 = analyzeCriticalPeriods(dosesOnDays(0, 14), { windowMs: W14 });
    expect(d14.overlaps).toEqual([]);
    expect(d14.chains.map((c) => c.doses)).toEqual([[1], [2]]);
    expect(d14.gaps).toEqual([]);
    expect(d14.coverage?.fraction).toBe(1);
  });

  it('breaks the chain one millisecond after the window closes but not one before', () => {
    const before = analyzeCriticalPeriods([{ at: day(0) }, { at: isoAt(BASE + W14 - 1) }], { windowMs: W14 });
    expect(before.overlaps).toEqual([{ from: 1, to: 2, overlapMs: 1 }]);
    const after = analyzeCriticalPeriods([{ at: day(0) }, { at: isoAt(BASE + W14 + 1) }], { windowMs: W14 });
    expect(after.overlaps).toEqual([]);
    expect(after.gaps).toEqual([{ start: day(14), end: isoAt(BASE + W14 + 1), durationMs: 1, afterDose: 1 }]);
  });

  it('computes doses on days 0, 7 and 21 with W = 14 days by hand: one overlap, two chains, no gap', () => {
    const a = analyzeCriticalPeriods(dosesOnDays(0, 7, 21), { windowMs: W14 });
    expect(a.windows.map((w) => [w.doseNumber, w.start, w.end])).toEqual([
      [1, '2026-03-01T10:00:00Z', '2026-03-15T10:00:00Z'],
      [2, '2026-03-08T10:00:00Z', '2026-03-22T10:00:00Z'],
      [3, '2026-03-22T10:00:00Z', '2026-04-05T10:00:00Z'],
    ]);
    expect(a.overlaps).toEqual([{ from: 1, to: 2, overlapMs: 7 * DAY_MS }]);
    expect(a.chains).toEqual([
      { doses: [1, 2], start: day(0), end: day(21), durationMs: 21 * DAY_MS },
      { doses: [3], start: day(21), end: day(35), durationMs: 14 * DAY_MS },
    ]);
    expect(a.longestChain).toEqual(a.chains[0]);
    // window 2 ends exactly when dose 3 starts: a zero-length gap is not reported
    expect(a.gaps).toEqual([]);
    expect(a.coverage).toEqual({
      spanStart: day(0),
      spanEnd: day(35),
      spanMs: 35 * DAY_MS,
      coveredMs: 35 * DAY_MS,
      fraction: 1,
    });
    expect(a.nextDoseDeadline).toEqual({
      before: day(35),
      beforeMs: BASE + 35 * DAY_MS,
      latestDay: '2026-04-05',
    });
  });

  it('reports the real gap between doses on days 0 and 20 (day 14 to day 20)', () => {
    const a = analyzeCriticalPeriods(dosesOnDays(0, 20), { windowMs: W14 });
    expect(a.gaps).toEqual([{ start: day(14), end: day(20), durationMs: 6 * DAY_MS, afterDose: 1 }]);
    expect(a.coverage).toEqual({
      spanStart: day(0),
      spanEnd: day(34),
      spanMs: 34 * DAY_MS,
      coveredMs: 28 * DAY_MS,
      fraction: 28 / 34,
    });
  });

  it('measures coverage up to until, clipping the last window and adding a trailing gap', () => {
    const clipped = analyzeCriticalPeriods(dosesOnDays(0, 20), { windowMs: W14, until: day(30) });
    expect(clipped.coverage).toEqual({
      spanStart: day(0),
      spanEnd: day(30),
      spanMs: 30 * DAY_MS,
      coveredMs: 24 * DAY_MS,
      fraction: 0.8,
    });
    expect(clipped.gaps).toEqual([{ start: day(14), end: day(20), durationMs: 6 * DAY_MS, afterDose: 1 }]);

    const until = '2026-04-10T05:00:00-05:00'; // day 40
    const trailing = analyzeCriticalPeriods(dosesOnDays(0, 20), { windowMs: W14, until });
    expect(trailing.coverage).toEqual({
      spanStart: day(0),
      spanEnd: until,
      spanMs: 40 * DAY_MS,
      coveredMs: 28 * DAY_MS,
      fraction: 0.7,
    });
    expect(trailing.gaps).toEqual([
      { start: day(14), end: day(20), durationMs: 6 * DAY_MS, afterDose: 1 },
      { start: day(34), end: until, durationMs: 6 * DAY_MS, afterDose: 2 },
    ]);
  });

  it('ends a gap at until when until falls between two windows, and ignores doses after until', () => {
    const a = analyzeCriticalPeriods(dosesOnDays(0, 20), { windowMs: W14, until: day(17) });
    expect(a.coverage).toMatchObject({ spanMs: 17 * DAY_MS, coveredMs: 14 * DAY_MS });
    expect(a.gaps).toEqual([{ start: day(14), end: day(17), durationMs: 3 * DAY_MS, afterDose: 1 }]);
    expect(a.windows).toHaveLength(2);
  });

  it('gives no coverage when until is at or before the first dose', () => {
    expect(analyzeCriticalPeriods(dosesOnDays(5), { windowMs: W14, until: day(4) }).coverage).toBeNull();
    expect(analyzeCriticalPeriods(dosesOnDays(5), { windowMs: W14, until: day(5) }).coverage).toBeNull();
    expect(analyzeCriticalPeriods(dosesOnDays(5), { windowMs: W14, until: day(4) }).gaps).toEqual([]);
  });

  it('turns a weekly course into all-broken chains under the 48 h research window', () => {
    const weekly = dosesOnDays(0, 7, 14, 21);
    const seed = analyzeCriticalPeriods(weekly, { windowMs: windowMsFromDays(14) });
    expect(seed.chains.map((c) => c.doses)).toEqual([[1, 2, 3, 4]]);
    expect(seed.coverage?.fraction).toBe(1);

    const research = analyzeCriticalPeriods(weekly, { windowMs: windowMsFromHours(48) });
    expect(research.overlaps).toEqual([]);
    expect(research.chains.map((c) => c.doses)).toEqual([[1], [2], [3], [4]]);
    expect(research.chains.every((c) => c.durationMs === W48H)).toBe(true);
    expect(research.gaps).toEqual([
      { start: day(2), end: day(7), durationMs: 5 * DAY_MS, afterDose: 1 },
      { start: day(9), end: day(14), durationMs: 5 * DAY_MS, afterDose: 2 },
      { start: day(16), end: day(21), durationMs: 5 * DAY_MS, afterDose: 3 },
    ]);
    expect(research.coverage).toMatchObject({ spanMs: 23 * DAY_MS, coveredMs: 8 * DAY_MS, fraction: 8 / 23 });
  });

  it('sorts unsorted input by time and numbers doses in time order, keeping input order for equal instants', () => {
    const a = analyzeCriticalPeriods(
      [
        { at: day(21), sessionId: 'c' },
        { at: day(0), sessionId: 'a' },
        { at: day(7), sessionId: 'b1' },
        { at: day(7), sessionId: 'b2' },
      ],
      { windowMs: W14 },
    );
    expect(a.windows.map((w) => [w.doseNumber, w.sessionId])).toEqual([
      [1, 'a'],
      [2, 'b1'],
      [3, 'b2'],
      [4, 'c'],
    ]);
    expect(a.overlaps).toEqual([
      { from: 1, to: 2, overlapMs: 7 * DAY_MS },
      { from: 2, to: 3, overlapMs: W14 },
    ]);
    expect(a.chains.map((c) => c.doses)).toEqual([[1, 2, 3], [4]]);
  });

  it('compares mixed offsets as instants, not as wall-clock text', () => {
    // 10:00-05:00 is 15:00Z; 14:00+01:00 is 13:00Z, so the +01:00 dose comes first although its text sorts later
    const a = analyzeCriticalPeriods(
      [
        { at: '2026-03-02T10:00:00-05:00' },
        { at: '2026-03-02T14:00:00+01:00' },
        { at: '2026-03-16T14:30:00+01:00' },
      ],
      { windowMs: W14 },
    );
    expect(a.windows.map((w) => [w.start, w.end])).toEqual([
      ['2026-03-02T14:00:00+01:00', '2026-03-16T14:00:00+01:00'],
      ['2026-03-02T10:00:00-05:00', '2026-03-16T10:00:00-05:00'],
      ['2026-03-16T14:30:00+01:00', '2026-03-30T14:30:00+01:00'],
    ]);
    // dose 3 (13:30Z on 16 March) is before window 2 ends (15:00Z) but after window 1 ends (13:00Z)
    expect(a.overlaps).toEqual([
      { from: 1, to: 2, overlapMs: W14 - 2 * HOUR_MS },
      { from: 2, to: 3, overlapMs: 90 * 60_000 },
    ]);
    expect(a.chains.map((c) => c.doses)).toEqual([[1, 2, 3]]);
    // from 2 March 13:00Z to 30 March 13:30Z
    expect(a.chains[0]?.durationMs).toBe(28 * DAY_MS + 30 * 60_000);
  });

  it('picks the longest chain by dose count, the earliest on a tie', () => {
    const tie = analyzeCriticalPeriods(dosesOnDays(0, 7, 30, 37), { windowMs: W14 });
    expect(tie.chains.map((c) => c.doses)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(tie.longestChain?.doses).toEqual([1, 2]);
    const later = analyzeCriticalPeriods(dosesOnDays(0, 30, 37, 44), { windowMs: W14 });
    expect(later.longestChain?.doses).toEqual([2, 3, 4]);
  });
});

describe('nextDoseDeadline', () => {
  it("uses the last dose's local date: 23:30-08:00 on 1 March with W = 14 d gives latest day 15 March", () => {
    const a = analyzeCriticalPeriods([{ at: '2026-03-01T23:30:00-08:00' }], { windowMs: W14 });
    expect(a.nextDoseDeadline).toEqual({
      before: '2026-03-15T23:30:00-08:00',
      beforeMs: Date.UTC(2026, 2, 16, 7, 30),
      latestDay: '2026-03-15',
    });
  });

  it('takes the day before when the window ends at local midnight (the end itself is too late)', () => {
    const a = analyzeCriticalPeriods([{ at: '2026-03-01T00:00:00+02:00' }], { windowMs: W14 });
    expect(a.nextDoseDeadline).toMatchObject({
      before: '2026-03-15T00:00:00+02:00',
      latestDay: '2026-03-14',
    });
  });

  it('follows the last dose in time, not the last in the input', () => {
    const a = analyzeCriticalPeriods(dosesOnDays(10, 0), { windowMs: W48H });
    expect(a.nextDoseDeadline).toMatchObject({ before: day(12), latestDay: '2026-03-13' });
  });
});

describe('locateInCriticalPeriods', () => {
  const a = analyzeCriticalPeriods(
    [{ at: '2026-03-01T09:00:00Z' }, { at: '2026-03-08T09:00:00Z' }, { at: '2026-04-20T09:00:00Z' }],
    { windowMs: W14 },
  );

  it('lists every window containing the instant, the dose number and fractional days since the last dose', () => {
    expect(locateInCriticalPeriods(a, '2026-03-10T21:00:00Z')).toEqual({
      inside: true,
      windows: [1, 2],
      doseNumber: 2,
      lastDoseAt: '2026-03-08T09:00:00Z',
      daysSinceLastDose: 2.5,
    });
  });

  it("treats a window's end as outside it (half-open interval)", () => {
    expect(locateInCriticalPeriods(a, '2026-03-15T09:00:00Z').windows).toEqual([2]);
    expect(locateInCriticalPeriods(a, '2026-03-15T08:59:59.999Z').windows).toEqual([1, 2]);
    expect(locateInCriticalPeriods(a, '2026-03-22T09:00:00Z')).toEqual({
      inside: false,
      windows: [],
      doseNumber: 2,
      lastDoseAt: '2026-03-08T09:00:00Z',
      daysSinceLastDose: 14,
    });
  });

  it('counts a dose given at the very instant and reports zero days since it', () => {
    expect(locateInCriticalPeriods(a, '2026-04-20T04:00:00-05:00')).toEqual({
      inside: true,
      windows: [3],
      doseNumber: 3,
      lastDoseAt: '2026-04-20T09:00:00Z',
      daysSinceLastDose: 0,
    });
  });

  it('reports no dose before the first one', () => {
    expect(locateInCriticalPeriods(a, '2026-02-28T09:00:00Z')).toEqual({
      inside: false,
      windows: [],
      doseNumber: null,
      lastDoseAt: null,
      daysSinceLastDose: null,
    });
  });

  it('gives fractional days across offsets as elapsed time', () => {
    // 2026-03-09T10:00:00+01:00 is 09:00Z: exactly 1 day after dose 2; 6 h later is 1.25 days
    expect(locateInCriticalPeriods(a, '2026-03-09T10:00:00+01:00').daysSinceLastDose).toBe(1);
    expect(locateInCriticalPeriods(a, '2026-03-09T10:00:00-05:00').daysSinceLastDose).toBe(1.25);
  });

  it('finds nothing in an empty analysis', () => {
    const empty = analyzeCriticalPeriods([], { windowMs: W14 });
    expect(locateInCriticalPeriods(empty, day(0))).toEqual({
      inside: false,
      windows: [],
      doseNumber: null,
      lastDoseAt: null,
      daysSinceLastDose: null,
    });
  });
});

describe('wouldKeepChain', () => {
  const a = analyzeCriticalPeriods(dosesOnDays(0, 7), { windowMs: W14 });

  it('keeps the chain for a dose strictly inside the last window and breaks it at the window end', () => {
    expect(wouldKeepChain(a, day(7))).toBe(true);
    expect(wouldKeepChain(a, day(20))).toBe(true);
    expect(wouldKeepChain(a, isoAt(BASE + 21 * DAY_MS - 1))).toBe(true);
    expect(wouldKeepChain(a, day(21))).toBe(false);
    expect(wouldKeepChain(a, day(30))).toBe(false);
  });

  it('compares offsets as instants', () => {
    // window 2 ends 2026-03-22T10:00:00Z = 2026-03-22T05:00:00-05:00
    expect(wouldKeepChain(a, '2026-03-22T04:59:00-05:00')).toBe(true);
    expect(wouldKeepChain(a, '2026-03-22T11:00:00+01:00')).toBe(false);
  });

  it('returns false without doses (there is no chain to keep) and before the last dose (not a next dose)', () => {
    expect(wouldKeepChain(analyzeCriticalPeriods([], { windowMs: W14 }), day(0))).toBe(false);
    expect(wouldKeepChain(a, day(6))).toBe(false);
  });

  it('applies the analysis window: a weekly dose keeps a 14-day chain but not a 48-hour one', () => {
    const research = analyzeCriticalPeriods(dosesOnDays(0), { windowMs: W48H });
    expect(wouldKeepChain(research, day(7))).toBe(false);
    expect(wouldKeepChain(research, day(1.99))).toBe(true);
  });
});

describe('properties', () => {
  /** Courses of doses on whole hours within ~30 days, in assorted offsets, with whole-hour windows. */
  const course = fc.record({
    hours: fc.array(fc.integer({ min: 0, max: 720 }), { maxLength: 25 }),
    offsets: fc.array(fc.constantFrom(0, -300, -480, 60, 330, 345, 840), { minLength: 25, maxLength: 25 }),
    windowHours: fc.integer({ min: 1, max: 400 }),
    untilHours: fc.option(fc.integer({ min: -50, max: 1200 }), { nil: undefined }),
  });
  const build = (c: {
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

  it('keeps coveredMs ≤ spanMs and fraction in [0, 1]', () => {
    fc.assert(
      fc.property(course, (c) => {
        const a = build(c);
        if (a.coverage === null) return;
        expect(a.coverage.spanMs).toBeGreaterThan(0);
        expect(a.coverage.coveredMs).toBeGreaterThanOrEqual(0);
        expect(a.coverage.coveredMs).toBeLessThanOrEqual(a.coverage.spanMs);
        expect(a.coverage.fraction).toBeGreaterThanOrEqual(0);
        expect(a.coverage.fraction).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('partitions the doses into chains, in order, with chain counts summing to the number of doses', () => {
    fc.assert(
      fc.property(course, (c) => {
        const a = build(c);
        expect(a.chains.flatMap((ch) => ch.doses)).toEqual(c.hours.map((_, i) => i + 1));
        expect(a.chains.reduce((n, ch) => n + ch.doses.length, 0)).toBe(c.hours.length);
        expect(a.chains.every((ch) => ch.doses.length > 0)).toBe(true);
        expect(a.chains.length).toBe(c.hours.length - a.overlaps.length);
      }),
    );
  });

  it('lists only consecutive overlapping pairs, each with 0 < overlapMs ≤ W, and breaks chains exactly elsewhere', () => {
    fc.assert(
      fc.property(course, (c) => {
        const a = build(c);
        const W = c.windowHours * HOUR_MS;
        for (const o of a.overlaps) {
          expect(o.to).toBe(o.from + 1);
          expect(o.overlapMs).toBeGreaterThan(0);
          expect(o.overlapMs).toBeLessThanOrEqual(W);
        }
        const sorted = [...c.hours].sort((x, y) => x - y);
        const expected = sorted.flatMap((h, i) => {
          const next = sorted[i + 1];
          return next !== undefined && next < h + c.windowHours
            ? [{ from: i + 1, to: i + 2, overlapMs: (h + c.windowHours - next) * HOUR_MS }]
            : [];
        });
        expect(a.overlaps).toEqual(expected);
      }),
    );
  });

  it('makes coverage plus the total gap duration equal the span', () => {
    fc.assert(
      fc.property(course, (c) => {
        const a = build(c);
        const gapMs = a.gaps.reduce((n, g) => n + g.durationMs, 0);
        if (a.coverage === null) {
          expect(a.gaps).toEqual([]);
          return;
        }
        expect(a.coverage.coveredMs + gapMs).toBe(a.coverage.spanMs);
        expect(a.gaps.every((g) => g.durationMs > 0)).toBe(true);
      }),
    );
  });

  it('agrees with an hour-by-hour count of covered hours and of gaps', () => {
    fc.assert(
      fc.property(course, (c) => {
        const a = build(c);
        if (c.hours.length === 0) return;
        const first = Math.min(...c.hours);
        const end = c.untilHours ?? Math.max(...c.hours) + c.windowHours;
        let covered = 0;
        let gapRuns = 0;
        let inGap = false;
        for (let h = first; h < end; h++) {
          const isCovered = c.hours.some((d) => d <= h && h < d + c.windowHours);
          if (isCovered) covered++;
          if (!isCovered && !inGap) gapRuns++;
          inGap = !isCovered;
        }
        if (end <= first) {
          expect(a.coverage).toBeNull();
          return;
        }
        expect(a.coverage?.coveredMs).toBe(covered * HOUR_MS);
        expect(a.coverage?.spanMs).toBe((end - first) * HOUR_MS);
        expect(a.gaps).toHaveLength(gapRuns);
      }),
    );
  });

  it('writes window ends and gap bounds that parse back to their instants', () => {
    fc.assert(
      fc.property(course, (c) => {
        const a = build(c);
        for (const w of a.windows) {
          expect(Date.parse(w.start)).toBe(w.startMs);
          expect(Date.parse(w.end)).toBe(w.endMs);
          expect(offsetOf(w.end)).toBe(offsetOf(w.start));
        }
        for (const g of a.gaps) expect(Date.parse(g.end) - Date.parse(g.start)).toBe(g.durationMs);
        if (a.nextDoseDeadline !== null) {
          const last = a.windows[a.windows.length - 1]!;
          expect(a.nextDoseDeadline.beforeMs).toBe(last.endMs);
          expect(wouldKeepChain(a, isoAt(last.endMs - 1))).toBe(true);
          expect(wouldKeepChain(a, isoAt(last.endMs))).toBe(false);
        }
      }),
    );
  });

  it('locates every dose instant inside its own window with the right dose count', () => {
    fc.assert(
      fc.property(course, (c) => {
        const a = build(c);
        for (const w of a.windows) {
          const loc = locateInCriticalPeriods(a, w.start);
          expect(loc.inside).toBe(true);
          expect(loc.windows).toContain(w.doseNumber);
          expect(loc.doseNumber).toBeGreaterThanOrEqual(w.doseNumber);
          expect(loc.daysSinceLastDose).toBe(0);
          const brute = a.windows
            .filter((x) => x.startMs <= w.startMs && w.startMs < x.endMs)
            .map((x) => x.doseNumber);
          expect(loc.windows).toEqual(brute);
        }
      }),
    );
  });
});
