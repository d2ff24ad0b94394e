/*
 * The values the help text lists, from the packages that define them, copied here so that building the
 * program (and `kapkit --version`, `--help` or any one command) does not load those packages: each command
 * loads its own modules only when it runs. test/startup.test.ts checks that each list equals its package's.
 */

/** `EXPORT_FORMATS` of @kapkit/export: the choices of `kapkit export --format`. */
export const EXPORT_FORMAT_CHOICES = ['ndjson', 'csv', 'parquet', 'fhir'] as const;

/** `staffRoles` of @kapkit/store: the roles `kapkit users add --role` accepts. */
export const STAFF_ROLES = ['admin', 'therapist', 'medical', 'researcher'] as const;

/** `DEMO_DEFAULT_START` of @kapkit/testing: the default first enrolment day of `kapkit demo-data`. */
export const DEMO_START = '2026-01-05';
