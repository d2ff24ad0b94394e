import type {
  BandDefinition,
  ChangeConstants,
  Licence,
  MissingRule,
  OutcomeDefinitions,
  ResponseScale,
  ScoreDefinition,
  ScoringRule,
  Source,
} from './definition.js';

/**
 * Parts that several instrument definitions state the same way: numbered item lists, a missing-item default,
 * bands written as lower bounds, and the response and reliable-change definitions most outcome measures share.
 * Each definition file still states its own data and sources; these only spare it from repeating a shape.
 */

/** A tuple of N unknowns (N a small literal number). */
type Tuple<N extends number, Acc extends unknown[] = []> = Acc['length'] extends N
  ? Acc
  : Tuple<N, [...Acc, unknown]>;

/** The 1-based item number of tuple index K (`'0'` → 1). */
type ItemNumber<K> = K extends `${infer I extends number}` ? [...Tuple<I>, unknown]['length'] : number;

/** `{ id: 'p_<k>' }` for each position k (from 1) of the tuple T. */
type IdsFor<P extends string, T extends readonly unknown[]> = {
  readonly [K in keyof T]: { readonly id: `${P}_${ItemNumber<K>}` };
};

/** `[{ id: 'p_1' }, …, { id: 'p_N' }]` as a readonly tuple of N items with literal ids. */
type NumberedItems<P extends string, N extends number> = IdsFor<P, Tuple<N>>;

/**
 * Items `${prefix}_1` … `${prefix}_${count}` without text: for instruments whose licence does not let kapkit
 * ship the item text (the user supplies it).
 *
 * @example
 * numberedItems('cadss6', 6); // [{ id: 'cadss6_1' }, …, { id: 'cadss6_6' }]
 */
export function numberedItems<const P extends string, const N extends number>(
  prefix: P,
  count: N,
): NumberedItems<P, N> {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}_${i + 1}` })) as unknown as NumberedItems<
    P,
    N
  >;
}

/** Items with their text, and their LOINC codes where given, numbered from 1 in the order given. */
type TextItems<P extends string, T extends readonly (string | readonly [string, string])[]> = {
  readonly [K in keyof T]: T[K] extends readonly [infer L extends string, infer X extends string]
    ? { readonly id: `${P}_${ItemNumber<K>}`; readonly loinc: L; readonly text: X }
    : { readonly id: `${P}_${ItemNumber<K>}`; readonly text: T[K] };
};

/**
 * Items `${prefix}_1`, `${prefix}_2`, … with the given text: a string, or `[loinc, text]` for an item with a
 * LOINC question code.
 *
 * @example
 * textItems('gad7', [['69725-0', 'Feeling nervous, anxious, or on edge'], …]);
 * // [{ id: 'gad7_1', loinc: '69725-0', text: 'Feeling nervous, anxious, or on edge' }, …]
 */
export function textItems<
  const P extends string,
  const T extends readonly (string | readonly [string, string])[],
>(prefix: P, entries: T): TextItems<P, T> {
  return entries.map((e, i) =>
    typeof e === 'string'
      ? { id: `${prefix}_${i + 1}`, text: e }
      : { id: `${prefix}_${i + 1}`, loinc: e[0], text: e[1] },
  ) as unknown as TextItems<P, T>;
}

/**
 * kapkit's default where no missing-item rule is published: every item required (configurable by registering
 * a definition with another rule).
 */
export function allItemsRequired(count: number): MissingRule {
  return {
    maxMissing: 0,
    method: 'prorate',
    source: `No official missing-item rule found; kapkit default (configurable): all ${count} items required`,
  };
}

/**
 * The licence of an instrument whose text kapkit may not ship (`itemTextIncluded: false`: scoring only, the user
 * supplies the text), with its holder, its terms as far as they are known, and their address if any.
 */
export function scoringOnlyLicence<const H extends string, const T extends string>(
  holder: H,
  terms: T,
): { readonly holder: H; readonly terms: T; readonly itemTextIncluded: false };
export function scoringOnlyLicence<const H extends string, const T extends string, const U extends string>(
  holder: H,
  terms: T,
  url: U,
): { readonly holder: H; readonly terms: T; readonly itemTextIncluded: false; readonly url: U };
export function scoringOnlyLicence(holder: string, terms: string, url?: string): Licence {
  return url === undefined
    ? { holder, terms, itemTextIncluded: false }
    : { holder, terms, itemTextIncluded: false, url };
}

/**
 * The items and rules of a scoring-only measure with no published missing-item rule: `count` numbered items
 * without text (see {@link numberedItems}) on `scale`, scored by `method`, every item required (see
 * {@link allItemsRequired}). Spread it into a definition between its licence and its range.
 */
export function numberedItemsAllRequired<
  const P extends string,
  const N extends number,
  const S extends ResponseScale,
  const M extends ScoringRule['method'],
>(
  prefix: P,
  count: N,
  scale: S,
  method: M,
): {
  readonly scale: S;
  readonly items: NumberedItems<P, N>;
  readonly scoring: { readonly method: M };
  readonly missing: MissingRule;
} {
  return {
    scale,
    items: numberedItems(prefix, count),
    scoring: { method },
    missing: allItemsRequired(count),
  };
}

/** Up to `maxMissing` scoring units may be unanswered; the total is prorated (`method: 'prorate'`). */
export function prorateUpTo(maxMissing: number, source: Source): MissingRule {
  return { maxMissing, method: 'prorate', source };
}

/**
 * Answer options valued 0, 1, 2, … in the order of their labels, for an answer list without LOINC codes.
 *
 * @example
 * optionsFromLabels(['Not at all', 'A little bit']); // [{ value: 0, label: 'Not at all' }, { value: 1, label: 'A little bit' }]
 */
export function optionsFromLabels(labels: readonly string[]): readonly { value: number; label: string }[] {
  return labels.map((label, value) => ({ value, label }));
}

/**
 * An extra score: the sum or mean (`method`) of some items, its range and its source.
 *
 * @example
 * itemScore('gad2', 'GAD-2 (items 1–2)', [1, 2], 'sum', [0, 6], 'Kroenke et al. 2007');
 */
export function itemScore<const Id extends string>(
  id: Id,
  label: string,
  items: readonly number[],
  method: ScoringRule['method'],
  [min, max]: readonly [min: number, max: number],
  source: Source,
): ScoreDefinition & { readonly id: Id } {
  return { id, label, items, scoring: { method }, min, max, source };
}

/** A reliability coefficient that is an internal consistency (Cronbach's α), with its source. */
export function internalConsistency(
  value: number,
  source: Source,
): NonNullable<ChangeConstants['reliability']> {
  return { value, kind: 'internal-consistency', source };
}

/**
 * The fixed-point reliable change the NHS Talking Therapies manual gives for an instrument (a secondary source).
 */
export function talkingTherapiesReliableChange(
  name: string,
  points: number,
): NonNullable<ChangeConstants['fixedPoints']> {
  return {
    value: points,
    source: `NHS Talking Therapies for anxiety and depression manual: reliable change on ${name} = ${points} points (secondary source)`,
  };
}

/**
 * Severity bands from their lower bounds: each band ends one point below the next band's `min`, the last at
 * `max` (the top of the range), so that bands can neither overlap nor leave a gap.
 *
 * @example
 * bandsFrom([['minimal', 'Minimal', 0], ['mild', 'Mild', 5]], 9);
 * // [{ id: 'minimal', label: 'Minimal', min: 0, max: 4 }, { id: 'mild', label: 'Mild', min: 5, max: 9 }]
 */
export function bandsFrom<const B extends string>(
  lowerBounds: readonly (readonly [id: B, label: string, min: number])[],
  max: number,
): readonly (BandDefinition & { readonly id: B })[] {
  return lowerBounds.map(([id, label, min], i) => ({
    id,
    label,
    min,
    max: (lowerBounds[i + 1]?.[2] ?? max + 1) - 1,
  }));
}

/** Response as a ≥ 50% reduction from baseline: the usual definition in depression trials. */
export const halfOfBaselineResponse = {
  fraction: 0.5,
  source:
    'Response: ≥ 50% reduction from baseline (the usual definition in depression trials; e.g. Hull et al. 2022, J Affect Disord 314:59)',
} as const satisfies OutcomeDefinitions['response'];

/** Reliable change at |RCI| > 1.96. */
// Jacobson & Truax 1991
export const jacobsonTruaxReliableChange = {
  critical: 1.96,
  source: 'Jacobson & Truax 1991, J Consult Clin Psychol 59:12 (|RCI| > 1.96)',
} as const satisfies OutcomeDefinitions['reliableChange'];

/**
 * The outcome definitions of a symptom measure with a remission threshold: response as a ≥ 50% reduction,
 * remission as a total below `below`, reliable change at |RCI| > 1.96.
 */
export function outcomesWithRemission(below: number, source: Source) {
  return {
    response: halfOfBaselineResponse,
    remission: { below, source },
    reliableChange: jacobsonTruaxReliableChange,
  } as const satisfies OutcomeDefinitions;
}
