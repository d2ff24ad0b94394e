/**
 * The kapkit test kit: {@link Story}, a builder of synthetic episode event logs for tests, and the
 * deterministic synthetic demo cohort ({@link generateDemoCohort}) behind `kapkit demo-data` and the
 * dashboard's demo caseload. Every event it makes is `synthetic: true`.
 * @packageDocumentation
 */
export {
  type DemoEventsOptions,
  generateDemoCohort,
  generateDemoEvents,
  interleaveEpisodes,
} from './demo/cohort.js';
export { mergeByTime, type TimedRun } from './demo/merge.js';
export {
  DEMO_DEFAULT_START,
  DEMO_ENROLMENT_DAYS,
  DEMO_MAX_PATIENTS,
  type DemoCohortOptions,
  type DemoEpisode,
  type DemoEvent,
  type DemoOutcome,
} from './demo/types.js';
export { gad7Answers, phq9Answers } from './story/answers.js';
export {
  type Answers,
  BASELINE_GAD7,
  BASELINE_PHQ9,
  type DosingSessionOptions,
  type ReadyToDoseOptions,
  STORY_START_MS,
  Story,
} from './story/story.js';
