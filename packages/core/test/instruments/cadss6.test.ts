import { describe, expect, it } from 'vitest';
import { cadss6 } from '../../src/instruments/cadss6.js';
import { safeScoreResponse, scoreResponse } from '../../src/instruments/scoring.js';

describe('CADSS-6 definition', () => {
  it('is a session measure of six items rated 0–4', () => {
    expect(cadss6.purpose).toBe('session');
    expect(cadss6.items).toHaveLength(6);
    expect(cadss6.scale).toEqual({ min: 0, max: 4 });
    expect(cadss6.range).toEqual({ min: 0, max: 24 });
  });

  it('ships no item text, since its licence is unknown', () => {
    expect(cadss6.licence.itemTextIncluded).toBe(false);
    expect(cadss6.licence.terms).toMatch(/^Unknown/);
    expect(cadss6.items.every((item) => !('text' in item))).toBe(true);
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
    const r = scoreResponse(cadss6, { responses: [1, 1, null, 1, 1, 1] });
    expect(r.status).toBe('not-scorable');
    expect(r.total).toBeNull();
    expect(r.missingItems).toEqual([3]);
  });
});

describe('CADSS-6 validation', () => {
  it('rejects an answer of 5 and names the item', () => {
    const r = safeScoreResponse(cadss6, { responses: [0, 0, 0, 0, 0, 5] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ path: ['responses', 5], code: 'out-of-range' });
    expect(r.issues[0]?.message).toContain('item 6, cadss6_6');
  });

  it('rejects a negative answer and a non-integer answer, naming each item', () => {
    const r = safeScoreResponse(cadss6, { responses: [-1, 2.5, 0, 0, 0, 0] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => [i.path, i.code])).toEqual([
      [['responses', 0], 'out-of-range'],
      [['responses', 1], 'not-integer'],
    ]);
    expect(r.issues[0]?.message).toContain('cadss6_1');
    expect(r.issues[1]?.message).toContain('cadss6_2');
  });

  it('rejects seven answers as the wrong length', () => {
    const r = safeScoreResponse(cadss6, { responses: [0, 0, 0, 0, 0, 0, 0] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]).toMatchObject({ path: ['responses'], code: 'wrong-length' });
  });
});
