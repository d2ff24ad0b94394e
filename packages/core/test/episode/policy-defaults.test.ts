import { describe, expect, it } from 'vitest';
import { defaultPolicy, policySources } from '../../src/episode/policy.js';
import { contraindicationCodes } from '../../src/episode/vocabularies.js';

describe('the default policy', () => {
  it('treats exactly the nine absolute contraindications its source names as absolute', () => {
    // Each code's last word stands in the source's list (hypertension, glaucoma, …, decompensation).
    const named = policySources.absoluteContraindications.split(':')[1]!.split('; the rest')[0]!;
    expect(defaultPolicy.absoluteContraindications).toHaveLength(9);
    for (const code of defaultPolicy.absoluteContraindications)
      expect(named).toContain(code.split('-').at(-1));
    expect(policySources.absoluteContraindications).toMatch(/the rest are considerations/);
  });

  it('leaves the considerations (pregnancy, liver disease, …) to the clinician', () => {
    const considerations = contraindicationCodes.filter(
      (c) => !defaultPolicy.absoluteContraindications.includes(c),
    );
    expect(considerations).toEqual([
      'pregnancy',
      'liver-disease',
      'cystitis',
      'hyperthyroidism',
      'prior-ketamine-use',
      'other',
    ]);
  });
});
