import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { locateInCriticalPeriods, offsetOf, wouldKeepChain } from '../src/episode/critical-periods.js';
import { build, course, HOUR_MS, isoAt } from './critical-periods-helpers.js';

// Properties of analyzeCriticalPeriods and locateInCriticalPeriods over random courses (./critical-periods-helpers.ts).

describe('properties', () => {
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
