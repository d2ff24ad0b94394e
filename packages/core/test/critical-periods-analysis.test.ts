import { describe, expect, it } from 'vitest';
import { analyzeCriticalPeriods, DAY_MS } from '../src/episode/critical-periods.js';
import { BASE, day, dosesOnDays, isoAt, W14 } from './critical-periods-helpers.js';

// analyzeCriticalPeriods by hand-computed examples (sorting, offsets and the longest chain: ./critical-periods-order.test.ts).

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
});
