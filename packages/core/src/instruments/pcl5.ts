import { defineInstrument } from './definition.js';
import {
  halfOfBaselineResponse,
  internalConsistency,
  itemScore,
  jacobsonTruaxReliableChange,
  optionsFromLabels,
  prorateUpTo,
  textItems,
} from './definition-parts.js';

/** PCL-5 severity answers 0–4. No LOINC answer codes: none could be verified for this answer list. */
const pcl5Options = optionsFromLabels([
  'Not at all',
  'A little bit',
  'Moderately',
  'Quite a bit',
  'Extremely',
]);

const clusterSource =
  'Weathers et al. 2013 (PCL-5, National Center for PTSD); Blevins et al. 2015, J Trauma Stress 28:489';

/**
 * PCL-5: PTSD Checklist for DSM-5. Twenty items, one per DSM-5 PTSD symptom, rated 0–4 for how much the
 * respondent was bothered in the past month; total 0–80. Extra scores: DSM-5 symptom cluster sums B
 * (intrusion, items 1–5), C (avoidance, 6–7), D (negative alterations in cognitions and mood, 8–14) and E
 * (alterations in arousal and reactivity, 15–20). Public domain (US Department of Veterans Affairs, National
 * Center for PTSD), so the item text ships. The DSM-5 "provisional diagnosis" rule (items rated ≥ 2 counted
 * per cluster) is not encoded: it is a symptom count, not a cutoff on a score.
 */
export const pcl5 = defineInstrument({
  id: 'pcl5',
  name: 'PCL-5',
  title: 'PTSD Checklist for DSM-5',
  construct: 'PTSD symptom severity (DSM-5 criteria B–E)',
  purpose: 'outcome',
  direction: 'higher-is-worse',
  recall: 'past month',
  stem: 'In the past month, how much were you bothered by:',
  version: '1',
  licence: {
    holder: 'U.S. Department of Veterans Affairs, National Center for PTSD',
    terms:
      'Public domain (developed by the National Center for PTSD, U.S. Department of Veterans Affairs). Cite Weathers et al. 2013 when using it.',
    itemTextIncluded: true,
    url: 'https://www.ptsd.va.gov/professional/assessment/adult-sr/ptsd-checklist.asp',
  },
  loinc: { panel: '101697-1', total: '101698-9' },
  scale: { min: 0, max: 4, options: pcl5Options },
  items: textItems('pcl5', [
    'Repeated, disturbing, and unwanted memories of the stressful experience?',
    'Repeated, disturbing dreams of the stressful experience?',
    'Suddenly feeling or acting as if the stressful experience were actually happening again (as if you were actually back there reliving it)?',
    'Feeling very upset when something reminded you of the stressful experience?',
    'Having strong physical reactions when something reminded you of the stressful experience (for example, heart pounding, trouble breathing, sweating)?',
    'Avoiding memories, thoughts, or feelings related to the stressful experience?',
    'Avoiding external reminders of the stressful experience (for example, people, places, conversations, activities, objects, or situations)?',
    'Trouble remembering important parts of the stressful experience?',
    'Having strong negative beliefs about yourself, other people, or the world (for example, having thoughts such as: I am bad, there is something seriously wrong with me, no one can be trusted, the world is completely dangerous)?',
    'Blaming yourself or someone else for the stressful experience or what happened after it?',
    'Having strong negative feelings such as fear, horror, anger, guilt, or shame?',
    'Loss of interest in activities that you used to enjoy?',
    'Feeling distant or cut off from other people?',
    'Trouble experiencing positive feelings (for example, being unable to feel happiness or have loving feelings for people close to you)?',
    'Irritable behavior, angry outbursts, or acting aggressively?',
    'Taking too many risks or doing things that could cause you harm?',
    'Being "superalert" or watchful or on guard?',
    'Feeling jumpy or easily startled?',
    'Having difficulty concentrating?',
    'Trouble falling or staying asleep?',
  ]),
  scoring: { method: 'sum' },
  missing: prorateUpTo(
    0,
    'No proration rule published by the National Center for PTSD (none found); kapkit default (configurable): all 20 items required',
  ),
  range: { min: 0, max: 80 },
  cutoffs: [
    {
      id: 'probable-ptsd',
      label: 'Probable PTSD (total ≥ 33)',
      score: 'total',
      op: '>=',
      value: 33,
      source:
        'National Center for PTSD: a cutoff of 31–33 suggests probable PTSD (Bovin et al. 2016, Psychol Assess 28:1379); kapkit default 33 (top of the range), configurable by population and purpose',
    },
  ],
  scores: [
    itemScore('clusterB', 'Cluster B, intrusion (items 1–5)', [1, 2, 3, 4, 5], 'sum', [0, 20], clusterSource),
    itemScore('clusterC', 'Cluster C, avoidance (items 6–7)', [6, 7], 'sum', [0, 8], clusterSource),
    itemScore(
      'clusterD',
      'Cluster D, negative alterations in cognitions and mood (items 8–14)',
      [8, 9, 10, 11, 12, 13, 14],
      'sum',
      [0, 28],
      clusterSource,
    ),
    itemScore(
      'clusterE',
      'Cluster E, alterations in arousal and reactivity (items 15–20)',
      [15, 16, 17, 18, 19, 20],
      'sum',
      [0, 24],
      clusterSource,
    ),
  ],
  change: {
    reliability: internalConsistency(
      0.94,
      "Blevins et al. 2015, J Trauma Stress 28:489 (study 1, Cronbach's α = 0.94)",
    ),
    mcid: {
      value: 10,
      source:
        'National Center for PTSD, Using the PCL-5 (secondary source): 5–10 points = reliable change, 10–20 points = clinically significant change, 10 points the suggested minimum; Blanchard et al. 2023, J Trauma Stress 36:1102 (MID 9–12 in primary care)',
    },
  },
  outcomes: {
    response: halfOfBaselineResponse,
    reliableChange: jacobsonTruaxReliableChange,
  },
  references: [
    'Weathers FW, Litz BT, Keane TM, Palmieri PA, Marx BP, Schnurr PP. The PTSD Checklist for DSM-5 (PCL-5). National Center for PTSD, 2013. www.ptsd.va.gov',
    'Blevins CA, Weathers FW, Davis MT, Witte TK, Domino JL. The Posttraumatic Stress Disorder Checklist for DSM-5 (PCL-5): development and initial psychometric evaluation. J Trauma Stress 2015;28:489–498.',
    'Bovin MJ, Marx BP, Weathers FW, et al. Psychometric properties of the PTSD Checklist for Diagnostic and Statistical Manual of Mental Disorders–Fifth Edition (PCL-5) in veterans. Psychol Assess 2016;28:1379–1391.',
  ],
});
