import { describe, expect, it } from 'vitest';
import { gad2, gad7 } from '../src/instruments/gad7.js';
import { scoreResponse } from '../src/instruments/scoring.js';
import { answersSummingTo, itPlacesBandEdges } from './instruments/shared-checks.js';

/** Seven answers summing to `total`, filled with 3s from item 1 onwards. */
const withTotal = (total: number) => answersSummingTo(total, 7, 3);

describe('GAD-7 scoring (Spitzer et al. 2006)', () => {
  itPlacesBandEdges(gad7, withTotal, { minimal: [0, 4], mild: [5, 9], moderate: [10, 14], severe: [15, 21] });

  it('screens positive at 10 and not at 9', () => {
    expect(scoreResponse(gad7, { responses: withTotal(10) }).cutoffs[0]).toMatchObject({
      id: 'screen-positive',
      met: true,
    });
    expect(scoreResponse(gad7, { responses: withTotal(9) }).cutoffs[0]).toMatchObject({ met: false });
  });

  it('prorates one missing item × 7 by default and refuses two', () => {
    const one = scoreResponse(gad7, { responses: [3, 3, 3, null, 0, 0, 0] });
    expect(one.status).toBe('prorated');
    expect(one.total).toBe((9 * 7) / 6);
    const two = scoreResponse(gad7, { responses: [3, 3, null, null, 0, 0, 0] });
    expect(two.status).toBe('not-scorable');
    expect(two.reason).toMatch(/GAD-7 allows at most 1/);
  });

  it('derives the GAD-2 from items 1–2 with its cutoff of 3', () => {
    const r = scoreResponse(gad7, { responses: [2, 1, 0, 0, 0, 0, 0] });
    expect(r.scores.gad2?.score).toBe(3);
    expect(r.cutoffs.find((c) => c.id === 'gad2-screen-positive')?.met).toBe(true);
  });

  it('has no safety items', () => {
    expect(scoreResponse(gad7, { responses: [3, 3, 3, 3, 3, 3, 3] }).safetyFlags).toEqual([]);
  });

  it('scores the GAD-2 on its own', () => {
    expect(scoreResponse(gad2, { responses: [3, 0] }).cutoffs[0]?.met).toBe(true);
    expect(scoreResponse(gad2, { responses: [1, 1] }).cutoffs[0]?.met).toBe(false);
  });
});
