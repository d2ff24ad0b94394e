import { InstrumentDefinitionError, type ValidationIssue } from '../errors.js';
import { definitionChecks } from './definition-checks.js';

/**
 * Declarative instrument definitions. One object per instrument holds everything kapkit knows about it:
 * items, answer options with LOINC codes, scoring, missing-item rule, severity bands, cutoffs, extra scores
 * (subscales, short forms), safety rules, reliable-change constants, licence. Types, zod schemas, scoring,
 * JSON Schema and FHIR Questionnaires are all derived from it.
 */

/** A source for a fact: a citation a reader can look up. */
export type Source = string;

/** One answer option of an ordinal item. */
export interface AnswerOption {
  readonly value: number;
  readonly label: string;
  /** LOINC answer code (LA…), when one exists. */
  readonly loinc?: string;
}

/** The answer scale of an item: integers from `min` to `max`, optionally with labelled options. */
export interface ResponseScale {
  readonly min: number;
  readonly max: number;
  /** Labelled options, one per integer in [min, max], when the scale is a list of choices. */
  readonly options?: readonly AnswerOption[];
  /** Labels of the two ends of a visual-analogue or numeric scale. */
  readonly anchors?: { readonly min: string; readonly max: string };
}

/** One scored item. */
export interface ItemDefinition {
  /** Stable id, unique within the instrument (used as FHIR linkId and as CSV column suffix). */
  readonly id: string;
  /** Item text. Absent when the licence does not allow kapkit to ship it: the user supplies it. */
  readonly text?: string;
  /** LOINC code of the item question. */
  readonly loinc?: string;
  /** Overrides the instrument's default scale for this item. */
  readonly scale?: ResponseScale;
}

/** An unscored question asked with the instrument (e.g. PHQ-9 question 10, functional difficulty). */
export interface SupplementaryQuestion {
  readonly id: string;
  readonly text?: string;
  readonly loinc?: string;
  readonly scale: ResponseScale;
  readonly source?: Source;
}

/**
 * A severity band: covers totals from `min` (inclusive) up to the next band's `min` (exclusive), so that a
 * prorated, non-integer total still falls in exactly one band. `max` is the integer upper bound for display.
 */
export interface BandDefinition {
  readonly id: string;
  readonly label: string;
  readonly min: number;
  readonly max: number;
}

/** Comparison used by cutoffs and safety rules. */
export type Comparison = '>=' | '>' | '<=' | '<';

/** A cutoff on the total or on one of the extra scores, e.g. PHQ-9 ≥ 10 screens positive. */
export interface CutoffDefinition {
  readonly id: string;
  readonly label: string;
  /** `'total'` or the id of one of the instrument's extra scores. */
  readonly score: string;
  readonly op: Comparison;
  readonly value: number;
  readonly source: Source;
}

/** A cutoff that is met when all the listed cutoffs are met (e.g. MEQ-30 "complete mystical experience"). */
export interface CompositeCutoffDefinition {
  readonly id: string;
  readonly label: string;
  readonly allOf: readonly string[];
  readonly source: Source;
}

/** How missing (null) answers are handled. */
export interface MissingRule {
  /** Most scoring units (items, or item groups) that may be unanswered for the score to be computed. */
  readonly maxMissing: number;
  /**
   * `prorate`: total = mean of answered units × number of units (for `sum`), or the mean of answered items
   * (for `mean`). Kept exact, never rounded.
   */
  readonly method: 'prorate';
  readonly source: Source;
}

/**
 * How a total is computed from item values.
 * - `sum`: sum over scoring units; `mean`: mean over scoring units.
 * - `groups` (optional): scoring units made of several items reduced by `max` (QIDS-SR16 domains). Without
 *   groups, each item is one unit. A group counts as answered when any of its items is.
 * - `factor` (optional): multiply the result (WHO-5 percentage = raw × 4; MEQ-30 percentage = mean × 20).
 */
export interface ScoringRule {
  readonly method: 'sum' | 'mean';
  readonly groups?: readonly {
    readonly id: string;
    readonly label: string;
    readonly items: readonly number[];
  }[];
  readonly factor?: number;
}

/** An extra score: a subscale, a short form (PHQ-2) or a transformed total (WHO-5 percentage). */
export interface ScoreDefinition {
  readonly id: string;
  readonly label: string;
  /** 1-based item numbers. */
  readonly items: readonly number[];
  readonly scoring: ScoringRule;
  /** Defaults to "no missing item allowed". */
  readonly missing?: MissingRule;
  readonly min: number;
  readonly max: number;
  readonly source: Source;
}

/** A rule that raises a safety flag from one item's answer, whatever the total. */
export interface SafetyRule {
  readonly id: string;
  /** 1-based item number. */
  readonly item: number;
  readonly op: Comparison;
  readonly value: number;
  /** Also raise a (distinct, `unanswered`) flag when the item was left blank. */
  readonly flagUnanswered: boolean;
  readonly message: string;
  readonly source: Source;
}

/** Constants for reliable change (Jacobson & Truax 1991) and minimal clinically important difference. */
export interface ChangeConstants {
  /** Reliability coefficient r and what kind it is (Cronbach's alpha, test–retest). */
  readonly reliability?: {
    readonly value: number;
    readonly kind: 'internal-consistency' | 'test-retest';
    readonly source: Source;
  };
  /** Fixed-point reliable change used in routine services (points of change that count as reliable). */
  readonly fixedPoints?: { readonly value: number; readonly source: Source };
  /** Minimal clinically important difference, in points. */
  readonly mcid?: { readonly value: number; readonly source: Source };
  /** General-population norms (for clinically significant change criteria b and c). */
  readonly norms?: { readonly mean: number; readonly sd: number; readonly source: Source };
}

/**
 * How response, remission and reliable change are defined for an outcome measure. Analytics
 * (`episodeOutcomes`, `analyzeOutcomes`), status alerts (`no-response`), charts and exports read them from
 * here and nowhere else: an instrument without one of them has it "not defined" (reported as such, never
 * replaced by a default).
 */
export interface OutcomeDefinitions {
  /**
   * Response: a total at most this fraction of the baseline total (baseline > 0). Only for measures where a
   * higher total is worse.
   */
  readonly response?: { readonly fraction: number; readonly source: Source };
  /** Remission: a total below this value. Only for measures where a higher total is worse. */
  readonly remission?: { readonly below: number; readonly source: Source };
  /**
   * Reliable change (Jacobson & Truax 1991): a change whose reliable change index RCI = change / Sdiff is beyond
   * ± `critical`, with Sdiff = √2 · s1 · √(1 − r), r from `change.reliability` (required) and s1 the SD of
   * pre-treatment scores (the sample's, or `change.norms.sd` when no sample is at hand). Fixed-point reliable
   * change, where an instrument has one, is `change.fixedPoints`.
   */
  readonly reliableChange?: { readonly critical: number; readonly source: Source };
}

/** Who owns the instrument and whether kapkit may ship its text. */
export interface Licence {
  readonly holder: string;
  readonly terms: string;
  /** True when kapkit ships the item text. False: scoring only, the user supplies the text. */
  readonly itemTextIncluded: boolean;
  readonly url?: string;
}

/** The complete, declarative definition of an instrument. */
export interface InstrumentDefinition {
  /** Canonical id: lowercase letters and digits only (`phq9`). Look-ups ignore case and hyphens. */
  readonly id: string;
  /** Short display name (`PHQ-9`). */
  readonly name: string;
  /** Full title. */
  readonly title: string;
  /** What the instrument measures. */
  readonly construct: string;
  /** `outcome` measures are tracked over a course; `session` measures describe one dosing session. */
  readonly purpose: 'outcome' | 'session';
  /** Whether a higher total means more symptoms (`higher-is-worse`) or more of something good. */
  readonly direction: 'higher-is-worse' | 'higher-is-better';
  /** Recall period in words (`last 2 weeks`). */
  readonly recall: string;
  /** Question stem shown above the items. */
  readonly stem?: string;
  readonly version: string;
  readonly licence: Licence;
  readonly loinc?: { readonly panel?: string; readonly total?: string };
  /** Default answer scale of every item. */
  readonly scale: ResponseScale;
  readonly items: readonly ItemDefinition[];
  readonly supplementary?: readonly SupplementaryQuestion[];
  readonly scoring: ScoringRule;
  readonly missing: MissingRule;
  /** Range of the total. */
  readonly range: { readonly min: number; readonly max: number };
  readonly bands?: readonly BandDefinition[];
  readonly bandsSource?: Source;
  readonly cutoffs?: readonly CutoffDefinition[];
  readonly compositeCutoffs?: readonly CompositeCutoffDefinition[];
  readonly scores?: readonly ScoreDefinition[];
  readonly safety?: readonly SafetyRule[];
  readonly change?: ChangeConstants;
  /** Response and remission (outcome measures). */
  readonly outcomes?: OutcomeDefinitions;
  /** Key references for the instrument. */
  readonly references: readonly Source[];
}

// ---------------------------------------------------------------------------------------------------------
// Type-level derivations

type Enumerate<N extends number, Acc extends number[] = []> = Acc['length'] extends N
  ? Acc[number]
  : Enumerate<N, [...Acc, Acc['length']]>;

/** The integers from Min to Max inclusive, as a union of literal types (`IntRange<0, 3>` = `0 | 1 | 2 | 3`). */
export type IntRange<Min extends number, Max extends number> = number extends Min | Max
  ? number
  : Exclude<Enumerate<Max>, Enumerate<Min>> | Max;

export type ScaleValue<S> = S extends {
  readonly min: infer A extends number;
  readonly max: infer B extends number;
}
  ? IntRange<A, B>
  : number;

export type ItemValue<D extends InstrumentDefinition, I> = I extends { readonly scale: infer S }
  ? ScaleValue<S>
  : ScaleValue<D['scale']>;

/**
 * The responses to an instrument: one entry per item, in order, `null` when unanswered. For the PHQ-9 this
 * is exactly nine values of `0 | 1 | 2 | 3 | null`.
 */
export type ResponsesOf<D extends InstrumentDefinition> = number extends D['items']['length']
  ? readonly (number | null)[]
  : AnswersFor<D, D['items']>;

/** Homomorphic over the items tuple, so the result is a tuple of the same length. */
export type AnswersFor<D extends InstrumentDefinition, Items extends readonly unknown[]> = {
  readonly [K in keyof Items]: ItemValue<D, Items[K]> | null;
};

/** Severity band ids of an instrument (`'minimal' | 'mild' | …`). */
export type BandIdOf<D extends InstrumentDefinition> = D['bands'] extends readonly { readonly id: infer B }[]
  ? B
  : never;

/** Supplementary answers of an instrument, by question id. */
export type SupplementaryOf<D extends InstrumentDefinition> = D['supplementary'] extends readonly (infer Q)[]
  ? { readonly [K in Q extends { readonly id: infer Id extends string } ? Id : never]?: number | null }
  : Record<string, never>;

/** A completed administration of an instrument, as kapkit stores and scores it. */
export interface InstrumentResponse<D extends InstrumentDefinition = InstrumentDefinition> {
  readonly responses: ResponsesOf<D>;
  readonly supplementary?: SupplementaryOf<D>;
}

/**
 * Check an instrument definition for internal consistency and return it unchanged (with its literal type).
 * The checks, one per part of a definition, are in `definition-checks.ts`.
 *
 * @example
 * ```ts
 * const bdi2 = defineInstrument({ id: 'bdi2', name: 'BDI-II', ... });
 * registry.register(bdi2);
 * ```
 * @throws {InstrumentDefinitionError} naming each inconsistency.
 */
export function defineInstrument<const D extends InstrumentDefinition>(definition: D): D {
  const out: ValidationIssue[] = [];
  for (const check of definitionChecks) check(definition, out);
  if (out.length > 0) throw new InstrumentDefinitionError(definition.id, out);
  return definition;
}

/** The scale of item `index` (0-based): the item's own or the instrument's default. */
export function itemScale(definition: InstrumentDefinition, index: number): ResponseScale {
  return definition.items[index]?.scale ?? definition.scale;
}
