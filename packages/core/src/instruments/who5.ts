import { defineInstrument } from './definition.js';
import { allItemsRequired, optionsFromLabels, textItems } from './definition-parts.js';

/** WHO-5 frequency answers: 5 = All of the time … 0 = At no time. */
const who5Options = optionsFromLabels([
  'At no time',
  'Some of the time',
  'Less than half of the time',
  'More than half of the time',
  'Most of the time',
  'All of the time',
]);

const toppSource = 'Topp, Østergaard, Søndergaard & Bech 2015, Psychother Psychosom 84:167';

/**
 * WHO-5: World Health Organization Five Well-Being Index. Five positively worded items rated 0–5 over the last
 * two weeks; raw total 0–25, higher is better. Extra score `percentage` = raw × 4 (0–100). Cutoffs: raw < 13
 * (poor wellbeing) and percentage ≤ 28 (likely depression, screen further). No severity bands: no sourced
 * banding was found. The item text ships; the terms of use are recorded as unverified.
 */
export const who5 = defineInstrument({
  id: 'who5',
  name: 'WHO-5',
  title: 'WHO-5 Well-Being Index',
  construct: 'Subjective psychological wellbeing',
  purpose: 'outcome',
  direction: 'higher-is-better',
  recall: 'last 2 weeks',
  stem: 'Over the last two weeks',
  version: '1998',
  licence: {
    holder:
      'Psychiatric Research Unit, Mental Health Centre North Zealand (Denmark); WHO Regional Office for Europe',
    terms:
      'Free to use without permission, citing the source (unverified: stated by secondary sources, e.g. the INSPQ information sheet; the holder’s own terms were not checked)',
    itemTextIncluded: true,
    url: 'https://www.psykiatri-regionh.dk/who-5/',
  },
  scale: { min: 0, max: 5, options: who5Options },
  items: textItems('who5', [
    'I have felt cheerful and in good spirits',
    'I have felt calm and relaxed',
    'I have felt active and vigorous',
    'I woke up feeling fresh and rested',
    'My daily life has been filled with things that interest me',
  ]),
  scoring: { method: 'sum' },
  missing: allItemsRequired(5),
  range: { min: 0, max: 25 },
  cutoffs: [
    {
      id: 'poor-wellbeing',
      label: 'Poor wellbeing (raw score < 13)',
      score: 'total',
      op: '<',
      value: 13,
      source: `${toppSource} (raw score below 13 indicates poor wellbeing and is an indication for testing for depression)`,
    },
    {
      id: 'likely-depression',
      label: 'Likely depression, screen further (percentage ≤ 28)',
      score: 'percentage',
      op: '<=',
      value: 28,
      source: `${toppSource} (percentage score ≤ 28 indicative of likely depression)`,
    },
  ],
  scores: [
    {
      id: 'percentage',
      label: 'Percentage score (raw × 4)',
      items: [1, 2, 3, 4, 5],
      scoring: { method: 'sum', factor: 4 },
      min: 0,
      max: 100,
      source: `${toppSource} (raw score multiplied by 4)`,
    },
  ],
  change: {
    mcid: {
      value: 2.5,
      source:
        'WHO-5 scoring notes, Psychiatric Research Unit (secondary source): a 10-point change on the 0–100 percentage scale is significant, i.e. 2.5 raw points',
    },
  },
  references: [
    'Topp CW, Østergaard SD, Søndergaard S, Bech P. The WHO-5 Well-Being Index: a systematic review of the literature. Psychother Psychosom 2015;84:167–176.',
    'World Health Organization Regional Office for Europe. Wellbeing measures in primary health care: the DepCare project. Copenhagen: WHO; 1998.',
  ],
});
