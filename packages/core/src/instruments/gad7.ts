import { defineInstrument } from './definition.js';
import {
  bandsFrom,
  internalConsistency,
  itemScore,
  outcomesWithRemission,
  prorateUpTo,
  talkingTherapiesReliableChange,
  textItems,
} from './definition-parts.js';
import { difficultyQuestion, frequencyOptions, pfizerLicence, phqLowerBands } from './phq9.js';

/** GAD-7: Generalized Anxiety Disorder scale. Seven items scored 0–3 over the last two weeks; total 0–21. */
export const gad7 = defineInstrument({
  id: 'gad7',
  name: 'GAD-7',
  title: 'Generalized Anxiety Disorder 7-item scale',
  construct: 'Anxiety severity',
  purpose: 'outcome',
  direction: 'higher-is-worse',
  recall: 'last 2 weeks',
  stem: 'Over the last 2 weeks, how often have you been bothered by the following problems?',
  version: '1',
  licence: pfizerLicence,
  loinc: { panel: '69737-5', total: '70274-6' },
  scale: { min: 0, max: 3, options: frequencyOptions },
  items: textItems('gad7', [
    ['69725-0', 'Feeling nervous, anxious, or on edge'],
    ['68509-9', 'Not being able to stop or control worrying'],
    ['69733-4', 'Worrying too much about different things'],
    ['69734-2', 'Trouble relaxing'],
    ['69735-9', 'Being so restless that it is hard to sit still'],
    ['69689-8', 'Becoming easily annoyed or irritable'],
    ['69736-7', 'Feeling afraid, as if something awful might happen'],
  ]),
  supplementary: [difficultyQuestion],
  scoring: { method: 'sum' },
  missing: prorateUpTo(
    1,
    'No official rule published for the GAD-7; kapkit default (configurable): at most 1 missing item, prorated × 7 as for the PHQ-9',
  ),
  range: { min: 0, max: 21 },
  bands: bandsFrom([...phqLowerBands, ['severe', 'Severe', 15]], 21),
  bandsSource: 'Spitzer, Kroenke, Williams & Löwe 2006, Arch Intern Med 166:1092',
  cutoffs: [
    {
      id: 'screen-positive',
      label: 'Probable generalized anxiety disorder (total ≥ 10)',
      score: 'total',
      op: '>=',
      value: 10,
      source: 'Spitzer et al. 2006',
    },
    {
      id: 'gad2-screen-positive',
      label: 'GAD-2 screen positive (≥ 3)',
      score: 'gad2',
      op: '>=',
      value: 3,
      source: 'Kroenke et al. 2007, Ann Intern Med 146:317',
    },
  ],
  scores: [
    itemScore(
      'gad2',
      'GAD-2 (items 1–2)',
      [1, 2],
      'sum',
      [0, 6],
      'Kroenke et al. 2007, Ann Intern Med 146:317',
    ),
  ],
  change: {
    reliability: internalConsistency(0.92, "Spitzer et al. 2006 (Cronbach's α = 0.92)"),
    fixedPoints: talkingTherapiesReliableChange('GAD-7', 4),
    mcid: { value: 4, source: 'Toussaint et al. 2020, J Affect Disord 265:395' },
    norms: { mean: 2.95, sd: 3.41, source: 'Löwe et al. 2008, Med Care 46:266' },
  },
  outcomes: outcomesWithRemission(5, 'GAD-7 < 5 (Spitzer et al. 2006 minimal band; Hull et al. 2022)'),
  references: [
    'Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized anxiety disorder: the GAD-7. Arch Intern Med 2006;166:1092–1097.',
  ],
});

/** GAD-2: the first two GAD-7 items, administered on their own. */
export const gad2 = defineInstrument({
  id: 'gad2',
  name: 'GAD-2',
  title: 'Generalized Anxiety Disorder 2-item scale',
  construct: 'Anxiety screen',
  purpose: 'outcome',
  direction: 'higher-is-worse',
  recall: 'last 2 weeks',
  stem: gad7.stem,
  version: '1',
  licence: pfizerLicence,
  scale: gad7.scale,
  items: [gad7.items[0], gad7.items[1]],
  scoring: { method: 'sum' },
  missing: prorateUpTo(0, 'Kroenke et al. 2007: both items required'),
  range: { min: 0, max: 6 },
  cutoffs: [
    {
      id: 'screen-positive',
      label: 'Screen positive (≥ 3): administer the GAD-7',
      score: 'total',
      op: '>=',
      value: 3,
      source: 'Kroenke et al. 2007, Ann Intern Med 146:317',
    },
  ],
  references: [
    'Kroenke K, Spitzer RL, Williams JBW, Monahan PO, Löwe B. Anxiety disorders in primary care: prevalence, impairment, comorbidity, and detection. Ann Intern Med 2007;146:317–325.',
  ],
});
