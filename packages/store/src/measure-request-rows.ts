import { InvalidArgumentError } from './errors.js';
import type {
  MeasureRequest,
  MeasureRequestStatus,
  OutboxMessage,
  OutboxStatus,
} from './measure-request-types.js';
import { iso } from './values.js';

/** Rows of the measure-request tables as queries return them, and their public form. */

export interface RequestRow {
  id: string;
  episode_id: string;
  patient_id: string;
  instruments: unknown;
  origin: 'automatic' | 'clinician';
  created_by: string | null;
  status: MeasureRequestStatus;
  created_at: Date | string;
  expires_at: Date | string;
  opened_at: Date | string | null;
  submitted_at: Date | string | null;
  completed_at: Date | string | null;
  revoked_at: Date | string | null;
  event_ids: unknown;
}

export interface OutboxRow {
  id: string;
  idempotency_key: string;
  request_id: string;
  recipient: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Date | string;
  last_error: string | null;
  created_at: Date | string;
  sent_at: Date | string | null;
}

function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

export function outboxMessage(r: OutboxRow): OutboxMessage {
  return {
    id: r.id,
    idempotencyKey: r.idempotency_key,
    requestId: r.request_id,
    recipient: r.recipient,
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: iso(r.next_attempt_at)!,
    lastError: r.last_error,
    createdAt: iso(r.created_at)!,
    sentAt: iso(r.sent_at),
  };
}

function effectiveStatus(r: RequestRow, atMs: number): MeasureRequestStatus {
  return (r.status === 'sent' || r.status === 'opened') && new Date(r.expires_at).getTime() <= atMs
    ? 'expired'
    : r.status;
}

export function request(r: RequestRow, atMs: number, email: OutboxMessage | null): MeasureRequest {
  return {
    id: r.id,
    episodeId: r.episode_id,
    patientId: r.patient_id,
    instruments: json<string[]>(r.instruments),
    origin: r.origin,
    createdBy: r.created_by,
    status: effectiveStatus(r, atMs),
    createdAt: iso(r.created_at)!,
    expiresAt: iso(r.expires_at)!,
    openedAt: iso(r.opened_at),
    submittedAt: iso(r.submitted_at),
    completedAt: iso(r.completed_at),
    revokedAt: iso(r.revoked_at),
    eventIds: r.event_ids === null ? null : json<string[]>(r.event_ids),
    email,
  };
}

export function checkText(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new InvalidArgumentError(
      name,
      `Expected an id of 1 to 200 characters, got ${JSON.stringify(value)}.`,
    );
  }
}
