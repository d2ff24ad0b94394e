import { describe, expect, it } from 'vitest';
import { meq30 } from '../../src/instruments/meq30.js';
import { scoreResponse } from '../../src/instruments/scoring.js';
import { cutoffMet as cutoff, expectNoItemText, itRefusesBadAnswers } from './shared-checks.js';

const MYSTICAL = [4, 5, 6, 9, 14, 15, 16, 18, 20, 21, 23, 24, 25, 26, 28];
const POSITIVE_MOOD = [2, 8, 12, 17, 27, 30];
const TRANSCENDENCE = [1, 7, 11, 13, 19, 22];
const INEFFABILITY = [3, 10, 29];

/** Thirty answers with every item of a subscale set to that subscale's value. */
function bySubscale(v: {
  mystical: number;
  positiveMood: number;
  transcendence: number;
  ineffability: number;
}) {
  return Array.from({ length: 30 }, (_, i) => {
    const n = i + 1;
    if (MYSTICAL.includes(n)) return v.mystical;
    if (POSITIVE_MOOD.includes(n)) return v.positiveMood;
    if (TRANSCENDENCE.includes(n)) return v.transcendence;
    return v.ineffability;
  }) as (number | null)[];
}

const allThree = { mystical: 3, positiveMood: 3, transcendence: 3, ineffability: 3 };

describe('MEQ-30 definition', () => {
  it('is a session measure of 30 items rated 0–5, without item text', () => {
    expect(meq30.purpose).toBe('session');
    expect(meq30.items).toHaveLength(30);
    expect(meq30.scale).toEqual({ min: 0, max: 5 });
    expectNoItemText(meq30);
  });

  it('assigns every item to exactly one of the four subscales (Barrett et al. 2015)', () => {
    const byId = Object.fromEntries(meq30.scores.map((s) => [s.id, [...s.items]]));
    expect(byId.mystical).toEqual(MYSTICAL);
    expect(byId.positiveMood).toEqual(POSITIVE_MOOD);
    expect(byId.transcendence).toEqual(TRANSCENDENCE);
    expect(byId.ineffability).toEqual(INEFFABILITY);
    const all = [...MYSTICAL, ...POSITIVE_MOOD, ...TRANSCENDENCE, ...INEFFABILITY].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('says the 60% criterion is configurable', () => {
    expect(meq30.compositeCutoffs[0].source).toMatch(/configurable/);
    expect(meq30.cutoffs.every((c) => c.value === 60 && c.op === '>=')).toBe(true);
  });
});

describe('MEQ-30 scoring', () => {
  it('scores the total as the mean of all 30 items, from 0 to 5', () => {
    expect(scoreResponse(meq30, { responses: Array(30).fill(0) }).total).toBe(0);
    expect(scoreResponse(meq30, { responses: Array(30).fill(5) }).total).toBe(5);
    // 15 items × 4 + 6 × 2 + 6 × 1 + 3 × 5 = 93; 93 / 30 = 3.1
    const r = scoreResponse(meq30, {
      responses: bySubscale({ mystical: 4, positiveMood: 2, transcendence: 1, ineffability: 5 }),
    });
    expect(r.total).toBeCloseTo(3.1, 10);
  });

  it('scores each subscale as the mean of its items', () => {
    const responses = bySubscale({ mystical: 4, positiveMood: 2, transcendence: 1, ineffability: 5 });
    responses[3] = 1; // item 4 (mystical): (14 × 4 + 1) / 15 = 3.8
    responses[1] = 5; // item 2 (positive mood): (5 × 2 + 5) / 6 = 2.5
    const r = scoreResponse(meq30, { responses });
    expect(r.scores.mystical?.score).toBeCloseTo(3.8, 10);
    expect(r.scores.positiveMood?.score).toBeCloseTo(2.5, 10);
    expect(r.scores.transcendence?.score).toBe(1);
    expect(r.scores.ineffability?.score).toBe(5);
  });

  it('scores each percentage as the subscale mean × 20', () => {
    const responses = bySubscale({ mystical: 4, positiveMood: 2, transcendence: 1, ineffability: 5 });
    responses[3] = 1;
    responses[1] = 5;
    const r = scoreResponse(meq30, { responses });
    expect(r.scores.mysticalPercent?.score).toBeCloseTo(76, 10);
    expect(r.scores.positiveMoodPercent?.score).toBeCloseTo(50, 10);
    expect(r.scores.transcendencePercent?.score).toBe(20);
    expect(r.scores.ineffabilityPercent?.score).toBe(100);
  });

  it.each([
    ['mystical', 'mystical-60', 3],
    ['positive mood', 'positive-mood-60', 1],
    ['transcendence', 'transcendence-60', 0],
    ['ineffability', 'ineffability-60', 2],
  ])('meets the %s cutoff at exactly 60%% and not one rating point below', (_name, id, index) => {
    const at = scoreResponse(meq30, { responses: bySubscale(allThree) });
    expect(cutoff(at, id)).toBe(true);
    const below = bySubscale(allThree);
    below[index] = 2;
    expect(cutoff(scoreResponse(meq30, { responses: below }), id)).toBe(false);
  });

  it('meets "complete mystical experience" when all four subscales reach 60%', () => {
    const r = scoreResponse(meq30, { responses: bySubscale(allThree) });
    expect(cutoff(r, 'complete-mystical-experience')).toBe(true);
    const high = scoreResponse(meq30, {
      responses: bySubscale({ mystical: 5, positiveMood: 4, transcendence: 3, ineffability: 5 }),
    });
    expect(cutoff(high, 'complete-mystical-experience')).toBe(true);
  });

  it('does not meet "complete mystical experience" when one subscale is below 60%', () => {
    const r = scoreResponse(meq30, {
      responses: bySubscale({ mystical: 5, positiveMood: 5, transcendence: 5, ineffability: 2 }),
    });
    expect(cutoff(r, 'mystical-60')).toBe(true);
    expect(cutoff(r, 'ineffability-60')).toBe(false);
    expect(cutoff(r, 'complete-mystical-experience')).toBe(false);
  });

  it('leaves the composite undetermined when a subscale cannot be scored and the others are met', () => {
    const responses = bySubscale(allThree);
    responses[28] = null; // item 29, ineffability
    const r = scoreResponse(meq30, { responses });
    expect(r.status).toBe('not-scorable');
    expect(r.total).toBeNull();
    expect(r.scores.ineffabilityPercent?.score).toBeNull();
    expect(cutoff(r, 'ineffability-60')).toBeNull();
    expect(cutoff(r, 'mystical-60')).toBe(true);
    expect(cutoff(r, 'complete-mystical-experience')).toBeNull();
  });

  it('rules the composite out when a subscale is known to be below 60% even if another is missing', () => {
    const responses = bySubscale({ ...allThree, positiveMood: 1 });
    responses[28] = null;
    expect(cutoff(scoreResponse(meq30, { responses }), 'complete-mystical-experience')).toBe(false);
  });
});

describe('MEQ-30 validation', () => {
  const valid = bySubscale(allThree);
  itRefusesBadAnswers(meq30, { valid, outOfRange: [29, 6], notInteger: [0, 3.5], wrongLength: 29 });
});
