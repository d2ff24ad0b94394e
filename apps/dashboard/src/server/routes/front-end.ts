import { Hono } from 'hono';
import type { AuthEnv } from '../auth/session.js';
import { staticAnswer, withPrecompressed } from '../compression.js';
import type { StaticFiles } from '../static.js';

/** The built front end: hashed assets cached for a year, every other path the app's index.html. */
export function frontEndRoutes(staticFiles: StaticFiles): Hono<AuthEnv> {
  const routes = new Hono<AuthEnv>();
  const files = withPrecompressed(staticFiles);
  routes.get('/assets/*', (c) => {
    const f = files.get(new URL(c.req.url).pathname);
    if (!f) return c.text('Not found', 404);
    return staticAnswer(c, f, 'public, max-age=31536000, immutable');
  });
  routes.get('/*', (c) => {
    const path = new URL(c.req.url).pathname;
    const f = files.get(path) ?? files.get('/index.html');
    if (!f) return c.text('Not found', 404);
    return staticAnswer(c, f, 'no-cache');
  });

  return routes;
}
