import { defineInstrument } from './definition.js';
import { internalConsistency, numberedItemsAllRequired, scoringOnlyLicence } from './definition-parts.js';

const roseman2019 = 'Roseman et al. 2019, J Psychopharmacol 33:1076';

/**
 * EBI: Emotional Breakthrough Inventory. Six items, each a 0–100 visual analogue scale, rated after a dosing
 * session; total = mean of the six items (0–100). Some secondary sources report the sum instead (0–600, six
 * times the mean). A session measure; `direction` records that higher scores have predicted greater
 * improvement in wellbeing. The published end-point labels of the scale could not be verified, so the anchors
 * here are neutral: the user supplies them with the item text (licence unknown, scoring only).
 */
export const ebi = defineInstrument({
  id: 'ebi',
  name: 'EBI',
  title: 'Emotional Breakthrough Inventory',
  construct: 'Emotional breakthrough during a dosing session',
  purpose: 'session',
  direction: 'higher-is-better',
  recall: 'the dosing session (rated afterwards)',
  version: '1',
  licence: scoringOnlyLicence(
    'Leor Roseman, Robin Carhart-Harris and colleagues (Imperial College London); published in Roseman et al. 2019',
    'Unknown: no licence or terms of use found. kapkit ships scoring only; the user supplies the item text and the scale anchors.',
  ),
  ...numberedItemsAllRequired(
    'ebi',
    6,
    { min: 0, max: 100, anchors: { min: 'Minimum (0)', max: 'Maximum (100)' } },
    'mean',
  ),
  range: { min: 0, max: 100 },
  change: {
    reliability: internalConsistency(0.932, `${roseman2019} (Cronbach's α = 0.932)`),
  },
  references: [
    'Roseman L, Haijen E, Idialu-Ikato K, Kaelen M, Watts R, Carhart-Harris R. Emotional breakthrough and psychedelics: validation of the Emotional Breakthrough Inventory. J Psychopharmacol 2019;33:1076–1087.',
  ],
});
