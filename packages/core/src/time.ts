/**
 * `@kapkit/core/time`: critical periods and clinical time. Each dose opens a window; this entry finds the
 * windows, their overlaps, gaps and chains, where an instant falls among them and by when the next dose keeps
 * a chain going, and reads and writes ISO 8601 timestamps in their own UTC offset. Pure functions of event
 * times and an explicit "now" (no timers, no clock), without XState.
 *
 * The names are listed one by one; everything else in `src/` is internal and may change in any release.
 * @packageDocumentation
 */

export {
  analyzeCriticalPeriods,
  CRITICAL_PERIOD_DEFAULTS,
  type CriticalChain,
  type CriticalCoverage,
  type CriticalGap,
  type CriticalOverlap,
  type CriticalPeriodAnalysis,
  type CriticalPeriodLocation,
  type CriticalPeriodOptions,
  type CriticalWindow,
  DAY_MS,
  type DoseTime,
  formatInOffset,
  InvalidTimestampError,
  locateInCriticalPeriods,
  type NextDoseDeadline,
  offsetOf,
  type UtcOffset,
  windowMsFromDays,
  windowMsFromHours,
  wouldKeepChain,
} from './episode/critical-periods.js';
// The base class of InvalidTimestampError and of every other kapkit error.
export { KapkitError } from './errors.js';
