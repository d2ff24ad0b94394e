import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// The built entries, loaded by the package's own name: with Node's require (CommonJS) and with import (ESM).
// In ESM the built entries are loaded by their files: vitest.config.ts maps `@kapkit/core` and its subpaths to
// the source, for the other tests.
const require = createRequire(import.meta.url);
const built = (entry: string) => import(new URL(`../dist/${entry}.js`, import.meta.url).href);
const subpaths = ['@kapkit/core/instruments', '@kapkit/core/time', '@kapkit/core/read'] as const;

type Entry = { KapkitError: typeof import('@kapkit/core').KapkitError };
type InstrumentsEntry = typeof import('@kapkit/core/instruments');

/** An instrument error thrown through `instruments`, caught as a value. */
function thrownBy(instruments: InstrumentsEntry): unknown {
  try {
    instruments.scoreResponse(instruments.phq9, { responses: [9] } as never);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('the CommonJS build shares one module between @kapkit/core and @kapkit/core/read', () => {
  it('exports the same classes and instrument definitions from both entries', () => {
    const core = require('@kapkit/core') as typeof import('@kapkit/core');
    const read = require('@kapkit/core/read') as typeof import('@kapkit/core/read');
    const instruments = require('@kapkit/core/instruments') as InstrumentsEntry;
    expect(require.resolve('@kapkit/core/read')).toMatch(/dist[\\/]read\.cjs$/);
    expect(core.KapkitError).toBe(read.KapkitError);
    expect(instruments.ResponseValidationError).toBe(read.ResponseValidationError);
    expect(instruments.phq9).toBe(read.phq9);
  });

  it('an error thrown through one entry is instanceof the classes of the other', () => {
    const read = require('@kapkit/core/read') as typeof import('@kapkit/core/read');
    const instruments = require('@kapkit/core/instruments') as InstrumentsEntry;
    const thrown = thrownBy(read);
    expect(thrown).toBeInstanceOf(instruments.ResponseValidationError);
    expect(thrown).toBeInstanceOf((require('@kapkit/core') as Entry).KapkitError);
  });
});

describe('every entry shares one KapkitError class, in CommonJS and in ESM', () => {
  it.each(subpaths)(
    'a KapkitError thrown through @kapkit/core/instruments is instanceof that of %s (CommonJS)',
    (subpath) => {
      const thrown = thrownBy(require('@kapkit/core/instruments') as InstrumentsEntry);
      expect(require.resolve(subpath)).toMatch(/dist[\\/]\w+\.cjs$/);
      expect(thrown).toBeInstanceOf((require(subpath) as Entry).KapkitError);
      expect(thrown).toBeInstanceOf((require('@kapkit/core') as Entry).KapkitError);
    },
  );

  it.each(subpaths)(
    'a KapkitError thrown through @kapkit/core/instruments is instanceof that of %s (ESM)',
    async (subpath) => {
      const thrown = thrownBy((await built('instruments')) as InstrumentsEntry);
      const entry = (await built(subpath.slice('@kapkit/core/'.length))) as Entry;
      expect(thrown).toBeInstanceOf(entry.KapkitError);
      expect(thrown).toBeInstanceOf(((await built('index')) as Entry).KapkitError);
    },
  );

  it('an InvalidTimestampError from @kapkit/core/time is a KapkitError of @kapkit/core, in both module systems', async () => {
    const esm = (await built('time')) as typeof import('@kapkit/core/time');
    const cjs = require('@kapkit/core/time') as typeof import('@kapkit/core/time');
    for (const [time, core] of [
      [esm, (await built('index')) as Entry],
      [cjs, require('@kapkit/core') as Entry],
    ] as const) {
      expect(() => time.offsetOf('not a time')).toThrow(time.InvalidTimestampError);
      try {
        time.offsetOf('not a time');
      } catch (e) {
        expect(e).toBeInstanceOf(core.KapkitError);
      }
    }
  });
});
