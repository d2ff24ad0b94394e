import { afterEach, describe, expect, it } from 'vitest';
import { StoreConfigError, StoreDatabaseError } from '../src/errors.js';
import { openStore, redactUrl } from '../src/open.js';
import { internalDb } from '../src/store.js';
import { ENGINES, PG_URL, requireEngine } from './helpers.js';

/** How openStore picks an engine and checks its options (the engines themselves: event-store.test.ts). */

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
});
