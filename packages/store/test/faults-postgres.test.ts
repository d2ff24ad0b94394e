import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreDatabaseError, StoreTimeoutError } from '../src/errors.js';
import { openStore } from '../src/open.js';
import { internalDb } from '../src/store.js';
import type { EventStore } from '../src/store-types.js';
import {
  everyWriterAppendsAfter,
  expectExactlyAcknowledged,
  type FaultStats,
  newStats,
  runWriters,
} from './fixtures/fault-writers.js';
import { batchOf10, opened } from './fixtures/log.mjs';
import {
  createFixture,
  ENGINES,
  type Fixture,
  IN_CI,
  PG_URL,
  prng,
  requireEngine,
  until,
  writeReliabilitySummary,
} from './helpers.js';
import { type Cluster, clusterUnavailable, startCluster } from './pg-cluster.js';
import { blackHole, PgProxy } from './pg-proxy.js';

/**
 * PostgreSQL failing under the store: connections lost at exact points of an append (through a proxy that
 * reads the protocol), backends terminated and a server crashed and restarted during concurrent appends, a
 * frozen server. In every case the caller gets a typed error (never a crash of the process), every
 * acknowledged append is stored exactly once, a retry after an unknown outcome answers `duplicate` when the
 * first attempt had committed, and the same store object works again once the server does.
 * Figures go to artifacts/reliability/faults-postgres.json for docs/reliability.md.
 */

const postgres = ENGINES.find((e) => e.kind === 'postgres')!;
const figures: Record<string, unknown> = {};
const SEED = Number(process.env.KAPKIT_CRASH_SEED ?? Date.now() % 1_000_000);

/** Settle `p` and return its error (or fail when it resolves). */
async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
}

/**
 * Open a store with the tight limits a test is about. The set-up only reads the schema, but a
 * loaded machine may still miss a limit of a second or two once; that is not the fault under test,
 * so opening is retried a few times on a timeout before the test's own steps begin.
 */
async function openWithTightLimits(options: Parameters<typeof openStore>[0]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openStore(options);
    } catch (error) {
      if (attempt >= 5 || (error as { code?: string }).code !== 'store-timeout') throw error;
    }
  }
}

async function opensFor(fx: Fixture, url: string, options: Parameters<typeof openStore>[0] = {}) {
  return openWithTightLimits({ ...options, url, schema: fx.schema });
}

describe('PostgreSQL connection lost at an exact point of an append (proxy)', () => {
  let fx: Fixture;
  let proxy: PgProxy;
  beforeAll(async () => {
    if (!PG_URL) return;
    fx = await createFixture('postgres');
    proxy = await PgProxy.start(Number(new URL(PG_URL).port));
  });
  afterAll(async () => {
    await proxy?.close();
    await fx?.cleanup();
  });

  /**
   * Run `body` with a store opened through the proxy (with `options`) on which episode `ep-<name>` is opened
   * for `pt-synthetic-<name>`; the proxy is thawed and the store closed afterwards, whatever happened.
   */
  async function withOpenedEpisode(
    context: { skip: (note?: string) => void },
    name: string,
    options: Parameters<typeof openStore>[0],
    body: (store: EventStore) => Promise<void>,
  ): Promise<void> {
    requireEngine(postgres, context);
    const store = await opensFor(fx, proxy.url(PG_URL!), options);
    try {
      await store.append(`ep-${name}`, [opened(`ep-${name}`, `pt-synthetic-${name}`)], {
        expectedVersion: 0,
      });
      await body(store);
    } finally {
      proxy.thaw();
      await store.close();
    }
  }

  it('reports a COMMIT whose acknowledgement was lost as outcome unknown; the retry answers duplicate', async (context) => {
    await withOpenedEpisode(context, 'ack', {}, async (store) => {
      const batch = batchOf10('ep-ack', 'pt-synthetic-ack', 'ack-b1', 1);
      proxy.dropOnQuery(/^COMMIT/, 'after-reply');
      const error = await failure(store.append('ep-ack', batch, { expectedVersion: 1 }));
      expect(error).toBeInstanceOf(StoreDatabaseError);
      expect(error).toMatchObject({ code: 'database-error', connectionLost: true, outcome: 'unknown' });
      expect((error as Error).message).toMatch(/outcome is unknown/);
      // It had committed: the same events again are a duplicate, and nothing is stored twice.
      const retry = await store.append('ep-ack', batch, { expectedVersion: 1 });
      expect(retry).toEqual({ status: 'duplicate', version: 11 });
      const next = await store.append('ep-ack', batchOf10('ep-ack', 'pt-synthetic-ack', 'ack-b2', 11), {
        expectedVersion: 11,
      });
      expect(next.status).toBe('appended');
      const stored = await store.readEpisode('ep-ack');
      expect(stored.map((e) => e.version)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
      expect(new Set(stored.map((e) => e.event.id)).size).toBe(21);
    });
  });

  it('reports a connection lost before COMMIT as not committed; nothing is stored and the retry appends', async (context) => {
    await withOpenedEpisode(context, 'lost', {}, async (store) => {
      const batch = batchOf10('ep-lost', 'pt-synthetic-lost', 'lost-b1', 1);
      proxy.dropOnQuery(/kapkit_append\(/, 'before'); // the append function: the lock, the append lock and the INSERT of the events
      const error = await failure(store.append('ep-lost', batch, { expectedVersion: 1 }));
      expect(error).toMatchObject({ code: 'database-error', connectionLost: true, outcome: 'not-committed' });
      expect(await store.version('ep-lost')).toBe(1);
      expect(await store.append('ep-lost', batch, { expectedVersion: 1 })).toMatchObject({
        status: 'appended',
        version: 11,
      });
    });
  });

  it('answers a retry after an unknown outcome with appended when the COMMIT never reached the server', async (context) => {
    await withOpenedEpisode(context, 'never', {}, async (store) => {
      const batch = batchOf10('ep-never', 'pt-synthetic-never', 'never-b1', 1);
      proxy.dropOnQuery(/^COMMIT/, 'before');
      const error = await failure(store.append('ep-never', batch, { expectedVersion: 1 }));
      // The client wrote COMMIT to a socket that died: it cannot know, so it says so.
      expect(error).toMatchObject({ connectionLost: true, outcome: 'unknown' });
      expect(await store.append('ep-never', batch, { expectedVersion: 1 })).toMatchObject({
        status: 'appended',
        version: 11,
      });
    });
  });

  it('gives StoreTimeoutError when the server stops answering, then works again when it answers', async (context) => {
    await withOpenedEpisode(
      context,
      'freeze',
      { statementTimeoutMs: 1500, closeTimeoutMs: 1500 },
      async (store) => {
        proxy.freeze();
        const t0 = performance.now();
        const error = await failure(
          store.append('ep-freeze', batchOf10('ep-freeze', 'pt-synthetic-freeze', 'fz-b1', 1), {
            expectedVersion: 1,
          }),
        );
        figures.proxyStatementTimeoutMs = Math.round(performance.now() - t0);
        expect(error).toBeInstanceOf(StoreTimeoutError);
        expect(error).toMatchObject({ code: 'store-timeout', phase: 'statement', timeoutMs: 1500 });
        proxy.thaw();
        const r = await store.append('ep-freeze', batchOf10('ep-freeze', 'pt-synthetic-freeze', 'fz-b1', 1), {
          expectedVersion: 1,
        });
        expect(r).toMatchObject({ status: 'appended', version: 11 });
        // Frozen again with an idle pooled connection: close() still returns.
        proxy.freeze();
        const c0 = performance.now();
        await store.close();
        figures.proxyCloseWhileFrozenMs = Math.round(performance.now() - c0);
      },
    );
  });

  it('takes the statement limit from the URL: statement_timeout or options=-c statement_timeout', async (context) => {
    requireEngine(postgres, context);
    for (const [params, ms] of [
      [{ statement_timeout: '1200' }, 1200],
      [{ options: '-c statement_timeout=2s' }, 2000],
    ] as const) {
      const store = await opensFor(fx, proxy.url(PG_URL!, params), { closeTimeoutMs: 1000 });
      try {
        // The server applies it too.
        const [row] = await internalDb(store).query<{ statement_timeout: string }>('SHOW statement_timeout');
        expect(row!.statement_timeout).toBe(ms === 1200 ? '1200ms' : '2s');
        proxy.freeze();
        const error = await failure(store.version('ep-any'));
        expect(error).toMatchObject({ code: 'store-timeout', phase: 'statement', timeoutMs: ms });
      } finally {
        proxy.thaw();
        await store.close();
      }
    }
  });
});

describe('PostgreSQL that accepts connections and never answers', () => {
  it('gives StoreTimeoutError (connect) from openStore, with connectTimeoutMs or the URL connect_timeout', async () => {
    const hole = await blackHole();
    try {
      const t0 = performance.now();
      const error = await failure(
        openStore({ url: `postgres://kapkit@127.0.0.1:${hole.port}/db`, connectTimeoutMs: 1000 }),
      );
      figures.connectTimeoutMs = Math.round(performance.now() - t0);
      expect(error).toBeInstanceOf(StoreTimeoutError);
      expect(error).toMatchObject({ phase: 'connect', timeoutMs: 1000 });
      const viaUrl = await failure(
        openStore({ url: `postgres://kapkit@127.0.0.1:${hole.port}/db?connect_timeout=1` }),
      );
      expect(viaUrl).toMatchObject({ code: 'store-timeout', phase: 'connect', timeoutMs: 1000 });
    } finally {
      await hole.close();
    }
  });
});

describe('PostgreSQL backends terminated during concurrent appends (pg_terminate_backend)', () => {
  it('delivers typed errors, never crashes, stores every acknowledged append once, and recovers', {
    timeout: 180_000,
  }, async (context) => {
    requireEngine(postgres, context);
    const fx = await createFixture('postgres');
    const app = `kapkit-terminate-${process.pid}`;
    const store = await openStore({
      url: `${PG_URL}${PG_URL!.includes('?') ? '&' : '?'}application_name=${app}`,
      schema: fx.schema,
      poolSize: 4,
    });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const stats = newStats();
    const random = prng(SEED);
    let stop = false;
    let terminated = 0;
    const rounds = 12;
    try {
      const writing = runWriters(store, { prefix: 'term', count: 4, stop: () => stop, stats });
      for (let round = 0; round < rounds; round++) {
        await new Promise((r) => setTimeout(r, 100 + random() * 300));
        const r = await admin.query(
          'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
          [app],
        );
        terminated += r.rows.filter((x: { ok: boolean }) => x.ok).length;
      }
      // Every writer gets an append through after the last termination, on the same store object.
      const after = performance.now();
      await everyWriterAppendsAfter(stats, after, 'every writer to append again after the terminations');
      stop = true;
      await writing;
      const events = await expectExactlyAcknowledged(store, stats);
      expect(terminated).toBeGreaterThan(0);
      expect(Object.keys(stats.errors).length).toBeGreaterThan(0);
      figures.terminate = { seed: SEED, rounds, terminated, events, ...statsFigures(stats) };
    } finally {
      stop = true;
      await admin.end();
      await store.close();
      await fx.cleanup();
    }
  });
});

function statsFigures(stats: ReturnType<typeof newStats>) {
  return {
    attempts: stats.attempts,
    acknowledged: stats.acknowledged,
    errors: stats.errors,
    unknownOutcomes: stats.unknownOutcomes,
    duplicatesAfterUnknown: stats.duplicatesAfterUnknown,
  };
}

describe('a PostgreSQL server of its own: crashed and restarted, frozen', () => {
  const unavailable = clusterUnavailable();
  let cluster: Cluster | null = null;
  beforeAll(async () => {
    if (!unavailable) cluster = await startCluster();
  }, 180_000);
  afterAll(() => {
    cluster?.destroy();
  });
  /** The four writers of these tests, each retrying 100 ms after a failure. */
  const fourWriters = (store: EventStore, prefix: string, stats: FaultStats, stop: () => boolean) =>
    runWriters(store, { prefix, count: 4, stop, stats, retryDelayMs: 100 });
  const needCluster = (context: { skip: (note?: string) => void }) => {
    if (!unavailable) return;
    if (IN_CI) throw new Error(`${unavailable}: CI must run the server fault tests (see .ci/run)`);
    console.warn(`[@kapkit/store] skipping a server fault test: ${unavailable}.`);
    context.skip(unavailable);
  };

  it('survives the server crashing (pg_ctl stop -m immediate) and restarting during concurrent appends', {
    timeout: 240_000,
  }, async (context) => {
    needCluster(context);
    const c = cluster!;
    const store = await openStore({ url: c.url, schema: 'kapkit_restart', poolSize: 4 });
    const stats = newStats();
    let stop = false;
    const recoveries: number[] = [];
    try {
      const writing = fourWriters(store, 'restart', stats, () => stop);
      for (let round = 0; round < 2; round++) {
        await until(() => stats.acknowledged > 4 * (round + 1) * 3, 60_000, 'appends before the crash');
        c.crash();
        await new Promise((r) => setTimeout(r, 1000));
        c.start();
        const back = performance.now();
        await everyWriterAppendsAfter(stats, back, 'every writer to append again after the restart');
        recoveries.push(Math.round(Math.max(...stats.lastAck.values()) - back));
      }
      stop = true;
      await writing;
      const events = await expectExactlyAcknowledged(store, stats);
      expect(stats.errors['database-error/not-committed'] ?? 0).toBeGreaterThan(0);
      figures.restart = { restarts: 2, events, recoveryMs: recoveries, ...statsFigures(stats) };
    } finally {
      stop = true;
      await store.close();
    }
  });

  it('gives typed timeouts while the server is frozen (SIGSTOP), and works again when it resumes', {
    timeout: 240_000,
  }, async (context) => {
    needCluster(context);
    const c = cluster!;
    const limits = { statementTimeoutMs: 2000, connectTimeoutMs: 2000, closeTimeoutMs: 2000 };
    // The schema is created with the default limits first: on a loaded machine creating it can take
    // longer than the tight limits this test is about, and that is not a fault of the server.
    await (await openStore({ url: c.url, schema: 'kapkit_freeze' })).close();
    const store = await openWithTightLimits({ url: c.url, schema: 'kapkit_freeze', poolSize: 4, ...limits });
    const idle = await openWithTightLimits({ url: c.url, schema: 'kapkit_freeze', ...limits });
    await idle.version('ep-any'); // leaves an idle pooled connection
    const stats = newStats();
    let stop = false;
    try {
      const writing = fourWriters(store, 'freeze', stats, () => stop);
      await until(() => stats.acknowledged > 12, 60_000, 'appends before the freeze');
      c.freeze();
      const frozenAt = performance.now();
      const timeoutsBefore = () =>
        Object.entries(stats.errors)
          .filter(([k]) => k.startsWith('store-timeout'))
          .reduce((n, [, v]) => n + v, 0);
      await until(() => timeoutsBefore() >= 4, 60_000, 'the writers to time out');
      const firstTimeoutMs = Math.round(performance.now() - frozenAt);
      const t0 = performance.now();
      const openError = await failure(openStore({ url: c.url, schema: 'kapkit_freeze', ...limits }));
      const openTimeoutMs = Math.round(performance.now() - t0);
      expect(openError).toMatchObject({ code: 'store-timeout', phase: 'connect', timeoutMs: 2000 });
      const c0 = performance.now();
      await idle.close();
      const closeMs = Math.round(performance.now() - c0);
      c.thaw();
      const back = performance.now();
      await everyWriterAppendsAfter(stats, back, 'every writer to append again after the server resumed');
      const recoveryMs = Math.round(Math.max(...stats.lastAck.values()) - back);
      stop = true;
      await writing;
      const events = await expectExactlyAcknowledged(store, stats);
      figures.freeze = {
        limits,
        firstTimeoutMs,
        openTimeoutMs,
        closeMs,
        recoveryMs,
        events,
        ...statsFigures(stats),
      };
    } finally {
      stop = true;
      c.thaw();
      await idle.close().catch(() => {});
      await store.close();
    }
  });
});

afterAll(async () => {
  if (Object.keys(figures).length === 0) return;
  writeReliabilitySummary('faults-postgres', figures);
});
