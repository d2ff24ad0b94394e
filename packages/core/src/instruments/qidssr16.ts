import { defineInstrument } from './definition.js';
import {
  bandsFrom,
  internalConsistency,
  numberedItems,
  outcomesWithRemission,
  prorateUpTo,
  scoringOnlyLicence,
} from './definition-parts.js';

const rush2003 = 'Rush et al. 2003, Biol Psychiatry 54:573';

/**
 * QIDS-SR16: Quick Inventory of Depressive Symptomatology, self-report, 16 items rated 0–3 over the last 7
 * days. The total (0–27) sums nine DSM symptom domains, three of which take the highest of several items:
 * sleep = max(items 1–4), appetite/weight = max(items 6–9), psychomotor = max(items 15–16). A domain counts as
 * answered when any of its items is (respondents usually answer only one appetite and one weight item). The
 * terms of use are unverified, so kapkit ships scoring only: the user supplies the item text. Item 12 (thoughts
 * of death or suicide) raises a safety flag above 0, a kapkit default by analogy with PHQ-9 item 9.
 */
export const qidssr16 = defineInstrument({
  id: 'qidssr16',
  name: 'QIDS-SR16',
  title: 'Quick Inventory of Depressive Symptomatology, Self-Report (16 items)',
  construct: 'Depression severity (nine DSM symptom domains)',
  purpose: 'outcome',
  direction: 'higher-is-worse',
  recall: 'last 7 days',
  version: '1',
  licence: scoringOnlyLicence(
    'A. John Rush, Madhukar H. Trivedi and colleagues (IDS/QIDS, University of Texas Southwestern Medical Center)',
    'Terms unverified: secondary sources describe the QIDS as free for clinical and research use. kapkit ships scoring only until the terms are confirmed; the user supplies the item text.',
    'http://ids-qids.org',
  ),
  scale: { min: 0, max: 3 },
  items: numberedItems('qidssr16', 16),
  scoring: {
    method: 'sum',
    groups: [
      { id: 'sleep', label: 'Sleep (highest of items 1–4)', items: [1, 2, 3, 4] },
      { id: 'sad-mood', label: 'Sad mood (item 5)', items: [5] },
      { id: 'appetite-weight', label: 'Appetite or weight (highest of items 6–9)', items: [6, 7, 8, 9] },
      { id: 'concentration', label: 'Concentration and decision making (item 10)', items: [10] },
      { id: 'self-view', label: 'View of myself (item 11)', items: [11] },
      { id: 'suicidal-ideation', label: 'Thoughts of death or suicide (item 12)', items: [12] },
      { id: 'interest', label: 'General interest (item 13)', items: [13] },
      { id: 'energy', label: 'Energy level (item 14)', items: [14] },
      {
        id: 'psychomotor',
        label: 'Psychomotor slowing or agitation (highest of items 15–16)',
        items: [15, 16],
      },
    ],
  },
  missing: prorateUpTo(
    0,
    'No official missing-item rule found; kapkit default (configurable): all 9 domains required, a domain being answered when any of its items is',
  ),
  range: { min: 0, max: 27 },
  bands: bandsFrom(
    [
      ['none', 'No depression', 0],
      ['mild', 'Mild', 6],
      ['moderate', 'Moderate', 11],
      ['severe', 'Severe', 16],
      ['very-severe', 'Very severe', 21],
    ],
    27,
  ),
  bandsSource: rush2003,
  safety: [
    {
      id: 'qidssr16-item12-positive',
      item: 12,
      op: '>',
      value: 0,
      flagUnanswered: true,
      message:
        'QIDS-SR16 item 12 (thoughts of death or suicide) was rated above 0. Follow up with a suicide risk assessment (e.g. C-SSRS) whatever the total score.',
      source:
        'kapkit default, by analogy with the PHQ-9 item 9 rule (Simon et al. 2013, Psychiatr Serv 64:1195); no published QIDS-SR16 item-level rule',
    },
  ],
  change: {
    reliability: internalConsistency(0.86, `${rush2003} (Cronbach's α = 0.86)`),
  },
  outcomes: outcomesWithRemission(6, 'QIDS-SR16 ≤ 5 (Rush et al. 2006, STAR*D)'),
  references: [
    'Rush AJ, Trivedi MH, Ibrahim HM, et al. The 16-item Quick Inventory of Depressive Symptomatology (QIDS), clinician rating (QIDS-C), and self-report (QIDS-SR): a psychometric evaluation in patients with chronic major depression. Biol Psychiatry 2003;54:573–583.',
  ],
});
