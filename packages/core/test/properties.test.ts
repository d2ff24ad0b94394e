import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtinInstruments } from '../src/instruments/builtin.js';
import { type InstrumentDefinition, itemScale } from '../src/instruments/definition.js';
import { scoreResponse } from '../src/instruments/scoring.js';

/** Random valid answers (some null) for an instrument. */
function answers(def: InstrumentDefinition) {
  return fc.tuple(
    ...def.items.map((_, i) => {
      const s = itemScale(def, i);
      return fc.option(fc.integer({ min: s.min, max: s.max }), { freq: 6, nil: null });
    }),
  );
}

describe.each(builtinInstruments.map((d) => [d.id, d] as const))('%s scoring properties', (_id, def) => {
  it('keeps every computed total within the instrument range', () => {
    fc.assert(
      fc.property(answers(def), (responses) => {
        const r = scoreResponse(def, { responses });
        if (r.total !== null) {
          expect(r.total).toBeGreaterThanOrEqual(def.range.min);
          expect(r.total).toBeLessThanOrEqual(def.range.max);
        } else {
          expect(r.status).toBe('not-scorable');
        }
      }),
    );
  });

  it('assigns bands monotonically: a higher total never gets a lower band', () => {
    const bands = def.bands;
    if (!bands) return;
    fc.assert(
      fc.property(answers(def), answers(def), (a, b) => {
        const ra = scoreResponse(def, { responses: a });
        const rb = scoreResponse(def, { responses: b });
        if (ra.total === null || rb.total === null) return;
        const ia = bands.findIndex((x) => x.id === ra.severity);
        const ib = bands.findIndex((x) => x.id === rb.severity);
        if (ra.total < rb.total) expect(ia).toBeLessThanOrEqual(ib);
        if (ra.total === rb.total) expect(ia).toBe(ib);
      }),
    );
  });

  it('puts a prorated total between the lowest and highest possible completions of the missing items', () => {
    fc.assert(
      fc.property(answers(def), (responses) => {
        const r = scoreResponse(def, { responses });
        if (r.status !== 'prorated' || r.total === null) return;
        const low = responses.map((v, i) => (v === null ? itemScale(def, i).min : v));
        const high = responses.map((v, i) => (v === null ? itemScale(def, i).max : v));
        const lo = scoreResponse(def, { responses: low }).total!;
        const hi = scoreResponse(def, { responses: high }).total!;
        expect(r.total).toBeGreaterThanOrEqual(lo - 1e-9);
        expect(r.total).toBeLessThanOrEqual(hi + 1e-9);
      }),
    );
  });

  it('raises every safety flag that its rule describes, whatever the total', () => {
    fc.assert(
      fc.property(answers(def), (responses) => {
        const r = scoreResponse(def, { responses });
        for (const rule of def.safety ?? []) {
          const v = responses[rule.item - 1];
          const flagged = r.safetyFlags.some((f) => f.rule === rule.id && f.kind === 'positive');
          const expected =
            v !== null &&
            v !== undefined &&
            (rule.op === '>'
              ? v > rule.value
              : rule.op === '>='
                ? v >= rule.value
                : rule.op === '<'
                  ? v < rule.value
                  : v <= rule.value);
          expect(flagged).toBe(expected);
        }
      }),
    );
  });
});
