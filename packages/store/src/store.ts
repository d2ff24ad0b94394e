import { EPISODE_MACHINE_VERSION, type EpisodeEventInput, type EpisodeModel } from '@kapkit/core';
import {
  type AppendCall,
  appendCall,
  type BatchWrite,
  batchWrite,
  checkBatch,
  classifyStoredIds,
  type Decided,
  decideBatch,
} from './batch.js';
import { type Db, DbFault, type Queryable, settlesWithin, type TransactionOptions } from './db.js';
import {
  ConcurrencyError,
  DiskFullError,
  EventRefusedError,
  InvalidArgumentError,
  StoreClosedError,
  StoreDamagedError,
  StoreDatabaseError,
  sqlStateOf,
} from './errors.js';
import { toStoreError } from './faults.js';
import { PositionCheck, quickCheck } from './integrity.js';
import type { DirectoryLock } from './lock.js';
import { type LoadContext, type LoadedState, loadState } from './replay.js';
import { type CachedState, checkId, type EventRow, type SnapshotRow, toStored } from './rows.js';
import { checkReview, type SignalRow, signalToKeep, toSignal } from './safety-signals.js';
import { readMeta, readSchemaVersion, type StoreMeta, type Tables } from './schema.js';
import { type Statements, statements } from './statements.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  LoadedEpisode,
  SafetySignalFilter,
  SafetySignalReview,
  StoredEvent,
  StoredSafetySignal,
  StreamOptions,
} from './store-types.js';

/** What `openStore` settles before it builds the store. */
export interface StoreSettings {
  readonly model: EpisodeModel;
  /** The store's clock, epoch ms: appended events are checked against it (`future-event`). */
  readonly clock: () => number;
  readonly maxEventBytes: number;
  readonly snapshotEvery: number;
  readonly stateCacheSize: number;
  /** 0: wait as long as it takes. */
  readonly closeTimeoutMs: number;
  /** PGlite: the directory whose file system must keep `minFreeDiskBytes` free (null: not checked). */
  readonly diskDir: string | null;
  readonly minFreeDiskBytes: number;
  readonly freeDiskBytes: (directory: string) => Promise<number>;
}

/** The store over a {@link Db}. Use `openStore`. */
export class SqlEventStore implements EventStore {
  readonly engine: 'pglite' | 'postgres';
  readonly location: string;
  readonly schema: string;
  readonly recoveredStaleLock: boolean;
  readonly #db: Db;
  readonly #t: Tables;
  readonly #settings: StoreSettings;
  readonly #lock: DirectoryLock | null;
  readonly #cache = new Map<string, CachedState>();
  readonly #pending = new Set<Promise<unknown>>();
  #closed: Promise<void> | null = null;
  readonly #sql: Statements;
  readonly #loadContext: LoadContext;

  constructor(db: Db, tables: Tables, settings: StoreSettings, location: string, lock: DirectoryLock | null) {
    this.#db = db;
    this.#t = tables;
    this.#settings = settings;
    this.#lock = lock;
    this.engine = db.engine;
    this.location = location;
    this.schema = tables.schema;
    this.recoveredStaleLock = lock?.recoveredStale ?? false;
    this.#sql = statements(tables);
    this.#loadContext = {
      model: settings.model,
      sql: this.#sql,
      damaged: (problems) => this.damaged(problems),
    };
  }

  /** Internal: the adapter (tests and tools use it through `internalDb`). */
  get db(): Db {
    return this.#db;
  }

  /** Internal: the store's tables. */
  get tables(): Tables {
    return this.#t;
  }

  /** Internal: the episode model. */
  get model(): EpisodeModel {
    return this.#settings.model;
  }

  /** Internal: a damage report for this store. */
  damaged(problems: readonly string[]): StoreDamagedError {
    return new StoreDamagedError(this.location, problems);
  }

  /** Internal: run `fn` as a store operation (typed errors, tracked for `close`). */
  operation<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.#run(name, fn);
  }

  /** Internal: a store operation on the database (for the stores kept beside the events). */
  withDb<T>(name: string, fn: (db: Queryable) => Promise<T>): Promise<T> {
    return this.#run(name, () => fn(this.#db));
  }

  /** Internal: a store operation in one transaction. */
  inTransaction<T>(
    name: string,
    fn: (tx: Queryable) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T> {
    return this.#run(name, () => this.#db.transaction(fn, options));
  }

  /**
   * The cheap integrity check (see `quickCheck`): throws {@link StoreDamagedError} when the events table
   * does not hold what the store recorded committing.
   */
  verify(): Promise<void> {
    return this.#run('checking the store', async () => {
      let problems: string[];
      try {
        problems = await quickCheck(this.#db, this.#t);
      } catch (error) {
        const typed = toStoreError('checking the store', error, this.location);
        if (typed instanceof StoreDatabaseError && !typed.connectionLost && this.engine === 'pglite') {
          // PGlite cannot read its own tables: nothing but the files can be wrong.
          throw this.damaged([typed.message]);
        }
        throw typed;
      }
      if (problems.length > 0) throw this.damaged(problems);
    });
  }

  /** The meta row, or a damage report when it is missing. */
  async readMeta(q: Queryable): Promise<StoreMeta> {
    const meta = await readMeta(q, this.#t);
    if (!meta) {
      throw this.damaged(['the kapkit_meta row, which records how many events were committed, is missing']);
    }
    return meta;
  }

  /**
   * PGlite: refuse to write when the data directory's file system is short of space. PGlite 0.5 can spin
   * forever at 100 % CPU, never returning, when the disk fills while it zero-fills a new 16 MB WAL segment
   * (with a little more room it fails cleanly with SQLSTATE 53100): the margin keeps it away from that.
   */
  async #ensureDiskSpace(): Promise<void> {
    const short = await this.#diskShortage();
    if (short) throw new DiskFullError(this.location, short.free, this.#settings.minFreeDiskBytes);
  }

  async #diskShortage(): Promise<{ free: number } | null> {
    const { diskDir, minFreeDiskBytes, freeDiskBytes } = this.#settings;
    if (diskDir === null || minFreeDiskBytes <= 0) return null;
    const free = await freeDiskBytes(diskDir);
    return free < minFreeDiskBytes ? { free } : null;
  }

  append(
    episodeId: string,
    events: readonly EpisodeEventInput[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    return this.#run('append', async () => {
      checkId('episodeId', episodeId);
      if (!Array.isArray(events)) throw new InvalidArgumentError('events', 'expected an array of events');
      const expected = options?.expectedVersion;
      if (expected !== 'any' && !(Number.isSafeInteger(expected) && (expected as number) >= 0)) {
        throw new InvalidArgumentError(
          'expectedVersion',
          `expected an integer ≥ 0 (0 for a new episode) or 'any', got ${String(expected)}`,
        );
      }
      const input = events as readonly unknown[];
      const wrongEpisode = checkBatch(episodeId, input, this.#settings.maxEventBytes, this.#settings.model);
      if (wrongEpisode !== null) {
        await this.#keepSignal(episodeId, input[wrongEpisode.index], wrongEpisode);
        throw wrongEpisode;
      }
      await this.#ensureDiskSpace();
      try {
        try {
          return await this.#appendOnce(episodeId, input, expected);
        } catch (error) {
          // Two appends to different episodes raced for the same new event id: the loser's INSERT hit the
          // unique index. Run it again: it now sees the stored event and reports a duplicate or a conflict.
          if (sqlStateOf(error) === '23505' && constraintOf(error) === 'kapkit_events_event_id_key') {
            return await this.#appendOnce(episodeId, input, expected);
          }
          throw error;
        }
      } catch (error) {
        if (error instanceof EventRefusedError) await this.#keepSignal(episodeId, input[error.index], error);
        throw error;
      }
    });
  }

  /**
   * A refused event that carries a positive safety signal: keep the signal (and only that, with the ids that
   * say whose it is, and who recorded it) in its own transaction, so it is never lost with the refused
   * batch. Idempotent.
   */
  async #keepSignal(episodeId: string, event: unknown, error: EventRefusedError): Promise<void> {
    const row = signalToKeep(
      episodeId,
      event,
      error.refusal,
      () => this.#cache.get(episodeId)?.state.context.patientId ?? null,
    );
    if (row === null) return;
    await this.#db.query(this.#sql.insertSignal, row.params);
    error.safetySignalId = row.id;
  }

  safetySignals(filter: SafetySignalFilter = {}): Promise<StoredSafetySignal[]> {
    return this.#run('safetySignals', async () => {
      if (filter.patientId !== undefined) checkId('patientId', filter.patientId);
      if (filter.episodeId !== undefined) checkId('episodeId', filter.episodeId);
      const rows = await this.#db.query<SignalRow>(this.#sql.readSignals, [
        filter.patientId ?? null,
        filter.episodeId ?? null,
        filter.unreviewed === true,
      ]);
      return rows.map(toSignal);
    });
  }

  reviewSafetySignal(id: string, review: SafetySignalReview): Promise<StoredSafetySignal> {
    return this.#run('reviewSafetySignal', async () => {
      checkId('id', id);
      checkReview(review);
      return this.#db.transaction(async (tx) => {
        const found = await tx.query<SignalRow>(this.#sql.readSignal, [id]);
        const row = found[0];
        if (!row) throw new InvalidArgumentError('id', `no safety signal "${id}" in this store`);
        if (row.review_outcome !== null) {
          throw new InvalidArgumentError('id', `safety signal "${id}" was already reviewed`);
        }
        await tx.query(this.#sql.insertReview, [
          id,
          review.outcome,
          review.reviewedBy,
          review.actorId ?? null,
          review.at,
        ]);
        const again = await tx.query<SignalRow>(this.#sql.readSignal, [id]);
        return toSignal(again[0]!);
      });
    });
  }

  /**
   * One attempt at an append, in one transaction. The batch is decided first on this process's state of the
   * episode (its cached state; the initial state for an episode it does not know when the caller expects a
   * new one) and sent with the append function, which writes it only if that state is the episode's head
   * (same version, none of the ids stored): the usual case costs one statement. Otherwise the function
   * wrote nothing and returned the head, under the episode's lock (held until COMMIT): the batch is then
   * checked (idempotency, expected version) and decided again on the current state, and written by a
   * second call.
   */
  async #appendOnce(
    episodeId: string,
    events: readonly unknown[],
    expected: number | 'any',
  ): Promise<AppendResult> {
    const { model } = this.#settings;
    const now = this.#settings.clock();
    const ids = events
      .map((e) => (e as { id?: unknown } | null)?.id)
      .filter((id): id is string => typeof id === 'string');
    const cached = this.#cache.get(episodeId);
    const guess: CachedState | undefined =
      cached ??
      (expected === 0 || expected === 'any'
        ? { version: 0, state: model.initial, snapshotVersion: 0 }
        : undefined);
    const early =
      guess && events.length > 0 && (expected === 'any' || expected === guess.version)
        ? decideBatch(model, guess.state, events, now)
        : null;
    let firstWrite = guess && early?.refused === null ? this.#batchWrite(guess, early) : null;
    if (firstWrite && this.#db.engine === 'pglite') {
      // PGlite: the call alone, without BEGIN and COMMIT (one statement is its own transaction, and with no
      // connection to lose its outcome is always known). A PostgreSQL client that loses its connection
      // after sending it could not tell whether it committed: there the explicit COMMIT says.
      const call = await this.#callAppend(this.#db, episodeId, guess!.version, ids, firstWrite, false);
      if (call.written) {
        this.#remember(episodeId, firstWrite.after);
        return call.result;
      }
      firstWrite = null; // not the head: read it under the lock, in the transaction
    }
    let committed: CachedState | null = null;
    const result = await this.#db.transaction(async (tx): Promise<AppendResult> => {
      const head = await this.#callAppend(tx, episodeId, guess?.version ?? 0, ids, firstWrite, !cached);
      if (head.written) {
        committed = firstWrite!.after;
        return head.result;
      }
      if (head.stored.length > 0) return classifyStoredIds(episodeId, events, head.stored, model);
      const current = head.version;
      if (expected !== 'any' && expected !== current) {
        throw new ConcurrencyError(episodeId, expected, current);
      }
      if (events.length === 0) return { status: 'appended', version: current, events: [] };
      const loaded =
        guess && guess.version === current && (cached || current === 0)
          ? guess
          : await this.#load(tx, episodeId, current, cached ? undefined : head.snapshot);
      const decided =
        early !== null && guess && loaded.state === guess.state
          ? early
          : decideBatch(model, loaded.state, events, now);
      if (decided.refused !== null) {
        throw new EventRefusedError(episodeId, decided.refused.refusal, decided.refused.index);
      }
      const write = this.#batchWrite({ ...loaded, version: current }, decided);
      const done = await this.#callAppend(tx, episodeId, current, ids, write, false);
      if (done.written) {
        committed = write.after;
        return done.result;
      }
      // Under the episode's lock its version cannot move; another episode may have stored one of the ids.
      if (done.stored.length > 0) return classifyStoredIds(episodeId, events, done.stored, model);
      throw this.damaged([`episode "${episodeId}" changed while its append held the episode's lock`]);
    });
    // Only after COMMIT: a rolled-back state must never be cached.
    if (committed) this.#remember(episodeId, committed);
    return result;
  }

  /** What an append of `decided` on `from` writes (see {@link batchWrite}). */
  #batchWrite(from: CachedState, decided: Decided): BatchWrite {
    return batchWrite(this.#settings.model, this.#settings.snapshotEvery, from, decided);
  }

  /**
   * Call the append function: it takes the episode's lock and, when `write` is given and the episode is at
   * `version` with none of `ids` stored, writes it (positions under the append lock, held until COMMIT).
   */
  async #callAppend(
    tx: Queryable,
    episodeId: string,
    version: number,
    ids: readonly string[],
    write: BatchWrite | null,
    readSnapshot: boolean,
  ): Promise<AppendCall> {
    const [row] = await tx.query<{ result: unknown }>(this.#sql.append, [
      episodeId,
      version,
      ids,
      write?.events ?? null,
      write?.snapshot ?? null,
      EPISODE_MACHINE_VERSION,
      readSnapshot,
    ]);
    const call = appendCall(row?.result, write, episodeId, version);
    if (call === 'meta-missing') {
      throw this.damaged([
        'the kapkit_meta row, which hands out positions and counts the events committed, is missing',
      ]);
    }
    return call;
  }

  /** The episode state at `current` (see {@link loadState}), from this process's cache when it has it. */
  #load(
    q: Queryable,
    episodeId: string,
    current: number,
    prefetched?: SnapshotRow | null,
  ): Promise<LoadedState> {
    return loadState(this.#loadContext, q, episodeId, current, this.#cache.get(episodeId), prefetched);
  }

  #remember(episodeId: string, entry: CachedState): void {
    const size = this.#settings.stateCacheSize;
    if (size <= 0) return;
    this.#cache.delete(episodeId);
    this.#cache.set(episodeId, entry);
    if (this.#cache.size > size) this.#cache.delete(this.#cache.keys().next().value!);
  }

  loadEpisode(episodeId: string): Promise<LoadedEpisode> {
    return this.#run('loadEpisode', async () => {
      checkId('episodeId', episodeId);
      const { model, snapshotEvery } = this.#settings;
      const current = await currentVersion(this.#db, this.#sql, episodeId);
      const loaded = await this.#load(this.#db, episodeId, current);
      let snapshotVersion = loaded.snapshotVersion;
      if (
        loaded.version > 0 &&
        (loaded.snapshotStale || loaded.version - loaded.snapshotVersion >= snapshotEvery) &&
        // The snapshot is a cache: on a disk short of space, skip writing it and keep reads working.
        !(await this.#diskShortage())
      ) {
        // Rebuilt by replay: write the snapshot back (a newer machine's snapshot is never overwritten).
        await this.#db.query(this.#sql.upsertSnapshot, [
          episodeId,
          loaded.version,
          EPISODE_MACHINE_VERSION,
          JSON.stringify(model.persist(loaded.state).snapshot),
        ]);
        snapshotVersion = loaded.version;
      }
      this.#remember(episodeId, { version: loaded.version, state: loaded.state, snapshotVersion });
      return {
        state: loaded.state,
        version: loaded.version,
        source: loaded.source,
        replayed: loaded.replayed,
      };
    });
  }

  version(episodeId: string): Promise<number> {
    return this.#run('version', async () => {
      checkId('episodeId', episodeId);
      return currentVersion(this.#db, this.#sql, episodeId);
    });
  }

  readEpisode(episodeId: string, options: { readonly fromVersion?: number } = {}): Promise<StoredEvent[]> {
    return this.#run('readEpisode', async () => {
      checkId('episodeId', episodeId);
      const from = options.fromVersion ?? 1;
      if (!Number.isSafeInteger(from) || from < 1) {
        throw new InvalidArgumentError('fromVersion', 'expected an integer ≥ 1');
      }
      const rows = await this.#db.query<EventRow>(this.#sql.readEpisode, [episodeId, from]);
      const stored = rows.map(toStored);
      stored.forEach((e, i) => {
        if (e.version !== from + i) {
          throw this.damaged([
            `episode "${episodeId}": version ${from + i} is missing (the next stored version is ${e.version})`,
          ]);
        }
      });
      return stored;
    });
  }

  readPatient(patientId: string): Promise<StoredEvent[]> {
    return this.#run('readPatient', async () => {
      checkId('patientId', patientId);
      const rows = await this.#db.query<EventRow>(this.#sql.readPatient, [patientId]);
      const stored = rows.map(toStored);
      // Each of the patient's episodes is read whole, in commit order: its versions must run 1, 2, 3, …
      const next = new Map<string, number>();
      for (const e of stored) {
        const expected = next.get(e.episodeId) ?? 1;
        if (e.version !== expected) {
          throw this.damaged([
            `episode "${e.episodeId}": version ${expected} is missing (the next stored version is ${e.version})`,
          ]);
        }
        next.set(e.episodeId, expected + 1);
      }
      return stored;
    });
  }

  streamAll(options: StreamOptions = {}): AsyncIterable<StoredEvent> {
    const batchSize = options.batchSize ?? 500;
    const fromPosition = options.fromPosition ?? 0;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
      throw new InvalidArgumentError('batchSize', 'expected an integer from 1 to 100000');
    }
    if (!Number.isSafeInteger(fromPosition) || fromPosition < 0) {
      throw new InvalidArgumentError('fromPosition', 'expected an integer ≥ 0');
    }
    const page = (after: number) =>
      this.#run('streamAll', () => this.#db.query<EventRow>(this.#sql.page, [after, batchSize]));
    const start = () => this.#run('streamAll', () => this.readMeta(this.#db));
    const damaged = (problem: string) => this.damaged([`streamAll: ${problem}`]);
    return {
      async *[Symbol.asyncIterator]() {
        // What the store had committed when the stream started: every position up to it must be read.
        const check = new PositionCheck(await start(), fromPosition);
        let cursor = fromPosition;
        for (;;) {
          const rows = await page(cursor);
          for (const row of rows) {
            const problem = check.see(Number(row.position));
            if (problem) throw damaged(problem);
            yield toStored(row);
          }
          if (rows.length < batchSize) {
            const problem = check.finish();
            if (problem) throw damaged(problem);
            return;
          }
          cursor = Number(rows[rows.length - 1]!.position);
        }
      },
    };
  }

  schemaVersion(): Promise<number> {
    return this.#run('schemaVersion', () => readSchemaVersion(this.#db, this.#t));
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      const limit = this.#settings.closeTimeoutMs;
      const started = performance.now();
      await settlesWithin(Promise.allSettled([...this.#pending]), limit);
      const left = limit > 0 ? Math.max(1, Math.round(limit - (performance.now() - started))) : 0;
      try {
        await this.#db.close(left);
      } catch (error) {
        // PGlite still busy: it keeps the directory, so the lock stays (another process must not open it).
        if (!(error instanceof DbFault && error.phase === 'close')) this.#lock?.release();
        throw toStoreError('close', error, this.location);
      }
      this.#lock?.release();
    })();
    return this.#closed;
  }

  /** Run an operation: refuse it once closed, track it for `close`, and type the driver's errors. */
  #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreClosedError());
    const p = (async () => {
      try {
        return await fn();
      } catch (error) {
        throw toStoreError(operation, error, this.location);
      }
    })();
    this.#pending.add(p);
    const done = () => this.#pending.delete(p);
    p.then(done, done);
    return p;
  }
}

function constraintOf(error: unknown): string | undefined {
  const c = (error as { constraint?: unknown } | null)?.constraint;
  return typeof c === 'string' ? c : undefined;
}

async function currentVersion(q: Queryable, sql: Statements, episodeId: string): Promise<number> {
  const [row] = await q.query<{ version: unknown }>(sql.currentVersion, [episodeId]);
  return Number(row?.version ?? 0);
}

/** Internal: the database adapter under a store opened by `openStore` (for tests and tooling). */
export function internalDb(store: EventStore): Db {
  return (store as SqlEventStore).db;
}
