/**
 * `@kapkit/core`: the KAP episode model. Record an episode as immutable, timestamped events: `decide` accepts
 * an event or refuses it with a typed reason, `replay` folds a log, `statusAt(state, asOf)` says where the
 * episode stands (phase, medication, follow-ups, measures due, alerts, critical periods), `EventLogFold` and
 * `projectEpisodes` read whole logs. With the event schemas and types, the refusal and alert codes and errors.
 *
 * The other entries: `@kapkit/core/instruments` (outcome measures and scoring), `@kapkit/core/time`
 * (critical periods and clinical time), `@kapkit/core/vocabularies` (the fields' vocabularies, policy,
 * permissions, medication tables) and `@kapkit/core/read` (everything without XState, for analytics and
 * browsers). Names are listed one by one; everything else in `src/` is internal and may change in any release.
 * @packageDocumentation
 */

// What an episode holds (the main types; the questions about it are in @kapkit/core/read).
export type { EpisodeAssessment, EpisodeContext } from './episode/context.js';
// The episode model: decide, replay, phases, persistence.
export {
  createEpisodeModel,
  type DecideOptions,
  type Decision,
  decide,
  type EpisodeModel,
  type EpisodeState,
  initialEpisodeState,
  type PersistedEpisode,
  persistEpisode,
  phaseOf,
  type ReplayResult,
  replay,
  restoreEpisode,
  SnapshotVersionError,
} from './episode/decide.js';
export {
  createEpisodeMachine,
  EPISODE_MACHINE_VERSION,
  type EpisodeMachine,
  type EpisodeMachineEvent,
  type EpisodeMachineOptions,
  episodeMachine,
} from './episode/machine.js';
export type { EpisodePhase, EpisodeStateMeta } from './episode/phases.js';
// The policy an episode model checks against (its defaults and sources: @kapkit/core/vocabularies).
export type { EpisodePolicy } from './episode/policy.js';
// Reading many episodes without the machine.
export { projectEpisodes } from './episode/projection.js';
// Refusals (every export of refusals.ts is public) and safety signals.
export * from './episode/refusals.js';
export type { ScoredAssessment } from './episode/rules.js';
export { safetySignalsOf, safetyText } from './episode/safety-signals.js';
// Where an episode stands at a given time, and its alerts.
export {
  type AlertCode,
  alertCodes,
  type EpisodeAlert,
  type EpisodeStatus,
  type MeasureStatus,
  type OutcomeProgress,
  statusAt,
} from './episode/status.js';
// Errors: every kapkit error is a KapkitError with a stable `code`.
export { KapkitError, type ValidationIssue } from './errors.js';
// Episode events: schemas, parsing and upcasting.
export * from './events.js';
// Reading event logs (NDJSON) through the episode model.
export { EventLogFold, type LogCounts, type LogEpisode, type LogProblem } from './log/fold.js';
export { type NdjsonLine, ndjsonLines, ndjsonTextLines } from './log/ndjson.js';
