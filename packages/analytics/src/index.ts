/**
 * @kapkit/analytics: outcome metrics for ketamine-assisted psychotherapy, each formula sourced and checked
 * against R. Pure functions, no I/O.
 * @packageDocumentation
 */

export * from './columnar.js';
export * from './episode-outcomes.js';
export * from './from-events.js';
export * from './metrics/clinical-significance.js';
export * from './metrics/effect-size.js';
export * from './metrics/kap.js';
export * from './metrics/kaplan-meier.js';
export * from './metrics/medication.js';
export * from './metrics/mixed-model.js';
export * from './metrics/ols.js';
export * from './metrics/patient.js';
export * from './metrics/proportion.js';
export * from './metrics/reliable-change.js';
export * from './metrics/stats.js';
export * from './metrics/trajectory.js';
export * from './outcome-defaults.js';
export * from './records.js';
export * from './report.js';
