import { afterEach, describe, expect, it } from 'vitest';
import { StoreConfigError, StoreDatabaseError } from '../src/errors.js';
import { DEFAULT_TIMEOUTS, openStore, postgresSettings, redactUrl } from '../src/open.js';
import { internalDb } from '../src/store.js';
import { ENGINES, PG_URL, requireEngine } from './helpers.js';

/** How openStore picks an engine and checks its options (the engines themselves: event-store*.test.ts). */

const saved = process.env.DATABASE_URL;
afterEach(() => {
  if (saved === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = saved;
});

describe('openStore', () => {
  it('refuses ambiguous or malformed options with StoreConfigError', async () => {
    await expect(openStore({ url: 'postgres://x@127.0.0.1/db', dataDir: '/tmp/x' })).rejects.toBeInstanceOf(
      StoreConfigError,
    );
    await expect(openStore({ url: 'mysql://x@127.0.0.1/db' })).rejects.toThrow(/postgres:\/\//);
    await expect(openStore({ url: 'postgres://x@127.0.0.1/db', schema: 'Robert"); DROP' })).rejects.toThrow(
      /Invalid schema name/,
    );
    await expect(openStore({ dataDir: '/tmp/x', maxEventBytes: 0 })).rejects.toBeInstanceOf(StoreConfigError);
  });

  it('reports an unreachable server as StoreDatabaseError, without the password', async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const error = await openStore({ url: 'postgres://kapkit:s3cret@127.0.0.1:9/db' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreDatabaseError);
    expect((error as Error).message).not.toMatch(/s3cret/);
  });

  it('hides the password of a URL it shows', () => {
    expect(redactUrl('postgres://kapkit:s3cret@db:5432/clinic')).toBe('postgres://kapkit:***@db:5432/clinic');
  });

  it('uses DATABASE_URL when no url, dataDir or pglite is given', async (context) => {
    requireEngine(ENGINES.find((e) => e.kind === 'postgres')!, context);
    process.env.DATABASE_URL = PG_URL;
    const schema = `kapkit_test_env_${process.pid}`;
    const store = await openStore({ schema });
    expect(store.engine).toBe('postgres');
    await store.close();
    const cleanup = await openStore({ url: PG_URL!, schema });
    await internalDb(cleanup).query(`DROP SCHEMA "${schema}" CASCADE`);
    await cleanup.close();
  });

  it('migrates a new store once when several processes open it at once, and other stores at the same time', async (context) => {
    requireEngine(ENGINES.find((e) => e.kind === 'postgres')!, context);
    const schemas = [`kapkit_test_migrate_a_${process.pid}`, `kapkit_test_migrate_b_${process.pid}`];
    // Four openers of each of two new stores, all at once: each store is migrated by one of them (the others
    // wait on its lock and find it current), and the two stores do not wait for each other.
    const stores = await Promise.all(
      schemas.flatMap((schema) => [1, 2, 3, 4].map(() => openStore({ url: PG_URL!, schema }))),
    );
    try {
      for (const schema of schemas) {
        const [row] = await internalDb(stores[0]!).query<{ n: string }>(
          `SELECT count(*) AS n FROM "${schema}".kapkit_migrations`,
        );
        const [one] = await internalDb(stores[0]!).query<{ n: string }>(
          `SELECT count(DISTINCT version) AS n FROM "${schema}".kapkit_migrations`,
        );
        expect(Number(row!.n)).toBeGreaterThan(1);
        expect(Number(row!.n)).toBe(Number(one!.n)); // every version applied once
      }
    } finally {
      for (const schema of schemas) await internalDb(stores[0]!).query(`DROP SCHEMA "${schema}" CASCADE`);
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('sets connect, statement and keep-alive limits from defaults, the URL and the options, in that order', () => {
    const plain = postgresSettings('postgres://kapkit@db:5432/clinic');
    expect(plain).toMatchObject({
      url: 'postgres://kapkit@db:5432/clinic',
      connectTimeoutMs: 10_000,
      statementTimeoutMs: 30_000,
      keepAlive: true,
      keepAliveInitialDelayMs: 10_000,
      urlSetsIdleInTransaction: false,
    });
    expect(DEFAULT_TIMEOUTS).toMatchObject({ connectTimeoutMs: 10_000, statementTimeoutMs: 30_000 });
    // libpq's standard parameters: connect_timeout and keepalives_idle in seconds; statement_timeout in
    // milliseconds or with a unit, as PostgreSQL reads it.
    const url =
      'postgres://kapkit:s3cret@db:5432/clinic?connect_timeout=3&statement_timeout=5s&keepalives=0&keepalives_idle=60&application_name=clinic';
    const fromUrl = postgresSettings(url);
    expect(fromUrl).toMatchObject({
      connectTimeoutMs: 3000,
      statementTimeoutMs: 5000,
      keepAlive: false,
      keepAliveInitialDelayMs: 60_000,
    });
    // Taken out of the URL (node-postgres would read "5s" as 5 ms); the rest is passed on.
    expect(fromUrl.url).toBe('postgres://kapkit:s3cret@db:5432/clinic?application_name=clinic');
    expect(
      postgresSettings('postgres://k@db/c?options=-c%20statement_timeout%3D2500').statementTimeoutMs,
    ).toBe(2500);
    expect(postgresSettings('postgres://k@db/c?options=--statement_timeout=1min').statementTimeoutMs).toBe(
      60_000,
    );
    expect(
      postgresSettings('postgres://k@db/c?options=-c%20idle_in_transaction_session_timeout%3D0')
        .urlSetsIdleInTransaction,
    ).toBe(true);
    // openStore's options win over the URL.
    expect(
      postgresSettings(url, { statementTimeoutMs: 0, connectTimeoutMs: 1500, keepAlive: true }),
    ).toMatchObject({
      statementTimeoutMs: 0,
      connectTimeoutMs: 1500,
      keepAlive: true,
    });
  });

  it('refuses malformed limits with StoreConfigError', () => {
    expect(() => postgresSettings('postgres://k@db/c?statement_timeout=soon')).toThrow(StoreConfigError);
    expect(() => postgresSettings('postgres://k@db/c?connect_timeout=2.5')).toThrow(
      /whole number of seconds/,
    );
    expect(() => postgresSettings('postgres://k@db/c?keepalives=yes')).toThrow(/0 or 1/);
    expect(() => postgresSettings('postgres://k@db/c', { statementTimeoutMs: -1 })).toThrow(StoreConfigError);
  });
});
