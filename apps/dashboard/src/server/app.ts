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
import { createInstrumentRegistry } from '@kapkit/core/instruments';
import { formatInOffset } from '@kapkit/core/time';
import { openAccounts } from '@kapkit/store';
import { type Context, Hono } from 'hono';
import { adminRoutes } from './auth/admin.js';
import { adminPages } from './auth/admin-pages.js';
import { oidcRoutes } from './auth/oidc.js';
import { authRoutes } from './auth/routes.js';
import {
  type AuthEnv,
  type AuthSettings,
  auditor,
  DEFAULT_ABSOLUTE_MS,
  DEFAULT_ADDRESS_THROTTLE,
  DEFAULT_IDLE_MS,
  DEFAULT_LOCKOUT,
  loadSession,
} from './auth/session.js';
import { apiError, errorHandler } from './http.js';
import { measureLinks } from './measure-links/index.js';
import { useTransport } from './middleware.js';
import { openApiDocument } from './openapi.js';
import { type DashboardOptions, DEFAULT_BODY_LIMIT, localOffset } from './options.js';
import { DashboardReadModel } from './read-model.js';
import type { RouteDeps } from './routes/deps.js';
import { exportRoutes } from './routes/export.js';
import { frontEndRoutes } from './routes/front-end.js';
import { readRoutes } from './routes/read.js';
import { writeRoutes } from './routes/write.js';

export { type DashboardOptions, DEFAULT_BODY_LIMIT, localOffset } from './options.js';

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
  const read = new DashboardReadModel(store, registry);
  const asOf = () => {
    const ms = Math.floor(now() / 1000) * 1000;
    return formatInOffset(ms, options.utcOffset ?? localOffset(ms));
  };

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

  const deps: RouteDeps = {
    options,
    store,
    registry,
    read,
    settings,
    accounts,
    audit,
    bodyLimitBytes,
    now,
    asOf,
    sessionOf,
    inCare,
    notInCare,
  };

  const app = new Hono<AuthEnv>();
  useTransport(app, options, log, bodyLimitBytes);

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
  const patientIds = () => read.patientIds();
  app.route('/', adminPages(settings, { allowedOrigins: () => options.allowedOrigins, patientIds }));
  app.route('/', adminRoutes(settings, { patientIds }));
  const offsetAt = (ms: number) => options.utcOffset ?? localOffset(ms);
  const measures = measureLinks({
    store,
    registry,
    settings,
    now,
    log,
    index: read.index,
    options,
    offsetAt,
  });
  app.route('/', measures.app);

  // The API description: no session needed (no patient or account data in it).
  let openApi: Record<string, unknown> | null = null;
  app.get('/api/openapi.json', (c) => {
    openApi ??= openApiDocument('1.0.0');
    return c.json(openApi);
  });

  app.route('/', readRoutes(deps));
  app.route('/', writeRoutes(deps));
  app.route('/', exportRoutes(deps));
  app.all('/api/*', (c) => apiError(c, 404, { error: 'not-found', message: 'No such API endpoint.' }));
  if (options.staticFiles) app.route('/', frontEndRoutes(options.staticFiles));
  app.onError(errorHandler(log));

  return {
    app,
    /** Catch up with the store (the first call reads every event id). */
    refresh: () => read.refresh(),
    /** Load each patient's latest episode ahead of the first caseload request (see `DashboardReadModel.warm`). */
    warm: (signal?: AbortSignal) => read.warm(signal),
    /** True when any episode seen so far is synthetic (demo data). */
    isDemo: () => read.isDemo(),
    /** Accounts, care teams, sessions and the audit trail the app uses. */
    accounts,
    /** Measure requests: the scheduler pass and the e-mail delivery worker (by hand, or `start()`). */
    measureLinks: measures.handle,
    /** Patients with synthetic (demo) episodes, as seen so far. */
    syntheticPatients: () => read.syntheticPatients(),
  };
}

export type DashboardApp = ReturnType<typeof createDashboardApp>['app'];
