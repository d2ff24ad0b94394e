import pkg from '../package.json' with { type: 'json' };

/** The kapkit CLI version, from its package.json. */
export const VERSION: string = pkg.version;
