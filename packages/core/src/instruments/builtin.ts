import { cadss6 } from './cadss6.js';
import type { InstrumentDefinition } from './definition.js';
import { ebi } from './ebi.js';
import { gad2, gad7 } from './gad7.js';
import { meq30 } from './meq30.js';
import { pcl5 } from './pcl5.js';
import { phq2, phq9 } from './phq9.js';
import { qidssr16 } from './qidssr16.js';
import { InstrumentRegistry } from './registry.js';
import { who5 } from './who5.js';

/**
 * Every instrument that ships with kapkit, in display order: outcome measures first (PHQ-9, PHQ-2, GAD-7,
 * GAD-2, PCL-5, WHO-5, QIDS-SR16), then dosing-session measures (CADSS-6, MEQ-30, EBI).
 */
export const builtinInstruments: readonly InstrumentDefinition[] = [
  phq9,
  phq2,
  gad7,
  gad2,
  pcl5,
  who5,
  qidssr16,
  cadss6,
  meq30,
  ebi,
];

/**
 * A new registry holding the built-in instruments (unless `builtins: false`) and any you pass.
 *
 * @example
 * ```ts
 * const registry = createInstrumentRegistry({ instruments: [myLicensedBdi2] });
 * scoreResponse(registry.get('BDI-II'), { responses: [...] });
 * ```
 */
export function createInstrumentRegistry(
  options: { builtins?: boolean; instruments?: Iterable<InstrumentDefinition> } = {},
): InstrumentRegistry {
  const registry = new InstrumentRegistry(options.builtins === false ? [] : builtinInstruments);
  for (const d of options.instruments ?? []) registry.register(d);
  return registry;
}
