import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DiskFullError } from '../src/errors.js';
import { DEFAULT_MIN_FREE_DISK_BYTES, openStore } from '../src/open.js';
import { batchOf10, opened } from './fixtures/log.mjs';
import { copyTemplate, FIXTURES, until, writeReliabilitySummary } from './helpers.js';

/**
 * A full disk under PGlite. PGlite 0.5 can spin forever at 100 % CPU when the disk fills while it zero-fills
 * a new 16 MB WAL segment, so the store refuses to write while the data directory's file system has less
 * than minFreeDiskBytes free (default 64 MiB), with DiskFullError. The free-space probe is injectable, so the
 * refusal is tested everywhere without root; where this process may mount a tmpfs (root, CI), a real small
 * file system is filled too.
 */

const MiB = 1024 * 1024;
const figures: Record<string, unknown> = {};
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (Object.keys(figures).length > 0) writeReliabilitySummary('disk-pglite', figures);
});

describe('PGlite on a disk short of space (injected free-space probe)', () => {
  it('refuses appends with DiskFullError while free space is under the margin, keeps reads working, and writes again once space is freed', async () => {
    const dir = copyTemplate();
    dirs.push(dir);
    let free = 10 * 1024 * MiB;
    const probed: string[] = [];
    const store = await openStore({
      dataDir: dir,
      freeDiskBytes: async (d) => {
        probed.push(d);
        return free;
      },
    });
    try {
      await store.append('ep-1', [opened('ep-1', 'pt-synthetic-1')], { expectedVersion: 0 });
      expect(probed).toContain(dir);
      free = DEFAULT_MIN_FREE_DISK_BYTES - 1;
      const error = await store
        .append('ep-1', batchOf10('ep-1', 'pt-synthetic-1', 'b1', 1), { expectedVersion: 1 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DiskFullError);
      expect(error).toMatchObject({
        code: 'disk-full',
        location: dir,
        freeBytes: DEFAULT_MIN_FREE_DISK_BYTES - 1,
        requiredBytes: 64 * MiB,
      });
      expect((error as Error).message).toMatch(/Nothing was written/);
      // Reads work on a full disk (loadEpisode skips writing its snapshot cache).
      expect(await store.version('ep-1')).toBe(1);
      expect((await store.loadEpisode('ep-1')).version).toBe(1);
      free = DEFAULT_MIN_FREE_DISK_BYTES;
      const r = await store.append('ep-1', batchOf10('ep-1', 'pt-synthetic-1', 'b1', 1), {
        expectedVersion: 1,
      });
      expect(r).toMatchObject({ status: 'appended', version: 11 });
    } finally {
      await store.close();
    }
  });

  it('refuses to open a store on a disk short of space, releasing the lock, and honours minFreeDiskBytes', async () => {
    const dir = copyTemplate();
    dirs.push(dir);
    const short = async () => 32 * MiB;
    await expect(openStore({ dataDir: dir, freeDiskBytes: short })).rejects.toMatchObject({
      code: 'disk-full',
      freeBytes: 32 * MiB,
    });
    // A smaller margin (or 0: no check) is the caller's choice.
    const store = await openStore({ dataDir: dir, freeDiskBytes: short, minFreeDiskBytes: 16 * MiB });
    await store.append('ep-1', [opened('ep-1', 'pt-synthetic-1')], { expectedVersion: 0 });
    await store.close();
    const unchecked = await openStore({ dataDir: dir, freeDiskBytes: async () => 0, minFreeDiskBytes: 0 });
    expect(await unchecked.version('ep-1')).toBe(1);
    await unchecked.close();
  });
});

/** Mount a tmpfs of `mib` MiB on a new directory, or say why not. */
function mountTmpfs(mib: number): { dir: string } | { reason: string } {
  if (process.platform !== 'linux') return { reason: 'tmpfs mounts need Linux' };
  if (process.getuid?.() !== 0) return { reason: 'mounting a tmpfs needs root' };
  const dir = mkdtempSync(join(tmpdir(), 'kapkit-store-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return {
      reason: `mount -t tmpfs is not permitted here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()})`,
    };
  }
}

describe('PGlite on a real small file system (tmpfs)', () => {
  it('appends until the margin is reached, then refuses with DiskFullError instead of hanging, and recovers when space is freed', {
    timeout: 240_000,
  }, async (context) => {
    const mounted = mountTmpfs(160);
    if ('reason' in mounted) {
      console.warn(
        `[@kapkit/store] skipping the tmpfs full-disk test: ${mounted.reason}. The injected-probe tests above still ran.`,
      );
      context.skip(mounted.reason);
      return;
    }
    const dir = join(mounted.dir, 'store');
    let child: ChildProcess | null = null;
    try {
      cpSync(inject('pgliteTemplate'), dir, { recursive: true });
      // Leave 1 MiB above the margin: the appends reach it after a few hundred batches.
      const available = () => {
        const s = statfsSync(mounted.dir);
        return Number(s.bavail) * Number(s.bsize);
      };
      const filler = join(mounted.dir, 'filler');
      writeFileSync(filler, Buffer.alloc(available() - DEFAULT_MIN_FREE_DISK_BYTES - MiB));
      const messages: Record<string, unknown>[] = [];
      child = fork(join(FIXTURES, 'disk-writer.mjs'), [JSON.stringify({ dataDir: dir })], {
        execArgv: [],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr!.on('data', (d) => {
        stderr += d;
      });
      child.on('message', (m) => messages.push(m as Record<string, unknown>));
      const has = (type: string) => messages.find((m) => m.type === type);
      // A generous deadline: a PGlite that hangs on the full disk never reports, and is killed below.
      await until(
        () => Boolean(has('refused')) || child!.exitCode !== null,
        180_000,
        `the store to refuse (stderr: ${stderr})`,
      );
      const refused = has('refused')!;
      expect(refused).toMatchObject({ code: 'disk-full', name: 'DiskFullError', requiredBytes: 64 * MiB });
      expect(refused.freeBytes as number).toBeLessThan(64 * MiB);
      expect(refused.storedVersion).toBe(refused.version); // the refused batch left nothing behind
      rmSync(filler);
      child.send('freed');
      await until(
        () => Boolean(has('done')) || child!.exitCode !== null,
        120_000,
        `the append after freeing space (stderr: ${stderr})`,
      );
      const done = has('done')!;
      expect(done).toMatchObject({ status: 'appended', version: (refused.version as number) + 10 });
      expect(done.streamed).toBe(done.version);
      figures.tmpfs = {
        tmpfsMiB: 160,
        batchesBeforeRefusal: refused.batches,
        freeBytesAtRefusal: refused.freeBytes,
        requiredBytes: refused.requiredBytes,
        eventsAfterRecovery: done.streamed,
      };
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      try {
        execFileSync('umount', ['-l', mounted.dir], { stdio: 'pipe' });
      } catch {
        // already unmounted
      }
      rmSync(mounted.dir, { recursive: true, force: true });
    }
  });
});
