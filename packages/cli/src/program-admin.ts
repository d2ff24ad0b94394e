import { type Command, Option } from 'commander';
import { reportExit, schemaOption } from './command-parts.js';
import type { CliIO } from './io.js';
import { STAFF_ROLES } from './option-values.js';

/*
 * The commands that maintain the dashboard's store (store check | backup | restore, users add | list, audit
 * export). Each loads its module (and with it @kapkit/store and PGlite) only when it runs.
 */

/** Add `kapkit store check | backup | restore` to the program. */
export function registerStoreCommand(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  const store = program
    .command('store')
    .description(
      'Maintain an event store (@kapkit/store): a PGlite directory, or a PostgreSQL URL (postgres://…). Exit code 1 when the store is damaged, 2 when it cannot be used.',
    );
  store
    .command('check')
    .description(
      'Check a store in full: schema, every committed event present (positions and versions contiguous), every event parses and replays through the episode machine, PostgreSQL amcheck where available. Reads only; PGlite: the store must not be open in another process.',
    )
    .argument('<store>', 'PGlite data directory, or postgres:// URL')
    .addOption(schemaOption())
    .option('--json', 'print the report as JSON')
    .option('--no-amcheck', 'skip PostgreSQL amcheck')
    .action(
      reportExit(
        setExitCode,
        async (target: string, opts: { schema?: string; json?: boolean; amcheck?: boolean }) =>
          (await import('./commands/store.js')).storeCheckCommand(target, opts, io),
      ),
    );
  store
    .command('backup')
    .description(
      'Write a consistent backup of a store (NDJSON: every event with its position, version and commit time, the safety signals, and the clinic tables: accounts, care teams, audit trail, patient contacts, measure requests and links, outbox; not sign-in sessions or one-time links; ending with counts and a SHA-256; gzip when the file name ends in .gz). The file holds health data and password hashes and is created with mode 0600, under a temporary name renamed when complete. A damaged store is refused. For PostgreSQL, pg_dump backs up the whole database (see docs/reliability.md).',
    )
    .argument('<store>', 'PGlite data directory, or postgres:// URL')
    .argument('<file>', 'backup file to create, or - for standard output')
    .addOption(schemaOption())
    .option('--force', 'replace the file if it exists')
    .action(
      reportExit(
        setExitCode,
        async (target: string, file: string, opts: { schema?: string; force?: boolean }) =>
          (await import('./commands/store.js')).storeBackupCommand(target, file, opts, io),
      ),
    );
  store
    .command('restore')
    .description(
      'Restore a backup made by "kapkit store backup" into a new store: a PGlite directory that does not exist yet (or is empty), or a PostgreSQL URL whose schema holds no events. Every event is checked (count, SHA-256, versions, the episode machine) before anything is kept; on any error nothing is restored. To replace a damaged PGlite store, restore into a new directory, then swap the directories.',
    )
    .argument('<file>', 'backup file (plain or gzip), or - for standard input (plain)')
    .argument('<store>', 'new PGlite data directory, or postgres:// URL')
    .addOption(schemaOption())
    .action(
      reportExit(setExitCode, async (file: string, target: string, opts: { schema?: string }) =>
        (await import('./commands/store.js')).storeRestoreCommand(file, target, opts, io),
      ),
    );
}

/**
 * `kapkit users add | list` and `kapkit audit export`: the dashboard's accounts and audit trail, in the store
 * the dashboard uses (see commands/accounts.ts).
 */
export function registerAccountCommands(
  program: Command,
  io: CliIO,
  setExitCode: (code: number) => void,
): void {
  const storeOption = () =>
    new Option(
      '--store <dir-or-url>',
      'PGlite data directory or postgres:// URL (default: DATABASE_URL, else KAPKIT_DASHBOARD_DATA, else .data/dashboard)',
    );
  const users = program
    .command('users')
    .description('Accounts of the dashboard (admin, therapist, medical, researcher).');
  users
    .command('add')
    .description('Add an account and print a one-time sign-in link (valid 7 days) that asks for a password.')
    .requiredOption('--role <role>', `one of ${STAFF_ROLES.join(', ')}`)
    .requiredOption('--email <email>', 'e-mail address (the sign-in name)')
    .option('--name <name>', 'display name')
    .option(
      '--origin <url>',
      'origin of the printed link (default KAPKIT_PUBLIC_ORIGIN, else http://127.0.0.1:PORT)',
    )
    .addOption(storeOption())
    .addOption(schemaOption())
    .action(
      reportExit(setExitCode, async (opts) =>
        (await import('./commands/accounts.js')).usersAddCommand(opts, io),
      ),
    );
  users
    .command('list')
    .description('List the accounts (no password hashes).')
    .addOption(storeOption())
    .addOption(schemaOption())
    .option('--json', 'print JSON')
    .action(
      reportExit(setExitCode, async (opts) =>
        (await import('./commands/accounts.js')).usersListCommand(opts, io),
      ),
    );
  const audit = program.command('audit').description('The audit trail of the dashboard (append-only).');
  audit
    .command('export')
    .description(
      'Write the audit entries with --from ≤ time < --to as NDJSON (who, role, when, action, route, patient/episode ids, allowed or denied, reason code), oldest first. No health data.',
    )
    .option('--from <time>', 'first instant, a date (2026-03-01, UTC) or ISO 8601 time')
    .option('--to <time>', 'end instant (exclusive), a date or ISO 8601 time')
    .option('-o, --out <file>', 'output file (mode 0600), or - for standard output', '-')
    .option('--force', 'replace the output file if it exists')
    .addOption(storeOption())
    .addOption(schemaOption())
    .action(
      reportExit(setExitCode, async (opts) =>
        (await import('./commands/accounts.js')).auditExportCommand(opts, io),
      ),
    );
}
