import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// The built CommonJS entries, loaded with Node's own require (as a CommonJS consumer would).
const require = createRequire(import.meta.url);

describe('one copy of @kapkit/core in CommonJS', () => {
  it('an analytics error is instanceof the KapkitError of both @kapkit/core and @kapkit/core/read', () => {
    const analytics = require('@kapkit/analytics') as typeof import('@kapkit/analytics');
    const core = require('@kapkit/core') as typeof import('@kapkit/core');
    const read = require('@kapkit/core/read') as typeof import('@kapkit/core/read');
    expect(require.resolve('@kapkit/analytics')).toMatch(/dist[\\/]index\.cjs$/);
    let thrown: unknown;
    try {
      analytics.fitLinearMixedModel([{ group: 'a', x: 0, y: 1 }]);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(analytics.ModelNotEstimableError);
    expect(thrown).toBeInstanceOf(core.KapkitError);
    expect(thrown).toBeInstanceOf(read.KapkitError);
    expect(core.KapkitError).toBe(read.KapkitError);
  });
});
