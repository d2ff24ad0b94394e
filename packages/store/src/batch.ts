import {
  type EpisodeEvent,
  type EpisodeModel,
  type EpisodeState,
  parseEvent,
  type Refusal,
  refusal,
  safetySignalsOf,
  safetyText,
} from '@kapkit/core';
import {
  type EventIdConflict,
  EventIdConflictError,
  EventRefusedError,
  InvalidArgumentError,
  PayloadTooLargeError,
} from './errors.js';
import { type CachedState, isoOf, type SnapshotRow } from './rows.js';
import type { AppendResult } from './store-types.js';

/** A batch of an append: decided by the episode machine, or recognised as a retry of a stored one. */

/** A batch decided by the machine: every event accepted (and the state after them), or the first refusal. */
export interface Decided {
  readonly state: EpisodeState;
  readonly accepted: EpisodeEvent[];
  readonly refused: { readonly index: number; readonly refusal: Refusal } | null;
}

export function decideBatch(
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

/** An event of the batch's ids found stored (by the append function). */
export interface StoredIdRow {
  event_id: string;
  episode_id: string;
  version: unknown;
  payload: unknown;
}

/** The event without its recording time (the writer's clock). */
function withoutRecordedAt(x: unknown): unknown {
  if (typeof x !== 'object' || x === null) return x;
  const { recordedAt: _ignored, ...rest } = x as Record<string, unknown>;
  return rest;
}

/**
 * Some event ids of the batch are stored already. A retry of a stored batch (every event stored in this
 * episode with the same content) is a duplicate; anything else is a conflict.
 */
export function classifyStoredIds(
  episodeId: string,
  events: readonly unknown[],
  stored: readonly StoredIdRow[],
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

/**
 * Check a batch before anything is read: every event serialisable and within `maxEventBytes` (else it throws
 * {@link InvalidArgumentError} or {@link PayloadTooLargeError}). Returns the refusal of the first event that
 * names another episode (with its safety signals, for the store to keep), or null.
 */
export function checkBatch(
  episodeId: string,
  events: readonly unknown[],
  maxEventBytes: number,
  model: EpisodeModel,
): EventRefusedError | null {
  let wrongEpisode: EventRefusedError | null = null;
  events.forEach((event, index) => {
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
    if (bytes > maxEventBytes) throw new PayloadTooLargeError(episodeId, index, bytes, maxEventBytes);
    const named = (event as { episodeId?: unknown } | null)?.episodeId;
    if (typeof named === 'string' && named !== episodeId && wrongEpisode === null) {
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
  return wrongEpisode;
}

/** A decided batch, ready for the append function. */
export interface BatchWrite {
  readonly accepted: readonly EpisodeEvent[];
  /** The accepted events as one JSON array. */
  readonly events: string;
  /** The snapshot of the state after them, when one is due (null: none). */
  readonly snapshot: string | null;
  /** This process's state of the episode once the batch is committed. */
  readonly after: CachedState;
}

/**
 * What an append of `decided` on `from` writes: the events, the snapshot when due, the state after.
 * A snapshot is due once `snapshotEvery` events and at least as many as the last snapshot covered came
 * after it (at 100, 200, 400, … by default): its size grows with the episode (about 0.8 kB of JSONB per
 * event), so snapshots at a fixed interval would write bytes growing with the square of its length.
 */
export function batchWrite(
  model: EpisodeModel,
  snapshotEvery: number,
  from: CachedState,
  decided: Decided,
): BatchWrite {
  const version = from.version + decided.accepted.length;
  const since = version - from.snapshotVersion;
  const writeSnapshot = since >= snapshotEvery && since >= from.snapshotVersion;
  return {
    accepted: decided.accepted,
    events: JSON.stringify(decided.accepted),
    snapshot: writeSnapshot ? JSON.stringify(model.persist(decided.state).snapshot) : null,
    after: {
      version,
      state: decided.state,
      snapshotVersion: writeSnapshot ? version : from.snapshotVersion,
    },
  };
}

/** The append function's answer (a JSON object): the head it read, or where it wrote the batch. */
interface AppendFnResult {
  readonly version: number;
  readonly stored?: StoredIdRow[];
  readonly snapshot?: SnapshotRow | null;
  readonly base?: number | string;
  readonly recorded_at?: string;
  readonly meta_missing?: boolean;
}

export type AppendCall =
  | { readonly written: true; readonly result: AppendResult }
  | {
      readonly written: false;
      readonly version: number;
      readonly stored: StoredIdRow[];
      readonly snapshot: SnapshotRow | null;
    };

/**
 * Read the append function's answer to a call for episode `episodeId` decided on `version`: the head it read
 * (nothing written), the batch `write` as stored (its positions follow the base the function handed out), or
 * `'meta-missing'` when the meta row that hands out positions is gone.
 */
export function appendCall(
  result: unknown,
  write: BatchWrite | null,
  episodeId: string,
  version: number,
): AppendCall | 'meta-missing' {
  const r = (typeof result === 'string' ? JSON.parse(result) : result) as AppendFnResult;
  if (r.meta_missing) return 'meta-missing';
  if (r.base === undefined || write === null) {
    return { written: false, version: r.version, stored: r.stored ?? [], snapshot: r.snapshot ?? null };
  }
  const base = Number(r.base);
  const committedAt = isoOf(r.recorded_at);
  return {
    written: true,
    result: {
      status: 'appended',
      version: write.after.version,
      events: write.accepted.map((event, i) => ({
        position: base + i + 1,
        episodeId,
        version: version + i + 1,
        committedAt,
        event,
      })),
    },
  };
}
