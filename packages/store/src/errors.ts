import { KapkitError, type Refusal } from '@kapkit/core';

/**
 * Typed errors of the event store. Every one is a `KapkitError` with a stable `code`, so callers branch on
 * `error.code` (or `instanceof`) instead of parsing messages. Messages name ids and versions, never the health
 * data inside an event.
 */

/** The episode moved on since the caller read it: `expectedVersion` is stale. Nothing was written. */
export class ConcurrencyError extends KapkitError {
  override readonly code = 'concurrency-conflict' as const;
  readonly episodeId: string;
  readonly expectedVersion: number;
  readonly actualVersion: number;
  constructor(episodeId: string, expectedVersion: number, actualVersion: number) {
    super(
      'concurrency-conflict',
      `Episode "${episodeId}" is at version ${actualVersion}, the append expected version ${expectedVersion}: reload the episode, decide again and retry. Nothing was written.`,
    );
    this.name = 'ConcurrencyError';
    this.episodeId = episodeId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

/** Why an event id conflicts with what is stored. */
export type EventIdConflictReason =
  /** Another event with different content is stored under this id. */
  | 'different-content'
  /** This id is stored in another episode. */
  | 'other-episode'
  /** Some events of the batch are stored and others are not: a retry must resend exactly the stored batch. */
  | 'partial-batch';

/** One event id that is already taken, and why that is a conflict rather than a retry. */
export interface EventIdConflict {
  readonly eventId: string;
  readonly reason: EventIdConflictReason;
  /** Where the stored event is. */
  readonly storedEpisodeId: string;
  readonly storedVersion: number;
}

/**
 * An event id of the batch is already stored with other content (or in another episode). Event ids are
 * idempotency keys: a retry must send the same event; a new fact needs a new id. Nothing was written.
 */
export class EventIdConflictError extends KapkitError {
  override readonly code = 'event-id-conflict' as const;
  readonly episodeId: string;
  readonly conflicts: readonly EventIdConflict[];
  constructor(episodeId: string, conflicts: readonly EventIdConflict[]) {
    super(
      'event-id-conflict',
      `Append to episode "${episodeId}" refused: ${conflicts
        .map(
          (c) =>
            `event id "${c.eventId}" is already stored (episode "${c.storedEpisodeId}", version ${c.storedVersion}) ${
              c.reason === 'different-content'
                ? 'with different content'
                : c.reason === 'other-episode'
                  ? 'in another episode'
                  : 'but other events of this batch are not: resend exactly the stored batch'
            }`,
        )
        .join('; ')}. Nothing was written.`,
    );
    this.name = 'EventIdConflictError';
    this.episodeId = episodeId;
    this.conflicts = conflicts;
  }
}

/**
 * The episode machine refused an event of the batch (invalid event, unknown type, wrong phase, closed
 * episode, a policy rule…). `refusal` is the machine's typed reason; `index` is the event's 0-based position
 * in the batch. Nothing of the batch was written.
 */
export class EventRefusedError extends KapkitError {
  override readonly code = 'event-refused' as const;
  readonly episodeId: string;
  readonly refusal: Refusal;
  /** 0-based index of the refused event in the batch passed to `append`. */
  readonly index: number;
  constructor(episodeId: string, refusal: Refusal, index: number) {
    super(
      'event-refused',
      `Event ${index} of the batch for episode "${episodeId}" was refused (${refusal.code}): ${refusal.message} Nothing of the batch was written.`,
    );
    this.name = 'EventRefusedError';
    this.episodeId = episodeId;
    this.refusal = refusal;
    this.index = index;
  }
}

/** An event is larger than the store accepts (`maxEventBytes`, default 64 KiB of JSON). Nothing was written. */
export class PayloadTooLargeError extends KapkitError {
  override readonly code = 'payload-too-large' as const;
  readonly episodeId: string;
  readonly index: number;
  readonly bytes: number;
  readonly limit: number;
  constructor(episodeId: string, index: number, bytes: number, limit: number) {
    super(
      'payload-too-large',
      `Event ${index} of the batch for episode "${episodeId}" is ${bytes} bytes of JSON; the limit is ${limit} bytes (option maxEventBytes). Nothing was written.`,
    );
    this.name = 'PayloadTooLargeError';
    this.episodeId = episodeId;
    this.index = index;
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** The arguments of a store call are malformed (not an array of events, a bad expectedVersion, …). */
export class InvalidArgumentError extends KapkitError {
  override readonly code = 'invalid-argument' as const;
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('invalid-argument', `${argument}: ${message}`);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
  }
}

/** Who holds a PGlite data directory. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly acquiredAt: string;
}

/**
 * The PGlite data directory is in use by another live process (or by another open store in this process).
 * PGlite is single-process: one writer process per data directory.
 */
export class StoreLockedError extends KapkitError {
  override readonly code = 'store-locked' as const;
  readonly dataDir: string;
  readonly lockFile: string;
  readonly holder: LockHolder | null;
  constructor(dataDir: string, lockFile: string, holder: LockHolder | null, detail: string) {
    super(
      'store-locked',
      `The kapkit store in "${dataDir}" is locked: ${detail}. PGlite serves one process at a time; close the other store, or use PostgreSQL (DATABASE_URL) for several processes. If no such process exists, remove ${lockFile}.`,
    );
    this.name = 'StoreLockedError';
    this.dataDir = dataDir;
    this.lockFile = lockFile;
    this.holder = holder;
  }
}

/** The database was created or migrated by a newer kapkit: this version refuses to touch it. */
export class SchemaTooNewError extends KapkitError {
  override readonly code = 'schema-too-new' as const;
  readonly found: number;
  readonly supported: number;
  constructor(found: number, supported: number) {
    super(
      'schema-too-new',
      `The kapkit store has schema version ${found}, this @kapkit/store supports up to ${supported}: upgrade @kapkit/store. The store was not modified.`,
    );
    this.name = 'SchemaTooNewError';
    this.found = found;
    this.supported = supported;
  }
}

/**
 * A stored event is refused by the current episode machine while rebuilding an episode (e.g. a newer machine
 * with stricter rules). The episode cannot be loaded until the machine or the log is reconciled.
 */
export class StoredEventRefusedError extends KapkitError {
  override readonly code = 'stored-event-refused' as const;
  readonly episodeId: string;
  readonly version: number;
  readonly refusal: Refusal;
  constructor(episodeId: string, version: number, refusal: Refusal) {
    super(
      'stored-event-refused',
      `Episode "${episodeId}" cannot be rebuilt: its stored event at version ${version} is refused by the current episode machine (${refusal.code}): ${refusal.message}`,
    );
    this.name = 'StoredEventRefusedError';
    this.episodeId = episodeId;
    this.version = version;
    this.refusal = refusal;
  }
}

/** The store was closed; open a new one. */
export class StoreClosedError extends KapkitError {
  override readonly code = 'store-closed' as const;
  constructor() {
    super('store-closed', 'The kapkit store is closed.');
    this.name = 'StoreClosedError';
  }
}

/** The store options are inconsistent (e.g. both `url` and `dataDir`, a bad schema name). */
export class StoreConfigError extends KapkitError {
  override readonly code = 'store-config' as const;
  constructor(message: string) {
    super('store-config', message);
    this.name = 'StoreConfigError';
  }
}

/**
 * The database failed in a way the store does not classify (connection lost, disk full, …). `sqlState` is the
 * PostgreSQL error code when there is one; `cause` is the driver's error.
 */
export class StoreDatabaseError extends KapkitError {
  override readonly code = 'database-error' as const;
  readonly sqlState: string | undefined;
  constructor(operation: string, cause: unknown) {
    const sqlState = sqlStateOf(cause);
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('database-error', `kapkit store: ${operation} failed: ${reason}`, { cause });
    this.name = 'StoreDatabaseError';
    this.sqlState = sqlState;
  }
}

/** The SQLSTATE of a driver error (pg and PGlite both expose it as `code`). */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
