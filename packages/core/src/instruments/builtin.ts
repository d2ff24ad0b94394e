import type { InstrumentDefinition } from './definition.js';
import { gad2, gad7 } from './gad7.js';
import { phq2, phq9 } from './phq9.js';
import { InstrumentRegistry } from './registry.js';

/** Every instrument that ships with kapkit, in display order. */
export const builtinInstruments: readonly InstrumentDefinition[] = [phq9, phq2, gad7, gad2];

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
