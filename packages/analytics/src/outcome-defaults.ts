import {
  builtinInstruments,
  type InstrumentDefinition,
  type InstrumentRegistry,
  normalizeInstrumentId,
} from '@kapkit/core/read';

/**
 * How response and remission are defined for an instrument, read from its definition
 * (`InstrumentDefinition.outcomes`). A definition without them has them "not defined": `null` here, never a
 * default.
 */
export interface OutcomeDefinition {
  /** Remission when a score is below this value; null when the instrument defines no remission. */
  readonly remissionBelow: number | null;
  readonly remissionSource: string | null;
  /**
   * Response when a score is at most this fraction of baseline (measures where higher is worse); null when the
   * instrument defines no response.
   */
  readonly responseFraction: number | null;
  readonly responseSource: string | null;
}

const NOT_DEFINED: OutcomeDefinition = {
  remissionBelow: null,
  remissionSource: null,
  responseFraction: null,
  responseSource: null,
};

/** The outcome definition an instrument definition carries (`outcomes`); `null`s where it has none. */
export function outcomeDefinitionFrom(d: InstrumentDefinition | undefined): OutcomeDefinition {
  if (d?.outcomes === undefined) return NOT_DEFINED;
  return {
    remissionBelow: d.outcomes.remission?.below ?? null,
    remissionSource: d.outcomes.remission?.source ?? null,
    responseFraction: d.outcomes.response?.fraction ?? null,
    responseSource: d.outcomes.response?.source ?? null,
  };
}

/**
 * Response/remission definitions of the built-in instruments that define them, read from the instrument
 * definitions (`InstrumentDefinition.outcomes`). To use other thresholds, register a definition with them.
 */
export const outcomeDefinitions: Readonly<Record<string, OutcomeDefinition>> = Object.fromEntries(
  builtinInstruments.filter((d) => d.outcomes !== undefined).map((d) => [d.id, outcomeDefinitionFrom(d)]),
);

/**
 * The definition for an instrument id: from `registry` when given (user-registered instruments included),
 * else from the built-in instruments. An unknown instrument, or one whose definition has no `outcomes`, gets
 * `null`s: response and remission are not defined for it.
 */
export function outcomeDefinitionOf(instrument: string, registry?: InstrumentRegistry): OutcomeDefinition {
  if (registry !== undefined) return outcomeDefinitionFrom(registry.find(instrument));
  return outcomeDefinitions[normalizeInstrumentId(instrument)] ?? NOT_DEFINED;
}

/** Words for a definition that is missing: what the instrument lacks and where to add it. */
export function notDefinedText(name: string, what: 'response' | 'remission' | 'reliableChange'): string {
  return `not defined for ${name}: its instrument definition has no outcomes.${what}`;
}
