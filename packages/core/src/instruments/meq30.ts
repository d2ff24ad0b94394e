import { defineInstrument } from './definition.js';
import { itemScore, numberedItemsAllRequired, scoringOnlyLicence } from './definition-parts.js';

const barrett2015 = 'Barrett, Johnson & Griffiths 2015, J Psychopharmacol 29:1182';

/** Subscale item numbers of the stand-alone MEQ-30 (Barrett et al. 2015, appendix; MacLean et al. 2012 factors). */
const mysticalItems = [4, 5, 6, 9, 14, 15, 16, 18, 20, 21, 23, 24, 25, 26, 28] as const;
const positiveMoodItems = [2, 8, 12, 17, 27, 30] as const;
const transcendenceItems = [1, 7, 11, 13, 19, 22] as const;
const ineffabilityItems = [3, 10, 29] as const;

const completeSource = `${barrett2015} (complete mystical experience: ≥ 60% of the maximum on every subscale, the criterion used in Griffiths et al.'s earlier MEQ studies); kapkit default, configurable`;

/**
 * MEQ-30: revised Mystical Experience Questionnaire. Thirty items rated 0–5 looking back on one dosing session.
 * Total = mean of all 30 items (0–5). Four subscale means (mystical, positive mood, transcendence of time and
 * space, ineffability) and the same four as percentages of the maximum (mean × 20, 0–100). Cutoffs at ≥ 60%
 * on each percentage score, and the composite "complete mystical experience" when all four are met. A session
 * measure; `direction` records that higher scores have predicted better outcomes in psilocybin studies. The
 * licence is unknown, so kapkit ships scoring only: the user supplies the item text and answer labels.
 */
export const meq30 = defineInstrument({
  id: 'meq30',
  name: 'MEQ-30',
  title: 'Revised Mystical Experience Questionnaire (30 items)',
  construct: 'Mystical-type experience during a dosing session',
  purpose: 'session',
  direction: 'higher-is-better',
  recall: 'the dosing session (rated afterwards, looking back on the whole session)',
  version: '1',
  licence: scoringOnlyLicence(
    'Frederick S. Barrett, Matthew W. Johnson, Roland R. Griffiths (Johns Hopkins University); published in Barrett et al. 2015',
    'Unknown: no licence or terms of use found. kapkit ships scoring only; the user supplies the item text.',
  ),
  ...numberedItemsAllRequired('meq30', 30, { min: 0, max: 5 }, 'mean'),
  range: { min: 0, max: 5 },
  scores: [
    itemScore('mystical', 'Mystical (mean of 15 items)', mysticalItems, 'mean', [0, 5], barrett2015),
    itemScore(
      'positiveMood',
      'Positive mood (mean of 6 items)',
      positiveMoodItems,
      'mean',
      [0, 5],
      barrett2015,
    ),
    itemScore(
      'transcendence',
      'Transcendence of time and space (mean of 6 items)',
      transcendenceItems,
      'mean',
      [0, 5],
      barrett2015,
    ),
    itemScore(
      'ineffability',
      'Ineffability (mean of 3 items)',
      ineffabilityItems,
      'mean',
      [0, 5],
      barrett2015,
    ),
    {
      id: 'mysticalPercent',
      label: 'Mystical, % of maximum (mean × 20)',
      items: mysticalItems,
      scoring: { method: 'mean', factor: 20 },
      min: 0,
      max: 100,
      source: barrett2015,
    },
    {
      id: 'positiveMoodPercent',
      label: 'Positive mood, % of maximum (mean × 20)',
      items: positiveMoodItems,
      scoring: { method: 'mean', factor: 20 },
      min: 0,
      max: 100,
      source: barrett2015,
    },
    {
      id: 'transcendencePercent',
      label: 'Transcendence of time and space, % of maximum (mean × 20)',
      items: transcendenceItems,
      scoring: { method: 'mean', factor: 20 },
      min: 0,
      max: 100,
      source: barrett2015,
    },
    {
      id: 'ineffabilityPercent',
      label: 'Ineffability, % of maximum (mean × 20)',
      items: ineffabilityItems,
      scoring: { method: 'mean', factor: 20 },
      min: 0,
      max: 100,
      source: barrett2015,
    },
  ],
  cutoffs: [
    {
      id: 'mystical-60',
      label: 'Mystical ≥ 60% of maximum',
      score: 'mysticalPercent',
      op: '>=',
      value: 60,
      source: completeSource,
    },
    {
      id: 'positive-mood-60',
      label: 'Positive mood ≥ 60% of maximum',
      score: 'positiveMoodPercent',
      op: '>=',
      value: 60,
      source: completeSource,
    },
    {
      id: 'transcendence-60',
      label: 'Transcendence of time and space ≥ 60% of maximum',
      score: 'transcendencePercent',
      op: '>=',
      value: 60,
      source: completeSource,
    },
    {
      id: 'ineffability-60',
      label: 'Ineffability ≥ 60% of maximum',
      score: 'ineffabilityPercent',
      op: '>=',
      value: 60,
      source: completeSource,
    },
  ],
  compositeCutoffs: [
    {
      id: 'complete-mystical-experience',
      label: 'Complete mystical experience (≥ 60% on all four subscales)',
      allOf: ['mystical-60', 'positive-mood-60', 'transcendence-60', 'ineffability-60'],
      source: completeSource,
    },
  ],
  references: [
    'Barrett FS, Johnson MW, Griffiths RR. Validation of the revised Mystical Experience Questionnaire in experimental sessions with psilocybin. J Psychopharmacol 2015;29:1182–1190.',
    'MacLean KA, Leoutsakos JMS, Johnson MW, Griffiths RR. Factor analysis of the Mystical Experience Questionnaire: a study of experiences occasioned by the hallucinogen psilocybin. J Sci Study Relig 2012;51:721–737.',
  ],
});
