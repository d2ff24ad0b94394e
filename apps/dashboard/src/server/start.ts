/**
 * Start the dashboard: open the store (PGlite in a local folder, or PostgreSQL with DATABASE_URL), seed a
 * synthetic demo caseload into an empty embedded store, and serve on 127.0.0.1 unless HOST says otherwise.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { type EventStore, openStore } from '@kapkit/store';
import { createDashboardApp } from './app.js';
import { demoSignInLinks, type FirstRunLink, setUpLink } from './auth/first-run.js';
import { acceptedNames, NetworkConfigError, planNetwork } from './auth/network.js';
import { oidcFromEnv } from './auth/oidc.js';
import { seedDemoCaseload, storeIsEmpty } from './demo.js';
import { researchExporter } from './export.js';
import { crisisFromFile } from './measure-links/settings.js';
import { loadStaticFiles } from './static.js';

export interface StartOptions {
  /** Interface to bind. Default `HOST` or 127.0.0.1 (this machine only); beyond loopback needs `publicOrigin`. */
  readonly host?: string;
  /** The https:// origin users reach the dashboard by. Default `KAPKIT_PUBLIC_ORIGIN`. */
  readonly publicOrigin?: string;
  /** Port. Default `PORT` or 8787; 0 picks a free one. */
  readonly port?: number;
  /** PostgreSQL URL. Default `DATABASE_URL`; without it, PGlite in `dataDir`. */
  readonly databaseUrl?: string;
  /** PGlite folder. Default `KAPKIT_DASHBOARD_DATA`, else `defaultDataDir`. */
  readonly dataDir?: string;
  /** PGlite folder when neither `dataDir` nor KAPKIT_DASHBOARD_DATA is given. Default `.data/dashboard` (cwd). */
  readonly defaultDataDir?: string;
  /**
   * Seed an empty store with the synthetic demo caseload. Default: yes for PGlite (unless KAPKIT_DEMO=0),
   * no for PostgreSQL (unless KAPKIT_DEMO=1): demo data never lands in a server database by surprise.
   */
  readonly demo?: boolean;
  readonly demoPatients?: number;
  /** Where the built front end is. Default: `dist/client` next to this file's `dist/server`. */
  readonly clientDir?: string;
  readonly log?: (line: string) => void;
  /** Idle sign-out in minutes. Default `KAPKIT_SESSION_IDLE_MINUTES` or 15 (HIPAA §164.312(a)(2)(iii)). */
  readonly idleMinutes?: number;
  /** Absolute session lifetime in hours. Default `KAPKIT_SESSION_MAX_HOURS` or 12. */
  readonly sessionMaxHours?: number;
  /** SMTP server for measure reminders (`smtp://user:pass@host:587`). Default `SMTP_URL`; none: reminders off. */
  readonly smtpUrl?: string;
  /** Sender of reminders. Default `SMTP_FROM`, else `kapkit <no-reply@localhost>`. */
  readonly smtpFrom?: string;
  /** Days a measure link works. Default `KAPKIT_MEASURE_LINK_DAYS` or 7. */
  readonly measureLinkDays?: number;
}

export interface RunningDashboard {
  /** The address to open: the public origin when one is configured, else http://host:port. */
  readonly url: string;
  /** The port the server listens on. */
  readonly port: number;
  readonly store: EventStore;
  readonly seeded: number;
  readonly demo: boolean;
  /**
   * One-time links to print after the URL: on demo data, one per demo account (`therapist`, `medical`,
   * `admin`); on a store without accounts, one `first-admin` set-up link. Full URLs.
   */
  readonly links: readonly { readonly role: FirstRunLink['role']; readonly url: string }[];
  /** Measure reminders: `email` with SMTP_URL, else `off` (links are copied or shown as QR codes). */
  readonly reminders: 'email' | 'off';
  close(): Promise<void>;
}

function defaultClientDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'client');
}

/** The checked settings of a start: every option and variable is read and checked before anything opens. */
interface StartSettings {
  readonly network: ReturnType<typeof planNetwork>;
  readonly oidc: ReturnType<typeof oidcFromEnv>;
  readonly port: number;
  readonly idleMinutes: number;
  readonly maxHours: number;
  readonly linkDays: number;
  readonly smtpUrl: string | undefined;
  readonly crisis: ReturnType<typeof crisisFromFile> | undefined;
  readonly databaseUrl: string | undefined;
}

function startSettings(
  options: StartOptions,
  env: NodeJS.ProcessEnv,
  publicUrl: () => string,
): StartSettings {
  // Refused before anything is opened: an empty or invalid HOST, or a non-loopback one without an https origin.
  const network = planNetwork({ host: options.host, publicOrigin: options.publicOrigin, env });
  // Single sign-on: KAPKIT_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _ROLE_CLAIM, _ROLE_MAP, _LABEL (docs/security.md).
  const oidc = oidcFromEnv(env, publicUrl);
  const port = options.port ?? (env.PORT ? Number(env.PORT) : 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be 0–65535, got ${env.PORT}`);
  const idleMinutes = positiveNumber(
    'KAPKIT_SESSION_IDLE_MINUTES',
    options.idleMinutes ?? env.KAPKIT_SESSION_IDLE_MINUTES,
    15,
  );
  const maxHours = positiveNumber(
    'KAPKIT_SESSION_MAX_HOURS',
    options.sessionMaxHours ?? env.KAPKIT_SESSION_MAX_HOURS,
    12,
  );
  const linkDays = positiveNumber(
    'KAPKIT_MEASURE_LINK_DAYS',
    options.measureLinkDays ?? env.KAPKIT_MEASURE_LINK_DAYS,
    7,
  );
  const smtpUrl = options.smtpUrl ?? (env.SMTP_URL || undefined);
  // The crisis screen's text for another country (docs/patients.md); checked before anything is opened.
  let crisis: ReturnType<typeof crisisFromFile> | undefined;
  try {
    crisis = env.KAPKIT_CRISIS_FILE ? crisisFromFile(env.KAPKIT_CRISIS_FILE) : undefined;
  } catch (error) {
    throw new NetworkConfigError((error as Error).message);
  }
  const databaseUrl = options.databaseUrl ?? (env.DATABASE_URL || undefined);
  return { network, oidc, port, idleMinutes, maxHours, linkDays, smtpUrl, crisis, databaseUrl };
}

/** Open PostgreSQL or PGlite and, when asked, seed an empty store with the demo caseload (closed on failure). */
async function openSeededStore(
  options: StartOptions,
  env: NodeJS.ProcessEnv,
  databaseUrl: string | undefined,
): Promise<{ store: EventStore; seeded: number }> {
  const store = databaseUrl
    ? await openStore({ url: databaseUrl })
    : await openStore({
        dataDir: resolve(options.dataDir ?? env.KAPKIT_DASHBOARD_DATA ?? '.data/dashboard'),
      });
  const demo = options.demo ?? (databaseUrl ? env.KAPKIT_DEMO === '1' : env.KAPKIT_DEMO !== '0');
  let seeded = 0;
  try {
    if (demo && (await storeIsEmpty(store))) {
      seeded = await seedDemoCaseload(store, { nowMs: Date.now(), patients: options.demoPatients ?? 60 });
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store, seeded };
}

/** Listen on `host:port`; on failure close the store and say what to change. */
async function listen(
  fetch: Parameters<typeof serve>[0]['fetch'],
  host: string,
  port: number,
  store: EventStore,
): Promise<ReturnType<typeof serve>> {
  try {
    return await new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
      const s = serve({ fetch, hostname: host, port }, () => resolveServer(s));
      s.once('error', reject);
    });
  } catch (error) {
    await store.close();
    const code = (error as { code?: string }).code;
    throw new Error(
      code === 'EADDRINUSE'
        ? `Port ${port} on ${host} is in use: set PORT to another one.`
        : (error as Error).message,
    );
  }
}

/** The address to open: the public origin when configured, else http://host:port (loopback for a wildcard). */
function addressOf(network: StartSettings['network'], host: string, port: number): string {
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return network.publicOrigin ?? `http://${shownHost}:${port}`;
}

/** Open the store, seed it if asked and empty, and listen. Resolves once the server accepts connections. */
export async function startDashboard(options: StartOptions = {}): Promise<RunningDashboard> {
  const env = process.env;
  /** The address users reach the dashboard by (known once the server listens). */
  let publicUrl = '';
  const settings = startSettings(options, env, () => publicUrl);
  const { network, oidc, port, idleMinutes, maxHours, linkDays, smtpUrl, crisis, databaseUrl } = settings;
  const host = network.host;
  const staticFiles = loadStaticFiles(options.clientDir ?? defaultClientDir());
  const { store, seeded } = await openSeededStore(options, env, databaseUrl);
  const exporter = researchExporter();
  let allowedHosts: string[] = [];
  let allowedOrigins: string[] = [];
  const {
    app,
    refresh,
    warm,
    isDemo: hasDemo,
    accounts,
    syntheticPatients,
    measureLinks,
  } = createDashboardApp({
    store,
    staticFiles,
    log: options.log,
    exporter: exporter.exporter,
    exportNote: exporter.note,
    get allowedHosts() {
      return allowedHosts;
    },
    get allowedOrigins() {
      return allowedOrigins;
    },
    auth: {
      idleMs: idleMinutes * 60_000,
      absoluteMs: maxHours * 3_600_000,
      oidc,
    },
    patientLinks: {
      linkTtlMs: linkDays * 86_400_000,
      baseUrl: () => publicUrl || undefined,
      smtp: smtpUrl
        ? { url: smtpUrl, from: options.smtpFrom ?? env.SMTP_FROM ?? 'kapkit <no-reply@localhost>' }
        : null,
      clinicPhone: env.KAPKIT_CLINIC_PHONE || null,
      ...(crisis ? { crisis } : {}),
    },
  });
  await refresh();
  const isDemo = seeded > 0 || hasDemo();
  const server = await listen(app.fetch, host, port, store);
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = addressOf(network, host, actualPort);
  publicUrl = url;
  // Only the names this server is reached by, so a page on another site cannot rebind a name of its own to it
  // (DNS rebinding): the public origin's host, or the loopback names; KAPKIT_ALLOWED_HOSTS (host:port,
  // comma-separated) adds names, e.g. the proxy's internal one.
  const listed = (env.KAPKIT_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  ({ hosts: allowedHosts, origins: allowedOrigins } = acceptedNames(network, actualPort, listed));
  let links: FirstRunLink[];
  try {
    links = isDemo
      ? await demoSignInLinks(accounts, syntheticPatients(), Date.now())
      : [await setUpLink(accounts, Date.now())].filter((l): l is FirstRunLink => l !== null);
  } catch (error) {
    await new Promise<void>((r) => server.close(() => r()));
    await store.close();
    throw error;
  }
  // Automatic measure requests from the monitoring plans, and e-mail delivery: now and periodically.
  measureLinks.start();
  // The caseload's episodes are folded in the background now rather than on the first request. A failure here
  // (the store closing while it runs) only means the first request folds them itself, so it is not reported.
  const warmingStop = new AbortController();
  const warming = warm(warmingStop.signal).catch(() => undefined);
  let closed: Promise<void> | null = null;
  return {
    url,
    port: actualPort,
    store,
    seeded,
    demo: isDemo,
    links: links.map((l) => ({ role: l.role, url: `${url}${l.path}` })),
    reminders: measureLinks.reminders,
    close() {
      closed ??= (async () => {
        measureLinks.stop();
        warmingStop.abort();
        await warming;
        await new Promise<void>((r) => server.close(() => r()));
        await store.close();
      })();
      return closed;
    },
  };
}

function positiveNumber(name: string, value: number | string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new NetworkConfigError(`${name} must be a positive number, got "${value}".`);
  return n;
}
