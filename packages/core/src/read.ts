/**
 * `@kapkit/core/read`: everything needed to read and analyse KAP data without the XState episode machine:
 * events and what an episode holds, the read-side projection and the log reader, plus everything of
 * `@kapkit/core/instruments`, `@kapkit/core/time` and `@kapkit/core/vocabularies`. Analytics, exports and
 * browser code import this entry (or one of those three) so that XState stays out of their bundles.
 *
 * The names below are listed one by one, or are the explicit lists of those three entries. Everything else in
 * `src/` is internal and may change in any release.
 * @packageDocumentation
 */

// What an episode holds, and questions about it.
export {
  type AdministeredDose,
  type ConsentRecord,
  consentInForce,
  type DosingSessionRecord,
  dosedSessions,
  dosesOnHand,
  type EpisodeAdverseEvent,
  type EpisodeAssessment,
  type EpisodeContext,
  type EpisodeSafetyFlag,
  emptyContext,
  eventIdsOf,
  type MonitoredMeasure,
  plannedDoseFor,
  researchConsentWithdrawn,
  type SafetyReview,
  type TreatmentStop,
  type VitalSign,
  type VitalsReading,
} from './episode/context.js';
// The read-side projection.
export { projectEpisodes } from './episode/projection.js';
// Wording errors as kapkit does (the error classes come with @kapkit/core/instruments and /time above).
export { describeValue, formatPath } from './errors.js';
// Episode events: schemas, parsing and upcasting (as in @kapkit/core).
export * from './events.js';
// Outcome measures, critical periods and clinical time, vocabularies and policy: each its own entry too.
export * from './instruments.js';
// Reading event logs.
export { type NdjsonLine, ndjsonLines, ndjsonTextLines } from './log/ndjson.js';
export * from './time.js';
export * from './vocabularies.js';
