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
import type { Actor } from '../db/actor';
import { apiKeyUsedFrom } from '../db/audit/suspicious';
import { log } from '../db/platform/log';

/**
 * Key use from a new address is a security event (db/audit/suspicious.ts). Checked once per key and address per
 * process (a bounded memory), off the request's path: ingestion never waits for it.
 */
const seenKeyAddresses = new Set<string>();
function noteKeyAddress(ctx: ApiContext, actor: Actor & { kind: 'api_key' }) {
  if (!actor.address) return;
  const k = `${actor.keyId}|${actor.address}`;
  if (seenKeyAddresses.has(k)) return;
  if (seenKeyAddresses.size > 50_000) seenKeyAddresses.clear();
  seenKeyAddresses.add(k);
  ctx.sql.begin((tx) => apiKeyUsedFrom(tx, actor)).catch((e) => {
    seenKeyAddresses.delete(k);
    log.warn('could not record the address an API key was used from', { err: String(e), key_id: actor.keyId });
  });
}

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
      // A copy: the verified actor is cached and shared between requests from different addresses.
      const actor = { ...found.actor, address: clientAddress(c) };
      noteKeyAddress(ctx, actor);
      c.set('actor', actor);
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
      c.set('actor', { ...s.actor, address: clientAddress(c) });
      c.set('session', { id: s.sessionId, csrf: s.csrf, secondFactor: s.secondFactor });
      await next(); // the RateLimit headers only on a 429 (see addressLimits); API key answers carry them always
      return;
    }
    throw unauthenticated('Send an API key as "Authorization: Bearer <key>" or sign in');
  };
}
