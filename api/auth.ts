// Authentication: `Authorization: Bearer <api key>` or the PWA session cookie, either way an explicit
// actor on the context. Cookie-authenticated writes must carry the session's CSRF token. Each key and each
// session is rate limited per calendar minute (api/limits.ts); each key's requests are counted for its usage.
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { ApiContext, AppEnv } from './context';
import { verifyApiKeyLimit } from '../db/api-keys/repo';
import { sessionActor, SESSION_COOKIE, timeoutsOf } from '../db/sessions/repo';
import { forbidden, unauthenticated } from '../db/errors';
import { clientAddress, limitExceeded, setLimitHeaders } from './limits';

export interface AuthOptions {
  /** The route finishes sign-in: a session still owing its TOTP code is accepted (POST /v1/auth/totp). */
  allowPending?: boolean;
  /** The route is open to an admin who must enrol in TOTP first (HERALD_REQUIRE_2FA): /v1/me/totp, /v1/auth/me. */
  allowEnrol?: boolean;
}

export function authenticate(ctx: ApiContext, o: AuthOptions = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get('actor')) return next(); // an outer router authenticated (and counted) this request already
    const header = c.req.header('authorization');
    if (header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw unauthenticated('Authorization must be "Bearer <api key>"');
      const found = await verifyApiKeyLimit(ctx.sql, m[1]);
      if (!found || found.actor.kind !== 'api_key') throw unauthenticated('The API key is unknown, revoked or expired');
      const keyId = found.actor.keyId;
      let d = ctx.limiter.check(`key:${keyId}`, found.limit ?? ctx.config.HERALD_RATE_LIMIT_API_KEY_PER_MINUTE);
      if (d instanceof Promise) d = await d;
      if (!d.allowed) {
        ctx.usage.record(keyId, 429, clientAddress(c));
        throw limitExceeded(d, 'api-key', `API key ${keyId}`);
      }
      c.set('actor', found.actor);
      setLimitHeaders(c, d, 'api-key');
      await next();
      ctx.usage.record(keyId, c.res.status, clientAddress(c));
      return;
    }
    const token = getCookie(c, SESSION_COOKIE);
    if (token) {
      const s = await sessionActor(ctx.sql, token, timeoutsOf(ctx.config), { allowIncomplete: true });
      if (!s) throw unauthenticated('Your session has expired; sign in again');
      if (s.secondFactor === 'pending' && !o.allowPending) throw unauthenticated('Enter the code from your authenticator app to finish signing in');
      if (s.secondFactor === 'enrol' && !o.allowEnrol && !o.allowPending)
        throw forbidden('Two-factor sign-in is required for admins: turn it on under Settings → Security first');
      if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && c.req.header('x-csrf-token') !== s.csrf)
        throw forbidden('Missing or wrong X-CSRF-Token header');
      let d = ctx.limiter.check(`session:${s.sessionId}`, ctx.config.HERALD_RATE_LIMIT_SESSION_PER_MINUTE);
      if (d instanceof Promise) d = await d;
      if (!d.allowed) throw limitExceeded(d, 'session', 'your session');
      c.set('actor', s.actor);
      c.set('session', { id: s.sessionId, csrf: s.csrf, secondFactor: s.secondFactor });
      await next(); // the RateLimit headers only on a 429 (see addressLimits); API key answers carry them always
      return;
    }
    throw unauthenticated('Send an API key as "Authorization: Bearer <key>" or sign in');
  };
}
