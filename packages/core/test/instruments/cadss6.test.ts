import { describe, expect, it } from 'vitest';
import { cadss6 } from '../../src/instruments/cadss6.js';
import { scoreResponse } from '../../src/instruments/scoring.js';
import { expectNoItemText, expectNotScorable, itRefuses, itRefusesBadAnswers } from './shared-checks.js';

describe('CADSS-6 definition', () => {
  it('is a session measure of six items rated 0–4', () => {
    expect(cadss6.purpose).toBe('session');
    expect(cadss6.items).toHaveLength(6);
    expect(cadss6.scale).toEqual({ min: 0, max: 4 });
    expect(cadss6.range).toEqual({ min: 0, max: 24 });
  });

  it('ships no item text, since its licence is unknown', () => {
    expectNoItemText(cadss6);
    expect(cadss6.licence.terms).toMatch(/^Unknown/);
  });
});

describe('CADSS-6 scoring', () => {
  it('sums the six items into a total from 0 to 24', () => {
    expect(scoreResponse(cadss6, { responses: [0, 0, 0, 0, 0, 0] }).total).toBe(0);
    expect(scoreResponse(cadss6, { responses: [4, 4, 4, 4, 4, 4] }).total).toBe(24);
    const r = scoreResponse(cadss6, { responses: [0, 1, 2, 3, 4, 2] });
    expect(r.status).toBe('complete');
    expect(r.total).toBe(12);
  });

  it('has no bands, cutoffs or safety rules', () => {
    const r = scoreResponse(cadss6, { responses: [4, 4, 4, 4, 4, 4] });
    expect(r.severity).toBeNull();
    expect(r.cutoffs).toEqual([]);
    expect(r.safetyFlags).toEqual([]);
  });

  it('does not score the total when an item is unanswered', () => {
    expectNotScorable(cadss6, [1, 1, null, 1, 1, 1], [3]);
  });
});

describe('CADSS-6 validation', () => {
  itRefusesBadAnswers(cadss6, { valid: [0, 0, 0, 0, 0, 0], outOfRange: [5, 5], wrongLength: 7 });
  itRefuses(cadss6, [
    {
      title: 'rejects a negative answer and a non-integer answer, naming each item',
      responses: [-1, 2.5, 0, 0, 0, 0],
      issues: [
        { path: ['responses', 0], code: 'out-of-range', message: 'cadss6_1' },
        { path: ['responses', 1], code: 'not-integer', message: 'cadss6_2' },
      ],
      only: true,
    },
  ]);
});
