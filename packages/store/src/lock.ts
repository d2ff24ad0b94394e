import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type LockHolder, StoreLockedError } from './errors.js';

/**
 * The writer lock of a PGlite data directory: a `kapkit.lock` file created atomically (written to a private
 * temporary file, then hard-linked into place, which fails if the lock exists). It records the holder's pid,
 * host, process start time and a random token.
 *
 * A lock whose holder is gone (same host, pid no longer alive, or alive but started at another time, i.e. a
 * reused pid) is stale: it is broken and taken over. That is what happens after a crash or a SIGKILL. A lock
 * held by a live process, by this process (another open store), or by a process on another host (which this
 * host cannot check) is refused with {@link StoreLockedError}.
 */
export interface DirectoryLock {
  readonly file: string;
  /** True when a stale lock left by a dead process was broken to acquire this one. */
  readonly recoveredStale: boolean;
  /** Remove the lock if it is still ours. Idempotent. */
  release(): void;
}

interface LockRecord extends LockHolder {
  readonly startTime: string | null;
  readonly token: string;
}

export const LOCK_FILE = 'kapkit.lock';

/** Start time of a process (clock ticks since boot, field 22 of /proc/PID/stat), where Linux tells it. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(record: LockRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (record.startTime === null) return true;
  const now = processStartTime(record.pid);
  // Same pid, other start time: the holder died and the pid was reused.
  return now === null || now === record.startTime;
}

function readRecord(file: string): LockRecord | null | 'missing' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    if (typeof r.pid === 'number' && typeof r.hostname === 'string' && typeof r.token === 'string') {
      return {
        pid: r.pid,
        hostname: r.hostname,
        acquiredAt: String(r.acquiredAt ?? ''),
        startTime: typeof r.startTime === 'string' ? r.startTime : null,
        token: r.token,
      };
    }
  } catch {
    // fall through: unreadable
  }
  return null;
}

const holderOf = (r: LockRecord): LockHolder => ({
  pid: r.pid,
  hostname: r.hostname,
  acquiredAt: r.acquiredAt,
});

/**
 * Create `file` with the record, failing with EEXIST if it exists. A hard link of a fully written temporary
 * file is atomic and never shows a half-written lock; where the file system has no hard links, fall back to
 * an exclusive create (O_EXCL).
 */
function createExclusive(tmp: string, file: string, record: LockRecord): void {
  try {
    linkSync(tmp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    writeFileSync(file, JSON.stringify(record), { flag: 'wx', mode: 0o644 });
  }
}

/** Acquire the writer lock of `dir` (created if missing). */
export function acquireDirectoryLock(dir: string): DirectoryLock {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const record: LockRecord = {
    pid: process.pid,
    hostname: hostname(),
    acquiredAt: new Date().toISOString(),
    startTime: processStartTime(process.pid),
    token: randomBytes(12).toString('hex'),
  };
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${record.token}.tmp`);
  writeFileSync(tmp, JSON.stringify(record), { flag: 'wx', mode: 0o644 });
  let recoveredStale = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        createExclusive(tmp, file, record);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const held = readRecord(file);
      if (held === 'missing') continue; // released meanwhile: try again
      if (held === null) {
        throw new StoreLockedError(dir, file, null, 'the lock file is unreadable');
      }
      if (held.pid === process.pid && held.hostname === record.hostname) {
        throw new StoreLockedError(dir, file, holderOf(held), 'another store is open on it in this process');
      }
      if (held.hostname !== record.hostname) {
        throw new StoreLockedError(
          dir,
          file,
          holderOf(held),
          `it is held by process ${held.pid} on host "${held.hostname}", which this host cannot check`,
        );
      }
      if (isAlive(held)) {
        throw new StoreLockedError(dir, file, holderOf(held), `process ${held.pid} holds it`);
      }
      if (attempt >= 3) {
        throw new StoreLockedError(dir, file, holderOf(held), 'the stale lock could not be broken');
      }
      breakStaleLock(dir, file, held);
      recoveredStale = true;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  sweepLeftovers(dir);
  let released = false;
  return {
    file,
    recoveredStale,
    release() {
      if (released) return;
      released = true;
      const held = readRecord(file);
      if (held !== 'missing' && held !== null && held.token === record.token) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Remove temporary files that writers killed while taking or breaking the lock left behind. */
function sweepLeftovers(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^kapkit\.lock\.(?:stale\.)?(\d+)\.[0-9a-f]+(?:\.tmp)?$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // its writer is alive (and on its way to remove it)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPERM') continue;
    }
    try {
      unlinkSync(join(dir, name));
    } catch {
      // gone already
    }
  }
}

/**
 * Move a stale lock aside, then check that what was moved is the stale lock that was judged dead (another
 * process may have broken it and taken the lock in between). If a live lock was moved by mistake, put it
 * back and report the directory as locked.
 */
function breakStaleLock(dir: string, file: string, stale: LockRecord): void {
  const aside = join(dir, `${LOCK_FILE}.stale.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else broke it: retry
    throw error;
  }
  const moved = readRecord(aside);
  if (moved !== 'missing' && moved !== null && moved.token !== stale.token) {
    try {
      linkSync(aside, file);
    } finally {
      unlinkSync(aside);
    }
    throw new StoreLockedError(dir, file, holderOf(moved), `process ${moved.pid} took it over just now`);
  }
  try {
    unlinkSync(aside);
  } catch {
    // already gone
  }
}
