import { DuplicateInstrumentError, UnknownInstrumentError } from '../errors.js';
import { defineInstrument, type InstrumentDefinition } from './definition.js';

/**
 * Normalise an instrument id for look-up: lowercase, without hyphens, underscores, dots or spaces.
 * `'PHQ-9'`, `'phq_9'` and `'phq9'` all become `'phq9'`.
 */
export function normalizeInstrumentId(id: string): string {
  return id.toLowerCase().replace(/[-_.\s]/g, '');
}

/**
 * A set of instruments, looked up by id (case-insensitive, hyphens ignored). Start from
 * {@link createInstrumentRegistry} (built-ins included by default) and add your own with `register`.
 */
export class InstrumentRegistry {
  readonly #byId = new Map<string, InstrumentDefinition>();

  constructor(definitions: Iterable<InstrumentDefinition> = []) {
    for (const d of definitions) this.register(d);
  }

  /**
   * Add an instrument. The definition is checked with {@link defineInstrument}.
   * @throws {InstrumentDefinitionError} when the definition is inconsistent; {@link DuplicateInstrumentError}
   *   when its id is already taken (pass `{ replace: true }` to replace a registered instrument on purpose).
   */
  register<D extends InstrumentDefinition>(definition: D, options: { replace?: boolean } = {}): D {
    defineInstrument(definition);
    const key = normalizeInstrumentId(definition.id);
    if (this.#byId.has(key) && !options.replace) {
      throw new DuplicateInstrumentError(definition.id);
    }
    this.#byId.set(key, definition);
    return definition;
  }

  /** The instrument with this id. @throws {UnknownInstrumentError} listing the known ids. */
  get(id: string): InstrumentDefinition {
    const found = this.#byId.get(normalizeInstrumentId(id));
    if (!found) throw new UnknownInstrumentError(id, this.ids());
    return found;
  }

  /** The instrument with this id, or `undefined`. */
  find(id: string): InstrumentDefinition | undefined {
    return this.#byId.get(normalizeInstrumentId(id));
  }

  has(id: string): boolean {
    return this.#byId.has(normalizeInstrumentId(id));
  }

  ids(): string[] {
    return [...this.#byId.values()].map((d) => d.id);
  }

  list(): InstrumentDefinition[] {
    return [...this.#byId.values()];
  }
}
