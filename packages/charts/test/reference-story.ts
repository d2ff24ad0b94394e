import { kaplanMeier, trajectory } from '@kapkit/analytics';
import { phq9 } from '@kapkit/core/instruments';
import type { EpisodeContext } from '@kapkit/core/read';
import {
  type DosingSessionOptions,
  gad7Answers,
  phq9Answers,
  type ReadyToDoseOptions,
  Story,
} from '@kapkit/testing';
import {
  itemChartConfig,
  kaplanMeierChartConfig,
  outcomeChartConfig,
  trajectoryChartConfig,
  vitalsChartConfig,
} from '../src/index.js';

/** Ready to dose as the chart tests draw it: no baseline measures (each test records its own), 8 doses on hand. */
export const COURSE: ReadyToDoseOptions = {
  baseline: false,
  dosesAuthorized: 8,
};

/** A dosing session as the chart tests draw it: integrated the next day. */
export const SESSION: DosingSessionOptions = {
  integrate: true,
};

/**
 * The reference episode of the tests: baseline PHQ-9 18 / GAD-7 14 on day 12; six doses on days 14, 24
 * (inside dose 1's 14-day window: overlap), 45 (gap after dose 2), 52 (with a 150 mg booster), 62 (pre-dose
 * BP 146/86, given with a medical override) and 70; PHQ-9 16 on day 21 (no reliable change); PHQ-9 item 9 = 1
 * on day 23 (reviewed the same day, before dose 2); on day 44 a PHQ-9 with item 9 unanswered and a GAD-7 of 17 (reliable
 * deterioration); improvement to PHQ-9 4 / GAD-7 4 by day 76.
 */
export function referenceStory(): Story {
  const s = new Story().readyToDose(COURSE);
  s.phq9(12, phq9Answers(18), 120).gad7(12, gad7Answers(14), 130);
  s.dosingSession(14, SESSION);
  s.phq9(21, phq9Answers(16)).gad7(21, gad7Answers(11), 10);
  s.phq9(23, phq9Answers(13, 1));
  const flagged = s.lastId;
  // Reviewed the same day: the safety layer holds the next dose until a clinician has.
  s.day(23).add(
    'SafetyFlagReviewed',
    { assessmentEventId: flagged, rule: 'phq9-item9-positive', outcome: 'safety-plan' },
    60,
  );
  s.dosingSession(24, { ...SESSION, vitals: [138, 88] });
  s.phq9(31, phq9Answers(11)).gad7(31, gad7Answers(9), 10);
  s.phq9(44, [1, 1, 1, 1, 1, 1, 1, 1, null]).gad7(44, gad7Answers(17), 10);
  s.dosingSession(45, SESSION);
  s.phq9(51, phq9Answers(8)).gad7(51, gad7Answers(6), 10);
  s.dosingSession(52, { ...SESSION, boosterMg: 150 });
  s.dosingSession(62, { ...SESSION, vitals: [146, 86], override: true });
  s.phq9(66, phq9Answers(6)).gad7(66, gad7Answers(5), 10);
  s.dosingSession(70, SESSION);
  s.phq9(76, phq9Answers(4)).gad7(76, gad7Answers(4), 10);
  return s;
}

/**
 * One configuration of every builder but the default outcome chart, by name: the items of the reference
 * episode's PHQ-9 with item 9 answered 1, its vitals, a small cohort's trajectory and Kaplan–Meier curve, and
 * the outcome chart by days since baseline.
 */
export function referenceCharts(context: EpisodeContext) {
  const a = context.assessments.find((x) => x.instrument === 'phq9' && x.responses[8] === 1)!;
  const bins = trajectory(
    [
      { patientId: 'a', t: 0, score: 18 },
      { patientId: 'b', t: 3, score: 14 },
      { patientId: 'a', t: 20, score: 10 },
      { patientId: 'b', t: 25, score: 9 },
    ],
    [0, 14, 28],
  );
  const km = kaplanMeier([
    { time: 14, event: true },
    { time: 21, event: false },
    { time: 28, event: true },
  ]);
  return {
    items: itemChartConfig(a, phq9),
    vitals: vitalsChartConfig(context),
    trajectory: trajectoryChartConfig(bins, { instrument: phq9 }),
    km: kaplanMeierChartConfig(km),
    days: outcomeChartConfig({ context, xAxis: 'days-since-baseline' }),
  };
}
