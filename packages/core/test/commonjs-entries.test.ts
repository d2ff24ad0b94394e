import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// The built CommonJS entries, loaded with Node's own require (the package refers to itself by name).
const require = createRequire(import.meta.url);

describe('the CommonJS build shares one module between @kapkit/core and @kapkit/core/read', () => {
  it('exports the same classes and instrument definitions from both entries', () => {
    const core = require('@kapkit/core') as typeof import('@kapkit/core');
    const read = require('@kapkit/core/read') as typeof import('@kapkit/core/read');
    expect(require.resolve('@kapkit/core/read')).toMatch(/dist[\\/]read\.cjs$/);
    expect(core.KapkitError).toBe(read.KapkitError);
    expect(core.ResponseValidationError).toBe(read.ResponseValidationError);
    expect(core.phq9).toBe(read.phq9);
  });

  it('an error thrown through one entry is instanceof the classes of the other', () => {
    const core = require('@kapkit/core') as typeof import('@kapkit/core');
    const read = require('@kapkit/core/read') as typeof import('@kapkit/core/read');
    let thrown: unknown;
    try {
      read.scoreResponse(read.phq9, { responses: [9] } as never);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(core.ResponseValidationError);
    expect(thrown).toBeInstanceOf(core.KapkitError);
  });
});
