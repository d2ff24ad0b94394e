import { describe, expect, it } from 'vitest';
import { ResponseValidationError } from '../../src/errors.js';
import { defineInstrument } from '../../src/instruments/definition.js';
import { pcl5 } from '../../src/instruments/pcl5.js';
import { scoreResponse } from '../../src/instruments/scoring.js';
import { answersSummingTo, cutoffMet as cutoff, itRefusesBadAnswers } from './shared-checks.js';

/** Twenty answers summing to `total`, filled with 4s from item 1 onwards. */
const withTotal = (total: number) => answersSummingTo(total, 20, 4);

describe('PCL-5 definition', () => {
  it('passes defineInstrument unchanged', () => {
    expect(defineInstrument(pcl5)).toBe(pcl5);
  });

  it('has 20 items rated 0–4 from "Not at all" to "Extremely" over the past month', () => {
    expect(pcl5.items).toHaveLength(20);
    expect(pcl5.scale.options.map((o) => o.label)).toEqual([
      'Not at all',
      'A little bit',
      'Moderately',
      'Quite a bit',
      'Extremely',
    ]);
    expect(pcl5.recall).toBe('past month');
    expect(pcl5.stem).toBe('In the past month, how much were you bothered by:');
  });

  it('ships the standard item text because the PCL-5 is public domain', () => {
    expect(pcl5.licence.itemTextIncluded).toBe(true);
    expect(pcl5.licence.terms).toMatch(/public domain/i);
    expect(pcl5.items.every((item) => typeof item.text === 'string' && item.text.length > 0)).toBe(true);
    expect(pcl5.items[0].text).toBe(
      'Repeated, disturbing, and unwanted memories of the stressful experience?',
    );
    expect(pcl5.items[16].text).toBe('Being "superalert" or watchful or on guard?');
    expect(pcl5.items[19].text).toBe('Trouble falling or staying asleep?');
  });

  it('carries the LOINC panel 101697-1 and total score 101698-9', () => {
    expect(pcl5.loinc).toEqual({ panel: '101697-1', total: '101698-9' });
  });

  it('records a minimal clinically important difference of 10 points', () => {
    expect(pcl5.change.mcid.value).toBe(10);
    expect(pcl5.change.reliability.value).toBe(0.94);
  });
});

describe('PCL-5 scoring', () => {
  it('sums all 20 items into a total from 0 to 80', () => {
    expect(scoreResponse(pcl5, { responses: withTotal(0) }).total).toBe(0);
    expect(scoreResponse(pcl5, { responses: withTotal(80) }).total).toBe(80);
    const r = scoreResponse(pcl5, {
      responses: [1, 2, 3, 4, 0, 2, 3, 0, 1, 2, 3, 4, 0, 1, 4, 3, 2, 1, 0, 4],
    });
    expect(r.status).toBe('complete');
    expect(r.total).toBe(40);
    expect(r.severity).toBeNull();
  });

  it('scores the DSM-5 clusters B (1–5), C (6–7), D (8–14) and E (15–20) as sums', () => {
    const r = scoreResponse(pcl5, {
      responses: [1, 2, 3, 4, 0, 2, 3, 0, 1, 2, 3, 4, 0, 1, 4, 3, 2, 1, 0, 4],
    });
    expect(r.scores.clusterB?.score).toBe(10);
    expect(r.scores.clusterC?.score).toBe(5);
    expect(r.scores.clusterD?.score).toBe(11);
    expect(r.scores.clusterE?.score).toBe(14);
  });

  it('gives each cluster its full range when every item is "Extremely"', () => {
    const r = scoreResponse(pcl5, { responses: withTotal(80) });
    expect([
      r.scores.clusterB?.score,
      r.scores.clusterC?.score,
      r.scores.clusterD?.score,
      r.scores.clusterE?.score,
    ]).toEqual([20, 8, 28, 24]);
  });

  it('flags probable PTSD at a total of 33 and not at 32', () => {
    expect(cutoff(scoreResponse(pcl5, { responses: withTotal(33) }), 'probable-ptsd')).toBe(true);
    expect(cutoff(scoreResponse(pcl5, { responses: withTotal(32) }), 'probable-ptsd')).toBe(false);
  });

  it('does not score the total when any item is unanswered (no published proration rule)', () => {
    const responses: (number | null)[] = withTotal(60);
    responses[9] = null;
    const r = scoreResponse(pcl5, { responses });
    expect(r.status).toBe('not-scorable');
    expect(r.total).toBeNull();
    expect(r.missingItems).toEqual([10]);
    expect(r.reason).toContain('1 of 20 items unanswered');
    expect(cutoff(r, 'probable-ptsd')).toBeNull();
  });

  it('still scores the clusters that are complete when an item of another cluster is missing', () => {
    const responses: (number | null)[] = [1, 2, 3, 4, 0, 2, 3, 0, 1, 2, 3, 4, 0, 1, 4, 3, 2, 1, 0, 4];
    responses[6] = null;
    const r = scoreResponse(pcl5, { responses });
    expect(r.scores.clusterC?.status).toBe('not-scorable');
    expect(r.scores.clusterC?.score).toBeNull();
    expect(r.scores.clusterB?.score).toBe(10);
    expect(r.scores.clusterD?.score).toBe(11);
    expect(r.scores.clusterE?.score).toBe(14);
  });
});

describe('PCL-5 validation', () => {
  itRefusesBadAnswers(pcl5, {
    valid: withTotal(10),
    outOfRange: [3, 5],
    notInteger: [19, 1.5],
    wrongLength: 19,
  });

  it('throws a ResponseValidationError from scoreResponse on invalid input', () => {
    const responses = withTotal(10);
    responses[0] = -1;
    expect(() => scoreResponse(pcl5, { responses })).toThrow(ResponseValidationError);
  });
});
