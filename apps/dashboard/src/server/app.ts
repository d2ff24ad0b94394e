/**
 * The dashboard's HTTP application (Hono) over @kapkit/store: a JSON API and the built front end.
 *
 * Sign-in, roles and care teams (auth/): every API route needs a session whose role the access table allows
 * (auth/policy.ts); a clinician reads and writes only the patients of their care teams; every read and write
 * of patient data, and every refusal, goes to the audit trail.
 *
 * Security: strict Content-Security-Policy (`default-src 'self'`, no inline script or style), a request body
 * limit, JSON-only writes with a same-origin check, optional Host allow-list (DNS rebinding), `no-store` on
 * API responses, and logs that carry the method, the route template and the status, never a path parameter,
 * a query, a body or an error message (they can hold patient identifiers or health data).
 */
import {
  createInstrumentRegistry,
  type EpisodeContext,
  type EpisodeEvent,
  formatInOffset,
  type InstrumentRegistry,
  KapkitError,
  type Refusal,
  statusAt,
} from '@kapkit/core';
import {
  type AccountStore,
  ConcurrencyError,
  DiskFullError,
  EventIdConflictError,
  EventRefusedError,
  type EventStore,
  InvalidArgumentError,
  type LockoutPolicy,
  openAccounts,
  PayloadTooLargeError,
  StoreClosedError,
  StoreDamagedError,
  StoreDatabaseError,
  type StoredSafetySignal,
  StoreTimeoutError,
} from '@kapkit/store';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import { secureHeaders } from 'hono/secure-headers';
import type {
  ApiError,
  AppendResponse,
  CaseloadResponse,
  CohortInstrument,
  CohortResponse,
  FieldIssue,
  InstrumentsResponse,
  MetaResponse,
  PatientResponse,
} from '../shared/api.js';
import { adminRoutes } from './auth/admin.js';
import { adminPages } from './auth/admin-pages.js';
import { acceptedOrigin } from './auth/network.js';
import { type OidcOptions, oidcRoutes } from './auth/oidc.js';
import { authRoutes } from './auth/routes.js';
import {
  type AuthEnv,
  type AuthSettings,
  allow,
  auditor,
  DEFAULT_ABSOLUTE_MS,
  DEFAULT_ADDRESS_THROTTLE,
  DEFAULT_IDLE_MS,
  DEFAULT_LOCKOUT,
  loadSession,
} from './auth/session.js';
import { apiCompression, staticAnswer, withPrecompressed } from './compression.js';
import { completeEvents, parseAppendBody } from './intake.js';
import { openApiDocument, safetyReviewBody } from './openapi.js';
import type { StaticFiles } from './static.js';
import { caseloadRow, cohortInstruments, episodeView, phaseOfState, sortCaseload } from './views.js';

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

/** Episodes known to the dashboard: caught up from the store's global stream on each request. */
class EpisodeIndex {
  #position = 0;
  readonly episodes = new Map<string, { patientId: string; openedAt: string | null; synthetic: boolean }>();
  readonly byPatient = new Map<string, string[]>();
  #pending: Promise<void> | null = null;

  constructor(readonly store: EventStore) {}

  /** Read the events committed since the last call (only their ids are kept). */
  refresh(): Promise<void> {
    this.#pending ??= (async () => {
      try {
        for await (const s of this.store.streamAll({ fromPosition: this.#position, batchSize: 2000 })) {
          this.#position = s.position;
          const known = this.episodes.get(s.episodeId);
          if (known) {
            if (s.event.synthetic === true) known.synthetic = true;
          } else {
            this.episodes.set(s.episodeId, {
              patientId: s.event.patientId,
              openedAt: s.event.type === 'EpisodeOpened' ? s.event.at : null,
              synthetic: s.event.synthetic === true,
            });
            const list = this.byPatient.get(s.event.patientId);
            if (list) list.push(s.episodeId);
            else this.byPatient.set(s.event.patientId, [s.episodeId]);
          }
        }
      } finally {
        this.#pending = null;
      }
    })();
    return this.#pending;
  }

  get position(): number {
    return this.#position;
  }

  /** The patient's episodes, latest opened last. */
  episodesOf(patientId: string): string[] {
    const list = this.byPatient.get(patientId) ?? [];
    return [...list].sort(
      (a, b) =>
        Date.parse(this.episodes.get(a)?.openedAt ?? '1970-01-01T00:00:00Z') -
        Date.parse(this.episodes.get(b)?.openedAt ?? '1970-01-01T00:00:00Z'),
    );
  }
}

function apiError(c: Context, status: 400 | 403 | 404 | 409 | 413 | 415 | 422 | 500 | 503, body: ApiError) {
  return c.json(body, status);
}

/**
 * Build the dashboard application.
 *
 * @example
 * ```ts
 * const store = await openStore({ dataDir: '.data/dashboard' });
 * const { app } = createDashboardApp({ store });
 * const res = await app.request('/api/caseload');
 * ```
 */
export function createDashboardApp(options: DashboardOptions) {
  const store = options.store;
  const registry = options.registry ?? createInstrumentRegistry();
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const index = new EpisodeIndex(store);
  const asOf = () => {
    const ms = Math.floor(now() / 1000) * 1000;
    return formatInOffset(ms, options.utcOffset ?? localOffset(ms));
  };
  let cohortCache: {
    position: number;
    instruments: CohortInstrument[];
    records: number;
    notes: readonly string[];
    /** SD of baseline scores per instrument (Jacobson–Truax s1 of this clinic's cohort). */
    baselineSd: Record<string, number>;
  } | null = null;
  /** The cohort analysis, recomputed only when the store has new events. */
  const cohort = async () => {
    await index.refresh();
    if (!cohortCache || cohortCache.position !== index.position) {
      const position = index.position;
      const contexts: EpisodeContext[] = [];
      for (const id of index.episodes.keys()) contexts.push((await store.loadEpisode(id)).state.context);
      const { report, instruments } = cohortInstruments(contexts, registry);
      const baselineSd: Record<string, number> = {};
      for (const [id, r] of Object.entries(report.instruments)) {
        if (r.reliableChange.sd !== null && r.reliableChange.sd > 0) baselineSd[id] = r.reliableChange.sd;
      }
      cohortCache = { position, instruments, records: report.records, notes: report.notes, baselineSd };
    }
    baselineSdAt = Date.now();
    return cohortCache;
  };
  /**
   * The cohort's baseline SD for the patient page's reliable change: it moves slowly, so the last value is
   * reused for up to 10 minutes instead of re-analysing the cohort after every write.
   */
  let baselineSdAt = 0;
  const baselineSd = async () =>
    cohortCache && Date.now() - baselineSdAt < 10 * 60_000
      ? cohortCache.baselineSd
      : (await cohort()).baselineSd;

  const authOptions = options.auth ?? {};
  const settings: AuthSettings = {
    accounts: authOptions.accounts ?? openAccounts(store),
    session: {
      idleMs: authOptions.idleMs ?? DEFAULT_IDLE_MS,
      absoluteMs: authOptions.absoluteMs ?? DEFAULT_ABSOLUTE_MS,
    },
    lockout: authOptions.lockout ?? DEFAULT_LOCKOUT,
    addressThrottle: authOptions.addressThrottle ?? DEFAULT_ADDRESS_THROTTLE,
    get secureCookies() {
      const origins = options.allowedOrigins;
      return (
        authOptions.secureCookies ??
        (origins !== undefined && origins.length > 0 && origins.every((o) => o.startsWith('https://')))
      );
    },
    now,
  };
  const accounts = settings.accounts;
  const audit = auditor(settings);
  /** The session of a guarded route (the guard has checked that there is one). */
  const sessionOf = (c: Context<AuthEnv>) => c.get('session')!;
  /** A clinician's care: true when one of their teams looks after the patient. */
  const inCare = (c: Context<AuthEnv>, patientId: string) =>
    accounts.inCareOf(sessionOf(c).user.id, patientId);
  const notInCare = async (
    c: Context<AuthEnv>,
    action: 'read' | 'write',
    patientId: string | null,
    episodeId: string | null,
  ) => {
    await audit(c, { action, outcome: 'denied', reason: 'not-in-care-team', patientId, episodeId });
    return c.json(
      {
        error: 'forbidden',
        message:
          'This patient is not in the care of your care teams. An administrator assigns patients to teams.',
      },
      403,
    );
  };

  const app = new Hono<AuthEnv>();

  // ── logging: method, route template, status, duration; nothing else ─────────────────────────────────────
  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    // The route template of the handler that answered (`/api/patients/:patientId`), never the actual path.
    log(`${c.req.method} ${safeRoute(c)} ${c.res.status} ${(performance.now() - t0).toFixed(1)}ms`);
  });

  // ── transport security ──────────────────────────────────────────────────────────────────────────────────
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      crossOriginEmbedderPolicy: false,
      permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
    }),
  );
  app.use('*', async (c, next) => {
    if (options.allowedHosts && !options.allowedHosts.includes(new URL(c.req.url).host)) {
      return c.text('Misdirected request: unknown Host.', 421);
    }
    return next();
  });
  app.use('/api/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  app.use('/api/*', apiCompression());
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: (c) =>
        apiError(c, 413, {
          error: 'payload-too-large',
          message: `The request body is larger than ${bodyLimitBytes} bytes. Nothing was written.`,
        }),
    }),
  );
  // Writes must be JSON from this origin: a cross-site form cannot send application/json without CORS.
  app.on(['POST', 'PUT', 'PATCH', 'DELETE'], '/api/*', async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/json\b/i.test(type)) {
      return apiError(c, 415, {
        error: 'invalid-input',
        message: 'Send the request body as application/json.',
      });
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !acceptedOrigin(origin, options.allowedOrigins)) {
      return apiError(c, 403, {
        error: 'invalid-input',
        message: 'Cross-origin writes are not accepted.',
      });
    }
    return next();
  });

  // ── sign-in (auth/) ──────────────────────────────────────────────────────────────────────────────────────
  const sessionLoader = loadSession(settings);
  app.use('/api/*', sessionLoader);
  app.use('/auth/*', sessionLoader);
  app.use('/admin/*', sessionLoader);
  const oidc = authOptions.oidc ?? null;
  app.route(
    '/',
    authRoutes(settings, {
      allowedOrigins: () => options.allowedOrigins,
      ssoLabel: () => (oidc ? (oidc.label ?? 'Sign in with single sign-on') : null),
    }),
  );
  if (oidc) app.route('/', oidcRoutes(settings, oidc));
  const patientIds = async () => {
    await index.refresh();
    return [...index.byPatient.keys()].sort();
  };
  app.route('/', adminPages(settings, { allowedOrigins: () => options.allowedOrigins, patientIds }));
  app.route('/', adminRoutes(settings, { patientIds }));

  // The API description: no session needed (no patient or account data in it).
  let openApi: Record<string, unknown> | null = null;
  app.get('/api/openapi.json', (c) => {
    openApi ??= openApiDocument('1.0.0');
    return c.json(openApi);
  });

  app.get('/api/session', allow(settings, 'GET /api/session'), (c) => {
    const s = sessionOf(c);
    return c.json({
      user: { id: s.user.id, email: s.user.email, displayName: s.user.displayName, role: s.user.role },
      csrfToken: s.csrfToken,
      idleMinutes: settings.session.idleMs / 60_000,
      expiresAt: s.expiresAt,
    });
  });

  // ── API ──────────────────────────────────────────────────────────────────────────────────────────────────
  const isDemo = () => [...index.episodes.values()].some((e) => e.synthetic);

  app.get('/api/meta', allow(settings, 'GET /api/meta'), async (c) => {
    await index.refresh();
    const body: MetaResponse = {
      app: 'kapkit dashboard',
      demo: isDemo(),
      engine: store.engine,
      asOf: asOf(),
      patients: index.byPatient.size,
      episodes: index.episodes.size,
      bodyLimitBytes,
      export: {
        available: Boolean(options.exporter),
        formats: options.exporter?.formats ?? [],
        note:
          options.exportNote ??
          (options.exporter
            ? 'De-identified: pseudonymous ids, dates shifted per patient, free text dropped.'
            : 'The research export is not available in this build.'),
      },
    };
    return c.json(body);
  });

  app.get('/api/instruments', allow(settings, 'GET /api/instruments'), (c) =>
    c.json(registry.list() satisfies InstrumentsResponse),
  );

  /** Unreviewed safety signals of refused submissions, by the patient they concern. */
  const signalsByPatient = async () => {
    const out = new Map<string, StoredSafetySignal[]>();
    for (const s of await store.safetySignals({ unreviewed: true })) {
      const patientId = s.patientId ?? index.episodes.get(s.episodeId)?.patientId;
      if (!patientId) continue;
      out.set(patientId, [...(out.get(patientId) ?? []), s]);
    }
    return out;
  };

  app.get('/api/caseload', allow(settings, 'GET /api/caseload'), async (c) => {
    await index.refresh();
    const when = asOf();
    const signals = await signalsByPatient();
    const rows = [];
    // A clinician's caseload: the patients of their care teams only.
    const mine = await accounts.patientsOf(sessionOf(c).user.id);
    await audit(c, { action: 'read', outcome: 'allowed', reason: 'caseload' });
    for (const patientId of index.byPatient.keys()) {
      if (!mine.has(patientId)) continue;
      const episodes = index.episodesOf(patientId);
      const latest = episodes[episodes.length - 1];
      if (!latest) continue;
      const { state } = await store.loadEpisode(latest);
      rows.push(caseloadRow(state, when, registry, signals.get(patientId) ?? []));
    }
    const body: CaseloadResponse = {
      asOf: when,
      demo: rows.some((r) => r.synthetic),
      rows: sortCaseload(rows),
    };
    return c.json(body);
  });

  app.get('/api/patients/:patientId', allow(settings, 'GET /api/patients/:patientId'), async (c) => {
    await index.refresh();
    const patientId = c.req.param('patientId');
    if (!(await inCare(c, patientId))) return notInCare(c, 'read', patientId, c.req.query('episode') ?? null);
    const episodes = index.episodesOf(patientId);
    if (episodes.length === 0) {
      return apiError(c, 404, { error: 'not-found', message: 'No such patient.' });
    }
    const wanted = c.req.query('episode');
    const episodeId = wanted && episodes.includes(wanted) ? wanted : episodes[episodes.length - 1]!;
    if (wanted && wanted !== episodeId) {
      return apiError(c, 404, { error: 'not-found', message: 'No such episode for this patient.' });
    }
    const when = asOf();
    const summaries = [];
    let selected: Awaited<ReturnType<typeof store.loadEpisode>> | null = null;
    for (const id of episodes) {
      const loaded = await store.loadEpisode(id);
      if (id === episodeId) selected = loaded;
      summaries.push({
        episodeId: id,
        openedAt: loaded.state.context.openedAt,
        phase: phaseOfState(loaded.state),
      });
    }
    await audit(c, { action: 'read', outcome: 'allowed', patientId, episodeId });
    const { state, version } = selected ?? (await store.loadEpisode(episodeId));
    const stored = await store.readEpisode(episodeId);
    const events = stored.filter((s) => s.version <= version).map((s) => s.event);
    const patientSignals = [
      ...(await store.safetySignals({ patientId })),
      ...(await store.safetySignals({ episodeId })).filter((s) => s.patientId === null),
    ];
    const episode = episodeView(state, version, events, when, registry, await baselineSd(), patientSignals);
    const body: PatientResponse = {
      asOf: when,
      serverTime: new Date(now()).toISOString(),
      patientId,
      synthetic: episode.synthetic,
      episodes: summaries,
      episode,
    };
    return c.json(body);
  });

  /** What was recorded in an episode after `version`: type, time and role of each event (no content). */
  const changesSince = async (episodeId: string, version: number) =>
    (await store.readEpisode(episodeId, { fromVersion: version + 1 })).map((s) => ({
      type: s.event.type,
      at: s.event.at,
      recordedBy: s.event.recordedBy,
    }));

  app.post(
    '/api/episodes/:episodeId/events',
    allow(settings, 'POST /api/episodes/:episodeId/events'),
    async (c) => {
      const episodeId = c.req.param('episodeId');
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return apiError(c, 400, { error: 'invalid-json', message: 'The request body is not valid JSON.' });
      }
      const parsed = parseAppendBody(body);
      if (!parsed.ok) return invalid(c, parsed.issues);
      const loaded = await store.loadEpisode(episodeId);
      if (loaded.version === 0 || loaded.state.context.patientId === null) {
        return apiError(c, 404, { error: 'not-found', message: 'No such episode.' });
      }
      const patientOfEpisode = loaded.state.context.patientId;
      if (!(await inCare(c, patientOfEpisode))) return notInCare(c, 'write', patientOfEpisode, episodeId);
      // Who recorded it is the signed-in account: its role and id, never the request body's.
      const signedIn = sessionOf(c).user;
      const authorIssues = authorshipIssues(parsed.events, signedIn);
      if (authorIssues.length > 0) return invalid(c, authorIssues);
      await audit(c, { action: 'write', outcome: 'allowed', patientId: patientOfEpisode, episodeId });
      const completed = completeEvents(
        parsed.events.map((e) => ({ ...e, recordedBy: signedIn.role, actorId: signedIn.id })),
        {
          episodeId,
          patientId: loaded.state.context.patientId,
          synthetic: loaded.state.context.synthetic,
          at: asOf(),
        },
        registry,
      );
      if (!completed.ok) return invalid(c, completed.issues);
      let result: Awaited<ReturnType<EventStore['append']>>;
      let rebased: AppendResponse['rebased'] = null;
      try {
        result = await store.append(episodeId, completed.events, {
          expectedVersion: parsed.expectedVersion,
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || typeof error.actualVersion !== 'number') throw error;
        // The form was filled against an older version (another tab or colleague recorded meanwhile). Decide its
        // events again against the latest state: appended when they are still allowed, else a real conflict that
        // says what changed (the form keeps its answers).
        const changes = await changesSince(episodeId, parsed.expectedVersion);
        try {
          result = await store.append(episodeId, completed.events, { expectedVersion: error.actualVersion });
          rebased = { fromVersion: parsed.expectedVersion, changes };
        } catch (again) {
          if (again instanceof EventRefusedError) {
            const r = again.refusal;
            return apiError(c, 409, {
              error: 'concurrency-conflict',
              message: `This episode changed since the form was loaded (${changes.length} new record(s)), and the form is no longer allowed: ${r.message} Nothing was written; your answers are kept.`,
              expectedVersion: parsed.expectedVersion,
              actualVersion: error.actualVersion,
              changes,
              refusal: refusalBody(r),
            });
          }
          throw again;
        }
      }
      const after = await store.loadEpisode(episodeId);
      const body2: AppendResponse = {
        status: result.status,
        version: result.version,
        events:
          result.status === 'appended'
            ? result.events.map((s) => ({ id: s.event.id, type: s.event.type, at: s.event.at }))
            : [],
        rebased,
        alerts: statusAt(after.state, asOf()).alerts.map((a) => ({
          code: a.code,
          severity: a.severity,
          message: a.message,
        })),
      };
      return c.json(body2, result.status === 'appended' ? 201 : 200);
    },
  );

  app.post(
    '/api/safety-signals/:signalId/review',
    allow(settings, 'POST /api/safety-signals/:signalId/review'),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return apiError(c, 400, { error: 'invalid-json', message: 'The request body is not valid JSON.' });
      }
      const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const issues: FieldIssue[] = [];
      const checked = safetyReviewBody.safeParse({ outcome: b.outcome });
      if (!checked.success) {
        for (const i of checked.error.issues) issues.push({ path: i.path.join('.'), message: i.message });
      }
      // The reviewer is the signed-in clinician; a `recordedBy` in the body must name their own role.
      const reviewer = sessionOf(c).user;
      if (b.recordedBy !== undefined && b.recordedBy !== reviewer.role) {
        issues.push({
          path: 'recordedBy',
          message: `set by the server from your sign-in (${reviewer.role})`,
        });
      }
      if (issues.length > 0) return invalid(c, issues);
      const signalId = c.req.param('signalId');
      const signal = (await store.safetySignals()).find((s) => s.id === signalId);
      const signalPatient = signal
        ? (signal.patientId ?? index.episodes.get(signal.episodeId)?.patientId ?? null)
        : null;
      if (signal && (signalPatient === null || !(await inCare(c, signalPatient)))) {
        return notInCare(c, 'write', signalPatient, signal.episodeId);
      }
      await audit(c, {
        action: 'write',
        outcome: 'allowed',
        patientId: signalPatient,
        episodeId: signal?.episodeId ?? null,
        reason: 'safety-review',
      });
      const reviewed = await store.reviewSafetySignal(signalId, {
        outcome: b.outcome as 'no-current-risk' | 'safety-plan' | 'escalated',
        reviewedBy: reviewer.role as 'therapist' | 'medical',
        actorId: reviewer.id,
        at: asOf(),
      });
      return c.json({ id: reviewed.id, review: reviewed.review }, 201);
    },
  );

  app.get('/api/cohort', allow(settings, 'GET /api/cohort'), async (c) => {
    const result = await cohort();
    await audit(c, { action: 'read', outcome: 'allowed', reason: 'cohort' });
    const body: CohortResponse = {
      asOf: asOf(),
      demo: isDemo(),
      episodes: index.episodes.size,
      records: result.records,
      instruments: result.instruments,
      notes: result.notes,
    };
    return c.json(body);
  });

  app.get('/api/export', allow(settings, 'GET /api/export'), async (c) => {
    const exporter = options.exporter;
    if (!exporter) {
      return apiError(c, 503, {
        error: 'unavailable',
        message: options.exportNote ?? 'The research export is not available in this build.',
      });
    }
    const format = c.req.query('format') ?? exporter.formats[0]!;
    if (!exporter.formats.includes(format)) {
      return invalid(c, [{ path: 'format', message: `expected one of ${exporter.formats.join(', ')}` }]);
    }
    const when = asOf();
    await audit(c, { action: 'export', outcome: 'allowed', reason: `deidentified-${format}` });
    const bytes = await exporter.build(
      (async function* () {
        for await (const s of store.streamAll()) yield s.event;
      })(),
      when,
      format,
    );
    return c.body(bytes as unknown as ArrayBuffer, 200, {
      'Content-Type': exporter.contentType,
      'Content-Disposition': `attachment; filename="${exporter.fileName(when, format)}"`,
    });
  });

  app.all('/api/*', (c) => apiError(c, 404, { error: 'not-found', message: 'No such API endpoint.' }));

  // ── the front end ────────────────────────────────────────────────────────────────────────────────────────
  const files = options.staticFiles ? withPrecompressed(options.staticFiles) : null;
  if (files) {
    app.get('/assets/*', (c) => {
      const f = files.get(new URL(c.req.url).pathname);
      if (!f) return c.text('Not found', 404);
      return staticAnswer(c, f, 'public, max-age=31536000, immutable');
    });
    app.get('/*', (c) => {
      const path = new URL(c.req.url).pathname;
      const f = files.get(path) ?? files.get('/index.html');
      if (!f) return c.text('Not found', 404);
      return staticAnswer(c, f, 'no-cache');
    });
  }

  app.onError((error, c) => {
    if (error instanceof ConcurrencyError) {
      return apiError(c, 409, {
        error: 'concurrency-conflict',
        message:
          'This episode changed since the page was loaded (someone recorded something). Reload, check, and submit again. Nothing was written.',
        expectedVersion: error.expectedVersion,
        actualVersion: error.actualVersion,
      });
    }
    if (error instanceof EventRefusedError) {
      const r = error.refusal;
      return apiError(c, 422, {
        error: 'event-refused',
        message: `Refused (${r.code}): ${r.message} Nothing was written.`,
        index: error.index,
        refusal: refusalBody(r),
      });
    }
    if (error instanceof EventIdConflictError) {
      return apiError(c, 409, {
        error: 'event-id-conflict',
        message: 'An event with this id is already stored with other content. Nothing was written.',
      });
    }
    if (error instanceof PayloadTooLargeError) {
      return apiError(c, 413, { error: 'payload-too-large', message: error.message });
    }
    if (error instanceof InvalidArgumentError) {
      return invalid(c, [{ path: error.argument, message: error.message }]);
    }
    if (error instanceof StoreClosedError) {
      return apiError(c, 503, { error: 'unavailable', message: 'The store is closed.' });
    }
    // The database failed: say what the caller can rely on, never a stack or a query.
    if (error instanceof StoreDatabaseError) {
      log(`error ${c.req.method} ${safeRoute(c)}: ${error.code}`);
      return apiError(c, 503, {
        error: 'unavailable',
        message:
          error.outcome === 'unknown'
            ? 'The database connection was lost while saving: the record may or may not be stored. Submit the same form again: it will not be recorded twice.'
            : 'The database is unavailable; nothing was written. Try again in a moment.',
      });
    }
    if (error instanceof StoreTimeoutError) {
      log(`error ${c.req.method} ${safeRoute(c)}: ${error.code}`);
      return apiError(c, 503, {
        error: 'unavailable',
        message:
          'The database did not answer in time; nothing was confirmed. Submit the same form again: it will not be recorded twice.',
      });
    }
    if (error instanceof DiskFullError) {
      log(`error ${c.req.method} ${safeRoute(c)}: ${error.code}`);
      return apiError(c, 503, {
        error: 'unavailable',
        message:
          'The server is short of disk space, so nothing is written until space is freed. Nothing was written.',
      });
    }
    if (error instanceof StoreDamagedError) {
      log(`error ${c.req.method} ${safeRoute(c)}: ${error.code}`);
      return apiError(c, 503, {
        error: 'unavailable',
        message:
          'The store is damaged and must be restored from a backup (kapkit store check). Nothing was written.',
      });
    }
    // Unexpected: log the kind of error only (its message may quote data), answer without details.
    const code = error instanceof KapkitError ? error.code : error.name;
    log(`error ${c.req.method} ${safeRoute(c)}: ${code}`);
    return apiError(c, 500, { error: 'internal-error', message: 'Internal error; see the server log.' });
  });

  return {
    app,
    /** Catch up with the store (the first call reads every event id). */
    refresh: () => index.refresh(),
    /** True when any episode seen so far is synthetic (demo data). */
    isDemo,
    /** Accounts, care teams, sessions and the audit trail the app uses. */
    accounts,
    /** Patients with synthetic (demo) episodes, as seen so far. */
    syntheticPatients: () => [
      ...new Set([...index.episodes.values()].filter((e) => e.synthetic).map((e) => e.patientId)),
    ],
  };
}

/** A refusal as the API returns it: code, plain message, field issues, safety signals, the event it names. */
function refusalBody(r: Refusal): NonNullable<ApiError['refusal']> {
  return {
    code: r.code,
    message: r.message,
    ...(r.issues ? { issues: r.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } : {}),
    ...(r.safetyFlags
      ? {
          safetyFlags: r.safetyFlags.map((f) => ({
            rule: f.rule,
            kind: f.kind,
            value: f.value,
            message: f.message,
            ...(f.item !== undefined ? { item: f.item } : {}),
          })),
        }
      : {}),
    ...(r.invalidates ? { invalidates: { ...r.invalidates } } : {}),
  };
}

/** `recordedBy` or `actorId` in a request body that differ from the signed-in account (they are the server's). */
function authorshipIssues(
  events: readonly Record<string, unknown>[],
  user: { readonly id: string; readonly role: string },
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  events.forEach((e, i) => {
    if (e.recordedBy !== undefined && e.recordedBy !== user.role) {
      issues.push({
        path: `events[${i}].recordedBy`,
        message: `set by the server from your sign-in (you are signed in as ${user.role}); leave it out`,
      });
    }
    if (e.actorId !== undefined && e.actorId !== user.id) {
      issues.push({
        path: `events[${i}].actorId`,
        message: 'set by the server from your sign-in; leave it out',
      });
    }
  });
  return issues;
}

function safeRoute(c: Context): string {
  try {
    return routePath(c) || '(unmatched)';
  } catch {
    return '(unmatched)';
  }
}

function invalid(c: Context, issues: readonly FieldIssue[]) {
  return apiError(c, 400, {
    error: 'invalid-input',
    message: `Not recorded: ${issues.length} field(s) need attention. ${issues
      .slice(0, 3)
      .map((i) => `${i.path}: ${i.message}`)
      .join('; ')}${issues.length > 3 ? '; …' : ''}`,
    issues,
  });
}

export type DashboardApp = ReturnType<typeof createDashboardApp>['app'];
