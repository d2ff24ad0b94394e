/**
 * The policies of measure links, with their defaults and sources: how long a link works, how many attempts a
 * client address or a link may make, the e-mail back-off, how often automatic requests are made, and the
 * crisis screen's text. Every one is configurable (`createDashboardApp({ patientLinks })`, or the environment
 * through `startDashboard`).
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { z } from 'zod';
import type { CrisisScreen } from '../../shared/measure-requests.js';
import type { Mailer } from './reminders.js';

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;

/** A link works for 7 days (kapkit default: a weekly measure's window; the clinic's policy decides). */
export const DEFAULT_LINK_TTL_MS = 7 * DAY_MS;

/**
 * Attempts on the patient's routes (`/m/api/*`). A link token has 256 random bits, so guessing is hopeless;
 * the limits stop a client from hammering the store, and a forwarded link from being tried at length.
 * kapkit defaults.
 */
interface AttemptLimit {
  readonly maxAttempts: number;
  readonly windowMs: number;
}

export interface LinkRateLimits {
  readonly perAddress: AttemptLimit;
  readonly unknownPerAddress: AttemptLimit;
  readonly perToken: AttemptLimit;
}

export interface EmailRetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
}

export const DEFAULT_LINK_RATE_LIMITS: LinkRateLimits = {
  /** Requests from one client address per window. */
  perAddress: { maxAttempts: 60, windowMs: 10 * MIN_MS },
  /** Unknown tokens from one client address per window. */
  unknownPerAddress: { maxAttempts: 10, windowMs: 10 * MIN_MS },
  /** Requests naming one link per window (opening, submitting, retries). */
  perToken: { maxAttempts: 30, windowMs: 10 * MIN_MS },
};

/**
 * E-mail delivery: retry a message the mail server did not accept after 1, 2, 4, 8, 16 minutes (exponential
 * back-off, capped at 6 hours), and give up after 6 attempts or at once on a permanent (5xx) refusal. Mail
 * servers themselves retry for days (RFC 5321 §4.5.4.1); this is the hop to the clinic's relay.
 */
export const DEFAULT_EMAIL_RETRY = {
  baseDelayMs: MIN_MS,
  maxDelayMs: 6 * 60 * MIN_MS,
  maxAttempts: 6,
} as const;

/** Automatic requests from the monitoring plan are made at start and every 15 minutes (kapkit default). */
export const DEFAULT_SCHEDULE_EVERY_MS = 15 * MIN_MS;
/** Due e-mails are looked for every 30 seconds (kapkit default). */
export const DEFAULT_DELIVERY_EVERY_MS = 30_000;

/**
 * The crisis screen's default text (United States). Sources: the 988 Suicide & Crisis Lifeline (SAMHSA,
 * https://988lifeline.org: call or text 988, 24/7); emergencies 911; The Joint Commission NPSG 15.01.01 (a
 * positive suicide-risk screen is followed up by the care team). Set your country's lines with
 * `KAPKIT_CRISIS_FILE` (a JSON file of this shape) or `patientLinks.crisis`.
 */
export const DEFAULT_CRISIS_SCREEN: CrisisScreen = {
  heading: 'You are not alone. Help is available right now.',
  paragraphs: [
    'One of your answers says you have had thoughts of being better off dead or of hurting yourself. If you are thinking about harming yourself, please reach out now.',
    'Call or text 988 (the Suicide & Crisis Lifeline): free, confidential, 24 hours a day.',
    'If you are in immediate danger, call 911.',
    'Your care team will see your answers and follow up with you.',
  ],
  actions: [
    { label: 'Call 988', href: 'tel:988' },
    { label: 'Text 988', href: 'sms:988' },
    { label: 'Call 911', href: 'tel:911' },
  ],
  source:
    'United States: 988 Suicide & Crisis Lifeline (SAMHSA, 988lifeline.org); emergency 911. Follow-up by the care team: The Joint Commission NPSG 15.01.01.',
};

const crisisScreenSchema = z
  .object({
    heading: z.string().min(1).max(200),
    paragraphs: z.array(z.string().min(1).max(1000)).min(1).max(10),
    actions: z
      .array(
        z.object({
          label: z.string().min(1).max(60),
          href: z.string().regex(/^(tel:|sms:|https:\/\/)/, 'expected a tel:, sms: or https:// link'),
        }),
      )
      .max(6),
    source: z.string().min(1).max(500),
  })
  .strict();

/** Measure links, reminders and the crisis screen of the dashboard. */
export interface PatientLinkOptions {
  /** How long a link works, ms (default 7 days). */
  readonly linkTtlMs?: number;
  /** The crisis screen (default: the United States text, 988 and 911). */
  readonly crisis?: CrisisScreen;
  /** The clinic's phone number, said on the crisis screen when the answers could not be saved. */
  readonly clinicPhone?: string | null;
  /** The address links are made on (`https://kap.clinic.example`); default: the request's own origin. */
  readonly baseUrl?: () => string | undefined;
  /** E-mail reminders over SMTP (nodemailer); null or absent: the clinician copies the link or a QR code. */
  readonly smtp?: { readonly url: string; readonly from: string } | null;
  readonly rateLimits?: Partial<LinkRateLimits>;
  readonly emailRetry?: Partial<EmailRetryPolicy>;
  /**
   * The client address of a request, for the per-address limits (default: the TCP peer; null for loopback,
   * where a TLS proxy in front would make every patient share one address: the proxy limits there).
   */
  readonly addressOf?: (c: Context) => string | null;
  /** A mailer to use instead of SMTP (tests, or another transport). */
  readonly mailer?: Mailer | null;
}

/** The crisis screen of `KAPKIT_CRISIS_FILE`, checked; throws with the field that is wrong. */
export function crisisFromFile(path: string): CrisisScreen {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`KAPKIT_CRISIS_FILE ${path}: not readable JSON (${(error as Error).message}).`);
  }
  const parsed = crisisScreenSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`KAPKIT_CRISIS_FILE ${path}: ${i.path.join('.') || '(root)'}: ${i.message}.`);
  }
  return parsed.data;
}
