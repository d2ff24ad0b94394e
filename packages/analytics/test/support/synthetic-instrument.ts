import { defineInstrument, type InstrumentDefinition } from '@kapkit/core/read';

/**
 * A synthetic user-registered outcome measure for tests, not a real instrument: items summed, all required,
 * higher is worse, licence "synthetic". Give its id, name, items, scale and range, and any part to change.
 */
export function syntheticInstrument(
  parts: Pick<InstrumentDefinition, 'id' | 'name' | 'scale' | 'items' | 'range'> &
    Partial<InstrumentDefinition>,
): InstrumentDefinition {
  return defineInstrument({
    title: `${parts.name} (synthetic test instrument)`,
    construct: 'Depression severity',
    purpose: 'outcome',
    direction: 'higher-is-worse',
    recall: 'last week',
    version: '1',
    licence: { holder: 'Test', terms: 'Synthetic, for tests', itemTextIncluded: false },
    scoring: { method: 'sum' },
    missing: { maxMissing: 0, method: 'prorate', source: 'synthetic test definition' },
    references: [],
    ...parts,
  });
}
