import { type ChildProcess, fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeEventInput } from '@kapkit/core';
import { describe, expect, it } from 'vitest';
import { ConcurrencyError, StoreLockedError } from '../src/errors.js';
import { openStore } from '../src/open.js';
import type { EventStore, StoredEvent } from '../src/store-types.js';
import { assessment, checkVersions, opened } from './fixtures/log.mjs';
import {
  copyTemplate,
  createFixture,
  ENGINES,
  FIXTURES,
  requireEngine,
  writeReliabilitySummary,
} from './helpers.js';

/**
 * Concurrency. PostgreSQL: N writer processes append to one episode with read-then-write loops; writers of
 * one episode serialize on an advisory lock, and every loser gets ConcurrencyError. PGlite is one process:
 * a second process is refused with StoreLockedError, and inside the process concurrent appends serialize.
 * Figures go to artifacts/reliability/concurrency-<engine>.json for docs/reliability.md.
 */

const WRITERS = Number(process.env.KAPKIT_WRITERS ?? 8);
const EVENTS_PER_WRITER = 10;
// In one process every attempt of every loop replays the episode (no state cache), and the losers of each
// round retry: the work grows with loops² × events. Three events per loop keep it to seconds on a loaded
// machine while every loop still loses at least once (see the barrier in `loop`).
const EVENTS_PER_LOOP = 3;
const postgres = ENGINES.find((e) => e.kind === 'postgres')!;
const pglite = ENGINES.find((e) => e.kind === 'pglite')!;

/**
 * After `WRITERS` writers (processes or loops) appended `perWriter` events each to an opened episode: the
 * versions are contiguous, every writer's events are there exactly once, in its own order, and every attempt
 * either appended or lost with a ConcurrencyError (nothing else happened). Returns the totals.
 */
function expectEachWriterOnce(
  stored: readonly StoredEvent[],
  perWriter: number,
  writers: readonly { attempts: number; conflicts: number }[],
): { attempts: number; conflicts: number } {
  expect(checkVersions(stored)).toEqual([]);
  expect(stored).toHaveLength(1 + WRITERS * perWriter);
  for (let w = 0; w < WRITERS; w++) {
    const mine = stored.filter((e) => e.event.id.startsWith(`w${w}-`)).map((e) => e.event.id);
    expect(mine).toEqual(Array.from({ length: perWriter }, (_, i) => `w${w}-${i}`));
  }
  const attempts = writers.reduce((n, d) => n + d.attempts, 0);
  const conflicts = writers.reduce((n, d) => n + d.conflicts, 0);
  expect(attempts).toBe(WRITERS * perWriter + conflicts);
  return { attempts, conflicts };
}

interface Done {
  type: 'done';
  writer: number;
  attempts: number;
  conflicts: number;
  appended: number;
  unexpected: { code: string; message: string }[];
}

function spawnWriter(args: object): {
  child: ChildProcess;
  messages: Record<string, unknown>[];
  stderr: () => string;
  /**
   * Resolves once the writer has sent a message of `type` (true), or has exited without it (false). No deadline
   * of its own: starting processes takes far longer on a loaded machine; the test's timeout is the backstop.
   */
  reached: (type: string) => Promise<boolean>;
} {
  const child = fork(join(FIXTURES, 'writer.mjs'), [JSON.stringify(args)], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const messages: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  child.on('message', (m) => messages.push(m as Record<string, unknown>));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const reached = (type: string) =>
    new Promise<boolean>((resolve) => {
      const sent = () => messages.some((m) => m.type === type);
      if (sent()) resolve(true);
      child.on('message', () => {
        if (sent()) resolve(true);
      });
      void exited.then(() => resolve(sent()));
    });
  return { child, messages, stderr: () => stderr, reached };
}

/** A point every loop reaches before any goes on: the loops' first reads all see the same version. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return () => {
    arrived++;
    if (arrived === parties) release();
    return all;
  };
}

/**
 * Read-then-write loops in this process: `count` events each, retrying on ConcurrencyError. Every loop's first
 * read happens before any loop writes (`firstRead`), so all but one of the first appends conflict by
 * construction, not by timing.
 */
async function loop(
  store: EventStore,
  episodeId: string,
  writer: number,
  count: number,
  firstRead: () => Promise<void>,
) {
  let attempts = 0;
  let conflicts = 0;
  let appended = 0;
  while (appended < count) {
    attempts++;
    const { version } = await store.loadEpisode(episodeId);
    if (attempts === 1) await firstRead();
    const event = assessment(episodeId, 'pt-synthetic-c', `w${writer}-${appended}`, version + 1);
    try {
      await store.append(episodeId, [event as EpisodeEventInput], { expectedVersion: version });
      appended++;
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      conflicts++;
    }
  }
  return { attempts, conflicts, appended };
}

describe('concurrent writers', () => {
  it(`PostgreSQL: ${WRITERS} writer processes on one episode: every version once, no event lost or duplicated, every loser a ConcurrencyError`, {
    timeout: 180_000,
  }, async (context) => {
    requireEngine(postgres, context);
    const fx = await createFixture('postgres');
    const episodeId = 'ep-concurrent';
    const patientId = 'pt-synthetic-c';
    try {
      const store = await fx.open();
      await store.append(episodeId, [opened(episodeId, patientId)], { expectedVersion: 0 });
      const writers = Array.from({ length: WRITERS }, (_, writer) =>
        spawnWriter({ where: fx.where, episodeId, patientId, writer, count: EVENTS_PER_WRITER }),
      );
      for (const w of writers) {
        if (!(await w.reached('ready'))) throw new Error(`a writer could not open the store: ${w.stderr()}`);
      }
      const t0 = performance.now();
      for (const w of writers) w.child.send('go');
      await Promise.all(writers.map((w) => w.reached('done')));
      const ms = performance.now() - t0;
      const done = writers.map((w) => {
        const d = w.messages.find((m) => m.type === 'done') as Done | undefined;
        if (!d) throw new Error(`a writer died: ${w.stderr()}`);
        return d;
      });
      expect(done.flatMap((d) => d.unexpected)).toEqual([]);
      const stored = await store.readEpisode(episodeId);
      const { attempts, conflicts } = expectEachWriterOnce(stored, EVENTS_PER_WRITER, done);
      await store.close();
      writeReliabilitySummary('concurrency-postgres', {
        writers: WRITERS,
        eventsPerWriter: EVENTS_PER_WRITER,
        attempts,
        appended: WRITERS * EVENTS_PER_WRITER,
        conflicts,
        unexpectedErrors: 0,
        storedEvents: stored.length,
        versionsContiguous: true,
        appendsPerSecond: Math.round((WRITERS * EVENTS_PER_WRITER) / (ms / 1000)),
      });
    } finally {
      await fx.cleanup();
    }
  });

  it('PGlite: a second process opening the same data directory gets StoreLockedError, and can open it once it is closed', {
    timeout: 180_000,
  }, async () => {
    const dir = copyTemplate();
    try {
      const store = await openStore({ dataDir: dir });
      // A child process that only opens the store (it appends nothing).
      const opener = { where: { dataDir: dir }, episodeId: 'ep-x', patientId: 'pt-x', writer: 0, count: 0 };
      const probe = async () => {
        const w = spawnWriter(opener);
        const code = await new Promise<number | null>((resolve) => w.child.on('exit', resolve));
        return { code, stderr: w.stderr(), ready: w.messages.some((m) => m.type === 'ready') };
      };
      const refused = await probe();
      expect(refused.ready).toBe(false);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/StoreLockedError/);
      expect(refused.stderr).toMatch(new RegExp(`process ${process.pid} holds it`));
      // In this process too: a second store on the same directory would corrupt it.
      const again = await openStore({ dataDir: dir }).catch((e: unknown) => e);
      expect(again).toBeInstanceOf(StoreLockedError);
      await store.close();
      const w = spawnWriter(opener);
      if (!(await w.reached('ready'))) throw new Error(`the second process could not open: ${w.stderr()}`);
      w.child.send('go');
      const code = await new Promise<number | null>((resolve) => w.child.on('exit', resolve));
      expect(code).toBe(0);
      writeReliabilitySummary('concurrency-pglite-lock', {
        secondProcess: 'StoreLockedError (store-locked)',
        secondStoreInProcess: 'StoreLockedError (store-locked)',
        afterClose: 'opened',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.for([pglite, postgres])(
    `$name: ${WRITERS} concurrent read-then-write loops in one process serialize per episode`,
    // A few seconds alone (loops × events kept small); the timeout is only a backstop for a stuck loop.
    { timeout: 180_000 },
    async (engine, context) => {
      requireEngine(engine, context);
      let store: EventStore;
      let cleanup: () => Promise<void>;
      if (engine.kind === 'pglite') {
        const d = copyTemplate();
        store = await openStore({ dataDir: d, stateCacheSize: 0 });
        cleanup = async () => rmSync(d, { recursive: true, force: true });
      } else {
        const fx = await createFixture('postgres');
        store = await fx.open({ stateCacheSize: 0 });
        cleanup = () => fx.cleanup();
      }
      try {
        const episodeId = 'ep-loops';
        await store.append(episodeId, [opened(episodeId, 'pt-synthetic-c')], { expectedVersion: 0 });
        const firstRead = barrier(WRITERS);
        const results = await Promise.all(
          Array.from({ length: WRITERS }, (_, w) => loop(store, episodeId, w, EVENTS_PER_LOOP, firstRead)),
        );
        const stored = await store.readEpisode(episodeId);
        const { attempts, conflicts } = expectEachWriterOnce(stored, EVENTS_PER_LOOP, results);
        // All first reads saw version 1, so exactly one first append won: the loops did interleave.
        expect(conflicts).toBeGreaterThanOrEqual(WRITERS - 1);
        writeReliabilitySummary(`concurrency-in-process-${engine.kind}`, {
          loops: WRITERS,
          eventsPerLoop: EVENTS_PER_LOOP,
          attempts,
          conflicts,
          storedEvents: stored.length,
          versionsContiguous: true,
        });
      } finally {
        await store.close();
        await cleanup();
      }
    },
  );
});
