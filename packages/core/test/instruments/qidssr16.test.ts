import { describe, expect, it } from 'vitest';
import { qidssr16 } from '../../src/instruments/qidssr16.js';
import { safeScoreResponse, scoreResponse } from '../../src/instruments/scoring.js';
import { expectNoItemText, itPlacesBandEdges, itRefusesBadAnswers } from './shared-checks.js';

/** Sixteen zeros with the given 1-based items set. */
function answers(set: Record<number, number | null> = {}): (number | null)[] {
  return Array.from({ length: 16 }, (_, i) => (i + 1 in set ? set[i + 1]! : 0));
}

/** First item of each of the nine domains (sleep, mood, appetite/weight, 10, 11, 12, 13, 14, psychomotor). */
const domainFirstItems = [1, 5, 6, 10, 11, 12, 13, 14, 15];

/** Responses whose total is `total`, filling domains with 3s in order. */
function withTotal(total: number): (number | null)[] {
  let left = total;
  const set: Record<number, number> = {};
  for (const item of domainFirstItems) {
    const v = Math.min(3, left);
    set[item] = v;
    left -= v;
  }
  return answers(set);
}

describe('QIDS-SR16 definition', () => {
  it('has 16 items rated 0–3 over the last 7 days, without item text', () => {
    expect(qidssr16.items).toHaveLength(16);
    expect(qidssr16.scale).toEqual({ min: 0, max: 3 });
    expect(qidssr16.recall).toBe('last 7 days');
    expectNoItemText(qidssr16);
  });

  it('groups the items into the nine DSM symptom domains', () => {
    expect(qidssr16.scoring.groups.map((g) => g.items)).toEqual([
      [1, 2, 3, 4],
      [5],
      [6, 7, 8, 9],
      [10],
      [11],
      [12],
      [13],
      [14],
      [15, 16],
    ]);
  });
});

describe('QIDS-SR16 scoring', () => {
  it('scores the sleep domain as the maximum of items 1–4', () => {
    const r = scoreResponse(qidssr16, { responses: answers({ 1: 1, 2: 3, 3: 0, 4: 2 }) });
    expect(r.total).toBe(3);
  });

  it('scores the appetite/weight domain as the maximum of items 6–9', () => {
    const r = scoreResponse(qidssr16, { responses: answers({ 6: 2, 7: 0, 8: 1, 9: 0 }) });
    expect(r.total).toBe(2);
  });

  it('scores the psychomotor domain as the maximum of items 15 and 16', () => {
    expect(scoreResponse(qidssr16, { responses: answers({ 15: 1, 16: 3 }) }).total).toBe(3);
    expect(scoreResponse(qidssr16, { responses: answers({ 15: 2, 16: 1 }) }).total).toBe(2);
  });

  it('adds the single-item domains 5 and 10–14 as they are', () => {
    const r = scoreResponse(qidssr16, { responses: answers({ 5: 2, 10: 1, 11: 3, 12: 0, 13: 2, 14: 1 }) });
    expect(r.total).toBe(9);
  });

  it('sums the nine domains on a hand-computed example', () => {
    // sleep max(1,3,0,2)=3, mood 2, appetite/weight max(0,2,1,0)=2, 10:1, 11:2, 12:0, 13:1, 14:2, psychomotor max(1,0)=1
    const r = scoreResponse(qidssr16, { responses: [1, 3, 0, 2, 2, 0, 2, 1, 0, 1, 2, 0, 1, 2, 1, 0] });
    expect(r.status).toBe('complete');
    expect(r.total).toBe(14);
    expect(r.severity).toBe('moderate');
  });

  it('reaches 27, not 48, when every item is 3', () => {
    expect(scoreResponse(qidssr16, { responses: Array(16).fill(3) }).total).toBe(27);
  });

  it('counts a domain as answered when only some of its items are (one appetite and one weight item)', () => {
    const r = scoreResponse(qidssr16, { responses: answers({ 6: 2, 7: null, 8: null, 9: 1 }) });
    expect(r.status).toBe('complete');
    expect(r.total).toBe(2);
    expect(r.missingItems).toEqual([7, 8]);
    expect(r.answered).toBe(14);
  });

  it('does not score the total when a whole domain is unanswered', () => {
    const r = scoreResponse(qidssr16, { responses: answers({ 15: null, 16: null }) });
    expect(r.status).toBe('not-scorable');
    expect(r.total).toBeNull();
    expect(r.severity).toBeNull();
    expect(r.reason).toContain('1 of 9 domains unanswered');
  });

  itPlacesBandEdges(
    qidssr16,
    withTotal,
    { none: [0, 5], mild: [6, 10], moderate: [11, 15], severe: [16, 20], 'very-severe': [21, 27] },
    'places a total of %i in the "%s" band (Rush et al. 2003)',
  );
});

describe('QIDS-SR16 safety rule on item 12 (thoughts of death or suicide)', () => {
  it('raises a positive flag when item 12 is above 0, whatever the total', () => {
    const r = scoreResponse(qidssr16, { responses: answers({ 12: 1 }) });
    expect(r.total).toBe(1);
    expect(r.safetyFlags).toHaveLength(1);
    expect(r.safetyFlags[0]).toMatchObject({
      rule: 'qidssr16-item12-positive',
      kind: 'positive',
      item: 12,
      itemId: 'qidssr16_12',
      value: 1,
    });
    expect(r.safetyFlags[0]?.message).toMatch(/risk assessment/);
  });

  it('raises no flag when item 12 is 0', () => {
    expect(scoreResponse(qidssr16, { responses: answers({ 1: 3, 5: 3 }) }).safetyFlags).toEqual([]);
  });

  it('raises an "unanswered" flag when item 12 is left blank', () => {
    const r = scoreResponse(qidssr16, { responses: answers({ 12: null }) });
    expect(r.status).toBe('not-scorable');
    expect(r.safetyFlags).toHaveLength(1);
    expect(r.safetyFlags[0]).toMatchObject({ kind: 'unanswered', item: 12, value: null });
  });

  it('says the rule is a kapkit default by analogy with PHQ-9 item 9', () => {
    expect(qidssr16.safety[0].source).toMatch(/kapkit default/);
    expect(qidssr16.safety[0].source).toMatch(/PHQ-9 item 9/);
  });

  it('keeps a positive item 12 flag on a record that is invalid elsewhere', () => {
    const r = safeScoreResponse(qidssr16, { responses: answers({ 1: 7, 12: 2 }) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.safetyFlags).toHaveLength(1);
    expect(r.safetyFlags[0]).toMatchObject({ kind: 'positive', value: 2 });
  });
});

describe('QIDS-SR16 validation', () => {
  itRefusesBadAnswers(qidssr16, {
    valid: answers(),
    outOfRange: [11, 4],
    notInteger: [2, 0.5],
    wrongLength: 15,
  });
});
