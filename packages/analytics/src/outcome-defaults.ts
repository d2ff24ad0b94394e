import { builtinInstruments, type InstrumentDefinition } from '@kapkit/core/read';

/** How response and remission are defined for an instrument. */
export interface OutcomeDefinition {
  /** Remission when the latest score is below this value. */
  readonly remissionBelow: number | null;
  readonly remissionSource: string | null;
  /** Response when the latest score is at most this fraction of baseline (measures where higher is worse). */
  readonly responseFraction: number;
  readonly responseSource: string;
}

const RESPONSE =
  'Response: ≥ 50% reduction from baseline (the usual definition in depression trials; e.g. Hull et al. 2022, J Affect Disord 314:59)';

/** The outcome definition an instrument definition carries (`outcomes`), with the 50 % response default. */
export function outcomeDefinitionFrom(d: InstrumentDefinition): OutcomeDefinition {
  return {
    remissionBelow: d.outcomes?.remission?.below ?? null,
    remissionSource: d.outcomes?.remission?.source ?? null,
    responseFraction: d.outcomes?.response?.fraction ?? 0.5,
    responseSource: d.outcomes?.response?.source ?? RESPONSE,
  };
}

/**
 * Response/remission definitions of the built-in instruments that define them, read from the instrument
 * definitions (`InstrumentDefinition.outcomes`). Configurable: pass your own in the analysis options.
 */
export const outcomeDefinitions: Readonly<Record<string, OutcomeDefinition>> = Object.fromEntries(
  builtinInstruments.filter((d) => d.outcomes !== undefined).map((d) => [d.id, outcomeDefinitionFrom(d)]),
);

/** The definition for an instrument id, falling back to "50% response, no remission threshold". */
export function outcomeDefinitionOf(instrument: string): OutcomeDefinition {
  return (
    outcomeDefinitions[instrument] ?? {
      remissionBelow: null,
      remissionSource: null,
      responseFraction: 0.5,
      responseSource: RESPONSE,
    }
  );
}
