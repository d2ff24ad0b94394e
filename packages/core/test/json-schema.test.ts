import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtinInstruments } from '../src/instruments/builtin.js';
import { itemScale } from '../src/instruments/definition.js';
import { phq9 } from '../src/instruments/phq9.js';
import { responseSchema, toJsonSchema } from '../src/instruments/schema.js';
import { validateResponse } from '../src/instruments/validate.js';

/** A fresh strict Ajv of the right dialect for each schema (schemas with the same $id cannot share one). */
const validators = {
  'draft-2020-12': {
    compile: (schema: object) => new Ajv2020({ strict: true, allErrors: true }).compile(schema),
  },
  'draft-07': { compile: (schema: object) => new Ajv({ strict: true, allErrors: true }).compile(schema) },
} as const;

/** Random records: mostly near-valid, with wrong lengths, out-of-range, fractional and wrongly typed values. */
function recordArbitrary(n: number) {
  const value = fc.oneof(
    { weight: 10, arbitrary: fc.integer({ min: -1, max: 101 }) },
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, min: -2, max: 5 }) },
    { weight: 1, arbitrary: fc.constantFrom('1', true, undefined, {}) },
  );
  return fc.record(
    {
      id: fc.oneof(fc.string(), fc.integer()),
      responses: fc.oneof(
        { weight: 8, arbitrary: fc.array(value, { minLength: n, maxLength: n }) },
        { weight: 1, arbitrary: fc.array(value, { minLength: 0, maxLength: n + 2 }) },
      ),
    },
    { requiredKeys: ['responses'] },
  );
}

describe.each(['draft-2020-12', 'draft-07'] as const)('response JSON Schema (%s)', (target) => {
  for (const def of builtinInstruments) {
    it(`${def.id}: is a valid ${target} schema with a stable $id and title`, () => {
      const schema = toJsonSchema(def, { target });
      expect(schema.$id).toBe(`urn:kapkit:schema:${target}:instrument-response:${def.id}:v${def.version}`);
      expect(schema.title).toBe(`${def.name} response`);
      expect(() => validators[target].compile(schema)).not.toThrow();
    });

    it(`${def.id}: accepts a complete, a partly missing and a supplementary-bearing record`, () => {
      const validate = validators[target].compile(toJsonSchema(def, { target }));
      const full = def.items.map((_, i) => itemScale(def, i).max);
      const partial = full.map((v, i) => (i === 0 ? null : v));
      expect(validate({ responses: full })).toBe(true);
      expect(validate({ id: 'r1', responses: partial })).toBe(true);
      const q = def.supplementary?.[0];
      if (q) expect(validate({ responses: full, supplementary: { [q.id]: q.scale.min } })).toBe(true);
    });

    it(`${def.id}: agrees with kapkit's own validator on random records`, () => {
      const validate = validators[target].compile(toJsonSchema(def, { target }));
      fc.assert(
        fc.property(recordArbitrary(def.items.length), (record) => {
          const json = JSON.parse(JSON.stringify(record)) as unknown;
          expect(validate(json)).toBe(validateResponse(def, json).length === 0);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('rejects a PHQ-9 answer of 4 and a tenth answer', () => {
    const validate = validators[target].compile(toJsonSchema(phq9, { target }));
    expect(validate({ responses: [0, 0, 0, 0, 4, 0, 0, 0, 0] })).toBe(false);
    expect(validate({ responses: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0] })).toBe(false);
  });
});

describe('zod response schema', () => {
  it('agrees with the JSON Schema on a valid and an invalid PHQ-9', () => {
    const schema = responseSchema(phq9);
    expect(schema.safeParse({ responses: [1, 1, 1, 1, 1, 1, 1, 1, null] }).success).toBe(true);
    const bad = schema.safeParse({ responses: [1, 1, 1, 1, 1, 1, 1, 1, 1.5] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['responses', 8]);
  });
});
