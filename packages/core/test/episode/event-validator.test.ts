import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prng } from '../../../../test-support/prng.mjs';
import { eventValidatorFallback, parseEventFast } from '../../src/episode/event-validator.js';
import { episodeEventSchema, upcastEvent } from '../../src/episode/events.js';

/*
 * The compiled event check must be zod's, event for event: the same verdict, and for a valid event the same
 * output (unknown keys dropped, defaults applied, keys in the schema's order: compared as JSON text).
 */

const fixture = readFileSync(new URL('../fixtures/v1-demo-cohort.ndjson', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Record<string, unknown>);

const odd: unknown[] = [
  '',
  'x',
  -1,
  0,
  0.5,
  1.5,
  2,
  3,
  40,
  300,
  2001,
  1e300,
  true,
  false,
  null,
  [],
  [1, null],
  {},
  { a: 1 },
  'a'.repeat(201),
  'a'.repeat(4001),
  '2026-02-30T10:00:00Z',
  '2026-03-02T10:00:00',
  '2026-03-02T10:00:00.123+05:30',
  'pre',
  'full',
  'phq9',
  'good-fit',
];

/** A copy of `e` with one change: a field removed, replaced by an odd value, or an unknown field added. */
function mutate(e: Record<string, unknown>, rnd: () => number): unknown {
  const out: Record<string, unknown> = structuredClone(e);
  const keys = Object.keys(out);
  const k = keys[Math.floor(rnd() * keys.length)]!;
  const r = rnd();
  if (r < 0.2) delete out[k];
  else if (r < 0.3) out[`extra${Math.floor(rnd() * 3)}`] = odd[Math.floor(rnd() * odd.length)];
  else if (r < 0.45 && Array.isArray(out[k])) {
    const a = [...(out[k] as unknown[])];
    a[Math.floor(rnd() * (a.length + 1))] = odd[Math.floor(rnd() * odd.length)];
    out[k] = a;
  } else if (r < 0.6 && typeof out[k] === 'object' && out[k] !== null && !Array.isArray(out[k])) {
    const inner = { ...(out[k] as Record<string, unknown>) };
    const ik = Object.keys(inner);
    if (ik.length && rnd() < 0.5) delete inner[ik[Math.floor(rnd() * ik.length)]!];
    else inner[ik[Math.floor(rnd() * ik.length)] ?? 'extra'] = odd[Math.floor(rnd() * odd.length)];
    out[k] = inner;
  } else out[k] = odd[Math.floor(rnd() * odd.length)];
  return out;
}

function expectAsZod(input: unknown) {
  const zod = episodeEventSchema.safeParse(upcastEvent(input));
  const fast = parseEventFast(input);
  expect(fast.success).toBe(zod.success);
  if (zod.success && fast.success) expect(JSON.stringify(fast.data)).toBe(JSON.stringify(zod.data));
  if (!zod.success && !fast.success) expect(fast.error.issues).toEqual(zod.error.issues);
  return zod.success;
}

describe('compiled event check', () => {
  it('is in use for the built-in event schemas', () => {
    expect(eventValidatorFallback()).toBeNull();
  });

  it('agrees with zod on every event of a demo cohort (v1, upcast) and on them as v2', () => {
    for (const e of fixture) {
      expect(expectAsZod(e)).toBe(true);
      expect(expectAsZod(upcastEvent(e))).toBe(true);
    }
  });

  it('agrees with zod on mutated events (fields removed, odd values, unknown keys)', () => {
    const rnd = prng(14);
    let valid = 0;
    let invalid = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = fixture[Math.floor(rnd() * fixture.length)]!;
      let x = mutate(upcastEvent(base) as Record<string, unknown>, rnd);
      if (rnd() < 0.3) x = mutate(x as Record<string, unknown>, rnd);
      if (expectAsZod(x)) valid++;
      else invalid++;
    }
    // Both verdicts are exercised.
    expect(valid).toBeGreaterThan(1000);
    expect(invalid).toBeGreaterThan(1000);
  });

  it('agrees on values that are not objects, and on defaults and strict policy overrides', () => {
    for (const x of [null, 1, 'x', [], [{}], { type: 'Nope' }]) expectAsZod(x);
    const opened = upcastEvent(fixture[0]!) as Record<string, unknown>;
    expectAsZod({ ...opened, policy: { criticalPeriodDays: 3 } });
    expectAsZod({ ...opened, policy: { criticalPeriodDays: 3, unknownRule: true } });
    expectAsZod({ ...opened, policy: { holdSystolicAbove: 150.5 } });
    expectAsZod({ ...opened, actorId: undefined });
  });
});
