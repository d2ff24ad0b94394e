export {
  DEMO_DEFAULT_START,
  DEMO_ENROLMENT_DAYS,
  DEMO_MAX_PATIENTS,
  type DemoCohortOptions,
  type DemoEpisode,
  type DemoEvent,
  type DemoEventsOptions,
  type DemoOutcome,
  generateDemoCohort,
  generateDemoEvents,
  interleaveEpisodes,
  mergeByTime,
  type TimedRun,
} from './generate.js';
export { Random } from './random.js';
