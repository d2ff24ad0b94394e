import { expect, it } from 'vitest';
import { InstrumentDefinitionError } from '../../src/errors.js';
import { defineInstrument, type InstrumentDefinition } from '../../src/instruments/definition.js';
import { safeScoreResponse, scoreResponse } from '../../src/instruments/scoring.js';

/** Whether the cutoff `id` is met on a scored response (`null` when undeterminable, `undefined` when absent). */
export const cutoffMet = (r: { cutoffs: readonly { id: string; met: boolean | null }[] }, id: string) =>
  r.cutoffs.find((c) => c.id === id)?.met;

/** The paths `defineInstrument` names for a definition, or [] when it passes. */
export function definitionIssues(d: InstrumentDefinition): string[] {
  try {
    defineInstrument(d);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(InstrumentDefinitionError);
    return (e as InstrumentDefinitionError).issues.map((i) => i.path.join('.'));
  }
}

/** `items` answers summing to `total`, filled with the scale maximum `max` from item 1 onwards. */
export function answersSummingTo(total: number, items: number, max: number): number[] {
  let left = total;
  return Array.from({ length: items }, () => {
    const v = Math.min(max, left);
    left -= v;
    return v;
  });
}

/** Asserts that an instrument ships none of its item text (its licence does not allow it, or is unknown). */
export function expectNoItemText(instrument: InstrumentDefinition): void {
  expect(instrument.licence.itemTextIncluded).toBe(false);
  expect(instrument.items.every((item) => !('text' in item))).toBe(true);
}

/** Asserts that a response with unanswered items is not scored, and which items (1-based) it lacks. */
export function expectNotScorable(
  instrument: InstrumentDefinition,
  responses: readonly (number | null)[],
  missingItems: readonly number[],
) {
  const r = scoreResponse(instrument, { responses });
  expect(r.status).toBe('not-scorable');
  expect(r.total).toBeNull();
  expect(r.missingItems).toEqual(missingItems);
  return r;
}

/** An issue a refused response must carry: its path, its code and, when given, words its message contains. */
interface ExpectedIssue {
  readonly path: readonly (string | number)[];
  readonly code: string;
  readonly message?: string;
}

/** One response an instrument must refuse, and the first issues (in order) it must report. */
export interface Refusal {
  /** The test's name, e.g. 'rejects an answer of 6 and names the item'. */
  readonly title: string;
  readonly responses: readonly (number | null)[];
  readonly issues: readonly ExpectedIssue[];
  /** The issues listed are all the issues (otherwise the response may carry more after them). */
  readonly only?: boolean;
}

/**
 * One test per refusal, the checks every instrument's validation tests share: `safeScoreResponse` refuses the
 * response, and its issues name the path, the code and the item. Call it inside the instrument's describe.
 */
export function itRefuses(instrument: InstrumentDefinition, refusals: readonly Refusal[]): void {
  for (const refusal of refusals) {
    it(refusal.title, () => {
      const r = safeScoreResponse(instrument, { responses: refusal.responses });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      if (refusal.only) expect(r.issues).toHaveLength(refusal.issues.length);
      refusal.issues.forEach((want, i) => {
        expect(r.issues[i]).toMatchObject({ path: want.path, code: want.code });
        if (want.message !== undefined) expect(r.issues[i]?.message).toContain(want.message);
      });
    });
  }
}

/** The bad answers every instrument must refuse, each written into a valid response. */
interface BadAnswers {
  /** A complete, valid response. */
  readonly valid: readonly (number | null)[];
  /** An answer outside the scale: `[index, value]`, the index 0-based. */
  readonly outOfRange: readonly [number, number];
  /** A fractional answer, `[index, value]`; left out when the instrument's own test covers it. */
  readonly notInteger?: readonly [number, number];
  /** A number of answers other than the instrument's item count. */
  readonly wrongLength: number;
}

/**
 * The three refusals every instrument's validation tests make: an answer outside the scale (the only issue,
 * naming the item by number and id), a fractional answer (naming the item id) and the wrong number of answers.
 */
export function itRefusesBadAnswers(instrument: InstrumentDefinition, bad: BadAnswers): void {
  const written = ([index, value]: readonly [number, number]) =>
    bad.valid.map((v, i) => (i === index ? value : v));
  const itemId = (index: number) => `${instrument.id}_${index + 1}`;
  const [outIndex, outValue] = bad.outOfRange;
  const refusals: Refusal[] = [
    {
      title: `rejects an answer of ${outValue} and names the item`,
      responses: written(bad.outOfRange),
      issues: [
        {
          path: ['responses', outIndex],
          code: 'out-of-range',
          message: `item ${outIndex + 1}, ${itemId(outIndex)}`,
        },
      ],
      only: true,
    },
  ];
  if (bad.notInteger) {
    const [index] = bad.notInteger;
    refusals.push({
      title: 'rejects a non-integer answer and names the item',
      responses: written(bad.notInteger),
      issues: [{ path: ['responses', index], code: 'not-integer', message: itemId(index) }],
    });
  }
  const first = bad.valid[0] ?? 0;
  refusals.push({
    title: `rejects ${bad.wrongLength} answers as the wrong length`,
    responses: Array.from({ length: bad.wrongLength }, (_, i) => bad.valid[i] ?? first),
    issues: [{ path: ['responses'], code: 'wrong-length' }],
  });
  itRefuses(instrument, refusals);
}

/**
 * One test per band edge of a severity banding: the lowest and the highest total of each band score into it.
 * `bands` maps each band to its `[lowest, highest]` total, as the source tables print them; `responsesFor`
 * builds a response with a given total.
 */
export function itPlacesBandEdges(
  instrument: InstrumentDefinition,
  responsesFor: (total: number) => readonly (number | null)[],
  bands: Readonly<Record<string, readonly [number, number]>>,
  title = 'puts a total of %i in the %s band',
): void {
  const edges = Object.entries(bands).flatMap(([band, [lowest, highest]]) => [
    [lowest, band] as const,
    [highest, band] as const,
  ]);
  it.each(edges)(title, (total, band) => {
    const r = scoreResponse(instrument, { responses: responsesFor(total) });
    expect(r.total).toBe(total);
    expect(r.severity).toBe(band);
  });
}
