import { describe, expect, it } from 'vitest';
import { scoreResponse } from '../../src/instruments/scoring.js';
import { who5 } from '../../src/instruments/who5.js';
import { answersSummingTo, cutoffMet as cutoff, itRefusesBadAnswers } from './shared-checks.js';

/** Five answers summing to `raw`, filled with 5s from item 1 onwards. */
const withRaw = (raw: number) => answersSummingTo(raw, 5, 5);

describe('WHO-5 definition', () => {
  it('has 5 items rated from 0 "At no time" to 5 "All of the time" over the last two weeks', () => {
    expect(who5.items).toHaveLength(5);
    expect(who5.scale.options.map((o) => [o.value, o.label])).toEqual([
      [0, 'At no time'],
      [1, 'Some of the time'],
      [2, 'Less than half of the time'],
      [3, 'More than half of the time'],
      [4, 'Most of the time'],
      [5, 'All of the time'],
    ]);
    expect(who5.recall).toBe('last 2 weeks');
  });

  it('counts a higher score as better wellbeing', () => {
    expect(who5.direction).toBe('higher-is-better');
  });

  it('ships the item text and marks its terms of use as unverified', () => {
    expect(who5.licence.itemTextIncluded).toBe(true);
    expect(who5.licence.terms).toContain('(unverified');
    expect(who5.items[0].text).toBe('I have felt cheerful and in good spirits');
    expect(who5.items[4].text).toBe('My daily life has been filled with things that interest me');
  });

  it('has no severity bands, since no sourced banding exists', () => {
    expect('bands' in who5).toBe(false);
    expect(scoreResponse(who5, { responses: withRaw(10) }).severity).toBeNull();
  });
});

describe('WHO-5 scoring', () => {
  it('sums the five items into a raw score from 0 to 25', () => {
    expect(scoreResponse(who5, { responses: [0, 0, 0, 0, 0] }).total).toBe(0);
    expect(scoreResponse(who5, { responses: [5, 5, 5, 5, 5] }).total).toBe(25);
    expect(scoreResponse(who5, { responses: [5, 4, 3, 2, 1] }).total).toBe(15);
  });

  it('scores the percentage as the raw score × 4, from 0 to 100', () => {
    expect(scoreResponse(who5, { responses: [5, 4, 3, 2, 1] }).scores.percentage?.score).toBe(60);
    expect(scoreResponse(who5, { responses: [5, 5, 5, 5, 5] }).scores.percentage?.score).toBe(100);
    expect(scoreResponse(who5, { responses: [0, 0, 0, 0, 0] }).scores.percentage?.score).toBe(0);
  });

  it('flags poor wellbeing at a raw score of 12 and not at 13', () => {
    expect(cutoff(scoreResponse(who5, { responses: withRaw(12) }), 'poor-wellbeing')).toBe(true);
    expect(cutoff(scoreResponse(who5, { responses: withRaw(13) }), 'poor-wellbeing')).toBe(false);
  });

  it('flags likely depression at a percentage of 28 (raw 7) and not at 32 (raw 8)', () => {
    const at28 = scoreResponse(who5, { responses: withRaw(7) });
    expect(at28.scores.percentage?.score).toBe(28);
    expect(cutoff(at28, 'likely-depression')).toBe(true);
    const at32 = scoreResponse(who5, { responses: withRaw(8) });
    expect(at32.scores.percentage?.score).toBe(32);
    expect(cutoff(at32, 'likely-depression')).toBe(false);
  });

  it('does not score the raw total or the percentage when an item is unanswered', () => {
    const r = scoreResponse(who5, { responses: [5, null, 3, 2, 1] });
    expect(r.status).toBe('not-scorable');
    expect(r.total).toBeNull();
    expect(r.scores.percentage?.score).toBeNull();
    expect(cutoff(r, 'poor-wellbeing')).toBeNull();
    expect(cutoff(r, 'likely-depression')).toBeNull();
  });
});

describe('WHO-5 validation', () => {
  itRefusesBadAnswers(who5, {
    valid: [1, 1, 1, 1, 1],
    outOfRange: [1, 6],
    notInteger: [2, 2.5],
    wrongLength: 6,
  });
});
