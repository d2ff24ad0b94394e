/**
 * @kapkit/core: typed outcome measures and the KAP episode model.
 * @packageDocumentation
 */

export * from './episode/index.js';
export * from './errors.js';
export * from './instruments/index.js';
export * from './log/fold.js';
export * from './log/ndjson.js';
