import pkg from '../package.json' with { type: 'json' };

/** The version of @kapkit/export, from its package.json. */
export const VERSION: string = pkg.version;
