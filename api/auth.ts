// Authentication: `Authorization: Bearer <api key>` or the PWA session cookie, either way an explicit
// actor on the context. Cookie-authenticated writes must carry the session's CSRF token.
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { ApiContext, AppEnv } from './context';
import { verifyApiKey } from '../db/api-keys/repo';
import { sessionActor, SESSION_COOKIE } from '../db/sessions/repo';
import { forbidden, unauthenticated } from '../db/errors';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Actor } from '../db/actor';
import { apiKeyUsedFrom } from '../db/audit/suspicious';
import { log } from '../db/platform/log';

/** The client's address (the TCP peer; Herald does not trust forwarding headers), or undefined outside Node. */
export function clientAddress(c: Context): string | undefined {
  try { return getConnInfo(c).remote.address ?? undefined; } catch { return undefined; /* not a node request (tests via app.request) */ }
}

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

export function authenticate(ctx: ApiContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw unauthenticated('Authorization must be "Bearer <api key>"');
      const verified = await verifyApiKey(ctx.sql, m[1]);
      if (!verified) throw unauthenticated('The API key is unknown, revoked or expired');
      // A copy: the verified actor is cached and shared between requests from different addresses.
      const actor = { ...verified, address: clientAddress(c) };
      if (actor.kind === 'api_key') noteKeyAddress(ctx, actor);
      c.set('actor', actor);
      return next();
    }
    const token = getCookie(c, SESSION_COOKIE);
    if (token) {
      const s = await sessionActor(ctx.sql, token);
      if (!s) throw unauthenticated('Your session has expired; sign in again');
      if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && c.req.header('x-csrf-token') !== s.csrf)
        throw forbidden('Missing or wrong X-CSRF-Token header');
      c.set('actor', { ...s.actor, address: clientAddress(c) });
      c.set('session', { id: s.sessionId, csrf: s.csrf });
      return next();
    }
    throw unauthenticated('Send an API key as "Authorization: Bearer <key>" or sign in');
  };
}
