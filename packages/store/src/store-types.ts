import type { EpisodeEvent, EpisodeEventInput, EpisodeState, Role, SafetySignal } from '@kapkit/core';

/**
 * The public types of the event store (see `SqlEventStore` for the implementation). Every export of this module
 * is public API: index.ts re-exports it whole.
 */

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
  /**
   * Who recorded the refused event (its `recordedBy` role; `patient` for a patient's own report, e.g. through
   * a measure link); null when it named no valid role, and for signals kept before schema version 7.
   */
  readonly recordedBy: Role | null;
  readonly signals: readonly SafetySignal[];
  /** When the store kept it (ISO 8601, UTC). */
  readonly recordedAt: string;
  readonly review: null | (SafetySignalReview & { readonly recordedAt: string });
}
