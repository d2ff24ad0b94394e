import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

/**
 * The tiny database adapter the store is written against: the same SQL text runs on embedded PGlite and on a
 * PostgreSQL server. Rows come back as plain objects; `int8` columns may arrive as string, bigint or number
 * depending on the driver, so callers convert with `Number()`.
 */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Db extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Run `fn` in one transaction (BEGIN … COMMIT; ROLLBACK when it throws, and rethrow). */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PGlite (WASM PostgreSQL, one connection) on a directory. */
export async function openPgliteDb(pgdataDir: string): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  return pgliteDb(await PGlite.create(pgdataDir), true);
}

/** A PGlite instance as a {@link Db}; `close` closes it only when the store `owns` it. */
export function pgliteDb(pg: PGlite, owns: boolean): Db {
  return {
    engine: 'pglite',
    async query(text, params) {
      const r = await pg.query(text, params as unknown[] | undefined);
      return r.rows as never;
    },
    // PGlite runs one transaction at a time on its single connection: concurrent callers queue here.
    transaction(fn) {
      return pg.transaction((tx) =>
        fn({
          async query(text, params) {
            const r = await tx.query(text, params as unknown[] | undefined);
            return r.rows as never;
          },
        }),
      );
    },
    close: async () => {
      if (owns) await pg.close();
    },
  };
}

/** A node-postgres pool on a PostgreSQL server. */
export async function openPostgresDb(url: string, options: { max?: number } = {}): Promise<Db> {
  const mod = await import('pg');
  // ESM gets the CommonJS module as `default`; the CJS build gets it directly.
  const pg = (mod as unknown as { default?: typeof mod }).default ?? mod;
  const pool: Pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client that loses its connection emits 'error' on the pool; without a listener Node would crash.
  // The next query gets a fresh connection and reports its own error.
  pool.on('error', () => {});
  return {
    engine: 'postgres',
    async query(text, params) {
      const r = await pool.query(text, params as unknown[] | undefined);
      return r.rows as never;
    },
    async transaction(fn) {
      const client: PoolClient = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query(text, params) {
            const r = await client.query(text, params as unknown[] | undefined);
            return r.rows as never;
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is unusable: drop it from the pool
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
