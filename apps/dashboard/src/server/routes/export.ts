import { Hono } from 'hono';
import { guardedRoutes } from '../auth/guarded.js';
import type { AuthEnv } from '../auth/session.js';
import { apiError, invalid } from '../http.js';
import type { RouteDeps } from './deps.js';

/** The de-identified research export, when the build offers one. */
export function exportRoutes(deps: RouteDeps): Hono<AuthEnv> {
  const { options, store, settings, audit, asOf } = deps;
  const routes = new Hono<AuthEnv>();
  const route = guardedRoutes(routes, settings);

  route('GET /api/export', async (c) => {
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

  return routes;
}
