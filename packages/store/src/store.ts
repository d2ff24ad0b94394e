import { createHash } from 'node:crypto';
import {
  EPISODE_MACHINE_VERSION,
  type EpisodeEvent,
  type EpisodeEventInput,
  type EpisodeModel,
  type EpisodeState,
  parseEvent,
  type Refusal,
  refusal,
  type SafetySignal,
  safetySignalsOf,
  safetyText,
} from '@kapkit/core';
import { type Db, DbFault, type Queryable, settlesWithin } from './db.js';
import {
  ConcurrencyError,
  DiskFullError,
  type EventIdConflict,
  EventIdConflictError,
  EventRefusedError,
  InvalidArgumentError,
  PayloadTooLargeError,
  StoreClosedError,
  StoreDamagedError,
  StoreDatabaseError,
  StoredEventRefusedError,
  sqlStateOf,
} from './errors.js';
import { toStoreError } from './faults.js';
import { PositionCheck, quickCheck } from './integrity.js';
import type { DirectoryLock } from './lock.js';
import { LOCK_CLASS, readMeta, readSchemaVersion, type StoreMeta, type Tables } from './schema.js';

/** One event as stored: the event, its place in the episode (`version`) and in the whole store (`position`). */
export interface StoredEvent {
  /**
   * Global position, increasing in commit order across the whole store. Contiguous (each append takes the
   * positions after the last one, in its transaction): a gap means lost events, and readers fail on it. A
   * store created before schema version 2 keeps the gaps its older positions have.
   */
  readonly position: number;
  readonly episodeId: string;
  /** 1-based position of the event in its episode: versions are contiguous, 1..n. */
  readonly version: number;
  /**
   * When the store committed it (ISO 8601, UTC): the store's own clock. `event.at` is when it happened and
   * `event.recordedAt` when its writer wrote it.
   */
  readonly committedAt: string;
  /** The event as the episode machine accepted it (schema defaults applied). */
  readonly event: EpisodeEvent;
}

/** What `append` did. */
export type AppendResult =
  /** The events were checked by the episode machine and stored; `version` is the episode's new version. */
  | {
      readonly status: 'appended';
      readonly version: number;
      readonly events: readonly StoredEvent[];
    }
  /**
   * Every event of the batch was already stored, with the same content: a retry of an append that succeeded.
   * Nothing was written; `version` is the episode version that append produced (its last event's version).
   */
  | { readonly status: 'duplicate'; readonly version: number };

export interface AppendOptions {
  /**
   * The episode version the caller decided on (0 for a new episode): optimistic concurrency. If the episode
   * is at another version the append throws {@link ConcurrencyError} and writes nothing. `'any'` skips the
   * check (the machine still checks every event against the current state).
   */
  readonly expectedVersion: number | 'any';
}

/** An episode's state, rebuilt from the snapshot cache and/or by replaying its events. */
export interface LoadedEpisode {
  /** The episode machine's state after `version` events (the initial state for an unknown episode). */
  readonly state: EpisodeState;
  /** Number of stored events of the episode (0 for an unknown episode). */
  readonly version: number;
  /**
   * Where the state came from: this process's state cache, the snapshot table, or a full replay (no usable
   * snapshot: none yet, another machine version, or unreadable). Events after it are replayed in any case.
   */
  readonly source: 'cache' | 'snapshot' | 'replay';
  /** Events replayed through the machine on top of the source. */
  readonly replayed: number;
}

export interface StreamOptions {
  /** Start after this position (exclusive): pass the last position you processed. Default 0 (everything). */
  readonly fromPosition?: number;
  /** Events fetched per query (default 500). Memory use is bounded by one page. */
  readonly batchSize?: number;
}

/**
 * The durable event store of KAP episodes. Every event is checked by the episode machine before it is
 * stored; appends are atomic, idempotent on event ids, and guarded by an expected version.
 */
export interface EventStore {
  /** `'pglite'` (embedded, one process) or `'postgres'` (a server, many processes). */
  readonly engine: 'pglite' | 'postgres';
  /** The data directory (PGlite) or the server URL without its password (PostgreSQL). */
  readonly location: string;
  /** The PostgreSQL schema holding the store's tables. */
  readonly schema: string;
  /** PGlite: true when opening broke a stale lock left by a process that died. */
  readonly recoveredStaleLock: boolean;

  /**
   * Append `events` to episode `episodeId`, all or nothing, in one transaction.
   *
   * Checks, in order: arguments and sizes ({@link InvalidArgumentError}, {@link PayloadTooLargeError}); event
   * ids already stored (a retry of the same batch returns `{ status: 'duplicate' }`; a different event under
   * a stored id throws {@link EventIdConflictError}); `expectedVersion` ({@link ConcurrencyError}); then each
   * event in order against the episode machine ({@link EventRefusedError} with the machine's `Refusal` and
   * the event's index). Any error means nothing of the batch was stored.
   *
   * @example
   * ```ts
   * const { version } = await store.loadEpisode('ep-1');
   * const r = await store.append('ep-1', [event], { expectedVersion: version });
   * ```
   */
  append(
    episodeId: string,
    events: readonly EpisodeEventInput[],
    options: AppendOptions,
  ): Promise<AppendResult>;
  /** The events of one episode, in version order (from `fromVersion`, inclusive, when given). */
  readEpisode(episodeId: string, options?: { readonly fromVersion?: number }): Promise<StoredEvent[]>;
  /** Every event of one patient, across episodes, in commit order. */
  readPatient(patientId: string): Promise<StoredEvent[]>;
  /**
   * Safety signals kept from refused submissions (a refused event never loses its positive PHQ-9 item 9, serious
   * adverse event or alarming vitals: `append` stores the signal, nothing else of the event, before it throws),
   * oldest first, with their review when a clinician recorded one.
   */
  safetySignals(filter?: SafetySignalFilter): Promise<StoredSafetySignal[]>;
  /**
   * Record a clinician's review of a stored safety signal (append-only: a signal is reviewed once).
   * @throws {InvalidArgumentError} for an unknown id, a role that is not a clinician's, or a second review.
   */
  reviewSafetySignal(id: string, review: SafetySignalReview): Promise<StoredSafetySignal>;
  /**
   * Every event of the store in commit order, as an async iterator that pages through the table (keyset
   * pagination on `position`), never loading everything. Events committed while iterating are included
   * once the cursor reaches them.
   */
  streamAll(options?: StreamOptions): AsyncIterable<StoredEvent>;
  /** An episode's state and version: from the snapshot cache when it is current, else by replay. */
  loadEpisode(episodeId: string): Promise<LoadedEpisode>;
  /** The episode's current version (0 when it has no events). */
  version(episodeId: string): Promise<number>;
  /** The schema version recorded in the store. */
  schemaVersion(): Promise<number>;
  /**
   * Wait for operations in progress, close the connection(s) and release the lock. Idempotent. Bounded by
   * `closeTimeoutMs` (default 10 s): PostgreSQL connections still busy or not answering then are dropped
   * (the operations on them fail with a typed error); PGlite, if it is still busy, is left open with its
   * lock, and `close` rejects with `StoreTimeoutError` (phase `close`).
   */
  close(): Promise<void>;
}

/** Which stored safety signals to read. */
export interface SafetySignalFilter {
  /** The patient the refused event named (or, when it named none, the patient of its episode). */
  readonly patientId?: string;
  readonly episodeId?: string;
  /** Only those without a review. */
  readonly unreviewed?: boolean;
}

/** A clinician's review of a stored safety signal. */
export interface SafetySignalReview {
  readonly outcome: 'no-current-risk' | 'safety-plan' | 'escalated';
  /** The reviewer's role: a clinician's (`therapist` or `medical`). */
  readonly reviewedBy: 'therapist' | 'medical';
  /** Opaque id of the reviewer. */
  readonly actorId?: string;
  /** When the review took place (ISO 8601 with offset). */
  readonly at: string;
}

/** The safety signal of a refused submission, as the store keeps it (nothing else of the event is kept). */
export interface StoredSafetySignal {
  /** Stable id, derived from the refused event: a retried submission keeps one signal. */
  readonly id: string;
  readonly episodeId: string;
  readonly patientId: string | null;
  readonly eventId: string | null;
  readonly eventType: string | null;
  /** Why the event was refused (a refusal code of the episode machine). */
  readonly refusalCode: string;
  /** When the refused event said it happened (null when it had no valid `at`). */
  readonly eventAt: string | null;
  readonly signals: readonly SafetySignal[];
  /** When the store kept it (ISO 8601, UTC). */
  readonly recordedAt: string;
  readonly review: null | (SafetySignalReview & { readonly recordedAt: string });
}

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

interface SignalRow {
  id: string;
  episode_id: string;
  patient_id: string | null;
  event_id: string | null;
  event_type: string | null;
  refusal_code: string;
  event_at: unknown;
  signals: unknown;
  recorded_at: unknown;
  review_outcome: string | null;
  reviewed_by: string | null;
  actor_id: string | null;
  reviewed_at: unknown;
  review_recorded_at: unknown;
}

function toSignal(r: SignalRow): StoredSafetySignal {
  const signals = (typeof r.signals === 'string' ? JSON.parse(r.signals) : r.signals) as SafetySignal[];
  return {
    id: r.id,
    episodeId: r.episode_id,
    patientId: r.patient_id,
    eventId: r.event_id,
    eventType: r.event_type,
    refusalCode: r.refusal_code,
    eventAt: r.event_at === null ? null : isoOf(r.event_at),
    signals,
    recordedAt: isoOf(r.recorded_at),
    review:
      r.review_outcome === null
        ? null
        : {
            outcome: r.review_outcome as SafetySignalReview['outcome'],
            reviewedBy: r.reviewed_by as SafetySignalReview['reviewedBy'],
            ...(r.actor_id !== null ? { actorId: r.actor_id } : {}),
            at: isoOf(r.reviewed_at),
            recordedAt: isoOf(r.review_recorded_at),
          },
  };
}

interface EventRow {
  position: unknown;
  episode_id: string;
  version: unknown;
  payload: unknown;
  recorded_at: unknown;
}

interface CachedState {
  readonly version: number;
  readonly state: EpisodeState;
  /** Version of the snapshot row as far as this process knows (0: none usable). */
  readonly snapshotVersion: number;
}

interface SnapshotRow {
  version: unknown;
  machine_version: unknown;
  snapshot: unknown;
}

/** A batch decided by the machine: every event accepted (and the state after them), or the first refusal. */
interface Decided {
  readonly state: EpisodeState;
  readonly accepted: EpisodeEvent[];
  readonly refused: { readonly index: number; readonly refusal: Refusal } | null;
}

function decideBatch(
  model: EpisodeModel,
  from: EpisodeState,
  events: readonly unknown[],
  now: number,
): Decided {
  let state = from;
  const accepted: EpisodeEvent[] = [];
  for (let index = 0; index < events.length; index++) {
    const d = model.decide(state, events[index], { now });
    if (!d.ok) return { state, accepted, refused: { index, refusal: d.refusal } };
    state = d.state;
    accepted.push(d.event);
  }
  return { state, accepted, refused: null };
}

const MAX_ID = 200; // same bound as the event schema's ids

function isoOf(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

function toStored(row: EventRow): StoredEvent {
  return {
    position: Number(row.position),
    episodeId: row.episode_id,
    version: Number(row.version),
    committedAt: isoOf(row.recorded_at),
    event: row.payload as EpisodeEvent,
  };
}

/** JSON with object keys sorted, to compare an event with what JSONB gives back (JSONB reorders keys). */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(JSON.parse(JSON.stringify(value))));
}

function checkId(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID) {
    throw new InvalidArgumentError(name, `expected a non-empty string of at most ${MAX_ID} characters`);
  }
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
  readonly #sql: ReturnType<typeof statements>;

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
      let wrongEpisode: EventRefusedError | null = null;
      input.forEach((event, index) => {
        let json: string | undefined;
        try {
          json = JSON.stringify(event);
        } catch {
          json = undefined;
        }
        if (json === undefined) {
          throw new InvalidArgumentError(`events[${index}]`, 'not a JSON-serialisable event');
        }
        const bytes = Buffer.byteLength(json, 'utf8');
        if (bytes > this.#settings.maxEventBytes) {
          throw new PayloadTooLargeError(episodeId, index, bytes, this.#settings.maxEventBytes);
        }
        const named = (event as { episodeId?: unknown } | null)?.episodeId;
        if (typeof named === 'string' && named !== episodeId && wrongEpisode === null) {
          const { model } = this.#settings;
          const signals = safetySignalsOf(event, model.registry, model.initial.context.policy);
          wrongEpisode = new EventRefusedError(
            episodeId,
            refusal(
              'wrong-episode',
              `Event is for episode "${named}", not "${episodeId}".${safetyText(signals)}`,
              event,
              signals.length ? { safetyFlags: signals } : {},
            ),
            index,
          );
        }
      });
      if (wrongEpisode !== null) {
        const refused: EventRefusedError = wrongEpisode;
        await this.#keepSignal(episodeId, input[refused.index], refused);
        throw refused;
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
   * say whose it is) in its own transaction, so it is never lost with the refused batch. Idempotent.
   */
  async #keepSignal(episodeId: string, event: unknown, error: EventRefusedError): Promise<void> {
    const signals = (error.refusal.safetyFlags ?? []).filter((f) => f.kind === 'positive');
    if (signals.length === 0) return;
    const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
    const str = (x: unknown) => (typeof x === 'string' && x !== '' ? x : null);
    let patientId = str(e.patientId);
    if (patientId === null) {
      const cached = this.#cache.get(episodeId);
      patientId = cached?.state.context.patientId ?? null;
    }
    const at = str(e.at);
    const eventAt =
      at !== null && /(Z|[+-]\d{2}:\d{2})$/.test(at) && !Number.isNaN(Date.parse(at)) ? at : null;
    const eventId = str(e.id);
    const kept = signals.map((f) => ({
      rule: f.rule,
      kind: f.kind,
      value: f.value,
      message: f.message,
      origin: f.origin,
      ...(f.instrument !== undefined ? { instrument: f.instrument } : {}),
      ...(f.item !== undefined ? { item: f.item } : {}),
    }));
    const id = createHash('sha256')
      .update(JSON.stringify([episodeId, eventId ?? JSON.stringify(e), kept]))
      .digest('hex')
      .slice(0, 32);
    await this.#db.query(this.#sql.insertSignal, [
      id,
      episodeId,
      patientId,
      eventId,
      str(e.type),
      error.refusal.code,
      eventAt,
      JSON.stringify(kept),
    ]);
    error.safetySignalId = id;
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
      if (review.reviewedBy !== 'therapist' && review.reviewedBy !== 'medical') {
        throw new InvalidArgumentError(
          'reviewedBy',
          'a safety review is a clinician’s: therapist or medical',
        );
      }
      if (!['no-current-risk', 'safety-plan', 'escalated'].includes(review.outcome)) {
        throw new InvalidArgumentError('outcome', 'expected no-current-risk, safety-plan or escalated');
      }
      if (!/(Z|[+-]\d{2}:\d{2})$/.test(review.at) || Number.isNaN(Date.parse(review.at))) {
        throw new InvalidArgumentError('at', 'expected an ISO 8601 date-time with a UTC offset');
      }
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

  async #appendOnce(
    episodeId: string,
    events: readonly unknown[],
    expected: number | 'any',
  ): Promise<AppendResult> {
    const { model, snapshotEvery } = this.#settings;
    const sql = this.#sql;
    let committed: CachedState | null = null;
    const ids = events
      .map((e) => (e as { id?: unknown } | null)?.id)
      .filter((id): id is string => typeof id === 'string');
    const result = await this.#db.transaction(async (tx): Promise<AppendResult> => {
      // Writers of one episode queue here; the version is read after the lock, so it is the latest.
      const locked = tx.query(sql.lockEpisode, [episodeId]);
      // While the lock and the head are on their way (a PostgreSQL server works meanwhile), decide the batch
      // on this process's cached state; it is used only if that state turns out to be the current one.
      const cached = this.#cache.get(episodeId);
      const now = this.#settings.clock();
      let early: Decided | null = null;
      try {
        early = cached ? decideBatch(model, cached.state, events, now) : null;
      } finally {
        await locked;
      }
      // One statement after the lock: the version, the batch's event ids already stored (idempotency) and,
      // when this process has no state of the episode, its snapshot row.
      const [head] = await tx.query<{ version: unknown; stored: unknown; snapshot: unknown }>(sql.head, [
        episodeId,
        ids,
        cached === undefined,
      ]);
      const current = Number(head?.version ?? 0);
      const stored = (typeof head?.stored === 'string' ? JSON.parse(head.stored) : (head?.stored ?? [])) as {
        event_id: string;
        episode_id: string;
        version: unknown;
        payload: unknown;
      }[];
      if (stored.length > 0) return classifyStoredIds(episodeId, events, stored, model);

      if (expected !== 'any' && expected !== current) {
        throw new ConcurrencyError(episodeId, expected, current);
      }
      if (events.length === 0) return { status: 'appended', version: current, events: [] };

      const snapshotRow =
        cached === undefined
          ? ((typeof head?.snapshot === 'string'
              ? JSON.parse(head.snapshot)
              : head?.snapshot) as SnapshotRow | null)
          : undefined;
      const loaded =
        cached && cached.version === current
          ? { state: cached.state, snapshotVersion: cached.snapshotVersion }
          : await this.#load(tx, episodeId, current, snapshotRow);
      const decided =
        early !== null && cached !== undefined && loaded.state === cached.state
          ? early
          : decideBatch(model, loaded.state, events, now);
      if (decided.refused !== null) {
        throw new EventRefusedError(episodeId, decided.refused.refusal, decided.refused.index);
      }
      const { state, accepted } = decided;

      // Positions are assigned under the global append lock and it is held until COMMIT, so position order
      // is commit order: a reader paging by position never skips an event committed later. They are taken
      // from the meta row in this transaction, so a rolled-back append leaves no gap. One statement takes the
      // lock, hands out the positions, inserts the events and, every `snapshotEvery` events, the snapshot.
      const version = current + accepted.length;
      let snapshotVersion = loaded.snapshotVersion;
      const writeSnapshot = version - snapshotVersion >= snapshotEvery;
      const rows = await tx.query<{ position: unknown; version: unknown; recorded_at: unknown }>(sql.insert, [
        episodeId,
        current,
        JSON.stringify(accepted),
        accepted.length,
        writeSnapshot ? JSON.stringify(model.persist(state).snapshot) : null,
        EPISODE_MACHINE_VERSION,
      ]);
      if (rows.length !== accepted.length) {
        throw this.damaged([
          'the kapkit_meta row, which hands out positions and counts the events committed, is missing',
        ]);
      }
      rows.sort((a, b) => Number(a.version) - Number(b.version));
      if (writeSnapshot) snapshotVersion = version;
      committed = { version, state, snapshotVersion };
      return {
        status: 'appended',
        version,
        events: rows.map((r, i) => ({
          position: Number(r.position),
          episodeId,
          version: Number(r.version),
          committedAt: isoOf(r.recorded_at),
          event: accepted[i]!,
        })),
      };
    });
    // Only after COMMIT: a rolled-back state must never be cached.
    if (committed) this.#remember(episodeId, committed);
    return result;
  }

  /**
   * The episode state at `current`: the best of this process's cache and the snapshot row (same machine
   * version, not past `current`), then the events after it replayed through the machine.
   */
  async #load(
    q: Queryable,
    episodeId: string,
    current: number,
    /** The snapshot row when the caller read it already (null: there is none); undefined: read it here. */
    prefetched?: SnapshotRow | null,
  ): Promise<CachedState & { source: LoadedEpisode['source']; replayed: number; snapshotStale: boolean }> {
    const { model } = this.#settings;
    const sql = this.#sql;
    let base: CachedState | null = null;
    let source: LoadedEpisode['source'] = 'replay';
    const cached = this.#cache.get(episodeId);
    if (cached && cached.version <= current) {
      base = cached;
      source = 'cache';
    }
    let snapshotStale = false;
    let snapshotVersion = cached?.snapshotVersion ?? 0;
    if (!base || base.version < current) {
      const snap =
        prefetched !== undefined
          ? prefetched
          : (await q.query<SnapshotRow>(sql.readSnapshot, [episodeId]))[0];
      if (snap) {
        const v = Number(snap.version);
        if (Number(snap.machine_version) !== EPISODE_MACHINE_VERSION || v > current) {
          snapshotStale = true;
          snapshotVersion = 0;
        } else {
          snapshotVersion = v;
          if (v > (base?.version ?? 0)) {
            try {
              const state = model.restore({
                machineVersion: EPISODE_MACHINE_VERSION,
                snapshot: snap.snapshot,
              });
              base = { version: v, state, snapshotVersion: v };
              source = 'snapshot';
            } catch {
              snapshotStale = true; // unreadable snapshot: replay and rewrite it
              snapshotVersion = 0;
            }
          }
        }
      } else {
        snapshotVersion = 0;
      }
    }
    let state = base?.state ?? model.initial;
    let version = base?.version ?? 0;
    if (version === 0) source = 'replay';
    let replayed = 0;
    if (version < current) {
      const rows = await q.query<{ version: unknown; payload: unknown }>(sql.readTail, [
        episodeId,
        version,
        current,
      ]);
      if (rows.length !== current - version) {
        throw this.damaged([
          `episode "${episodeId}" is at version ${current}, but ${rows.length} of its events ${version + 1}..${current} can be read`,
        ]);
      }
      for (const row of rows) {
        const d = model.decide(state, row.payload);
        if (!d.ok) throw new StoredEventRefusedError(episodeId, Number(row.version), d.refusal);
        state = d.state;
        version = Number(row.version);
        replayed++;
      }
    }
    return { state, version, snapshotVersion, source, replayed, snapshotStale };
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

async function currentVersion(
  q: Queryable,
  sql: ReturnType<typeof statements>,
  episodeId: string,
): Promise<number> {
  const [row] = await q.query<{ version: unknown }>(sql.currentVersion, [episodeId]);
  return Number(row?.version ?? 0);
}

/**
 * Some event ids of the batch are stored already. A retry of a stored batch (every event stored in this
 * episode with the same content) is a duplicate; anything else is a conflict.
 */
function withoutRecordedAt(x: unknown): unknown {
  if (typeof x !== 'object' || x === null) return x;
  const { recordedAt: _ignored, ...rest } = x as Record<string, unknown>;
  return rest;
}

function classifyStoredIds(
  episodeId: string,
  events: readonly unknown[],
  stored: readonly { event_id: string; episode_id: string; version: unknown; payload: unknown }[],
  model: EpisodeModel,
): AppendResult {
  const byId = new Map(stored.map((r) => [r.event_id, r]));
  const conflicts: EventIdConflict[] = [];
  const seen = new Set<string>();
  let allStored = true;
  for (const event of events) {
    const id = (event as { id?: unknown } | null)?.id;
    const row = typeof id === 'string' ? byId.get(id) : undefined;
    if (!row || seen.has(row.event_id)) {
      allStored = false;
      continue;
    }
    seen.add(row.event_id);
    const at = { eventId: row.event_id, storedEpisodeId: row.episode_id, storedVersion: Number(row.version) };
    if (row.episode_id !== episodeId) {
      conflicts.push({ ...at, reason: 'other-episode' });
      continue;
    }
    // Both sides as the current schema reads them: a version 1 event (sent again, or stored before schema
    // version 2) is upcast first, as the machine does when it accepts one.
    // The recording time is the writer's clock: a retry written later (a server that stamps `recordedAt` on
    // each attempt) is still the same event.
    const parsed = parseEvent(event, model.permissions);
    const storedParsed = parseEvent(row.payload, model.permissions);
    const storedForm = storedParsed.success ? storedParsed.data : row.payload;
    if (
      !parsed.success ||
      canonical(withoutRecordedAt(parsed.data)) !== canonical(withoutRecordedAt(storedForm))
    ) {
      conflicts.push({ ...at, reason: 'different-content' });
    }
  }
  if (conflicts.length === 0 && !allStored) {
    for (const row of stored) {
      conflicts.push({
        eventId: row.event_id,
        storedEpisodeId: row.episode_id,
        storedVersion: Number(row.version),
        reason: 'partial-batch',
      });
    }
  }
  if (conflicts.length > 0) throw new EventIdConflictError(episodeId, conflicts);
  return { status: 'duplicate', version: Math.max(...stored.map((r) => Number(r.version))) };
}

/** Every SQL statement of the store, for one schema. The same text runs on PGlite and PostgreSQL. */
function statements(t: Tables) {
  const signalSelect = `SELECT s.id, s.episode_id, s.patient_id, s.event_id, s.event_type, s.refusal_code,
      s.event_at, s.signals, s.recorded_at, r.outcome AS review_outcome, r.reviewed_by, r.actor_id,
      r.reviewed_at, r.recorded_at AS review_recorded_at
    FROM ${t.safetySignals} s LEFT JOIN ${t.safetySignalReviews} r ON r.signal_id = s.id`;
  const columns = 'position, episode_id, version, payload, recorded_at';
  return {
    lockEpisode: `SELECT pg_advisory_xact_lock(${LOCK_CLASS.episode}, hashtext($1))`,
    currentVersion: `SELECT COALESCE(MAX(version), 0) AS version FROM ${t.events} WHERE episode_id = $1`,
    // An append's look at the episode, after its lock: version, the batch's ids already stored, and the
    // snapshot row when $3 asks for it.
    head: `SELECT (SELECT COALESCE(MAX(version), 0) FROM ${t.events} WHERE episode_id = $1) AS version,
      (SELECT COALESCE(json_agg(json_build_object('event_id', event_id, 'episode_id', episode_id,
          'version', version, 'payload', payload)), '[]'::json)
        FROM ${t.events} WHERE event_id = ANY($2::text[])) AS stored,
      (SELECT json_build_object('version', version, 'machine_version', machine_version, 'snapshot', snapshot)
        FROM ${t.snapshots} WHERE episode_id = $1 AND $3::boolean) AS snapshot`,
    // The append lock (taken first: an InitPlan), then the batch's positions after the last one handed out
    // (the meta row counts them), the events, and the snapshot when $5 is not null (a newer machine's
    // snapshot, or a later one, is never replaced). All in the append's transaction.
    insert: `WITH l AS (SELECT pg_advisory_xact_lock(${LOCK_CLASS.append}, 0)),
      m AS (
        UPDATE ${t.meta} SET last_position = last_position + $4::int, event_count = event_count + $4::int
        WHERE EXISTS (SELECT 1 FROM l)
        RETURNING last_position - $4::int AS base
      ),
      s AS (
        INSERT INTO ${t.snapshots} (episode_id, version, machine_version, snapshot)
        SELECT $1::text, $2::int + $4::int, $6::int, $5::jsonb WHERE $5::jsonb IS NOT NULL
        ON CONFLICT (episode_id) DO UPDATE SET version = EXCLUDED.version,
          machine_version = EXCLUDED.machine_version, snapshot = EXCLUDED.snapshot, updated_at = now()
        WHERE (${t.snapshots}.machine_version, ${t.snapshots}.version)
          < (EXCLUDED.machine_version, EXCLUDED.version)
      )
      INSERT INTO ${t.events} (position, episode_id, version, event_id, patient_id, type, at, payload)
      SELECT m.base + e.ord, $1::text, $2::int + e.ord::int, e.payload->>'id', e.payload->>'patientId',
        e.payload->>'type', (e.payload->>'at')::timestamptz, e.payload
      FROM m, jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(payload, ord)
      ORDER BY e.ord
      RETURNING position, version, recorded_at`,
    readSnapshot: `SELECT version, machine_version, snapshot FROM ${t.snapshots} WHERE episode_id = $1`,
    // A newer machine's snapshot, or a later one of the same machine, is never replaced by an older one.
    upsertSnapshot: `INSERT INTO ${t.snapshots} (episode_id, version, machine_version, snapshot)
      VALUES ($1, $2, $3, $4::jsonb)
      ON CONFLICT (episode_id) DO UPDATE SET version = EXCLUDED.version,
        machine_version = EXCLUDED.machine_version, snapshot = EXCLUDED.snapshot, updated_at = now()
      WHERE (${t.snapshots}.machine_version, ${t.snapshots}.version)
        < (EXCLUDED.machine_version, EXCLUDED.version)`,
    readTail: `SELECT version, payload FROM ${t.events}
      WHERE episode_id = $1 AND version > $2 AND version <= $3 ORDER BY version`,
    readEpisode: `SELECT ${columns} FROM ${t.events} WHERE episode_id = $1 AND version >= $2 ORDER BY version`,
    readPatient: `SELECT ${columns} FROM ${t.events} WHERE patient_id = $1 ORDER BY position`,
    page: `SELECT ${columns} FROM ${t.events} WHERE position > $1 ORDER BY position LIMIT $2`,
    insertSignal: `INSERT INTO ${t.safetySignals}
        (id, episode_id, patient_id, event_id, event_type, refusal_code, event_at, signals)
      VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::jsonb)
      ON CONFLICT (id) DO NOTHING`,
    readSignals: `${signalSelect}
      WHERE ($1::text IS NULL OR s.patient_id = $1) AND ($2::text IS NULL OR s.episode_id = $2)
        AND (NOT $3::boolean OR r.signal_id IS NULL)
      ORDER BY s.recorded_at, s.id`,
    readSignal: `${signalSelect} WHERE s.id = $1`,
    insertReview: `INSERT INTO ${t.safetySignalReviews} (signal_id, outcome, reviewed_by, actor_id, reviewed_at)
      VALUES ($1, $2, $3, $4, $5::timestamptz)`,
  };
}

/** Internal: the database adapter under a store opened by `openStore` (for tests and tooling). */
export function internalDb(store: EventStore): Db {
  return (store as SqlEventStore).db;
}
