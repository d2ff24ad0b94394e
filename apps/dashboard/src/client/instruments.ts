/** Instrument definitions from the server, fetched once per page load. */
import type { InstrumentDefinition } from '@kapkit/core/instruments';
import { api } from './api.js';

let cache: Promise<readonly InstrumentDefinition[]> | null = null;

export function instruments(): Promise<readonly InstrumentDefinition[]> {
  cache ??= api.instruments().catch((e) => {
    cache = null;
    throw e;
  });
  return cache;
}

export async function instrument(id: string): Promise<InstrumentDefinition | undefined> {
  return (await instruments()).find((d) => d.id === id);
}
