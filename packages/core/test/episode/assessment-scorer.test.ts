import { describe, expect, it } from 'vitest';
import type { AssessmentScorer } from '../../src/episode/context.js';
import type { EpisodeEvent } from '../../src/episode/events.js';
import { assessmentScorer } from '../../src/episode/rules.js';
import { createInstrumentRegistry } from '../../src/instruments/builtin.js';
import { scoreResponse } from '../../src/instruments/scoring.js';

/*
 * The scorer the folds use for assessments that carry no score (the read side: events read back from a store).
 * It takes a fast path for valid answers, supplementary questions included, and must give exactly what
 * `scoreResponse` gives for the parts an episode keeps; anything `scoreResponse` would refuse goes its way.
 */

type Assessment = Extract<EpisodeEvent, { type: 'AssessmentRecorded' }>;

const score: AssessmentScorer = assessmentScorer(createInstrumentRegistry());

function assessment(instrument: string, responses: unknown[], supplementary?: unknown): Assessment {
  return {
    type: 'AssessmentRecorded',
    instrument,
    responses,
    ...(supplementary === undefined ? {} : { supplementary }),
  } as unknown as Assessment;
}

/** The fields of a score that an episode keeps. */
const KEPT = ['instrument', 'status', 'total', 'severity', 'safetyFlags'] as const;

/** The parts of `scoreResponse`'s result that an episode keeps. */
function kept(instrument: string, responses: unknown[], supplementary?: unknown) {
  const r = scoreResponse(createInstrumentRegistry().get(instrument), { responses, supplementary } as never);
  return Object.fromEntries(KEPT.map((k) => [k, r[k]]));
}

describe('the assessment scorer of the folds', () => {
  it.each([
    ['phq9', [1, 2, 3, 0, 1, 2, 0, 1, 2], { difficulty: 2 }],
    ['phq9', [1, 2, 3, 0, 1, 2, 0, 1, 0], { difficulty: null }],
    ['phq9', [3, 3, 3, 3, 3, 3, 3, 3, 3], {}],
    ['phq9', [1, null, 3, 0, 1, 2, 0, 1, 1], { difficulty: 0 }],
    ['gad7', [0, 1, 2, 3, 0, 1, 2], { difficulty: 3 }],
    ['gad7', [0, 1, 2, 3, 0, 1, 2], null],
  ])(
    'gives what scoreResponse gives for valid answers (%s, %j, supplementary %j)',
    (instrument, responses, supp) => {
      expect(score(assessment(instrument, responses, supp))).toEqual(
        kept(instrument, responses, supp ?? undefined),
      );
    },
  );

  it.each([
    [{ difficulty: 4 }, 'out of the question’s scale'],
    [{ difficulty: 1.5 }, 'not a whole number'],
    [{ difficulty: '2' }, 'not a number'],
    [{ other: 1 }, 'an unknown question'],
    [[2], 'not an object'],
  ])(
    'does not take the fast path for a supplementary answer %j (%s): scoreResponse refuses it',
    (supp: unknown, _why: string) => {
      const responses = [1, 2, 3, 0, 1, 2, 0, 1, 2];
      expect(() => kept('phq9', responses, supp)).toThrow();
      expect(() => score(assessment('phq9', responses, supp))).toThrow();
    },
  );
});
