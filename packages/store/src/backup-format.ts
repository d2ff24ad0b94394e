import type { ClinicCounts, ClinicTableTotal } from './backup-tables.js';

/*
 * The format of a kapkit store backup (see backup.ts): its header, its summary and trailer, and its
 * safety-signal lines, shared by the writer (backup.ts) and the reader (backup-read.ts).
 */

/** The `format` of a kapkit store backup's first line. */
export const BACKUP_FORMAT = 'kapkit-store-backup';
/**
 * The version of the backup format this @kapkit/store writes. It reads this one and version 1 (events and
 * safety signals only, no clinic tables).
 */
export const BACKUP_FORMAT_VERSION = 2;

/** The first line of a backup. */
export interface BackupHeader {
  readonly format: typeof BACKUP_FORMAT;
  readonly formatVersion: number;
  /** The schema version of the store it was taken from. */
  readonly schemaVersion: number;
  readonly engine: 'pglite' | 'postgres';
  /** When the backup was taken (ISO 8601, UTC). */
  readonly createdAt: string;
}

/** What a backup or a restore covered. */
export interface BackupSummary {
  readonly events: number;
  readonly episodes: number;
  /** The last position the store had handed out (the backup's last event, unless the store is empty). */
  readonly lastPosition: number;
  /** Safety signals of refused submissions (`safetySignals()`), with their reviews. */
  readonly safetySignals: number;
  /**
   * Rows of each clinic table, by the name its lines carry: `users`, `careTeams`, `careTeamMembers`,
   * `careTeamPatients`, `audit`, `patientContacts`, `measureRequests`, `measureLinks`, `measureOpen`, `outbox`
   * (every table named; all 0 for a version-1 backup, which has none).
   */
  readonly clinic: Readonly<Record<string, number>>;
  /** SHA-256 (hex) of every line between the header and the end line, as in the trailer. */
  readonly sha256: string;
}

/** The end line of a backup. */
export interface Trailer {
  events: number;
  safetySignals?: number;
  lastPosition: number;
  /** Format version 2: each clinic table's rows and the SHA-256 of its lines. */
  clinic?: Record<string, ClinicTableTotal>;
  sha256: string;
}

export const countsOf = (totals: Record<string, ClinicTableTotal>): ClinicCounts =>
  Object.fromEntries(Object.entries(totals).map(([name, total]) => [name, total.rows]));

/** A stored safety signal as a backup line carries it (`{ "safetySignal": … }`). */
export interface SignalLine {
  id: string;
  episodeId: string;
  patientId: string | null;
  eventId: string | null;
  eventType: string | null;
  refusalCode: string;
  eventAt: string | null;
  /** Who recorded the refused submission (a role); absent in backups of stores before schema version 7. */
  recordedBy?: string | null;
  signals: unknown[];
  recordedAt: string;
  review: null | {
    outcome: string;
    reviewedBy: string;
    actorId: string | null;
    at: string;
    recordedAt: string;
  };
}
