import { describe, expect, it } from 'vitest';
import { DuplicateInstrumentError, UnknownInstrumentError } from '../src/errors.js';
import { builtinInstruments, createInstrumentRegistry } from '../src/instruments/builtin.js';
import {
  defineInstrument,
  type InstrumentDefinition,
  type ResponsesOf,
} from '../src/instruments/definition.js';
import { phq9 } from '../src/instruments/phq9.js';
import { normalizeInstrumentId } from '../src/instruments/registry.js';
import { scoreResponse } from '../src/instruments/scoring.js';
import { definitionIssues } from './instruments/shared-checks.js';

/** A clinic-licensed instrument registered by the user: item text is theirs, so none ships here. */
const licensedScale = defineInstrument({
  id: 'clinicdep21',
  name: 'CLINIC-DEP-21',
  title: 'A 21-item licensed depression inventory (user-registered)',
  construct: 'Depression severity',
  purpose: 'outcome',
  direction: 'higher-is-worse',
  recall: 'last 2 weeks',
  version: '2',
  licence: { holder: 'Licence holder', terms: 'Used under the clinic licence', itemTextIncluded: false },
  scale: { min: 0, max: 3 },
  items: Array.from({ length: 21 }, (_, i) => ({ id: `cd_${i + 1}` })),
  scoring: { method: 'sum' },
  missing: { maxMissing: 0, method: 'prorate', source: 'publisher manual' },
  range: { min: 0, max: 63 },
  bands: [
    { id: 'minimal', label: 'Minimal', min: 0, max: 13 },
    { id: 'mild', label: 'Mild', min: 14, max: 19 },
    { id: 'moderate', label: 'Moderate', min: 20, max: 28 },
    { id: 'severe', label: 'Severe', min: 29, max: 63 },
  ],
  safety: [
    {
      id: 'item9',
      item: 9,
      op: '>=',
      value: 1,
      flagUnanswered: false,
      message: 'Item 9 endorsed',
      source: 'clinic policy',
    },
  ],
  references: ['publisher manual'],
});

describe('instrument registry', () => {
  it('finds instruments case-insensitively and ignoring hyphens', () => {
    const registry = createInstrumentRegistry();
    expect(registry.get('PHQ-9')).toBe(phq9);
    expect(registry.get('phq9')).toBe(phq9);
    expect(registry.get('Phq_9')).toBe(phq9);
    expect(normalizeInstrumentId('QIDS-SR16')).toBe('qidssr16');
  });

  it('lists every built-in instrument', () => {
    const registry = createInstrumentRegistry();
    expect(registry.ids()).toEqual(builtinInstruments.map((d) => d.id));
  });

  it('throws a typed error naming the known ids for an unknown instrument', () => {
    const registry = createInstrumentRegistry();
    let error: unknown;
    try {
      registry.get('BDI-II');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownInstrumentError);
    expect((error as UnknownInstrumentError).code).toBe('unknown-instrument');
    expect((error as UnknownInstrumentError).message).toContain('phq9');
    expect(registry.find('BDI-II')).toBeUndefined();
  });

  it('registers a user-defined instrument with the same scoring power as the built-ins', () => {
    const registry = createInstrumentRegistry({ instruments: [licensedScale] });
    const def = registry.get('clinic-dep-21');
    const responses = Array.from({ length: 21 }, (_, i) => (i < 10 ? 2 : 0));
    const r = scoreResponse(def, { responses });
    expect(r.total).toBe(20);
    expect(r.severity).toBe('moderate');
    expect(r.safetyFlags).toHaveLength(1);
  });

  it('refuses a second instrument with the same id unless replacing on purpose', () => {
    const registry = createInstrumentRegistry();
    expect(() => registry.register(phq9)).toThrow(DuplicateInstrumentError);
    expect(() => registry.register({ ...phq9 }, { replace: true })).not.toThrow();
  });

  it('starts empty when built-ins are not wanted', () => {
    expect(createInstrumentRegistry({ builtins: false }).ids()).toEqual([]);
  });

  it('derives a tuple type of exactly nine 0–3 answers for the PHQ-9', () => {
    const ok: ResponsesOf<typeof phq9> = [0, 1, 2, 3, null, 0, 0, 0, 0];
    // @ts-expect-error a PHQ-9 answer of 4 is not a valid value
    const bad: ResponsesOf<typeof phq9> = [0, 1, 2, 4, 0, 0, 0, 0, 0];
    // @ts-expect-error eight answers are not a PHQ-9
    const short: ResponsesOf<typeof phq9> = [0, 1, 2, 3, 0, 0, 0, 0];
    expect([ok.length, bad.length, short.length]).toEqual([9, 9, 8]);
  });
});

describe('instrument definition checks', () => {
  const base: InstrumentDefinition = licensedScale;

  it('accepts a consistent definition', () => {
    expect(definitionIssues(base)).toEqual([]);
  });

  it('rejects an id that is not lowercase letters and digits', () => {
    expect(definitionIssues({ ...base, id: 'BDI-II' })).toEqual(['id']);
  });

  it('rejects duplicate item ids', () => {
    expect(definitionIssues({ ...base, items: [...base.items.slice(0, 20), { id: 'cd_1' }] })).toContain(
      'items.20.id',
    );
  });

  it('rejects bands with gaps in order or not covering the range', () => {
    const bands = [
      { id: 'a', label: 'A', min: 0, max: 10 },
      { id: 'b', label: 'B', min: 5, max: 4 },
    ];
    expect(definitionIssues({ ...base, bands })).toEqual(expect.arrayContaining(['bands.1.max', 'bands']));
  });

  it('rejects a missing rule that would allow every item to be missing', () => {
    expect(
      definitionIssues({ ...base, missing: { maxMissing: 21, method: 'prorate', source: 'x' } }),
    ).toEqual(['missing.maxMissing']);
  });

  it('rejects safety rules and cutoffs that refer to things that do not exist', () => {
    const safety = [
      { id: 's', item: 22, op: '>' as const, value: 0, flagUnanswered: false, message: 'm', source: 's' },
    ];
    const cutoffs = [{ id: 'c', label: 'c', score: 'nope', op: '>=' as const, value: 1, source: 's' }];
    expect(definitionIssues({ ...base, safety, cutoffs })).toEqual(['cutoffs.0.score', 'safety.0.item']);
  });

  it('rejects overlapping bands', () => {
    const bands = [
      { id: 'low', label: 'Low', min: 0, max: 30 },
      { id: 'high', label: 'High', min: 29, max: 63 },
    ];
    expect(definitionIssues({ ...base, bands })).toEqual(['bands.0.max']);
  });

  it('rejects duplicate cutoff ids, including a composite reusing a cutoff id or another composite’s id', () => {
    const cut = { id: 'c', label: 'c', score: 'total', op: '>=' as const, value: 1, source: 's' };
    expect(definitionIssues({ ...base, cutoffs: [cut, cut] })).toEqual(['cutoffs.1.id']);
    expect(
      definitionIssues({
        ...base,
        cutoffs: [cut],
        compositeCutoffs: [{ id: 'c', label: 'c', allOf: ['c'], source: 's' }],
      }),
    ).toEqual(['compositeCutoffs.0.id']);
    const both = { id: 'both', label: 'both', allOf: ['c'], source: 's' };
    expect(definitionIssues({ ...base, cutoffs: [cut], compositeCutoffs: [both, both] })).toEqual([
      'compositeCutoffs.1.id',
    ]);
  });

  it('rejects an extra score whose missing rule allows all its items to be missing', () => {
    const scores = [
      {
        id: 'first2',
        label: 'Items 1–2',
        items: [1, 2],
        scoring: { method: 'sum' as const },
        missing: { maxMissing: 2, method: 'prorate' as const, source: 's' },
        min: 0,
        max: 6,
        source: 's',
      },
    ];
    expect(definitionIssues({ ...base, scores })).toEqual(['scores.0.missing.maxMissing']);
  });

  it('rejects item text when the licence says text is not included', () => {
    expect(
      definitionIssues({ ...base, items: [{ id: 'x', text: 'copyrighted words' }, ...base.items.slice(1)] }),
    ).toEqual(['items.0.text']);
  });
});
