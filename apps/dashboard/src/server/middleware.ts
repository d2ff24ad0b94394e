import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { acceptedOrigin } from './auth/network.js';
import type { AuthEnv } from './auth/session.js';
import { apiCompression } from './compression.js';
import { apiError, safeRoute } from './http.js';
import type { DashboardOptions } from './options.js';

/**
 * Every request's middleware: a log line (method, route template, status, duration; nothing else), security
 * headers (strict CSP), the Host allow-list, `no-store` and compression on the API, the body limit, and writes
 * only as JSON from an allowed origin.
 */
export function useTransport(
  app: Hono<AuthEnv>,
  options: DashboardOptions,
  log: (line: string) => void,
  bodyLimitBytes: number,
): void {
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
}
