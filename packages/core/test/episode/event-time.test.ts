import { describe, expect, it } from 'vitest';
import { prng } from '../../../../test-support/prng.mjs';
import { instantMs, parseInstant } from '../../src/episode/event-time.js';

/* The instants of events: the fast reader gives exactly what `Date.parse` gives, for every string. */

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Date-times in and around the schema's form: any year, out-of-range fields, leap days, fractions, offsets. */
function generated(count: number, seed: number): string[] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const year =
      r() < 0.5 ? int(1960, 2100) : pick([0, 1, 4, 99, 100, 400, 1600, 1900, 2000, 2024, 2100, 9999]);
    const month = r() < 0.9 ? int(1, 12) : pick([0, 13, 99]);
    const day = r() < 0.3 ? pick([28, 29, 30, 31]) : r() < 0.95 ? int(1, 28) : pick([0, 32, 99]);
    const hour = r() < 0.95 ? int(0, 23) : pick([24, 25, 99]);
    const minute = r() < 0.97 ? int(0, 59) : pick([60, 99]);
    const second = r() < 0.97 ? int(0, 59) : pick([60, 99]);
    const fraction = pick([
      '',
      '',
      '',
      '.',
      `.${int(0, 9)}`,
      `.${pad(int(0, 99), 2)}`,
      `.${pad(int(0, 999), 3)}`,
      `.${pad(int(0, 999999), 6)}`,
      `.${pad(int(0, 999999999), 9)}`,
    ]);
    const offset = pick([
      'Z',
      'Z',
      `+${pad(int(0, 14), 2)}:${pick(['00', '30', '45'])}`,
      `-${pad(int(0, 12), 2)}:${pick(['00', '30'])}`,
      `+${pad(int(0, 25), 2)}:${pad(int(0, 61), 2)}`,
      '-00:00',
      'z',
      '',
      '+0500',
      '+05',
    ]);
    let s = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fraction}${offset}`;
    const mangle = r();
    if (mangle < 0.03) s = s.replace('T', ' ');
    else if (mangle < 0.06) s = s.slice(0, int(0, s.length));
    else if (mangle < 0.08) s = `${s} `;
    else if (mangle < 0.1) s = s.replace(/\d/, 'x');
    else if (mangle < 0.11) s = `+0${s}`;
    out.push(s);
  }
  return out;
}

describe('parseInstant: the instants of events as Date.parse reads them', () => {
  it('agrees with Date.parse on 200,000 generated date-times, valid and not', () => {
    let disagreements = 0;
    let first = '';
    let valid = 0;
    for (const s of generated(200_000, 14)) {
      const expected = Date.parse(s);
      if (!Number.isNaN(expected)) valid++;
      if (!Object.is(parseInstant(s), expected)) {
        disagreements++;
        first ||= `${s}: ${parseInstant(s)} ≠ Date.parse ${expected}`;
      }
    }
    expect(first).toBe('');
    expect(disagreements).toBe(0);
    // Both kinds are well represented.
    expect(valid).toBeGreaterThan(100_000);
    expect(valid).toBeLessThan(200_000);
  });

  it('reads leap days, offsets, fractions and the year 0 exactly', () => {
    expect(parseInstant('2024-02-29T12:00:00Z')).toBe(Date.UTC(2024, 1, 29, 12));
    expect(parseInstant('2000-02-29T00:00:00+01:00')).toBe(Date.UTC(2000, 1, 28, 23));
    expect(parseInstant('2026-03-02T10:00:00-05:00')).toBe(Date.UTC(2026, 2, 2, 15));
    expect(parseInstant('2026-03-02T10:00:00.123456Z')).toBe(Date.UTC(2026, 2, 2, 10, 0, 0, 123));
    expect(parseInstant('2026-03-02T10:00:00.5+05:45')).toBe(Date.UTC(2026, 2, 2, 4, 15, 0, 500));
    expect(parseInstant('0000-01-01T00:00:00Z')).toBe(Date.parse('0000-01-01T00:00:00Z'));
    expect(parseInstant('1969-12-31T23:59:59.999Z')).toBe(-1);
  });

  it('gives what Date.parse gives for dates outside the calendar and other forms (NaN or its reading)', () => {
    for (const s of [
      '2023-02-29T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01',
      'not a date',
      '',
    ]) {
      expect(parseInstant(s)).toBe(Date.parse(s));
    }
  });

  it('gives NaN, as Date.parse does, for a missing instant (an event sent to the machine without recordedAt)', () => {
    expect(parseInstant(undefined as unknown as string)).toBeNaN();
    expect(instantMs(undefined as unknown as string)).toBeNaN();
  });

  it('instantMs remembers recent instants without mixing them up', () => {
    const a = '2026-01-01T00:00:00Z';
    const b = '2026-01-02T00:00:00+02:00';
    const c = '2026-01-03T00:00:00-02:00';
    for (const s of [a, b, a, c, b, a, c, c]) expect(instantMs(s)).toBe(Date.parse(s));
  });
});
