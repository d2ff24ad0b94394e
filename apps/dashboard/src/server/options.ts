import type { EpisodeEvent } from '@kapkit/core';
import type { InstrumentRegistry } from '@kapkit/core/instruments';
import type { AccountStore, EventStore, LockoutPolicy } from '@kapkit/store';
import type { OidcOptions } from './auth/oidc.js';
import type { PatientLinkOptions } from './measure-links/settings.js';
import type { StaticFiles } from './static.js';

/* The dashboard server's options. */

/** Default request body limit: 128 KiB (a batch of events; the store refuses any event over 64 KiB). */
export const DEFAULT_BODY_LIMIT = 128 * 1024;

/** The research export the dashboard offers, when @kapkit/export provides one. */
export interface ResearchExporter {
  /** Formats offered; the first is the default. */
  readonly formats: readonly string[];
  readonly contentType: string;
  readonly fileName: (asOf: string, format: string) => string;
  /** Build the bundle from every stored event. */
  readonly build: (events: AsyncIterable<EpisodeEvent>, asOf: string, format: string) => Promise<Uint8Array>;
}

export interface DashboardOptions {
  readonly store: EventStore;
  readonly registry?: InstrumentRegistry;
  /** "Now", epoch ms (default `Date.now`): the instant statuses and alerts are computed for. */
  readonly now?: () => number;
  /** UTC offset used to write "now" (`Z` or `±HH:MM`; default the server's local offset). */
  readonly utcOffset?: string;
  /** The built front end (index.html and assets); null serves the API only. */
  readonly staticFiles?: StaticFiles | null;
  readonly bodyLimitBytes?: number;
  /** Accepted `Host` values (`127.0.0.1:8787`); undefined accepts any (in-process tests). */
  readonly allowedHosts?: readonly string[];
  /**
   * Origins whose writes are accepted (`https://kap.clinic.example`), from the server's configuration, never
   * from the request's own Host. Default: `http://` loopback origins (127.0.0.1, localhost, [::1]) on any port.
   */
  readonly allowedOrigins?: readonly string[];
  /** One line per request: method, route template, status, duration. Default: console.log. */
  readonly log?: (line: string) => void;
  readonly exporter?: ResearchExporter | null;
  readonly exportNote?: string;
  /** Sign-in settings (accounts default to the store's own tables). */
  readonly auth?: AuthOptions;
  /** Measure links for patients, e-mail reminders and the crisis screen (measure-links/). */
  readonly patientLinks?: PatientLinkOptions;
}

/** Accounts and session limits of the dashboard. */
interface AuthOptions {
  /** Default: `openAccounts(store)`. */
  readonly accounts?: AccountStore;
  /** Idle sign-out, ms (default 15 minutes: HIPAA §164.312(a)(2)(iii) automatic logoff). */
  readonly idleMs?: number;
  /** Absolute session lifetime, ms (default 12 hours). */
  readonly absoluteMs?: number;
  readonly lockout?: LockoutPolicy;
  readonly addressThrottle?: { readonly maxFailures: number; readonly windowMs: number };
  /** Secure, `__Host-` cookies (default: true when every allowed origin is https). */
  readonly secureCookies?: boolean;
  /** Single sign-on with OpenID Connect (authorization code + PKCE), when configured. */
  readonly oidc?: OidcOptions | null;
}

/** The server's UTC offset now, as `±HH:MM`. */
export function localOffset(atMs = Date.now()): string {
  const minutes = -new Date(atMs).getTimezoneOffset();
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
