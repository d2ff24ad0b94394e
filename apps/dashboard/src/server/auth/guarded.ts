/**
 * Registering guarded API routes from their access-table key: `route('POST /api/x/:id', handler)` is
 * `app.post('/api/x/:id', allow(settings, 'POST /api/x/:id'), handler)`, so the method, the path and the
 * access entry are written once and cannot drift apart.
 */
import type { Context, Handler, Hono } from 'hono';
import type { RouteKey } from './policy.js';
import { type AuthEnv, type AuthSettings, allow } from './session.js';

/** The path of an access-table key: `'POST /api/x/:id'` → `'/api/x/:id'`. */
type PathOf<K extends RouteKey> = K extends `${string} ${infer P}` ? P : never;

/** The context of a guarded route: a session and the path's parameters. */
export type GuardedContext<K extends RouteKey> = Context<AuthEnv, PathOf<K>>;

/** A guarded route's handler. */
type GuardedHandler<K extends RouteKey> = (c: GuardedContext<K>) => Response | Promise<Response>;

/** Register a guarded route on `app` by its access-table key. */
export type RouteRegistrar = <K extends RouteKey>(key: K, handler: GuardedHandler<K>) => void;

/** The registrar of guarded routes on `app`, in the order they are registered. */
export function guardedRoutes(app: Hono<AuthEnv>, settings: AuthSettings): RouteRegistrar {
  return (key, handler) => {
    const space = key.indexOf(' ');
    app.on(key.slice(0, space), key.slice(space + 1), allow(settings, key), handler as Handler<AuthEnv>);
  };
}
