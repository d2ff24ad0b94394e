import { describe, expect, it } from 'vitest';
import {
  builtinInstruments,
  defineInstrument,
  gad7,
  type InstrumentDefinition,
  phq9,
  who5,
} from '../src/instruments.js';
import { definitionIssues } from './instruments/shared-checks.js';

describe('outcome definitions live in the instrument definitions', () => {
  it('gives PHQ-9 and GAD-7 response (50%), remission (< 5) and reliable change (1.96), each sourced', () => {
    for (const d of [phq9, gad7]) {
      expect(d.outcomes?.response?.fraction).toBe(0.5);
      expect(d.outcomes?.remission?.below).toBe(5);
      // Jacobson & Truax 1991: |RCI| > 1.96
      expect(d.outcomes?.reliableChange?.critical).toBe(1.96);
      expect(d.outcomes?.reliableChange?.source).toContain('Jacobson & Truax 1991');
    }
  });

  it('gives reliable change only to instruments with a reliability coefficient', () => {
    for (const d of builtinInstruments) {
      if (d.outcomes?.reliableChange) expect(d.change?.reliability, d.id).toBeDefined();
    }
    expect((who5 as InstrumentDefinition).outcomes).toBeUndefined(); // higher is better: response and remission are not defined
  });
});

describe('defineInstrument checks outcome definitions', () => {
  it('accepts a definition without outcomes (they are then not defined)', () => {
    const { outcomes: _o, ...bare } = phq9;
    expect(definitionIssues({ ...bare, id: 'bare' })).toEqual([]);
  });

  it('refuses a response fraction outside (0, 1) and a remission threshold outside the range', () => {
    const bad = {
      ...phq9,
      outcomes: {
        response: { fraction: 1.5, source: 'test' },
        remission: { below: 30, source: 'test' },
      },
    };
    expect(definitionIssues(bad)).toEqual(['outcomes.response.fraction', 'outcomes.remission.below']);
    expect(() => defineInstrument(bad)).toThrow(/outcomes\.response\.fraction must be between 0 and 1/);
  });

  it('refuses response and remission on a measure where higher is better', () => {
    const bad = {
      ...who5,
      outcomes: { response: { fraction: 0.5, source: 'test' }, remission: { below: 10, source: 'test' } },
    };
    expect(definitionIssues(bad)).toEqual(['outcomes.response', 'outcomes.remission']);
  });

  it('refuses reliable change without a reliability, and a reliability outside (0, 1)', () => {
    const { change: _c, ...noChange } = phq9;
    expect(definitionIssues({ ...noChange, id: 'nochange' })).toEqual(['outcomes.reliableChange']);
    const badR = {
      ...phq9,
      change: { ...phq9.change, reliability: { ...phq9.change.reliability, value: 1 } },
    };
    expect(definitionIssues(badR)).toEqual(['change.reliability.value']);
  });

  it('refuses an unsourced definition and non-positive fixed points or norms SD', () => {
    const bad = {
      ...gad7,
      change: {
        ...gad7.change,
        fixedPoints: { value: 0, source: 'test' },
        norms: { mean: 2.95, sd: 0, source: 'test' },
      },
      outcomes: { ...gad7.outcomes, remission: { below: 5, source: ' ' } },
    };
    expect(definitionIssues(bad)).toEqual([
      'change.fixedPoints.value',
      'change.norms.sd',
      'outcomes.remission.source',
    ]);
  });
});
