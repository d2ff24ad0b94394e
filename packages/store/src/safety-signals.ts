import { createHash } from 'node:crypto';
import type { Refusal, Role, SafetySignal } from '@kapkit/core';
import { recordedByRoles } from '@kapkit/core/vocabularies';
import { InvalidArgumentError } from './errors.js';
import { isoOf } from './rows.js';
import type { SafetySignalReview, StoredSafetySignal } from './store-types.js';

/**
 * The safety signals the store keeps from refused submissions: the row it writes (only the signal and the
 * identifiers that say whose it is), the row it reads back, and the checks of a clinician's review.
 */

export interface SignalRow {
  id: string;
  episode_id: string;
  patient_id: string | null;
  event_id: string | null;
  event_type: string | null;
  refusal_code: string;
  event_at: unknown;
  recorded_by: string | null;
  signals: unknown;
  recorded_at: unknown;
  review_outcome: string | null;
  reviewed_by: string | null;
  actor_id: string | null;
  reviewed_at: unknown;
  review_recorded_at: unknown;
}

export function toSignal(r: SignalRow): StoredSafetySignal {
  const signals = (typeof r.signals === 'string' ? JSON.parse(r.signals) : r.signals) as SafetySignal[];
  return {
    id: r.id,
    episodeId: r.episode_id,
    patientId: r.patient_id,
    eventId: r.event_id,
    eventType: r.event_type,
    refusalCode: r.refusal_code,
    eventAt: r.event_at === null ? null : isoOf(r.event_at),
    recordedBy: roleOf(r.recorded_by),
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

function roleOf(x: unknown): Role | null {
  return (recordedByRoles as readonly unknown[]).includes(x) ? (x as Role) : null;
}

const OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

function isInstant(x: string): boolean {
  return OFFSET.test(x) && !Number.isNaN(Date.parse(x));
}

/**
 * The row to keep for a refused `event` with positive safety signals (null when it has none): its stable
 * id (derived from the event, so a retried submission keeps one signal) and the parameters of
 * `insertSignal`. `patientIdOf` gives the episode's patient when the event names none.
 */
export function signalToKeep(
  episodeId: string,
  event: unknown,
  refused: Refusal,
  patientIdOf: () => string | null,
): { id: string; params: unknown[] } | null {
  const signals = (refused.safetyFlags ?? []).filter((f) => f.kind === 'positive');
  if (signals.length === 0) return null;
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' && x !== '' ? x : null);
  const at = str(e.at);
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
  return {
    id,
    params: [
      id,
      episodeId,
      str(e.patientId) ?? patientIdOf(),
      eventId,
      str(e.type),
      refused.code,
      at !== null && isInstant(at) ? at : null,
      roleOf(e.recordedBy),
      JSON.stringify(kept),
    ],
  };
}

/** Check a clinician's review before it is recorded. */
export function checkReview(review: SafetySignalReview): void {
  if (review.reviewedBy !== 'therapist' && review.reviewedBy !== 'medical') {
    throw new InvalidArgumentError('reviewedBy', 'a safety review is a clinician’s: therapist or medical');
  }
  if (!['no-current-risk', 'safety-plan', 'escalated'].includes(review.outcome)) {
    throw new InvalidArgumentError('outcome', 'expected no-current-risk, safety-plan or escalated');
  }
  if (!isInstant(review.at)) {
    throw new InvalidArgumentError('at', 'expected an ISO 8601 date-time with a UTC offset');
  }
}
