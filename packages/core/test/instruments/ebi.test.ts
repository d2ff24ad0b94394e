import { describe, expect, it } from 'vitest';
import { ebi } from '../../src/instruments/ebi.js';
import { safeScoreResponse, scoreResponse } from '../../src/instruments/scoring.js';
import { expectNoItemText, expectNotScorable, itRefusesBadAnswers } from './shared-checks.js';

describe('EBI definition', () => {
  it('is a session measure of six 0–100 visual analogue items with labelled ends', () => {
    expect(ebi.purpose).toBe('session');
    expect(ebi.items).toHaveLength(6);
    expect(ebi.scale.min).toBe(0);
    expect(ebi.scale.max).toBe(100);
    expect(ebi.scale.anchors.min).toBeTruthy();
    expect(ebi.scale.anchors.max).toBeTruthy();
    expect(ebi.range).toEqual({ min: 0, max: 100 });
  });

  it('ships no item text, since its licence is unknown', () => {
    expectNoItemText(ebi);
  });
});

describe('EBI scoring', () => {
  it('scores the total as the mean of the six items, from 0 to 100', () => {
    expect(scoreResponse(ebi, { responses: [0, 0, 0, 0, 0, 0] }).total).toBe(0);
    expect(scoreResponse(ebi, { responses: [100, 100, 100, 100, 100, 100] }).total).toBe(100);
    const r = scoreResponse(ebi, { responses: [0, 20, 40, 60, 80, 100] });
    expect(r.status).toBe('complete');
    expect(r.total).toBe(50);
  });

  it('keeps a non-integer mean exact', () => {
    // (73 + 12 + 0 + 55 + 99 + 1) / 6 = 240 / 6 = 40; (1 + 0 + 0 + 0 + 0 + 0) / 6 = 0.1666…
    expect(scoreResponse(ebi, { responses: [73, 12, 0, 55, 99, 1] }).total).toBe(40);
    expect(scoreResponse(ebi, { responses: [1, 0, 0, 0, 0, 0] }).total).toBeCloseTo(1 / 6, 12);
  });

  it('does not score the total when an item is unanswered', () => {
    expectNotScorable(ebi, [50, 50, 50, null, 50, 50], [4]);
  });
});

describe('EBI validation', () => {
  it('accepts any integer from 0 to 100', () => {
    expect(safeScoreResponse(ebi, { responses: [0, 1, 37, 64, 99, 100] }).ok).toBe(true);
  });

  itRefusesBadAnswers(ebi, {
    valid: Array(6).fill(50),
    outOfRange: [2, 101],
    notInteger: [5, 50.5],
    wrongLength: 5,
  });
});
