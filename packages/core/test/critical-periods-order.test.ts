import { describe, expect, it } from 'vitest';
import {
  analyzeCriticalPeriods,
  DAY_MS,
  windowMsFromDays,
  windowMsFromHours,
} from '../src/episode/critical-periods.js';
import { day, dosesOnDays, HOUR_MS, W14, W48H } from './critical-periods-helpers.js';

// analyzeCriticalPeriods, continued: the 48 h window, input order, offsets and the longest chain.

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
