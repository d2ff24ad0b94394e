import { describe, expect, it } from 'vitest';
import { SAFETY_POSITIVE, SAFETY_UNANSWERED, scoreBatch, scoreStream } from '../src/instruments/bulk.js';
import { gad7 } from '../src/instruments/gad7.js';
import { phq9 } from '../src/instruments/phq9.js';
import { STATUS_CODES, scoreResponse } from '../src/instruments/scoring.js';

const records: unknown[] = [
  { id: 'a', responses: [1, 1, 1, 1, 1, 1, 1, 1, 0] }, // 8 complete, mild
  { id: 'b', responses: [3, 3, 3, 3, 3, 3, 3, null, 2] }, // prorated, item 9 positive
  { id: 'c', responses: [1, 1, 1, 1] }, // wrong length
  { id: 'd', responses: [null, null, null, 1, 1, 1, 1, 1, 0] }, // not scorable
  'not an object',
  { id: 'f', responses: [0, 0, 0, 7, 0, 0, 0, 0, 3] }, // invalid, but item 9 = 3 must still be flagged
  { id: 'g', responses: [0, 0, 0, 0, 0, 0, 0, 0, null] }, // item 9 unanswered
];

describe('bulk scoring into typed arrays', () => {
  const batch = scoreBatch(phq9, records);

  it('scores every valid record exactly as the single-record scorer does', () => {
    for (const i of [0, 1, 3, 6]) {
      const single = scoreResponse(phq9, records[i] as { responses: number[] });
      expect(STATUS_CODES[batch.status[i]!]).toBe(single.status);
      if (single.total === null) expect(batch.totals[i]).toBeNaN();
      else expect(batch.totals[i]).toBeCloseTo(single.total, 12);
      const band = batch.band[i]! >= 0 ? phq9.bands[batch.band[i]!]?.id : null;
      expect(band).toBe(single.severity);
    }
  });

  it('reports each invalid record individually and keeps going', () => {
    expect(batch.errors.map((e) => [e.index, e.id])).toEqual([
      [2, 'c'],
      [4, undefined],
      [5, 'f'],
    ]);
    expect(batch.errors[0]?.issues[0]?.code).toBe('wrong-length');
    expect(batch.errors[2]?.issues[0]?.path).toEqual(['responses', 3]);
    expect(batch.counts).toEqual({ complete: 1, prorated: 2, notScorable: 1, invalid: 3, safetyPositive: 2 });
  });

  it('flags a positive item 9 on valid and invalid records alike, and marks unanswered item 9', () => {
    expect(batch.safety[1]! & SAFETY_POSITIVE).toBeTruthy();
    expect(batch.safety[5]! & SAFETY_POSITIVE).toBeTruthy();
    expect(batch.errors[2]?.safetyFlags[0]).toMatchObject({ kind: 'positive', value: 3 });
    expect(batch.safety[6]).toBe(SAFETY_UNANSWERED);
    expect(batch.safety[0]).toBe(0);
  });

  it('handles an empty batch', () => {
    const empty = scoreBatch(gad7, []);
    expect(empty.count).toBe(0);
    expect(empty.errors).toEqual([]);
  });
});

describe('streaming scoring', () => {
  it('yields one outcome per record, in order, from an async source', async () => {
    async function* source() {
      for (const r of records) yield r;
    }
    const outcomes = [];
    for await (const o of scoreStream(phq9, source())) outcomes.push(o);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true, false, false, true]);
    expect(outcomes.map((o) => o.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const b = outcomes[1];
    expect(b?.ok && b.result.safetyFlags[0]?.kind).toBe('positive');
    const f = outcomes[5];
    expect(!f?.ok && f?.safetyFlags[0]?.value).toBe(3);
  });
});
