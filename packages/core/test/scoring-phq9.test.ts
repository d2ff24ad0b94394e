import { describe, expect, it } from 'vitest';
import { ResponseValidationError } from '../src/errors.js';
import { phq2, phq9 } from '../src/instruments/phq9.js';
import { safeScoreResponse, scoreResponse } from '../src/instruments/scoring.js';
import { itPlacesBandEdges } from './instruments/shared-checks.js';

/** Nine answers summing to `total` with item 9 = `item9` (items 1–8 filled left to right). */
function withTotal(total: number, item9 = 0): (0 | 1 | 2 | 3)[] {
  const r: (0 | 1 | 2 | 3)[] = [0, 0, 0, 0, 0, 0, 0, 0, item9 as 0 | 1 | 2 | 3];
  let left = total - item9;
  for (let i = 0; i < 8 && left > 0; i++) {
    const v = Math.min(3, left) as 0 | 1 | 2 | 3;
    r[i] = v;
    left -= v;
  }
  if (left !== 0) throw new Error(`cannot build total ${total}`);
  return r;
}

describe('PHQ-9 scoring (Kroenke, Spitzer & Williams 2001)', () => {
  it('sums nine complete answers into the total', () => {
    const r = scoreResponse(phq9, { responses: [1, 2, 1, 1, 0, 1, 0, 0, 0] });
    expect(r.status).toBe('complete');
    expect(r.total).toBe(6);
    expect(r.reason).toBeNull();
    expect(r.answered).toBe(9);
    expect(r.missingItems).toEqual([]);
  });

  // Items 1–8 reach 24 at most: the top of the severe band needs item 9 too.
  const withTotalUsingItem9 = (total: number) => withTotal(total, total > 24 ? 3 : 0);
  itPlacesBandEdges(phq9, withTotalUsingItem9, {
    minimal: [0, 4],
    mild: [5, 9],
    moderate: [10, 14],
    'moderately-severe': [15, 19],
    severe: [20, 27],
  });

  it('screens positive for probable major depression at 10 and not at 9', () => {
    const at10 = scoreResponse(phq9, { responses: withTotal(10) });
    const at9 = scoreResponse(phq9, { responses: withTotal(9) });
    expect(at10.cutoffs.find((c) => c.id === 'screen-positive')?.met).toBe(true);
    expect(at9.cutoffs.find((c) => c.id === 'screen-positive')?.met).toBe(false);
  });

  it('derives the PHQ-2 from items 1–2 with its cutoff of 3', () => {
    const r = scoreResponse(phq9, { responses: [2, 1, 0, 0, 0, 0, 0, 0, 0] });
    expect(r.scores.phq2?.score).toBe(3);
    expect(r.cutoffs.find((c) => c.id === 'phq2-screen-positive')?.met).toBe(true);
    const below = scoreResponse(phq9, { responses: [1, 1, 3, 3, 3, 0, 0, 0, 0] });
    expect(below.scores.phq2?.score).toBe(2);
    expect(below.cutoffs.find((c) => c.id === 'phq2-screen-positive')?.met).toBe(false);
  });

  it('leaves the PHQ-2 unscored when item 1 or 2 is missing, while the PHQ-9 is prorated', () => {
    const r = scoreResponse(phq9, { responses: [null, 3, 3, 3, 3, 3, 3, 3, 0] });
    expect(r.status).toBe('prorated');
    expect(r.scores.phq2?.status).toBe('not-scorable');
    expect(r.scores.phq2?.score).toBeNull();
    expect(r.cutoffs.find((c) => c.id === 'phq2-screen-positive')?.met).toBeNull();
  });

  it('prorates one missing item as mean of answered × 9 and keeps the exact value', () => {
    const r = scoreResponse(phq9, { responses: [1, 2, 1, 1, 0, 1, 0, null, 1] });
    expect(r.status).toBe('prorated');
    expect(r.total).toBe((7 * 9) / 8); // 7.875, not rounded
    expect(r.missingItems).toEqual([8]);
    expect(r.reason).toMatch(/1 of 9 items unanswered/);
  });

  it('prorates two missing items (the NHS Data Dictionary limit)', () => {
    const r = scoreResponse(phq9, { responses: [3, 3, null, 3, 3, null, 3, 3, 0] });
    expect(r.status).toBe('prorated');
    expect(r.total).toBe((18 * 9) / 7);
    expect(r.severity).toBe('severe');
  });

  it('does not score a PHQ-9 with three missing items, and says why', () => {
    const r = scoreResponse(phq9, { responses: [3, null, null, null, 3, 3, 3, 3, 0] });
    expect(r.status).toBe('not-scorable');
    expect(r.total).toBeNull();
    expect(r.severity).toBeNull();
    expect(r.reason).toMatch(/3 of 9 items unanswered; PHQ-9 allows at most 2/);
    expect(r.cutoffs.find((c) => c.id === 'screen-positive')?.met).toBeNull();
  });

  it('puts a prorated non-integer total in the band whose lower bound it has reached', () => {
    // 4 answered items summing to 4 plus… construct 8 answered summing to 4 → 4.5, between 4 and 5.
    const r = scoreResponse(phq9, { responses: [1, 1, 1, 1, 0, 0, 0, null, 0] });
    expect(r.total).toBe(4.5);
    expect(r.severity).toBe('minimal');
    const r2 = scoreResponse(phq9, { responses: [2, 2, 1, 1, 0, 0, 0, null, 0] }); // 6/8*9 = 6.75
    expect(r2.severity).toBe('mild');
  });

  it('records the unscored difficulty question without changing the total', () => {
    const r = scoreResponse(phq9, { responses: withTotal(12), supplementary: { difficulty: 2 } });
    expect(r.total).toBe(12);
    expect(r.supplementary).toEqual({ difficulty: 2 });
  });
});

describe('PHQ-9 item 9 safety flag', () => {
  it('flags item 9 > 0 even when the total is minimal', () => {
    const r = scoreResponse(phq9, { responses: [0, 0, 0, 0, 0, 0, 0, 0, 1] });
    expect(r.severity).toBe('minimal');
    expect(r.safetyFlags).toHaveLength(1);
    expect(r.safetyFlags[0]).toMatchObject({
      rule: 'phq9-item9-positive',
      kind: 'positive',
      item: 9,
      value: 1,
    });
  });

  it.each([1, 2, 3])('flags item 9 = %i', (v) => {
    const r = scoreResponse(phq9, { responses: withTotal(v, v) });
    expect(r.safetyFlags.map((f) => f.kind)).toEqual(['positive']);
  });

  it('raises no flag when item 9 is 0, whatever the total', () => {
    expect(scoreResponse(phq9, { responses: withTotal(24, 0) }).safetyFlags).toEqual([]);
  });

  it('flags item 9 even when the record has too many missing items to score', () => {
    const r = scoreResponse(phq9, { responses: [null, null, null, null, 0, 0, 0, 0, 2] });
    expect(r.status).toBe('not-scorable');
    expect(r.safetyFlags[0]).toMatchObject({ kind: 'positive', value: 2 });
  });

  it('raises a distinct "unanswered" flag when item 9 is left blank', () => {
    const r = scoreResponse(phq9, { responses: [1, 1, 1, 1, 1, 1, 1, 1, null] });
    expect(r.status).toBe('prorated');
    expect(r.safetyFlags).toHaveLength(1);
    expect(r.safetyFlags[0]).toMatchObject({ kind: 'unanswered', value: null });
  });

  it('keeps a positive item 9 on a record that is invalid elsewhere', () => {
    const r = safeScoreResponse(phq9, { responses: [9, 0, 0, 0, 0, 0, 0, 0, 3] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.safetyFlags[0]).toMatchObject({ kind: 'positive', value: 3 });
    expect(r.error.safetyFlags).toHaveLength(1);
    expect(r.error.message).toMatch(/SAFETY: phq9-item9-positive/);
  });
});

describe('PHQ-9 bad input', () => {
  it('rejects the wrong number of answers with a typed error naming the field', () => {
    expect(() => scoreResponse(phq9, { responses: [1, 1, 1] })).toThrow(ResponseValidationError);
    const r = safeScoreResponse(phq9, { responses: [1, 1, 1] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]).toMatchObject({
      path: ['responses'],
      code: 'wrong-length',
      expected: 'exactly 9 answers',
      received: '3',
    });
  });

  it('rejects an out-of-range answer, naming item number and id', () => {
    const r = safeScoreResponse(phq9, { responses: [0, 0, 0, 0, 4, 0, 0, 0, 0] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ path: ['responses', 4], code: 'out-of-range', received: '4' });
    expect(r.issues[0]?.message).toContain('item 5, phq9_5');
  });

  it('rejects non-integer, string and NaN answers', () => {
    const r = safeScoreResponse(phq9, { responses: [1.5, '2', Number.NaN, 0, 0, 0, 0, 0, 0] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.code)).toEqual(['not-integer', 'invalid-type', 'invalid-type']);
  });

  it('rejects a missing responses field and a non-object record', () => {
    const a = safeScoreResponse(phq9, { answers: [] });
    const b = safeScoreResponse(phq9, 42);
    expect(!a.ok && a.issues[0]?.code).toBe('missing-field');
    expect(!b.ok && b.issues[0]?.code).toBe('invalid-type');
  });

  it('rejects an unknown supplementary question and an out-of-range difficulty', () => {
    const r = safeScoreResponse(phq9, { responses: withTotal(3), supplementary: { mood: 1, difficulty: 5 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => [i.code, i.path.join('.')])).toEqual([
      ['unknown-field', 'supplementary.mood'],
      ['out-of-range', 'supplementary.difficulty'],
    ]);
  });
});

describe('PHQ-2 as its own instrument', () => {
  it('scores two items with the ≥ 3 screening cutoff and requires both', () => {
    expect(scoreResponse(phq2, { responses: [1, 2] }).cutoffs[0]?.met).toBe(true);
    expect(scoreResponse(phq2, { responses: [1, 1] }).cutoffs[0]?.met).toBe(false);
    expect(scoreResponse(phq2, { responses: [3, null] }).status).toBe('not-scorable');
  });
});
