/**
 * `@kapkit/core/read`: everything needed to read and analyse KAP data without the XState episode machine:
 * instruments and scoring, event schemas, episode context, critical periods and the read-side projection.
 * Analytics, exports and browser code import this entry so that XState stays out of their bundles.
 * @packageDocumentation
 */

export * from './episode/context.js';
export * from './episode/critical-periods.js';
export * from './episode/events.js';
export * from './episode/medications.js';
export * from './episode/permissions.js';
export * from './episode/policy.js';
export * from './episode/projection.js';
export * from './errors.js';
export * from './instruments/index.js';
export * from './log/ndjson.js';
