import { describe, expect, it } from 'vitest';
import { analyzeCriticalPeriods, DAY_MS } from '../src/episode/critical-periods.js';
import { day, dosesOnDays, HOUR_MS, W14 } from './critical-periods-helpers.js';

// analyzeCriticalPeriods, continued: input order, offsets and the longest chain.

describe('analyzeCriticalPeriods: windows, overlaps and chains', () => {
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
