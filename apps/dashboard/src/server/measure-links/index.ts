/**
 * Patients report their own outcomes: measure requests, their links (`/m/<token>`), e-mail reminders and the
 * automatic requests of the monitoring plan, registered on the dashboard app by {@link measureLinks}.
 *
 * - `staff.ts`: the care team's routes and the scheduler pass.
 * - `patient.ts`: the patient page and its JSON routes (no sign-in; the link is the credential).
 * - `reminders.ts`: the e-mail delivery worker (nodemailer over SMTP) of the store's outbox.
 * - `settings.ts`: the policies (link lifetime, rate limits, back-off, crisis screen) and their sources.
 */
import type { InstrumentRegistry } from '@kapkit/core/instruments';
import { formatInOffset } from '@kapkit/core/time';
import { type EventStore, openMeasureRequests } from '@kapkit/store';
import { Hono } from 'hono';
import type { AuthEnv, AuthSettings } from '../auth/session.js';
import type { StaticFiles } from '../static.js';
import { expiresText, linkBase, type MeasureLinksContext } from './context.js';
import { patientRoutes } from './patient.js';
import { type DeliveryReport, deliverReminders, smtpMailer } from './reminders.js';
import {
  DEFAULT_DELIVERY_EVERY_MS,
  DEFAULT_LINK_TTL_MS,
  DEFAULT_SCHEDULE_EVERY_MS,
  type PatientLinkOptions,
} from './settings.js';
import { scheduleMeasureRequests, staffRoutes } from './staff.js';

export interface MeasureLinksSetup {
  readonly store: EventStore;
  readonly registry: InstrumentRegistry;
  readonly settings: AuthSettings;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** The dashboard's episode index (caught up with the store on `refresh`). */
  readonly index: {
    refresh(): Promise<void>;
    readonly episodes: ReadonlyMap<string, { readonly patientId: string }>;
    episodesOf(patientId: string): string[];
  };
  /** The dashboard's options: its front end, allowed origins and `patientLinks`. */
  readonly options: {
    readonly staticFiles?: StaticFiles | null;
    readonly allowedOrigins?: readonly string[];
    readonly patientLinks?: PatientLinkOptions;
  };
  /** The clinic's UTC offset at an instant (`Z`, `-05:00`). */
  readonly offsetAt: (ms: number) => string;
}

/** What the app exposes of measure links: the scheduler and the delivery worker, by hand or on timers. */
export interface MeasureLinksHandle {
  /** `email` when SMTP is configured, else `off` (links are copied or shown as QR codes). */
  readonly reminders: 'email' | 'off';
  /** One scheduler pass at `asOfMs` (default now): expire, then make the automatic requests due. */
  runScheduler(asOfMs?: number): Promise<{ expired: number; created: number }>;
  /** One delivery pass at `nowMs` (default now); nothing without a mailer. */
  deliverReminders(nowMs?: number): Promise<DeliveryReport>;
  /** Run both now and then periodically (timers that do not keep the process alive). */
  start(intervals?: { scheduleMs?: number; deliveryMs?: number }): void;
  /** Stop the timers and close the mail transport. */
  stop(): void;
}

/** The measure-link routes (clinician and patient) and their background passes. */
export function measureLinks(setup: MeasureLinksSetup): { app: Hono<AuthEnv>; handle: MeasureLinksHandle } {
  const o = setup.options.patientLinks ?? {};
  const mailer = o.mailer !== undefined ? o.mailer : o.smtp ? smtpMailer(o.smtp.url, o.smtp.from) : null;
  const { index } = setup;
  const ctx: MeasureLinksContext = {
    store: setup.store,
    requests: openMeasureRequests(setup.store),
    registry: setup.registry,
    settings: setup.settings,
    now: setup.now,
    isoAt: (ms) => formatInOffset(ms, setup.offsetAt(ms)),
    episodes: async () => {
      await index.refresh();
      return index.episodes;
    },
    episodesOf: async (patientId) => {
      await index.refresh();
      return index.episodesOf(patientId);
    },
    staticFiles: setup.options.staticFiles ?? null,
    allowedOrigins: () => setup.options.allowedOrigins,
    log: setup.log,
    options: o,
    mailer,
    linkTtlMs: o.linkTtlMs ?? DEFAULT_LINK_TTL_MS,
  };
  const app = new Hono<AuthEnv>();
  app.route('/', staffRoutes(ctx));
  app.route('/', patientRoutes(ctx) as unknown as Hono<AuthEnv>);

  const timers: ReturnType<typeof setInterval>[] = [];
  const none: DeliveryReport = { sent: 0, retrying: 0, failed: 0, cancelled: 0, uncertain: 0 };
  const handle: MeasureLinksHandle = {
    reminders: mailer ? 'email' : 'off',
    runScheduler: (asOfMs = ctx.now()) => scheduleMeasureRequests(ctx, asOfMs),
    deliverReminders: async (nowMs = ctx.now()) =>
      mailer
        ? deliverReminders({
            requests: ctx.requests,
            mailer,
            nowMs,
            linkOf: (token) => `${linkBase(ctx)}/m/${token}`,
            expiresText,
            ...(o.emailRetry ? { retry: o.emailRetry } : {}),
          })
        : none,
    start(intervals = {}) {
      // Logged by kind only: a failing pass never logs a patient, an address or a message.
      const guarded = (name: string, pass: () => Promise<unknown>) => () =>
        void pass().catch((error: unknown) =>
          setup.log(`${name} failed: ${(error as { code?: string }).code ?? (error as Error).name}`),
        );
      const schedule = guarded('measure scheduler', () => handle.runScheduler());
      const deliver = guarded('reminder delivery', async () => {
        if (mailer) await handle.deliverReminders();
      });
      schedule();
      deliver();
      timers.push(setInterval(schedule, intervals.scheduleMs ?? DEFAULT_SCHEDULE_EVERY_MS));
      if (mailer) timers.push(setInterval(deliver, intervals.deliveryMs ?? DEFAULT_DELIVERY_EVERY_MS));
      for (const t of timers) t.unref();
    },
    stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      mailer?.close();
    },
  };
  return { app, handle };
}
