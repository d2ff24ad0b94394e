/**
 * @kapkit/core: typed outcome measures and the KAP episode model.
 *
 * The package's whole public face is listed name by name: `./read.ts` (measures, events, what an episode holds,
 * policy, critical periods, errors) and, below, the episode model and the log reader. Everything else in `src/`
 * is internal and may change in any release. `@kapkit/core/read` is the part that works without XState.
 * @packageDocumentation
 */

// The episode model: decide, replay, phases, status, alerts, persistence.
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
export {
  type Invalidated,
  type Refusal,
  type RefusalCode,
  refusal,
  refusalCodes,
  type SafetySignal,
  type ScoredAssessment,
  safetySignalsOf,
  safetyText,
} from './episode/rules.js';
export {
  type AlertCode,
  alertCodes,
  type EpisodeAlert,
  type EpisodeStatus,
  type MeasureStatus,
  type OutcomeProgress,
  statusAt,
} from './episode/status.js';
// Reading event logs through the episode model.
export { EventLogFold, type LogCounts, type LogEpisode, type LogProblem } from './log/fold.js';
// Everything `@kapkit/core/read` lists by name.
export * from './read.js';
