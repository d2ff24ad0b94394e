import { describe, expect, it } from 'vitest';
import { defaultPolicy, policySources } from '../../src/episode/policy.js';
import { contraindicationCodes } from '../../src/episode/vocabularies.js';

describe('the default policy', () => {
  it('treats exactly the nine absolute contraindications of its source as absolute', () => {
    expect(defaultPolicy.absoluteContraindications).toEqual([
      'uncontrolled-hypertension',
      'uncontrolled-glaucoma',
      'severe-breathing-problems',
      'ketamine-allergy',
      'uncontrolled-substance-use-disorder',
      'acute-mania-or-mixed-state',
      'primary-psychosis-history',
      'active-suicidal-ideation',
      'severe-decompensation',
    ]);
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
