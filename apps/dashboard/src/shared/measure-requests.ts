/**
 * The JSON of measure requests (patients reporting their own outcomes): what the clinician's pages and the
 * patient's page read. Types only, shared by `src/server` and `src/client`.
 */

import type { MeasureRequestStatus, MeasureRequestSummary } from '@kapkit/store';

/** One request as the care team sees it (never its link: only a hash of each token is stored). */
export interface MeasureRequestView {
  readonly id: string;
  readonly episodeId: string;
  readonly instruments: readonly { readonly id: string; readonly name: string }[];
  readonly origin: 'automatic' | 'clinician';
  readonly status: MeasureRequestStatus;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly openedAt: string | null;
  readonly completedAt: string | null;
  readonly revokedAt: string | null;
  /** The e-mail reminder, when one was queued: `pending`, `sending`, `sent`, `failed`, `uncertain`, `cancelled`. */
  readonly email: null | {
    readonly status: string;
    readonly attempts: number;
    readonly sentAt: string | null;
    readonly nextAttemptAt: string;
  };
}

/** `GET /api/patients/:patientId/measure-requests`. */
export interface PatientMeasureRequestsResponse {
  readonly asOf: string;
  readonly patientId: string;
  /** The e-mail address reminders go to, or null. */
  readonly contact: string | null;
  /** `email`: reminders are e-mailed (SMTP configured); `off`: copy the link or show its QR code. */
  readonly reminders: 'email' | 'off';
  /** How long a new link works, in days (the clinic's policy). */
  readonly linkDays: number;
  /** Instruments that can be sent: their licence lets kapkit ship the item text. */
  readonly sendable: readonly { readonly id: string; readonly name: string }[];
  readonly requests: readonly MeasureRequestView[];
}

/** `POST /api/patients/:patientId/measure-requests` and `POST /api/measure-requests/:requestId/link`. */
export interface MeasureLinkResponse {
  /** The link to give the patient: `/m/<token>` on the dashboard's address. Shown once; not stored. */
  readonly url: string;
  readonly expiresAt: string;
  readonly request: MeasureRequestView;
}

/** Counts of a patient's requests by status, and when the last one was created (as the store counts them). */
export type MeasureRequestCounts = MeasureRequestSummary;

/** `GET /api/measure-requests`: the caseload's counts, for the patients of the caller's care teams. */
export interface MeasureRequestSummaryResponse {
  readonly asOf: string;
  readonly patients: Readonly<Record<string, MeasureRequestCounts>>;
}

/** The crisis screen: configurable text shown before anything else when an answer trips a safety rule. */
export interface CrisisScreen {
  readonly heading: string;
  readonly paragraphs: readonly string[];
  /** Large buttons (`tel:988`, `sms:988`, `tel:911`). */
  readonly actions: readonly { readonly label: string; readonly href: string }[];
  /** Where the default text comes from (shown in small print). */
  readonly source: string;
}

/** One question of the patient's form. */
export interface PatientItem {
  readonly number: number;
  readonly text: string;
  readonly options: readonly { readonly value: number; readonly label: string }[];
}

/** An instrument as the patient's page shows it: its own item text and answer options, nothing else. */
export interface PatientInstrument {
  readonly id: string;
  readonly name: string;
  readonly stem: string | null;
  readonly items: readonly PatientItem[];
  /** Items whose answer shows the crisis screen (PHQ-9 item 9 above "Not at all"). */
  readonly safety: readonly {
    readonly item: number;
    readonly op: '>=' | '>' | '<=' | '<';
    readonly value: number;
  }[];
}

/** `POST /m/api/open`: the form of an open request. */
export interface PatientFormResponse {
  readonly status: 'open';
  readonly expiresAt: string;
  readonly instruments: readonly PatientInstrument[];
  readonly crisis: CrisisScreen;
  /** The clinic's phone number, when configured (said on the crisis screen when saving failed). */
  readonly clinicPhone: string | null;
}

/** `POST /m/api/submit`. */
export interface PatientSubmitResponse {
  /** `recorded`: saved now; `duplicate`: this submission was already saved (a retry). */
  readonly status: 'recorded' | 'duplicate';
  /** An answer tripped a safety rule: the care team has an urgent alert marked patient-reported. */
  readonly crisis: boolean;
}

/** Every error of the patient's routes: a code and a sentence for the patient. */
export interface PatientLinkError {
  readonly error:
    | 'expired'
    | 'used'
    | 'revoked'
    | 'not-found'
    | 'rate-limited'
    | 'invalid-input'
    | 'not-saved'
    | 'unavailable';
  readonly message: string;
}
