import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreLockedError } from '../src/errors.js';
import { acquireDirectoryLock, LOCK_FILE } from '../src/lock.js';

/** The PGlite writer lock on its own (the reliability tests use it through real processes). */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kapkit-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

function writeLock(record: Record<string, unknown>) {
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ hostname: hostname(), acquiredAt: '2026-01-01T00:00:00.000Z', token: 'abc', ...record }),
  );
}

const lockedBy = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreLockedError);
    return error as StoreLockedError;
  }
  throw new Error('expected StoreLockedError');
};

describe('data directory lock', () => {
  it('creates the lock file with this process as holder and removes it on release', () => {
    const lock = acquireDirectoryLock(dir);
    const record = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(record).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(lock.recoveredStale).toBe(false);
    lock.release();
    lock.release(); // idempotent
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(readdirSync(dir)).toEqual([]); // no temporary files left
  });

  it('refuses a second lock in the same process', () => {
    const lock = acquireDirectoryLock(dir);
    const error = lockedBy(() => acquireDirectoryLock(dir));
    expect(error.code).toBe('store-locked');
    expect(error.holder?.pid).toBe(process.pid);
    expect(error.message).toMatch(/in this process/);
    lock.release();
    acquireDirectoryLock(dir).release();
  });

  it('refuses a lock held by another live process', () => {
    writeLock({ pid: process.ppid, startTime: null });
    const error = lockedBy(() => acquireDirectoryLock(dir));
    expect(error.holder).toMatchObject({ pid: process.ppid });
    expect(error.message).toMatch(new RegExp(`process ${process.ppid} holds it`));
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.ppid); // untouched
  });

  it('breaks a stale lock left by a process that died (e.g. SIGKILL) and takes it over', () => {
    writeLock({ pid: deadPid() });
    const lock = acquireDirectoryLock(dir);
    expect(lock.recoveredStale).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it.runIf(process.platform === 'linux')(
    'treats a live pid with another start time as a reused pid: stale',
    () => {
      writeLock({ pid: process.ppid, startTime: '1' });
      const lock = acquireDirectoryLock(dir);
      expect(lock.recoveredStale).toBe(true);
      lock.release();
    },
  );

  it('refuses a lock held on another host, which this host cannot check', () => {
    writeLock({ pid: deadPid(), hostname: 'another-host.example' });
    const error = lockedBy(() => acquireDirectoryLock(dir));
    expect(error.message).toMatch(/another-host\.example/);
  });

  it('refuses an unreadable lock file rather than guessing', () => {
    writeFileSync(join(dir, LOCK_FILE), 'not json');
    expect(lockedBy(() => acquireDirectoryLock(dir)).message).toMatch(/unreadable/);
  });

  it('sweeps temporary files left by writers killed while taking the lock', () => {
    const pid = deadPid();
    writeFileSync(join(dir, `${LOCK_FILE}.${pid}.abcdef.tmp`), '{}');
    writeFileSync(join(dir, `${LOCK_FILE}.stale.${pid}.abcdef`), '{}');
    const lock = acquireDirectoryLock(dir);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
  });

  it('does not remove a lock that is no longer its own', () => {
    const lock = acquireDirectoryLock(dir);
    writeLock({ pid: process.ppid, token: 'someone-else' });
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });
});
