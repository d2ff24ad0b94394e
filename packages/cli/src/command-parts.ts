import { Option } from 'commander';

/*
 * What the command registrations share: the action wrapper that reports a command's exit code, and the options
 * several commands take with the same meaning.
 */

/**
 * A commander action that runs `command` (which loads its module when it runs) and hands its exit code to
 * `setExit`.
 */
export function reportExit<A extends unknown[]>(
  setExit: (code: number) => void,
  command: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args) => setExit(await command(...args));
}

/** `--now <time>` of the commands that read an event log: the clock event times are checked against. */
export function nowOption(): Option {
  return new Option(
    '--now <time>',
    'check event times against this clock: events dated or recorded later (beyond the 5-minute tolerance) are refused as future-event; "now" for the system clock, or an ISO 8601 date-time with a UTC offset (default: no clock check)',
  );
}

/** `--schema <name>` of the commands that open a store. */
export function schemaOption(): Option {
  return new Option('--schema <name>', 'PostgreSQL schema of the store tables (default public)');
}
