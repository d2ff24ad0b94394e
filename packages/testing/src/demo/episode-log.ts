import type { EpisodeEventInput, EventType } from '@kapkit/core';
import { MINUTE_MS, type PatientClock } from './clock.js';
import type { DemoEvent } from './types.js';

/** Who records an event. */
export type Role = 'therapist' | 'medical' | 'patient' | 'chaperone' | 'system';
type Envelope =
  | 'id'
  | 'episodeId'
  | 'patientId'
  | 'type'
  | 'at'
  | 'recordedAt'
  | 'v'
  | 'recordedBy'
  | 'actorId'
  | 'synthetic'
  | 'note';
type PayloadOf<T extends EventType> = Omit<Extract<EpisodeEventInput, { type: T }>, Envelope>;
/** Where a session takes place. */
export type SessionMode = 'in-person' | 'telehealth';

export const H = 60; // minutes per hour

/** Collects one episode's events in time order, with deferred events (adverse-event reviews) flushed in time. */
export class EpisodeLog {
  readonly events: DemoEvent[] = [];
  readonly times: number[] = [];
  #lastMs = Number.NEGATIVE_INFINITY;
  #deferred: { ms: number; add: () => void }[] = [];

  constructor(
    readonly episodeId: string,
    readonly patientId: string,
    readonly clock: PatientClock,
  ) {}

  get lastMs(): number {
    return this.#lastMs;
  }

  /** The local day of the last event. */
  get day(): number {
    return this.clock.dayOf(this.#lastMs);
  }

  /** Epoch ms of local day `day` at `minute` after midnight. */
  at(day: number, minute: number): number {
    return this.clock.instant(day, minute);
  }

  /** Append an event at `ms` (moved to just after the previous event if earlier), flushing due deferrals. */
  add<T extends EventType>(type: T, payload: PayloadOf<T>, ms: number, role: Role): DemoEvent {
    this.flush(ms);
    return this.#push(type, payload, ms, role);
  }

  #push<T extends EventType>(type: T, payload: PayloadOf<T>, ms: number, role: Role): DemoEvent {
    const when = ms > this.#lastMs ? ms : this.#lastMs + MINUTE_MS;
    this.#lastMs = when;
    const event = {
      id: `${this.episodeId}-e${String(this.events.length + 1).padStart(3, '0')}`,
      episodeId: this.episodeId,
      patientId: this.patientId,
      type,
      at: this.clock.format(when),
      // Demo events are recorded as they happen (clinical time = recording time).
      recordedAt: this.clock.format(when),
      v: 2,
      recordedBy: role,
      synthetic: true,
      ...payload,
    } as unknown as DemoEvent;
    this.events.push(event);
    this.times.push(when);
    return event;
  }

  /** Add an event later, when the log reaches `ms` (or at the latest when `flush()` is called). */
  defer<T extends EventType>(type: T, payload: PayloadOf<T>, ms: number, role: Role): void {
    this.#deferred.push({ ms, add: () => this.#push(type, payload, ms, role) });
    this.#deferred.sort((a, b) => a.ms - b.ms);
  }

  /** Add every deferred event due at or before `upToMs` (all of them without an argument). */
  flush(upToMs = Number.POSITIVE_INFINITY): void {
    while (this.#deferred.length > 0 && this.#deferred[0]!.ms <= upToMs) this.#deferred.shift()!.add();
  }
}
