export * from './builtin.js';
export * from './definition.js';
export * from './gad7.js';
export * from './phq9.js';
export * from './registry.js';
export * from './schema.js';
export * from './scoring.js';
export * from './validate.js';
