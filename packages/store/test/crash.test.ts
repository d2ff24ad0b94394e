import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../src/lock.js';
import { type OpenStoreOptions, openStore } from '../src/open.js';
import { batchOf10, checkBatchLog, opened } from './fixtures/log.mjs';
import {
  copyTemplate,
  createFixture,
  ENGINES,
  FIXTURES,
  prng,
  requireEngine,
  sleep,
  writeReliabilitySummary,
} from './helpers.js';

/**
 * Crash safety. A child process appends batches of 10 events in a loop and is killed with SIGKILL at a
 * random point (sometimes while it is still opening the store, mostly while appending), KILLS times in a
 * row on the same store. After each kill the next writer reopens the store and checks what it finds: only
 * whole batches, versions contiguous 1..n, every event accepted again by the episode machine on replay, no
 * acknowledged commit lost, and (PGlite) the dead writer's lock file recognised as stale and taken over.
 * Figures go to artifacts/reliability/crash-<engine>.json for docs/reliability.md.
 */

const KILLS = Number(process.env.KAPKIT_CRASH_KILLS ?? 8);
const SEED = Number(process.env.KAPKIT_CRASH_SEED ?? Date.now() % 1_000_000);

interface Ready {
  type: 'ready';
  openMs: number;
  recoveredStaleLock: boolean;
  version: number;
  events: number;
  batches: number;
  replayAccepted: number;
  problems: string[];
}

function lockHolderPid(dir: string): number | null {
  const file = join(dir, LOCK_FILE);
  if (!existsSync(file)) return null;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : 0;
};

describe('crash safety', () => {
  // Both engines at once: the test mostly waits on its child processes.
  it.for(ENGINES)(
    '$name: a writer killed with SIGKILL at random points leaves only whole batches, and the store reopens',
    { concurrent: true, timeout: 900_000 },
    async (engine, context) => {
      requireEngine(engine, context);
      const random = prng(SEED + (engine.kind === 'pglite' ? 0 : 1));
      let where: OpenStoreOptions;
      let cleanup: () => Promise<void>;
      let dataDir: string | null = null;
      if (engine.kind === 'pglite') {
        const dir = copyTemplate();
        dataDir = dir;
        where = { dataDir: dir };
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      } else {
        const fx = await createFixture('postgres');
        where = fx.where;
        cleanup = () => fx.cleanup();
      }
      const episodeId = 'ep-crash';
      const patientId = 'pt-synthetic-crash';
      const setup = await openStore(where);
      await setup.append(episodeId, [opened(episodeId, patientId)], { expectedVersion: 0 });
      await setup.close();

      const stats = {
        engine: engine.name,
        seed: SEED,
        kills: 0,
        killedWhileOpening: 0,
        killedWhileAppending: 0,
        reopensChecked: 0,
        staleLocksLeft: 0,
        staleLocksRecovered: 0,
        batchesCommittedUnacknowledged: 0,
        acknowledgedLost: 0,
        openMs: [] as number[],
      };
      let acknowledged = 1; // events known committed (the writer said so before it died)
      let staleLock = false;
      let expectedOpenMs = engine.kind === 'pglite' ? 2500 : 300;
      try {
        for (let run = 1; run <= KILLS; run++) {
          const child: ChildProcess = fork(
            join(FIXTURES, 'crash-writer.mjs'),
            [JSON.stringify({ where, episodeId, patientId, run })],
            { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
          );
          let stderr = '';
          child.stderr!.on('data', (d) => {
            stderr += d;
          });
          let ready: Ready | null = null;
          let committed = 0;
          child.on('message', (m: { type: string; version: number }) => {
            if (m.type === 'ready') ready = m as Ready;
            else if (m.type === 'committed') committed = m.version;
          });
          const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
            child.on('exit', (code, signal) => resolve({ code, signal })),
          );
          // Ready to append, or dead: no deadline of its own (opening PGlite takes seconds, many more on a loaded
          // machine); the test's timeout is the backstop for a writer that never gets there.
          const started = new Promise<void>((resolve) => {
            child.on('message', (m: { type: string }) => {
              if (m.type === 'ready') resolve();
            });
            child.on('exit', () => resolve());
          });
          if (random() < 0.2) {
            await sleep(random() * expectedOpenMs); // kill it while it opens (and recovers) the store
          } else {
            await started;
            await sleep(random() * 400); // kill it while it appends
          }
          child.kill('SIGKILL');
          const { code, signal } = await exit;
          if (signal !== 'SIGKILL') throw new Error(`writer ${run} exited on its own (${code}): ${stderr}`);
          stats.kills++;
          const r = ready as Ready | null;
          if (r) {
            stats.killedWhileAppending++;
            stats.reopensChecked++;
            stats.openMs.push(r.openMs);
            expectedOpenMs = median(stats.openMs);
            // What this writer found when it reopened the store after the previous kill.
            expect(r.problems, `reopen ${run}`).toEqual([]);
            if (r.events < acknowledged) stats.acknowledgedLost += acknowledged - r.events;
            expect(r.events, `reopen ${run}: an acknowledged commit was lost`).toBeGreaterThanOrEqual(
              acknowledged,
            );
            expect(r.events - acknowledged).toBeLessThanOrEqual(10); // at most the batch in flight
            stats.batchesCommittedUnacknowledged += (r.events - acknowledged) / 10;
            if (engine.kind === 'pglite') {
              expect(r.recoveredStaleLock, `reopen ${run}: stale lock`).toBe(staleLock);
              if (staleLock) stats.staleLocksRecovered++;
            }
            acknowledged = Math.max(r.events, committed);
          } else {
            stats.killedWhileOpening++;
          }
          if (dataDir !== null) {
            // The dead writer's lock stays behind (unless it died before taking it): the next open breaks it.
            const holder = lockHolderPid(dataDir);
            if (holder === child.pid) stats.staleLocksLeft++;
            staleLock = holder !== null;
          }
        }

        // Reopen in this process: everything still there, the machine agrees, and the store is writable.
        const store = await openStore(where);
        if (dataDir !== null) {
          expect(store.recoveredStaleLock).toBe(staleLock);
          if (staleLock) stats.staleLocksRecovered++;
        }
        const log = checkBatchLog(await store.readEpisode(episodeId));
        expect(log.problems).toEqual([]);
        expect(log.events).toBeGreaterThanOrEqual(acknowledged);
        const loaded = await store.loadEpisode(episodeId);
        expect(loaded.version).toBe(log.events);
        expect(log.replayAccepted).toBe(log.events);
        const more = await store.append(episodeId, batchOf10(episodeId, patientId, 'final', loaded.version), {
          expectedVersion: loaded.version,
        });
        expect(more).toMatchObject({ status: 'appended', version: log.events + 10 });
        await store.close();
        if (dataDir !== null) expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);

        writeReliabilitySummary(`crash-${engine.kind}`, {
          ...stats,
          openMs: undefined,
          medianOpenMs: median(stats.openMs),
          maxOpenMs: Math.max(0, ...stats.openMs),
          finalEvents: log.events,
          finalWholeBatches: log.batches,
        });
      } finally {
        await cleanup();
      }
    },
  );
});
