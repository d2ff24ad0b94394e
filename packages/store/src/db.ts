import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';
import { type CommitOutcome, sqlStateOf } from './errors.js';

/**
 * The tiny database adapter the store is written against: the same SQL text runs on embedded PGlite and on a
 * PostgreSQL server. Rows come back as plain objects; `int8` columns may arrive as string, bigint or number
 * depending on the driver, so callers convert with `Number()`.
 */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface TransactionOptions {
  /** A consistent, read-only snapshot (REPEATABLE READ READ ONLY): every statement sees the same data. */
  readonly snapshot?: boolean;
}

export interface Db extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Run `fn` in one transaction (BEGIN … COMMIT; ROLLBACK when it throws, and rethrow). */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Close the connection(s), waiting at most `timeoutMs` (PostgreSQL: then the sockets are destroyed;
   * PGlite: a {@link DbFault} of phase `close` is thrown and the instance is left as it is).
   */
  close(timeoutMs: number): Promise<void>;
}

/**
 * A failure of the connection rather than of the SQL (the PostgreSQL adapter raises it; the store turns it
 * into a typed `KapkitError`). `broken` says the connection was discarded; `outcome` whether a COMMIT may
 * have happened.
 */
export class DbFault extends Error {
  readonly kind: 'connection-lost' | 'timeout';
  readonly phase: 'connect' | 'statement' | 'close';
  readonly timeoutMs: number;
  readonly broken: boolean;
  outcome: CommitOutcome = 'not-committed';
  constructor(
    kind: DbFault['kind'],
    phase: DbFault['phase'],
    options: { timeoutMs?: number; broken?: boolean; cause?: unknown } = {},
  ) {
    const cause = options.cause;
    super(
      kind === 'timeout'
        ? `${phase} timed out after ${options.timeoutMs} ms`
        : cause instanceof Error
          ? cause.message
          : 'connection lost',
      { cause },
    );
    this.name = 'DbFault';
    this.kind = kind;
    this.phase = phase;
    this.timeoutMs = options.timeoutMs ?? 0;
    this.broken = options.broken ?? true;
  }
}

/** Resolve true when `p` settles within `ms` (0: wait as long as it takes), false otherwise. */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = p.then(
    () => true,
    () => true,
  );
  if (ms <= 0) return settled;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    settled.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** PGlite (WASM PostgreSQL, one connection) on a directory; `amcheck` loads PostgreSQL's amcheck extension. */
export async function openPgliteDb(pgdataDir: string, options: { amcheck?: boolean } = {}): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const extensions = options.amcheck
    ? { amcheck: (await import('@electric-sql/pglite/contrib/amcheck')).amcheck }
    : undefined;
  return pgliteDb(await PGlite.create(pgdataDir, extensions ? { extensions } : {}), true);
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
    transaction(fn, options) {
      return pg.transaction(async (tx) => {
        if (options?.snapshot) await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        return fn({
          async query(text, params) {
            const r = await tx.query(text, params as unknown[] | undefined);
            return r.rows as never;
          },
        });
      });
    },
    close: async (timeoutMs) => {
      if (!owns) return;
      if (!(await settlesWithin(pg.close(), timeoutMs))) {
        throw new DbFault('timeout', 'close', { timeoutMs, broken: false });
      }
    },
  };
}

/** Connection settings of the PostgreSQL adapter (see `postgresSettings` in open.ts). */
export interface PostgresSettings {
  /** The connection URL, without the parameters the store applies itself. */
  readonly url: string;
  readonly max: number;
  /** 0: no limit. */
  readonly connectTimeoutMs: number;
  /** 0: no limit. */
  readonly statementTimeoutMs: number;
  readonly keepAlive: boolean;
  readonly keepAliveInitialDelayMs: number;
  /** The URL sets `idle_in_transaction_session_timeout` itself. */
  readonly urlSetsIdleInTransaction: boolean;
}

/** Error codes (errno) of a socket that failed or was reset. */
const SOCKET_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * Whether a driver error means the connection is gone (rather than the SQL failing): a socket error, the
 * driver's "Connection terminated", or a server message that it is closing the connection (class 08,
 * 57P01 admin shutdown / pg_terminate_backend, 57P02 crash shutdown, 57P03 starting up).
 */
function isConnectionError(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state !== undefined) return state.startsWith('08') || /^57P0[123]$/.test(state);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SOCKET_ERRORS.has(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /Connection terminated|connection error|not queryable|socket|ECONNRESET|EPIPE|ECONNREFUSED/i.test(
    message,
  );
}

/** Destroy a pg client's socket (used only by a `close` that ran out of time). */
function destroySocket(client: unknown): void {
  const stream = (client as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
  stream?.destroy?.();
}

/**
 * The node-postgres pool of `openPostgresDb`, with the clients it has created (for `close` to destroy the
 * sockets of those that hang), the ones whose connection failed (`broken`: discarded on release), and a
 * promise that every client is gone.
 */
async function trackedPool(settings: PostgresSettings) {
  const mod = await import('pg');
  // ESM gets the CommonJS module as `default`; the CJS build gets it directly.
  const pg = (mod as unknown as { default?: typeof mod }).default ?? mod;
  const statementMs = settings.statementTimeoutMs;
  const pool: Pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.max,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    keepAlive: settings.keepAlive,
    keepAliveInitialDelayMillis: settings.keepAliveInitialDelayMs,
    application_name: 'kapkit-store', // the URL's application_name wins
    ...(statementMs > 0 ? { statement_timeout: statementMs } : {}),
    // A client that stops in the middle of a transaction (a paused VM, a stopped process) would hold the
    // store's append lock forever: the server ends such a session after twice the statement limit.
    ...(statementMs > 0 && !settings.urlSetsIdleInTransaction
      ? { idle_in_transaction_session_timeout: 2 * statementMs }
      : {}),
  });
  const clients = new Set<PoolClient>();
  const broken = new WeakMap<PoolClient, Error>();
  // An idle client that loses its connection is removed by the pool, which then emits 'error' on itself.
  pool.on('error', () => {});
  pool.on('connect', (client: PoolClient) => {
    clients.add(client);
    // For the client's whole life, checked out or not: a lost connection marks it broken instead of
    // crashing the process; the statement in progress fails with the error and the client is discarded.
    client.on('error', (error: Error) => {
      broken.set(client, error);
    });
  });
  let removed: (() => void) | null = null;
  pool.on('remove', (client: PoolClient) => {
    clients.delete(client);
    if (clients.size === 0) removed?.();
  });
  const allRemoved = () =>
    clients.size === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          removed = resolve;
        });
  return { pool, clients, broken, allRemoved };
}

/**
 * A node-postgres pool on a PostgreSQL server, hardened against the server failing:
 *
 * - every client the pool creates gets an `'error'` listener for its whole life (node-postgres only listens
 *   on idle clients, so a checked-out client whose connection dies would otherwise crash the process:
 *   brianc/node-postgres#1324), and a client that failed is released with the error, which discards it;
 * - every statement has a client-side deadline (`statementTimeoutMs`, also sent to the server as
 *   `statement_timeout`), so a frozen server or a silent network gives a timeout instead of a wait forever;
 *   getting a connection is bounded by `connectTimeoutMs`; TCP keep-alive is on;
 * - a connection lost or timed out after COMMIT was sent is reported with outcome `'unknown'`.
 */
export async function openPostgresDb(settings: PostgresSettings): Promise<Db> {
  const statementMs = settings.statementTimeoutMs;
  const { pool, clients, broken, allRemoved } = await trackedPool(settings);

  const acquire = async (): Promise<PoolClient> => {
    try {
      return await pool.connect();
    } catch (error) {
      if (/timeout/i.test(error instanceof Error ? error.message : '')) {
        throw new DbFault('timeout', 'connect', { timeoutMs: settings.connectTimeoutMs, cause: error });
      }
      if (isConnectionError(error)) throw new DbFault('connection-lost', 'connect', { cause: error });
      throw error; // e.g. authentication failed, no such database: not a fault of the connection
    }
  };

  const fault = (client: PoolClient, error: unknown): unknown => {
    if (error instanceof DbFault) return error;
    if (broken.has(client) || isConnectionError(error)) {
      if (!broken.has(client)) broken.set(client, error as Error);
      return new DbFault('connection-lost', 'statement', { cause: error });
    }
    // The server cancelled the statement at its statement_timeout: the connection is fine.
    if (sqlStateOf(error) === '57014' && /statement timeout/i.test((error as Error).message)) {
      return new DbFault('timeout', 'statement', { timeoutMs: statementMs, broken: false, cause: error });
    }
    return error;
  };

  const run = <R>(client: PoolClient, text: string, params?: readonly unknown[]): Promise<R[]> => {
    const q = client.query(text, params as unknown[] | undefined);
    return new Promise<R[]>((resolve, reject) => {
      const timer =
        statementMs > 0
          ? setTimeout(() => {
              const f = new DbFault('timeout', 'statement', { timeoutMs: statementMs });
              broken.set(client, f); // the statement may still be running: the connection must go
              reject(f);
            }, statementMs)
          : undefined;
      q.then(
        (r) => {
          clearTimeout(timer);
          resolve(r.rows as R[]);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(fault(client, error));
        },
      );
    });
  };

  /** Give a client back to the pool; a broken one is released with its error, which discards it. */
  const release = (client: PoolClient, failure?: unknown) => {
    const error = broken.get(client) ?? (failure instanceof DbFault && failure.broken ? failure : undefined);
    client.release(error ?? undefined);
  };

  return {
    engine: 'postgres',
    async query(text, params) {
      const client = await acquire();
      let failure: unknown;
      try {
        return await run(client, text, params);
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        release(client, failure);
      }
    },
    async transaction(fn, options) {
      const client = await acquire();
      let failure: unknown;
      try {
        await run(client, options?.snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
        let result: Awaited<ReturnType<typeof fn>>;
        try {
          result = await fn({ query: (text, params) => run(client, text, params) });
        } catch (error) {
          if (!broken.has(client) && !(error instanceof DbFault && error.broken)) {
            try {
              await run(client, 'ROLLBACK');
            } catch (rollbackError) {
              broken.set(client, rollbackError as Error); // the connection is unusable: drop it
            }
          }
          throw error;
        }
        try {
          await run(client, 'COMMIT');
        } catch (error) {
          // COMMIT was sent: if the connection died or the server went silent, it may have committed.
          if (error instanceof DbFault && error.broken) error.outcome = 'unknown';
          throw error;
        }
        return result;
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        release(client, failure);
      }
    },
    async close(timeoutMs) {
      const started = performance.now();
      const ended = pool.end();
      if (!(await settlesWithin(ended, timeoutMs))) {
        // Operations are stuck on a server that does not answer: drop their sockets (they fail, typed).
        for (const client of clients) destroySocket(client);
        await settlesWithin(ended, 2000);
      }
      // The pool is done once no client is checked out, but a closing socket waits for the server's
      // goodbye, and a frozen server never sends it (the open socket would keep the process alive).
      const left = timeoutMs > 0 ? Math.max(1, timeoutMs - (performance.now() - started)) : 0;
      if (!(await settlesWithin(allRemoved(), left > 0 ? Math.min(left, 2000) : 2000))) {
        for (const client of clients) destroySocket(client);
      }
    },
  };
}
