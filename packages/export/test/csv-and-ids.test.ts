import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createPseudonymizer,
  csvField,
  csvHeader,
  csvRecord,
  neutraliseFormula,
  PSEUDONYM_HEX_LENGTH,
} from '../src/index.js';

describe('CSV fields (RFC 4180)', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+41 79 000 00 00', "'+41 79 000 00 00"],
    ['-cmd', "'-cmd"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\tindented', "'\tindented"],
    ['\rreturn', "'\rreturn"],
    ['plain', 'plain'],
    ['a=b', 'a=b'],
    ["'already", "'already"],
  ])('neutralises a text cell that a spreadsheet would run as a formula: %j → %j', (input, expected) => {
    expect(neutraliseFormula(input)).toBe(expected);
  });

  it('quotes commas, quotes and line breaks, writes null empty and "" for the empty string', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('\r\nx')).toBe(`"'\r\nx"`);
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('""');
    expect(csvField(true)).toBe('true');
    expect(csvField(false)).toBe('false');
    expect(csvField(-11)).toBe('-11');
    expect(csvField(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(csvRecord({ a: 1, b: null, c: 'x' }, ['a', 'b', 'c'])).toBe('1,,x\r\n');
    expect(csvHeader(['a', 'b'])).toBe('a,b\r\n');
  });

  it('round-trips any text, number, boolean and null through csv-parse (neutralised text loses only its apostrophe)', () => {
    const value = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.constantFrom('=', '+1', '-', '@', '\t', '\r', '"', ',', '\r\n', '""', ' '),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        (rows) => {
          const columns = ['a', 'b', 'c'];
          const text =
            csvHeader(columns) + rows.map((r) => csvRecord({ a: r[0], b: r[1], c: r[2] }, columns)).join('');
          const parsed = parse(text, { columns: true }) as Record<string, string>[];
          expect(parsed).toHaveLength(rows.length);
          rows.forEach((r, i) => {
            columns.forEach((c, j) => {
              const v = r[j];
              const got = parsed[i]![c]!;
              if (v === null) expect(got).toBe('');
              else if (typeof v === 'string') expect(got).toBe(/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
              else if (typeof v === 'number') expect(Number(got)).toBe(Object.is(v, -0) ? 0 : v);
              else expect(got).toBe(String(v));
            });
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('keyed pseudonyms', () => {
  // Reference values from OpenSSL: printf 'patient:pt-001' | openssl dgst -sha256 -hmac '<key>' (first 32 hex).
  const key = 'kapkit-test-key-0123456789abcdef0123';

  it('are HMAC-SHA-256(key, "<kind>:" + id) in lowercase hex, first 32 characters', () => {
    const ids = createPseudonymizer(key);
    expect(PSEUDONYM_HEX_LENGTH).toBe(32);
    expect(ids.id('patient', 'pt-001')).toBe('25686f643bdca5e56e2468f779a173cf');
    expect(ids.id('episode', 'pt-001')).toBe('74a5fcc0927cdd95eaa36541e2dd0256');
  });

  it('refuse keys shorter than 32 characters', () => {
    expect(() => createPseudonymizer('x'.repeat(31))).toThrow(/at least 32/);
    expect(() => createPseudonymizer('x'.repeat(32))).not.toThrow();
  });
});
