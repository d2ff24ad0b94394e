import { createInstrumentRegistry, gad7, phq9 } from '@kapkit/core/read';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RCI_CRITICAL,
  DEFAULT_RCI_CRITICAL_SOURCE,
  reliableChangePoints,
} from '../src/metrics/reliable-change.js';
import { analyzeOutcomes } from '../src/report.js';
import { syntheticInstrument } from './support/synthetic-instrument.js';

// A synthetic user-registered measure whose reliable change is judged at |RCI| > 2.58 (a 99% two-sided
// criterion) instead of Jacobson & Truax's 1.96. Not a real instrument; the numbers are made up for the test.
const strict = syntheticInstrument({
  id: 'strictdep',
  name: 'Strict depression scale',
  scale: { min: 0, max: 4 },
  items: [{ id: 's1' }, { id: 's2' }, { id: 's3' }, { id: 's4' }, { id: 's5' }],
  range: { min: 0, max: 20 },
  change: {
    reliability: { value: 0.84, kind: 'test-retest', source: 'synthetic test definition' },
    norms: { mean: 2, sd: 2, source: 'synthetic test definition' },
  },
  outcomes: { reliableChange: { critical: 2.58, source: 'synthetic test definition (|RCI| > 2.58)' } },
});
// The same measure judged at 1.96.
const usual = syntheticInstrument({
  ...strict,
  id: 'usualdep',
  outcomes: { reliableChange: { critical: 1.96, source: 'Jacobson & Truax 1991' } },
});

const registry = createInstrumentRegistry();
registry.register(strict);
registry.register(usual);

// s1 = 3 and r = 0.84: Sdiff = √2 · 3 · 0.4 ≈ 1.697, so 1.96 · Sdiff ≈ 3.33 and 2.58 · Sdiff ≈ 4.38 points.
// Changes: a −4 (reliable at 1.96 only), b −6 (reliable at both), c +4 (deteriorated at 1.96 only), d 0.
const courses: readonly [string, number, number][] = [
  ['a', 9, 5],
  ['b', 11, 5],
  ['c', 8, 12],
  ['d', 12, 12],
];
function recordsOf(instrument: string) {
  return courses.flatMap(([patientId, baseline, latest]) => [
    { patientId, instrument, day: 0, score: baseline },
    { patientId, instrument, day: 28, score: latest },
  ]);
}
const options = { registry, mixedModel: false, rciSd: { strictdep: 3, usualdep: 3 } } as const;

describe("the cohort report's reliable change uses the instrument definition's critical value", () => {
  it('counts reliable improvement and deterioration beyond |RCI| > 2.58, not a fixed 1.96', () => {
    const r = analyzeOutcomes(recordsOf('strictdep'), options).instruments.strictdep!;
    expect(r.reliableChange.improved).toBe(1);
    expect(r.reliableChange.deteriorated).toBe(0);
    expect(r.reliableChange.pointsNeeded).toBeCloseTo(2.58 * Math.SQRT2 * 3 * 0.4, 12);
    // The report states the critical value it used, and where it comes from.
    expect(r.reliableChange).toMatchObject({
      critical: 2.58,
      criticalSource: 'synthetic test definition (|RCI| > 2.58)',
    });
    const u = analyzeOutcomes(recordsOf('usualdep'), options).instruments.usualdep!;
    expect(u.reliableChange.improved).toBe(2);
    expect(u.reliableChange.deteriorated).toBe(1);
    expect(u.reliableChange.pointsNeeded).toBeCloseTo(1.96 * Math.SQRT2 * 3 * 0.4, 12);
  });

  it('counts as recovered only the patients reliably improved at the definition’s critical value', () => {
    // Cut-off c = (s0·M1 + s1·M0) / (s0 + s1) = (2·10 + 3·2) / 5 = 5.2: a and b end at 5, below it.
    const r = analyzeOutcomes(recordsOf('strictdep'), options).instruments.strictdep!;
    expect(r.clinicalSignificance?.c).toBeCloseTo(5.2, 12);
    expect(r.clinicalSignificance?.recovered).toBe(1);
    const u = analyzeOutcomes(recordsOf('usualdep'), options).instruments.usualdep!;
    expect(u.clinicalSignificance?.recovered).toBe(2);
  });

  it('keeps 1.96 for the PHQ-9 and GAD-7, whose definitions state it', () => {
    expect(phq9.outcomes.reliableChange.critical).toBe(1.96);
    expect(gad7.outcomes.reliableChange.critical).toBe(1.96);
    const records = recordsOf('phq9');
    const r = analyzeOutcomes(records, { mixedModel: false, rciSd: { phq9: 3 } }).instruments.phq9!;
    expect(r.reliableChange.pointsNeeded).toBeCloseTo(reliableChangePoints({ sd: 3, reliability: 0.89 }), 12);
    expect(r.reliableChange.critical).toBe(1.96);
    expect(r.reliableChange.criticalSource).toBe(phq9.outcomes.reliableChange.source);
  });

  it('states the default 1.96 and its source for a measure whose definition gives no critical value', () => {
    const { outcomes: _none, ...rest } = strict;
    const plain = syntheticInstrument({ ...rest, id: 'plaindep' });
    const own = createInstrumentRegistry();
    own.register(plain);
    const r = analyzeOutcomes(recordsOf('plaindep'), {
      registry: own,
      mixedModel: false,
      rciSd: { plaindep: 3 },
    }).instruments.plaindep!;
    expect(r.reliableChange.critical).toBe(DEFAULT_RCI_CRITICAL);
    expect(DEFAULT_RCI_CRITICAL).toBe(1.96);
    expect(r.reliableChange.criticalSource).toBe(DEFAULT_RCI_CRITICAL_SOURCE);
    expect(r.reliableChange.criticalSource).toMatch(/Jacobson & Truax 1991/);
    expect(r.reliableChange.pointsNeeded).toBeCloseTo(1.96 * Math.SQRT2 * 3 * 0.4, 12);
  });
});
