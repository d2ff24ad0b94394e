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

/** PHQ frequency answers 0–3 with their LOINC answer codes (shared by PHQ-9, PHQ-2, GAD-7, GAD-2). */
export const frequencyOptions = [
  { value: 0, label: 'Not at all', loinc: 'LA6568-5' },
  { value: 1, label: 'Several days', loinc: 'LA6569-3' },
  { value: 2, label: 'More than half the days', loinc: 'LA6570-1' },
  { value: 3, label: 'Nearly every day', loinc: 'LA6571-9' },
] as const;

/**
 * PHQ question 10 (functional difficulty), asked after PHQ-9 and GAD-7 and not scored. LOINC 69722-7.
 * Answer codes: LA6572-7 and LA6573-5 are consistent across sources; for "very" and "extremely" difficult
 * sources disagree (LA6575-0 / LA6574-3 as used here, per the LOINC answer list as read by kapkit's authors).
 */
export const difficultyQuestion = {
  id: 'difficulty',
  text: 'If you checked off any problems, how difficult have these problems made it for you to do your work, take care of things at home, or get along with other people?',
  loinc: '69722-7',
  scale: {
    min: 0,
    max: 3,
    options: [
      { value: 0, label: 'Not difficult at all', loinc: 'LA6572-7' },
      { value: 1, label: 'Somewhat difficult', loinc: 'LA6573-5' },
      { value: 2, label: 'Very difficult', loinc: 'LA6575-0' },
      { value: 3, label: 'Extremely difficult', loinc: 'LA6574-3' },
    ],
  },
  source: 'Kroenke, Spitzer & Williams 2001 (PHQ-9, question 10)',
} as const;

/**
 * The lower severity bands the PHQ-9 and the GAD-7 share: minimal from 0, mild from 5, moderate from 10
 * (Kroenke, Spitzer & Williams 2001; Spitzer, Kroenke, Williams & Löwe 2006). Each instrument adds its own
 * upper bands.
 */
export const phqLowerBands = [
  ['minimal', 'Minimal', 0],
  ['mild', 'Mild', 5],
  ['moderate', 'Moderate', 10],
] as const;

export const pfizerLicence = {
  holder: 'Pfizer Inc.',
  terms:
    'Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues with an educational grant from Pfizer Inc. No permission required to reproduce, translate, display or distribute.',
  itemTextIncluded: true,
  url: 'https://www.phqscreeners.com',
} as const;

/**
 * PHQ-9: Patient Health Questionnaire, depression module. Nine DSM-IV criteria items scored 0–3 over the
 * last two weeks; total 0–27.
 */
export const phq9 = defineInstrument({
  id: 'phq9',
  name: 'PHQ-9',
  title: 'Patient Health Questionnaire-9',
  construct: 'Depression severity',
  purpose: 'outcome',
  direction: 'higher-is-worse',
  recall: 'last 2 weeks',
  stem: 'Over the last 2 weeks, how often have you been bothered by any of the following problems?',
  version: '1',
  licence: pfizerLicence,
  loinc: { panel: '44249-1', total: '44261-6' },
  scale: { min: 0, max: 3, options: frequencyOptions },
  items: textItems('phq9', [
    ['44250-9', 'Little interest or pleasure in doing things'],
    ['44255-8', 'Feeling down, depressed, or hopeless'],
    ['44259-0', 'Trouble falling or staying asleep, or sleeping too much'],
    ['44254-1', 'Feeling tired or having little energy'],
    ['44251-7', 'Poor appetite or overeating'],
    [
      '44258-2',
      'Feeling bad about yourself — or that you are a failure or have let yourself or your family down',
    ],
    ['44252-5', 'Trouble concentrating on things, such as reading the newspaper or watching television'],
    [
      '44253-3',
      'Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual',
    ],
    ['44260-8', 'Thoughts that you would be better off dead or of hurting yourself in some way'],
  ]),
  supplementary: [difficultyQuestion],
  scoring: { method: 'sum' },
  missing: prorateUpTo(
    2,
    'NHS Data Dictionary (PHQ-9 scoring: up to 2 missing items prorated); Arrieta et al. 2017',
  ),
  range: { min: 0, max: 27 },
  bands: bandsFrom(
    [...phqLowerBands, ['moderately-severe', 'Moderately severe', 15], ['severe', 'Severe', 20]],
    27,
  ),
  bandsSource: 'Kroenke, Spitzer & Williams 2001, J Gen Intern Med 16:606',
  cutoffs: [
    {
      id: 'screen-positive',
      label: 'Probable major depression (total ≥ 10)',
      score: 'total',
      op: '>=',
      value: 10,
      source: 'Kroenke, Spitzer & Williams 2001; Manea et al. 2012',
    },
    {
      id: 'phq2-screen-positive',
      label: 'PHQ-2 screen positive (≥ 3)',
      score: 'phq2',
      op: '>=',
      value: 3,
      source: 'Kroenke, Spitzer & Williams 2003, Med Care 41:1284',
    },
  ],
  scores: [
    itemScore(
      'phq2',
      'PHQ-2 (items 1–2)',
      [1, 2],
      'sum',
      [0, 6],
      'Kroenke, Spitzer & Williams 2003, Med Care 41:1284',
    ),
  ],
  safety: [
    {
      id: 'phq9-item9-positive',
      item: 9,
      op: '>',
      value: 0,
      flagUnanswered: true,
      message:
        'PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was answered above "Not at all". Follow up with a suicide risk assessment (e.g. C-SSRS) whatever the total score.',
      source:
        'Kroenke et al. 2001; Simon et al. 2013, Psychiatr Serv 64:1195; Na et al. 2018, J Affect Disord 232:34',
    },
  ],
  change: {
    reliability: internalConsistency(0.89, "Kroenke et al. 2001 (Cronbach's α = 0.89)"),
    fixedPoints: talkingTherapiesReliableChange('PHQ-9', 6),
    mcid: { value: 5, source: 'Löwe et al. 2004, Med Care 42:1194' },
    norms: { mean: 2.91, sd: 3.52, source: 'Kocalevent, Hinz & Brähler 2013, Gen Hosp Psychiatry 35:551' },
  },
  outcomes: outcomesWithRemission(5, 'PHQ-9 < 5 (Kroenke et al. 2001 minimal band; Hull et al. 2022)'),
  references: [
    'Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity measure. J Gen Intern Med 2001;16:606–613.',
  ],
});

/** PHQ-2: the first two PHQ-9 items, administered on their own as an ultra-brief screen. */
export const phq2 = defineInstrument({
  id: 'phq2',
  name: 'PHQ-2',
  title: 'Patient Health Questionnaire-2',
  construct: 'Depression screen (anhedonia and depressed mood)',
  purpose: 'outcome',
  direction: 'higher-is-worse',
  recall: 'last 2 weeks',
  stem: phq9.stem,
  version: '1',
  licence: pfizerLicence,
  loinc: { panel: '55757-9', total: '55758-7' },
  scale: phq9.scale,
  items: [phq9.items[0], phq9.items[1]],
  scoring: { method: 'sum' },
  missing: prorateUpTo(0, 'Kroenke et al. 2003: both items required'),
  range: { min: 0, max: 6 },
  cutoffs: [
    {
      id: 'screen-positive',
      label: 'Screen positive (≥ 3): administer the PHQ-9',
      score: 'total',
      op: '>=',
      value: 3,
      source: 'Kroenke, Spitzer & Williams 2003, Med Care 41:1284',
    },
  ],
  references: [
    'Kroenke K, Spitzer RL, Williams JBW. The Patient Health Questionnaire-2: validity of a two-item depression screener. Med Care 2003;41:1284–1292.',
  ],
});
