import { createWriteStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { KapkitError } from '@kapkit/core';
import {
  type EventStore,
  type OpenStoreOptions,
  openAccounts,
  openStore,
  type StaffRole,
  staffRoles,
} from '@kapkit/store';
import { CliError, type CliIO, write } from '../io.js';

/**
 * `kapkit users add | list` and `kapkit audit export`: the dashboard's accounts and audit trail, in the store
 * the dashboard uses (default: `DATABASE_URL`, else the PGlite folder `KAPKIT_DASHBOARD_DATA` or
 * `.data/dashboard`, as `npm start` does). A PGlite store is used by one process at a time: stop the
 * dashboard first, or add accounts on its admin API.
 */

/** How long a link printed by `kapkit users add` stays valid: 7 days (kapkit default). */
const LINK_TTL_MS = 7 * 24 * 60 * 60_000;

interface TargetOptions {
  readonly store?: string;
  readonly schema?: string;
}

function target(opts: TargetOptions): OpenStoreOptions {
  const schema = opts.schema !== undefined ? { schema: opts.schema } : {};
  const where =
    opts.store ?? process.env.DATABASE_URL ?? process.env.KAPKIT_DASHBOARD_DATA ?? '.data/dashboard';
  return /^postgres(ql)?:\/\//.test(where)
    ? { url: where, ...schema }
    : { dataDir: resolve(where), ...schema };
}

async function withStore<T>(opts: TargetOptions, fn: (store: EventStore) => Promise<T>): Promise<T> {
  let store: EventStore;
  try {
    store = await openStore(target(opts));
  } catch (error) {
    if (error instanceof KapkitError) throw new CliError(`${error.code}: ${error.message}`, 2);
    throw error;
  }
  try {
    return await fn(store);
  } catch (error) {
    if (error instanceof KapkitError) throw new CliError(`${error.code}: ${error.message}`, 2);
    throw error;
  } finally {
    await store.close();
  }
}

/** The origin the dashboard is reached by, for printed links. */
function originOf(opts: { origin?: string }): string {
  const o = opts.origin ?? process.env.KAPKIT_PUBLIC_ORIGIN;
  if (o) return new URL(o).origin;
  return `http://127.0.0.1:${process.env.PORT || 8787}`;
}

export async function usersAddCommand(
  opts: TargetOptions & { role: string; email: string; name?: string; origin?: string },
  io: CliIO,
): Promise<number> {
  if (!(staffRoles as readonly string[]).includes(opts.role)) {
    throw new CliError(`--role must be one of ${staffRoles.join(', ')}, got "${opts.role}"`);
  }
  return withStore(opts, async (store) => {
    const accounts = openAccounts(store);
    const now = Date.now();
    const user = await accounts.createUser(
      { email: opts.email, role: opts.role as StaffRole, ...(opts.name ? { displayName: opts.name } : {}) },
      now,
    );
    const token = await accounts.createOneTimeToken('sign-in', user.id, now, LINK_TTL_MS);
    await accounts.audit({
      atMs: now,
      actorId: null,
      role: null,
      action: 'admin',
      method: 'CLI',
      route: 'kapkit users add',
      outcome: 'allowed',
      reason: 'user-created',
    });
    await write(
      io.stdout,
      `added ${user.email} (${user.role}, ${user.id})\n` +
        `sign in as ${user.role}: ${originOf(opts)}/auth/link/${token}\n` +
        'The link works once, for 7 days; it asks for a password. Care teams: the admin API (/api/admin/teams).\n',
    );
    return 0;
  });
}

export async function usersListCommand(opts: TargetOptions & { json?: boolean }, io: CliIO): Promise<number> {
  return withStore(opts, async (store) => {
    const users = await openAccounts(store).listUsers();
    if (opts.json) await write(io.stdout, `${JSON.stringify(users, null, 2)}\n`);
    else {
      const lines = users.map(
        (u) =>
          `${u.email}\t${u.role}${u.disabled ? '\tdisabled' : ''}${u.demo ? '\tdemo' : ''}${u.lockedUntil ? `\tlocked until ${u.lockedUntil}` : ''}`,
      );
      await write(io.stdout, `${lines.join('\n')}${lines.length ? '\n' : ''}`);
    }
    return 0;
  });
}

function isoOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new CliError(`${name} must be a date (2026-03-02) or an ISO 8601 time with offset, got "${value}"`);
  }
  return v;
}

/** `kapkit audit export --from --to`: the audit trail as NDJSON, oldest first (identifiers and codes only). */
export async function auditExportCommand(
  opts: TargetOptions & { from?: string; to?: string; out?: string; force?: boolean },
  io: CliIO,
): Promise<number> {
  const from = isoOption('--from', opts.from);
  const to = isoOption('--to', opts.to);
  if (from && to && Date.parse(from) >= Date.parse(to)) throw new CliError('--from must be before --to');
  const file = opts.out && opts.out !== '-' ? resolve(opts.out) : null;
  if (file && existsSync(file) && !opts.force) {
    throw new CliError(`"${opts.out}" exists: choose a new file name, or pass --force to replace it`);
  }
  return withStore(opts, async (store) => {
    const out = file ? createWriteStream(file, { mode: 0o600 }) : io.stdout;
    let n = 0;
    for await (const e of openAccounts(store).streamAudit({
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    })) {
      await write(out, `${JSON.stringify(e)}\n`);
      n++;
    }
    if (file)
      await new Promise<void>((r, j) =>
        (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? j(e) : r())),
      );
    await write(
      io.stderr,
      `audit export: ${n} entries${from ? ` from ${from}` : ''}${to ? ` before ${to}` : ''}\n`,
    );
    return 0;
  });
}
