/**
 * Patients report their own outcomes: measure requests, the links that open them, the patient's e-mail for
 * reminders and the e-mail outbox, kept in the same database as the events (PGlite or PostgreSQL, same SQL).
 *
 * - A **request** asks one patient to complete one or more instruments of one episode. It is `sent` when
 *   created, `opened` once the patient opens a link, `completed` once the answers are recorded, `expired` after
 *   `expiresAt`, `revoked` when the care team withdraws it.
 * - A **link** is a random token (32 bytes, base64url: 256 bits) of which only the SHA-256 hash is stored. A
 *   request can have several links (the one the clinician copied, the one an e-mail carried): each works until
 *   the request is completed, expired or revoked.
 * - **At most one open request per measure per episode**: the `kapkit_measure_open` table's primary key
 *   (episode, instrument) says which request holds each measure, so automatic requests are idempotent even with
 *   several server processes on one PostgreSQL database.
 * - The **outbox** holds one message per request (its idempotency key), with attempts, the next attempt time
 *   (back-off) and the time it was sent. A message is claimed (`sending`) before it is handed to the mail
 *   server: one left `sending` by a crash is marked `uncertain`, never sent again.
 *
 * Every time is passed in by the caller (`atMs`, epoch ms): the server reads its clock in one place.
 *
 * Every export of this module is public API: index.ts re-exports it whole.
 */

export const measureRequestStatuses = ['sent', 'opened', 'completed', 'expired', 'revoked'] as const;
export type MeasureRequestStatus = (typeof measureRequestStatuses)[number];

export const outboxStatuses = ['pending', 'sending', 'sent', 'failed', 'uncertain', 'cancelled'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

/** One e-mail of the outbox, as the clinician view and the delivery worker see it. */
export interface OutboxMessage {
  readonly id: string;
  readonly idempotencyKey: string;
  readonly requestId: string;
  readonly recipient: string;
  readonly status: OutboxStatus;
  readonly attempts: number;
  /** When the next attempt may run (pending), or when the message was last claimed (sending). */
  readonly nextAttemptAt: string;
  /** A short code of the last failure (an SMTP response code, `ECONNREFUSED`…), never a message text. */
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly sentAt: string | null;
}

export interface MeasureRequest {
  readonly id: string;
  readonly episodeId: string;
  readonly patientId: string;
  /** Instrument ids, in the order the patient answers them. */
  readonly instruments: readonly string[];
  /** `automatic`: from the episode's monitoring plan; `clinician`: sent from the patient page or the API. */
  readonly origin: 'automatic' | 'clinician';
  /** The account that sent it (null for automatic requests). */
  readonly createdBy: string | null;
  /** As of the time it was read: a `sent` or `opened` request past `expiresAt` reads `expired`. */
  readonly status: MeasureRequestStatus;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly openedAt: string | null;
  /** When the patient first submitted (the clinical time of the recorded answers; a retry keeps it). */
  readonly submittedAt: string | null;
  readonly completedAt: string | null;
  readonly revokedAt: string | null;
  /** The AssessmentRecorded events the submission appended. */
  readonly eventIds: readonly string[] | null;
  /** The request's e-mail, when one was queued. */
  readonly email: OutboxMessage | null;
}

export interface NewMeasureRequest {
  readonly episodeId: string;
  readonly patientId: string;
  readonly instruments: readonly string[];
  readonly origin: 'automatic' | 'clinician';
  readonly createdBy?: string | null;
  readonly atMs: number;
  /** How long the request's links work (the clinic's policy; the dashboard's default is 7 days). */
  readonly ttlMs: number;
  /** Issue a link now and return its token (the clinician copies it or shows it as a QR code). */
  readonly issueLink: boolean;
  /** Queue an e-mail to the patient's address, when one is on file. */
  readonly email: boolean;
}

/** Counts of a patient's requests by status (as of the time read) and when the last one was created. */
export interface MeasureRequestSummary {
  readonly sent: number;
  readonly opened: number;
  readonly completed: number;
  readonly expired: number;
  readonly revoked: number;
  readonly lastCreatedAt: string | null;
}
