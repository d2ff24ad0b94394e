import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { KapkitError } from '@kapkit/core';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { type OpenStoreOptions, openStore } from '../src/open.js';
import type { EventStore, StoredEvent } from '../src/store-types.js';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The PostgreSQL server of the tests (`.ci/run` starts one and sets it). */
export const PG_URL = process.env.KAPKIT_TEST_DATABASE_URL || undefined;
export const IN_CI = Boolean(process.env.CI);

export type EngineKind = 'pglite' | 'postgres';
export interface Engine {
  readonly name: string;
  readonly kind: EngineKind;
  /** Why the engine's tests cannot run here, or null. */
  readonly missing: string | null;
}

export const ENGINES: readonly Engine[] = [
  { name: 'PGlite', kind: 'pglite', missing: null },
  {
    name: 'PostgreSQL',
    kind: 'postgres',
    missing: PG_URL ? null : 'KAPKIT_TEST_DATABASE_URL is not set (no PostgreSQL server for the tests)',
  },
];

/**
 * Where a test's store lives: a fresh PostgreSQL schema, on the PostgreSQL test server or in this test
 * file's PGlite (one per file, on disk in a temp dir copied from the migrated template: opening PGlite costs
 * about a second, a schema a few milliseconds). `open` opens (or reopens) a store there; `sql` queries the
 * database directly, outside any store; `cleanup` drops the schema.
 */
export interface Fixture {
  readonly engine: EngineKind;
  readonly schema: string;
  /** Options that point `openStore` at this fixture. */
  readonly where: OpenStoreOptions;
  open(options?: Omit<OpenStoreOptions, 'url' | 'dataDir' | 'schema' | 'pglite'>): Promise<EventStore>;
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  cleanup(): Promise<void>;
}

let counter = 0;
let shared: { pglite: PGlite; dir: string } | null = null;

/** This test file's PGlite, on disk (a copy of the global setup's template). */
async function sharedPglite(): Promise<PGlite> {
  if (!shared) {
    const dir = copyTemplate();
    shared = { dir, pglite: await PGlite.create(join(dir, 'pgdata')) };
  }
  return shared.pglite;
}

/** Close this file's PGlite and remove its directory (call in `afterAll`). */
export async function closeSharedPglite(): Promise<void> {
  if (!shared) return;
  const { pglite, dir } = shared;
  shared = null;
  await pglite.close();
  rmSync(dir, { recursive: true, force: true });
}

/** A new temp directory holding a migrated, closed PGlite store (a copy of the global setup's template). */
export function copyTemplate(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kapkit-store-test-'));
  cpSync(inject('pgliteTemplate'), dir, { recursive: true });
  return dir;
}

export async function createFixture(engine: EngineKind): Promise<Fixture> {
  const schema = `kapkit_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  let sql: Fixture['sql'];
  let end: () => Promise<void>;
  let where: OpenStoreOptions;
  if (engine === 'pglite') {
    const pglite = await sharedPglite();
    where = { pglite, schema };
    sql = async <R>(text: string, params?: unknown[]) => (await pglite.query<R>(text, params)).rows;
    end = async () => {};
  } else {
    if (!PG_URL) throw new Error('KAPKIT_TEST_DATABASE_URL is not set');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    where = { url: PG_URL, schema };
    sql = async <R>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as R[];
    end = () => client.end();
  }
  return {
    engine,
    schema,
    where,
    open: (options = {}) => openStore({ ...options, ...where }),
    sql,
    async cleanup() {
      await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await end();
    },
  };
}

/**
 * Skip a test whose engine is missing here, with a visible message; in CI, fail it instead (CI must run
 * the PostgreSQL tests: .ci/run starts a server).
 */
export function requireEngine(engine: Engine, context: { skip: (note?: string) => void }): void {
  if (!engine.missing) return;
  if (IN_CI) throw new Error(`${engine.missing}: CI must run the ${engine.name} tests (see .ci/run)`);
  console.warn(`[@kapkit/store] skipping a ${engine.name} test: ${engine.missing}.`);
  context.skip(engine.missing);
}

/**
 * `describe.each(ENGINES)(title, …)`: `body` in a block named after each engine. Where the engine is missing it
 * is skipped, and said so; in CI it is one failing test instead (CI must run the PostgreSQL suite: .ci/run
 * starts a server and sets KAPKIT_TEST_DATABASE_URL). Call it at the top level of a test file: it also
 * closes the file's PGlite once the file's tests are done.
 */
export function describeEngines(title: string, body: (engine: Engine) => void): void {
  afterAll(closeSharedPglite);
  describe.each(ENGINES)(title, (engine) => {
    if (engine.missing && !IN_CI) {
      console.warn(
        `[@kapkit/store] skipping the ${engine.name} suite: ${engine.missing}. Start one with scripts/with-postgres.sh (see packages/store/README.md).`,
      );
    }
    describeEngine(engine, () => body(engine));
  });
}

/**
 * `body` as a block named for `engine`, skipped where the engine is missing (no PostgreSQL server given) except
 * in CI, where a missing engine is a failing test instead: CI must run every suite on both engines.
 */
export function describeEngine(engine: Engine, body: () => void): void {
  if (engine.missing && IN_CI) {
    const missing = engine.missing;
    describe(engine.name, () => {
      it('has a PostgreSQL server to test against (KAPKIT_TEST_DATABASE_URL)', () => {
        throw new Error(`${missing}: CI must run the PostgreSQL suite (see .ci/run)`);
      });
    });
    return;
  }
  describe.skipIf(engine.missing !== null)(engine.name, body);
}

/** A test's store and the fixture it lives in. */
export interface TestStore {
  readonly fx: Fixture;
  store: EventStore;
}

/**
 * Give each test of the enclosing block a fresh store on `engine` (opened with `options`). `opened` gets it
 * before the test (to keep it, and to set up more); its fixture's `open` is watched, so that every store of the
 * test (the first, and any a test reopens) is closed after it, then the schema dropped. The returned object
 * reads the current test's first store and fixture.
 */
export function storePerTest(
  engine: EngineKind,
  opened: (test: TestStore) => void | Promise<void> = () => {},
  options?: Parameters<Fixture['open']>[0],
): TestStore {
  let current: TestStore | null = null;
  let stores: EventStore[] = [];
  let cleanup: (() => Promise<void>) | null = null;
  beforeEach(async () => {
    const created = await createFixture(engine);
    cleanup = () => created.cleanup();
    const fx: Fixture = {
      ...created,
      async open(more) {
        const store = await created.open(more);
        stores.push(store);
        return store;
      },
    };
    current = { fx, store: await fx.open(options) };
    await opened(current);
  });
  afterEach(async () => {
    const open = stores;
    const drop = cleanup;
    stores = [];
    cleanup = null;
    current = null;
    for (const store of open) await store.close();
    await drop?.();
  });
  const now = (): TestStore => {
    if (!current) throw new Error('storePerTest: the store exists only during a test');
    return current;
  };
  return {
    get fx() {
      return now().fx;
    },
    get store() {
      return now().store;
    },
    /** A test that closes the store may open another (through `fx.open`) in its place. */
    set store(store: EventStore) {
      now().store = store;
    },
  };
}

/** Expect `promise` to reject with an error of `type` (a {@link KapkitError}), and return it. */
export async function rejection<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect(error).toBeInstanceOf(KapkitError);
  return error as T;
}

/** Resolve when `condition()` holds (polled every 5 ms), or reject after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const FIXTURES = join(PACKAGE_DIR, 'test', 'fixtures');

/** Reliability figures for docs/reliability.md, written under the git-ignored artifacts/ folder. */
export function writeReliabilitySummary(name: string, figures: Record<string, unknown>): void {
  const dir = join(PACKAGE_DIR, 'artifacts', 'reliability');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${name}.json`),
    `${JSON.stringify({ name, node: process.version, date: new Date().toISOString(), ...figures }, null, 2)}\n`,
  );
}

/** A small deterministic PRNG (mulberry32), so a run's random kill points can be replayed from its seed. */
export { prng } from '../../../test-support/prng.mjs';

/** Every event of the store, read through `streamAll` (with `options`: its batch size, its start). */
export async function allEvents(
  store: EventStore,
  options?: Parameters<EventStore['streamAll']>[0],
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.streamAll(options)) out.push(e);
  return out;
}
