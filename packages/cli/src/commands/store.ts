import { createReadStream, createWriteStream, existsSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { KapkitError } from '@kapkit/core';
import {
  type BackupSummary,
  backupStore,
  checkStore,
  inspectBackup,
  type OpenStoreOptions,
  openStore,
  restoreStore,
  type StoreCheckReport,
  StoreDamagedError,
} from '@kapkit/store';
import { CliError, type CliIO, write } from '../io.js';

/**
 * `kapkit store check | backup | restore`: the maintenance commands of an event store, on a PGlite
 * directory or a PostgreSQL URL. Exit codes: 0 done (or no problem found), 1 the store is damaged (or the
 * check found problems), 2 usage errors and stores that cannot be used (missing, locked, unreachable).
 */

interface StoreTargetOptions {
  readonly schema?: string;
}

/** A PostgreSQL URL, or a PGlite directory. */
function where(target: string, opts: StoreTargetOptions): OpenStoreOptions {
  const schema = opts.schema !== undefined ? { schema: opts.schema } : {};
  return /^postgres(ql)?:\/\//.test(target) ? { url: target, ...schema } : { dataDir: target, ...schema };
}

/** Store errors to exit codes: damage is 1, everything else that stops the command is 2. */
function fail(error: unknown): never {
  if (error instanceof CliError) throw error;
  if (error instanceof StoreDamagedError) throw new CliError(`${error.code}: ${error.message}`, 1);
  if (error instanceof KapkitError) throw new CliError(`${error.code}: ${error.message}`, 2);
  throw error;
}

function describeTarget(report: Pick<StoreCheckReport, 'engine' | 'location' | 'schema'>): string {
  return `${report.location} (${report.engine === 'pglite' ? 'PGlite' : 'PostgreSQL'}, schema ${report.schema})`;
}

export async function storeCheckCommand(
  target: string,
  opts: StoreTargetOptions & { readonly json?: boolean; readonly amcheck?: boolean },
  io: CliIO,
): Promise<number> {
  let report: StoreCheckReport;
  try {
    report = await checkStore(where(target, opts), { amcheck: opts.amcheck !== false });
  } catch (error) {
    fail(error);
  }
  if (opts.json) {
    await write(io.stdout, `${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  }
  const lines = [
    `store: ${describeTarget(report)}, schema version ${report.schemaVersion}`,
    `events: ${report.events} in ${report.episodes} episodes, last position ${report.lastPosition}`,
    `amcheck: ${report.amcheck.status}${report.amcheck.detail ? ` (${report.amcheck.detail})` : ''}`,
    ...report.problems.map((p) => `problem: ${p.area}: ${p.message}`),
    ...(report.problemsOmitted > 0 ? [`problem: … and ${report.problemsOmitted} more`] : []),
    report.ok
      ? 'ok: every event parses and replays; positions and versions are contiguous'
      : `damaged: ${report.problems.length + report.problemsOmitted} problems. Restore the store from a backup (kapkit store restore <backup> <new directory>).`,
  ];
  await write(io.stdout, `${lines.join('\n')}\n`);
  return report.ok ? 0 : 1;
}

export async function storeBackupCommand(
  target: string,
  file: string,
  opts: StoreTargetOptions & { readonly force?: boolean },
  io: CliIO,
): Promise<number> {
  const toStdout = file === '-';
  const path = toStdout ? '' : resolve(file);
  if (!toStdout && existsSync(path) && !opts.force) {
    throw new CliError(`"${file}" exists: choose a new file name, or pass --force to replace it`);
  }
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore({ ...where(target, opts), createIfMissing: false });
  } catch (error) {
    fail(error);
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let summary: BackupSummary;
  try {
    if (toStdout) {
      summary = await backupStore(store, io.stdout);
    } else {
      // Written under a temporary name, flushed to disk, then renamed: a backup file is always complete.
      // It holds health data: readable by its owner only.
      const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
      const written = new Promise<void>((res, rej) => {
        out.once('close', res);
        out.once('error', rej);
      });
      const gzip = path.endsWith('.gz') ? createGzip() : null;
      const piped = gzip ? pipeline(gzip, out) : null;
      try {
        summary = await backupStore(store, gzip ?? out);
      } finally {
        (gzip ?? out).end();
      }
      await piped;
      await written;
      const handle = await open(tmp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, path);
    }
  } catch (error) {
    if (!toStdout) await rm(tmp, { force: true });
    await store.close().catch(() => {});
    fail(error);
  }
  await store.close();
  await write(
    io.stderr,
    `kapkit store backup: ${summary.events} events of ${summary.episodes} episodes (last position ${summary.lastPosition}) from ${store.location} to ${toStdout ? 'standard output' : path}; ${clinicTables(summary)}; SHA-256 ${summary.sha256}\n`,
  );
  return 0;
}

export async function storeRestoreCommand(
  file: string,
  target: string,
  opts: StoreTargetOptions,
  io: CliIO,
): Promise<number> {
  const options = where(target, opts);
  let created = false;
  if (options.dataDir !== undefined) {
    const dir = resolve(options.dataDir);
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      throw new CliError(
        `refusing to restore into "${target}": it is not empty. Restore into a new directory, then swap it with the old one.`,
      );
    }
    created = !existsSync(dir);
  }
  if (file !== '-' && !existsSync(file))
    throw new CliError(`cannot read backup file "${file}": no such file`);
  const gzip = file !== '-' && (await isGzip(file));
  const read = () => (gzip ? createReadStream(file).pipe(createGunzip()) : createReadStream(file));
  if (file !== '-') {
    // A quick pass over the file first (complete, unaltered), before a store is created for it.
    try {
      await inspectBackup(read());
    } catch (error) {
      fail(error);
    }
  }
  let store: Awaited<ReturnType<typeof openStore>> | null = null;
  let summary: BackupSummary;
  try {
    store = await openStore(options);
    summary = await restoreStore(store, file === '-' ? io.stdin : read());
  } catch (error) {
    await store?.close().catch(() => {});
    // Nothing was restored (one transaction): do not leave an empty store where there was nothing.
    if (created && options.dataDir !== undefined)
      rmSync(resolve(options.dataDir), { recursive: true, force: true });
    fail(error);
  }
  await store.close();
  await write(
    io.stderr,
    `kapkit store restore: ${summary.events} events of ${summary.episodes} episodes (last position ${summary.lastPosition}) into ${store.location}; ${clinicTables(summary)}\n`,
  );
  return 0;
}

/** The clinic tables' rows of a backup, for the report: `clinic tables: users 2, audit 5` (or `none`). */
function clinicTables(summary: BackupSummary): string {
  const rows = Object.entries(summary.clinic).filter(([, n]) => n > 0);
  return `clinic tables: ${rows.length > 0 ? rows.map(([name, n]) => `${name} ${n}`).join(', ') : 'none'}`;
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
