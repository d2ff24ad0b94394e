import type { EpisodeEvent, EpisodeState } from '@kapkit/core';
import { InvalidArgumentError } from './errors.js';
import type { StoredEvent } from './store-types.js';

/** Rows as the store's queries return them, and the small conversions every reader shares. */

export interface EventRow {
  position: unknown;
  episode_id: string;
  version: unknown;
  payload: unknown;
  recorded_at: unknown;
}

export interface CachedState {
  readonly version: number;
  readonly state: EpisodeState;
  /** Version of the snapshot row as far as this process knows (0: none usable). */
  readonly snapshotVersion: number;
}

export interface SnapshotRow {
  version: unknown;
  machine_version: unknown;
  snapshot: unknown;
}

const MAX_ID = 200; // same bound as the event schema's ids

export function isoOf(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

export function toStored(row: EventRow): StoredEvent {
  return {
    position: Number(row.position),
    episodeId: row.episode_id,
    version: Number(row.version),
    committedAt: isoOf(row.recorded_at),
    event: row.payload as EpisodeEvent,
  };
}

export function checkId(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID) {
    throw new InvalidArgumentError(name, `expected a non-empty string of at most ${MAX_ID} characters`);
  }
}
