import { KapkitError, type Refusal } from '@kapkit/core';

/**
 * Typed errors of the event store. Every one is a `KapkitError` with a stable `code`, so callers branch on
 * `error.code` (or `instanceof`) instead of parsing messages. Messages name ids and versions, never the health
 * data inside an event.
 */

/**
 * What every store error shares: a `KapkitError` whose `code` has its literal type and whose `name` is its class
 * name, both given once by the subclass. Not exported: callers use the subclasses (or `KapkitError`).
 */
abstract class StoreError<Code extends string> extends KapkitError {
  declare readonly code: Code;
  constructor(code: Code, name: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = name;
  }
}

/** The episode moved on since the caller read it: `expectedVersion` is stale. Nothing was written. */
export class ConcurrencyError extends StoreError<'concurrency-conflict'> {
  constructor(
    readonly episodeId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      'concurrency-conflict',
      'ConcurrencyError',
      `Episode "${episodeId}" is at version ${actualVersion}, the append expected version ${expectedVersion}: reload the episode, decide again and retry. Nothing was written.`,
    );
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
export class EventIdConflictError extends StoreError<'event-id-conflict'> {
  constructor(
    readonly episodeId: string,
    readonly conflicts: readonly EventIdConflict[],
  ) {
    super(
      'event-id-conflict',
      'EventIdConflictError',
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
  }
}

/**
 * The episode machine refused an event of the batch (invalid event, unknown type, wrong phase, closed
 * episode, a policy rule…). `refusal` is the machine's typed reason; `index` is the event's 0-based position
 * in the batch. Nothing of the batch was written.
 */
export class EventRefusedError extends StoreError<'event-refused'> {
  /**
   * The refused event carried a positive safety signal: the store kept it (`safetySignals()`) under this id
   * before throwing. Undefined otherwise.
   */
  safetySignalId?: string;
  constructor(
    readonly episodeId: string,
    readonly refusal: Refusal,
    /** 0-based index of the refused event in the batch passed to `append`. */
    readonly index: number,
  ) {
    super(
      'event-refused',
      'EventRefusedError',
      `Event ${index} of the batch for episode "${episodeId}" was refused (${refusal.code}): ${refusal.message} Nothing of the batch was written.`,
    );
  }
}

/** An event is larger than the store accepts (`maxEventBytes`, default 64 KiB of JSON). Nothing was written. */
export class PayloadTooLargeError extends StoreError<'payload-too-large'> {
  constructor(
    readonly episodeId: string,
    readonly index: number,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      'payload-too-large',
      'PayloadTooLargeError',
      `Event ${index} of the batch for episode "${episodeId}" is ${bytes} bytes of JSON; the limit is ${limit} bytes (option maxEventBytes). Nothing was written.`,
    );
  }
}

/** The arguments of a store call are malformed (not an array of events, a bad expectedVersion, …). */
export class InvalidArgumentError extends StoreError<'invalid-argument'> {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super('invalid-argument', 'InvalidArgumentError', `${argument}: ${message}`);
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
export class StoreLockedError extends StoreError<'store-locked'> {
  constructor(
    readonly dataDir: string,
    readonly lockFile: string,
    readonly holder: LockHolder | null,
    detail: string,
  ) {
    super(
      'store-locked',
      'StoreLockedError',
      `The kapkit store in "${dataDir}" is locked: ${detail}. PGlite serves one process at a time; close the other store, or use PostgreSQL (DATABASE_URL) for several processes. If no such process exists, remove ${lockFile}.`,
    );
  }
}

/** The database was created or migrated by a newer kapkit: this version refuses to touch it. */
export class SchemaTooNewError extends StoreError<'schema-too-new'> {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      'schema-too-new',
      'SchemaTooNewError',
      `The kapkit store has schema version ${found}, this @kapkit/store supports up to ${supported}: upgrade @kapkit/store. The store was not modified.`,
    );
  }
}

/**
 * A stored event is refused by the current episode machine while rebuilding an episode (e.g. a newer machine
 * with stricter rules). The episode cannot be loaded until the machine or the log is reconciled.
 */
export class StoredEventRefusedError extends StoreError<'stored-event-refused'> {
  constructor(
    readonly episodeId: string,
    readonly version: number,
    readonly refusal: Refusal,
  ) {
    super(
      'stored-event-refused',
      'StoredEventRefusedError',
      `Episode "${episodeId}" cannot be rebuilt: its stored event at version ${version} is refused by the current episode machine (${refusal.code}): ${refusal.message}`,
    );
  }
}

/** The store was closed; open a new one. */
export class StoreClosedError extends StoreError<'store-closed'> {
  constructor() {
    super('store-closed', 'StoreClosedError', 'The kapkit store is closed.');
  }
}

/** The store options are inconsistent (e.g. both `url` and `dataDir`, a bad schema name). */
export class StoreConfigError extends StoreError<'store-config'> {
  constructor(message: string) {
    super('store-config', 'StoreConfigError', message);
  }
}

/**
 * Whether the writes of a failed call were committed. `'not-committed'`: nothing of the call was stored (the
 * failure came before COMMIT was sent, or the server answered COMMIT with an error). `'unknown'`: the
 * connection died, or the server stopped answering, after COMMIT was sent, so the store cannot tell. Appends
 * are idempotent on event ids: retry the same events, and `{ status: 'duplicate' }` means they had been
 * committed.
 */
export type CommitOutcome = 'not-committed' | 'unknown';

/** Details of a {@link StoreDatabaseError} (all optional: older callers construct it with two arguments). */
export interface StoreDatabaseErrorDetails {
  /** The connection to the server failed or was lost (see {@link StoreDatabaseError.connectionLost}). */
  readonly connectionLost?: boolean;
  /** See {@link CommitOutcome}; default `'not-committed'`. */
  readonly outcome?: CommitOutcome;
}

/**
 * The database failed in a way the store does not classify further (connection lost, server restarting,
 * an unexpected SQL error, …). `sqlState` is the PostgreSQL error code when there is one; `cause` is the
 * driver's error.
 */
export class StoreDatabaseError extends StoreError<'database-error'> {
  readonly sqlState: string | undefined;
  /**
   * True when the connection to the server could not be made or was lost during the call (server down or
   * restarting, backend terminated, network failure). The broken connection was discarded: the next call
   * opens a new one and works once the server is back.
   */
  readonly connectionLost: boolean;
  /** Whether the call's writes were committed ({@link CommitOutcome}). */
  readonly outcome: CommitOutcome;
  constructor(operation: string, cause: unknown, details: StoreDatabaseErrorDetails = {}) {
    const sqlState = sqlStateOf(cause);
    const reason = cause instanceof Error ? cause.message : String(cause);
    const outcome = details.outcome ?? 'not-committed';
    super(
      'database-error',
      'StoreDatabaseError',
      `kapkit store: ${operation} failed: ${reason}${
        outcome === 'unknown'
          ? ' (the connection was lost after COMMIT was sent: the outcome is unknown; retry the same events, a "duplicate" answer means they had been stored)'
          : ''
      }`,
      { cause },
    );
    this.sqlState = sqlState;
    this.connectionLost = details.connectionLost ?? false;
    this.outcome = outcome;
  }
}

/** Which limit a {@link StoreTimeoutError} hit. */
export type StoreTimeoutPhase =
  /** Getting a connection (TCP connect and PostgreSQL start-up, or waiting for a free pooled connection). */
  | 'connect'
  /** One SQL statement (the server's `statement_timeout`, or no answer from the server at all). */
  | 'statement'
  /** `close()`: operations in progress or closing the database did not finish in time. */
  | 'close';

/**
 * The database did not answer within a configured limit (`connectTimeoutMs`, `statementTimeoutMs`,
 * `closeTimeoutMs`): a frozen or overloaded server, or a network that drops packets. The connection was
 * discarded (a new one is opened on the next call).
 */
export class StoreTimeoutError extends StoreError<'store-timeout'> {
  constructor(
    readonly operation: string,
    readonly phase: StoreTimeoutPhase,
    /** The limit that was hit, in milliseconds. */
    readonly timeoutMs: number,
    /** Whether the call's writes were committed ({@link CommitOutcome}). */
    readonly outcome: CommitOutcome = 'not-committed',
    cause?: unknown,
  ) {
    const what =
      phase === 'connect'
        ? 'no connection to the database'
        : phase === 'statement'
          ? 'a statement got no answer'
          : 'closing the store did not finish';
    super(
      'store-timeout',
      'StoreTimeoutError',
      `kapkit store: ${operation} timed out: ${what} within ${timeoutMs} ms${
        outcome === 'unknown'
          ? ' after COMMIT was sent: the outcome is unknown; retry the same events, a "duplicate" answer means they had been stored'
          : ''
      }.`,
      { cause },
    );
  }
}

/**
 * Not enough free disk space to write safely. PGlite: the data directory's file system has less free space
 * than `minFreeDiskBytes` (default 64 MiB), checked before every write, because PGlite can spin forever
 * when the disk fills up while it zero-fills a new 16 MB WAL segment. PostgreSQL (and PGlite past the
 * check): the server reported SQLSTATE 53100 (disk full). Nothing of the call was written; free some space
 * and retry.
 */
export class DiskFullError extends StoreError<'disk-full'> {
  constructor(
    /** The data directory (PGlite) or the server URL without its password. */
    readonly location: string,
    /** Free bytes found on the data directory's file system (null when the server reported it). */
    readonly freeBytes: number | null,
    /** Free bytes the store requires before it writes (null when the server reported it). */
    readonly requiredBytes: number | null,
    cause?: unknown,
  ) {
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    super(
      'disk-full',
      'DiskFullError',
      freeBytes !== null && requiredBytes !== null
        ? `The disk holding the kapkit store in "${location}" has ${mb(freeBytes)} free; the store writes only with at least ${mb(requiredBytes)} free (option minFreeDiskBytes). Nothing was written: free some space and retry.`
        : `The database of the kapkit store at "${location}" is out of disk space: ${
            cause instanceof Error ? cause.message : String(cause)
          }. Nothing was written: free some space and retry.`,
      { cause },
    );
  }
}

/**
 * The store's data is damaged: events are missing (a gap in positions or versions, fewer events than the
 * store recorded committing), a table or file is unreadable, or PGlite cannot start on the data directory.
 * The store refuses to read around the damage. Restore the store from a backup (`kapkit store restore`);
 * `kapkit store check` lists what is wrong.
 */
export class StoreDamagedError extends StoreError<'store-damaged'> {
  constructor(
    /** The data directory (PGlite) or the server URL without its password. */
    readonly location: string,
    /** What was found, one entry per problem (positions, versions and ids; never event contents). */
    readonly problems: readonly string[],
    cause?: unknown,
  ) {
    super(
      'store-damaged',
      'StoreDamagedError',
      `The kapkit store in "${location}" is damaged: ${problems.join('; ')}. Restore it from a backup (kapkit store restore <backup> <new directory>, then swap the directories); run kapkit store check for a full report.`,
      { cause },
    );
  }
}

/** A backup file is not a complete kapkit store backup (truncated, altered, or another format). */
export class InvalidBackupError extends StoreError<'invalid-backup'> {
  constructor(
    /** 1-based line of the backup where the problem was found (0: the file as a whole). */
    readonly line: number,
    message: string,
  ) {
    super(
      'invalid-backup',
      'InvalidBackupError',
      `Invalid kapkit store backup${line > 0 ? ` (line ${line})` : ''}: ${message}. Nothing was restored.`,
    );
  }
}

/** The SQLSTATE of a driver error (pg and PGlite both expose it as `code`). */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
