// Authentication: `Authorization: Bearer <api key>` or the PWA session cookie, either way an explicit
// actor on the context. Cookie-authenticated writes must carry the session's CSRF token.
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { ApiContext, AppEnv } from './context';
import { verifyApiKey } from '../db/api-keys/repo';
import { sessionActor, SESSION_COOKIE } from '../db/sessions/repo';
import { forbidden, unauthenticated } from '../db/errors';

export function authenticate(ctx: ApiContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw unauthenticated('Authorization must be "Bearer <api key>"');
      const actor = await verifyApiKey(ctx.sql, m[1]);
      if (!actor) throw unauthenticated('The API key is unknown, revoked or expired');
      c.set('actor', actor);
      return next();
    }
    const token = getCookie(c, SESSION_COOKIE);
    if (token) {
      const s = await sessionActor(ctx.sql, token);
      if (!s) throw unauthenticated('Your session has expired; sign in again');
      if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && c.req.header('x-csrf-token') !== s.csrf)
        throw forbidden('Missing or wrong X-CSRF-Token header');
      c.set('actor', s.actor);
      c.set('session', { id: s.sessionId, csrf: s.csrf });
      return next();
    }
    throw unauthenticated('Send an API key as "Authorization: Bearer <key>" or sign in');
  };
}
