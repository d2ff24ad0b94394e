/** What the measure-link routes need from the dashboard app, and helpers they share. */
import type { InstrumentDefinition, InstrumentRegistry } from '@kapkit/core/instruments';
import type { EventStore, MeasureRequest, MeasureRequestStore } from '@kapkit/store';
import type { Context } from 'hono';
import type { MeasureRequestView } from '../../shared/measure-requests.js';
import type { AuthSettings } from '../auth/session.js';
import type { StaticFiles } from '../static.js';
import type { Mailer } from './reminders.js';
import type { PatientLinkOptions } from './settings.js';

export interface MeasureLinksContext {
  readonly store: EventStore;
  readonly requests: MeasureRequestStore;
  readonly registry: InstrumentRegistry;
  readonly settings: AuthSettings;
  /** The app's clock, epoch ms. */
  readonly now: () => number;
  /** An instant as ISO 8601 in the clinic's UTC offset (event times). */
  readonly isoAt: (ms: number) => string;
  /** Every episode known to the dashboard, with its patient (caught up with the store). */
  readonly episodes: () => Promise<ReadonlyMap<string, { readonly patientId: string }>>;
  /** A patient's episodes, latest opened last. */
  readonly episodesOf: (patientId: string) => Promise<string[]>;
  readonly staticFiles: StaticFiles | null;
  readonly allowedOrigins: () => readonly string[] | undefined;
  readonly log: (line: string) => void;
  readonly options: PatientLinkOptions;
  readonly mailer: Mailer | null;
  readonly linkTtlMs: number;
}

/** The instrument's definition when the patient may be sent it (its licence ships the item text). */
export function sendableDefinition(
  registry: InstrumentRegistry,
  id: string,
): { ok: true; definition: InstrumentDefinition } | { ok: false; message: string } {
  const definition = registry.find(id);
  if (!definition) return { ok: false, message: `unknown instrument; known: ${registry.ids().join(', ')}` };
  if (!definition.licence.itemTextIncluded) {
    return {
      ok: false,
      message: `${definition.name} cannot be sent to patients: its licence does not let kapkit ship the item text (${definition.licence.holder}). Use your licensed form and record the answers yourself.`,
    };
  }
  return { ok: true, definition };
}

/** Every registered instrument the patient may be sent. */
export function sendableInstruments(registry: InstrumentRegistry): InstrumentDefinition[] {
  return registry.list().filter((d) => d.licence.itemTextIncluded && d.purpose === 'outcome');
}

export function requestView(r: MeasureRequest, registry: InstrumentRegistry): MeasureRequestView {
  return {
    id: r.id,
    episodeId: r.episodeId,
    instruments: r.instruments.map((id) => ({ id, name: registry.find(id)?.name ?? id })),
    origin: r.origin,
    status: r.status,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    openedAt: r.openedAt,
    completedAt: r.completedAt,
    revokedAt: r.revokedAt,
    email: r.email
      ? {
          status: r.email.status,
          attempts: r.email.attempts,
          sentAt: r.email.sentAt,
          nextAttemptAt: r.email.nextAttemptAt,
        }
      : null,
  };
}

/** The address links are made on: the configured one, else the request's origin. */
export function linkBase(ctx: MeasureLinksContext, c?: Context): string {
  const configured = ctx.options.baseUrl?.();
  if (configured) return configured.replace(/\/+$/, '');
  if (c) return new URL(c.req.url).origin;
  throw new Error('patientLinks.baseUrl is needed to make links outside a request (e-mail reminders).');
}

/** An expiry in words (`Monday, March 9, 2026 at 9:00 AM EST`), in the server's time zone. */
export function expiresText(iso: string): string {
  return new Date(iso).toLocaleString('en-US', { dateStyle: 'full', timeStyle: 'short' });
}
