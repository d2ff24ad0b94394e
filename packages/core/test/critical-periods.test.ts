import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeCriticalPeriods,
  CRITICAL_PERIOD_DEFAULTS,
  DAY_MS,
  formatInOffset,
  InvalidTimestampError,
  locateInCriticalPeriods,
  offsetOf,
  windowMsFromDays,
  windowMsFromHours,
  wouldKeepChain,
} from '../src/episode/critical-periods.js';
import { KapkitError } from '../src/errors.js';
import { BASE, day, dosesOnDays, HOUR_MS, isoAt, W14 } from './critical-periods-helpers.js';

/** The 48-hour research window (Nardou et al. 2023). */
const W48H = 48 * HOUR_MS;

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
  /** What locateInCriticalPeriods answers: inside exactly when some window contains the instant. */
  const located = (
    windows: number[],
    doseNumber: number | null,
    lastDoseAt: string | null,
    daysSinceLastDose: number | null,
  ) => ({ inside: windows.length > 0, windows, doseNumber, lastDoseAt, daysSinceLastDose });

  it('lists every window containing the instant, the dose number and fractional days since the last dose', () => {
    expect(locateInCriticalPeriods(a, '2026-03-10T21:00:00Z')).toEqual(
      located([1, 2], 2, '2026-03-08T09:00:00Z', 2.5),
    );
  });

  it("treats a window's end as outside it (half-open interval)", () => {
    expect(locateInCriticalPeriods(a, '2026-03-15T09:00:00Z').windows).toEqual([2]);
    expect(locateInCriticalPeriods(a, '2026-03-15T08:59:59.999Z').windows).toEqual([1, 2]);
    expect(locateInCriticalPeriods(a, '2026-03-22T09:00:00Z')).toEqual(
      located([], 2, '2026-03-08T09:00:00Z', 14),
    );
  });

  it('counts a dose given at the very instant and reports zero days since it', () => {
    expect(locateInCriticalPeriods(a, '2026-04-20T04:00:00-05:00')).toEqual(
      located([3], 3, '2026-04-20T09:00:00Z', 0),
    );
  });

  it('reports no dose before the first one', () => {
    expect(locateInCriticalPeriods(a, '2026-02-28T09:00:00Z')).toEqual(located([], null, null, null));
  });

  it('gives fractional days across offsets as elapsed time', () => {
    // 2026-03-09T10:00:00+01:00 is 09:00Z: exactly 1 day after dose 2; 6 h later is 1.25 days
    expect(locateInCriticalPeriods(a, '2026-03-09T10:00:00+01:00').daysSinceLastDose).toBe(1);
    expect(locateInCriticalPeriods(a, '2026-03-09T10:00:00-05:00').daysSinceLastDose).toBe(1.25);
  });

  it('finds nothing in an empty analysis', () => {
    const empty = analyzeCriticalPeriods([], { windowMs: W14 });
    expect(locateInCriticalPeriods(empty, day(0))).toEqual(located([], null, null, null));
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
