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
  'Response: ≥ 50% reduction from baseline (domain.md §4; e.g. Hull et al. 2022, J Affect Disord 314:59)';

/**
 * Default response/remission definitions per instrument. Configurable: pass your own in the analysis options.
 */
export const outcomeDefinitions: Readonly<Record<string, OutcomeDefinition>> = {
  phq9: {
    remissionBelow: 5,
    remissionSource: 'PHQ-9 < 5 (Kroenke et al. 2001 minimal band; Hull et al. 2022)',
    responseFraction: 0.5,
    responseSource: RESPONSE,
  },
  gad7: {
    remissionBelow: 5,
    remissionSource: 'GAD-7 < 5 (Spitzer et al. 2006 minimal band; Hull et al. 2022)',
    responseFraction: 0.5,
    responseSource: RESPONSE,
  },
  qidssr16: {
    remissionBelow: 6,
    remissionSource: 'QIDS-SR16 ≤ 5 (Rush et al. 2006, STAR*D)',
    responseFraction: 0.5,
    responseSource: RESPONSE,
  },
  pcl5: {
    remissionBelow: null,
    remissionSource: null,
    responseFraction: 0.5,
    responseSource: RESPONSE,
  },
};

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
