// Rate limits at the HTTP edge (README "Rate limits"): per API key and per session inside `authenticate`, per
// client address for the endpoints that come without either (sign-in, email links, account links) and, more
// generously, for provider and integration endpoints. Counted per calendar minute by db/limits/limiter.ts.
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { ApiContext, AppEnv } from './context';
import { HeraldError } from '../db/errors';
import { rateLimitHeaders, type LimitDecision } from '../db/limits/limiter';
import { rateLimited } from '../db/platform/metrics';

/** The client's address as the socket sees it ('unknown' outside Node, e.g. app.request in tests). */
export function clientAddress(c: Context): string {
  try { return getConnInfo(c).remote.address ?? 'unknown'; } catch { return 'unknown'; }
}

export function limitExceeded(d: LimitDecision, policy: string, what: string): HeraldError {
  rateLimited.inc({ policy });
  return new HeraldError(429, 'Too many requests', `Rate limit of ${d.limit} requests per minute for ${what} reached; try again in ${d.reset} s`, undefined,
    { 'Retry-After': String(d.reset), ...rateLimitHeaders(d, policy) });
}

/**
 * Sets the RateLimit headers for the response to come. Called before the handler: `c.header` then goes into the
 * response the handler builds, where touching `c.res.headers` afterwards would make @hono/node-server build a full
 * web Response instead of its lightweight one (a real cost on the ingestion hot path).
 */
export function setLimitHeaders(c: Context, d: LimitDecision, policy: string) {
  const h = rateLimitHeaders(d, policy);
  c.header('RateLimit-Policy', h['RateLimit-Policy']);
  c.header('RateLimit', h.RateLimit);
}

const PROVIDER = /^\/(slack\/events|discord\/interactions|twilio\/(sms|status)|v2\/enqueue|v1\/integrations\/(alertmanager|grafana)\/)/;
const PUBLIC = /^\/(v1\/auth\/(login|totp)$|e\/|link\/)/;
/** A provider's own retry of a request it signed: Slack's X-Slack-Retry-Num, Twilio's idempotency token. */
const isSignedRetry = (c: Context) =>
  (c.req.header('x-slack-retry-num') !== undefined && c.req.header('x-slack-signature') !== undefined) ||
  (c.req.header('i-twilio-idempotency-token') !== undefined && c.req.header('x-twilio-signature') !== undefined);

/**
 * Per-address limits for requests that carry no key or session. Provider endpoints get the generous
 * HERALD_RATE_LIMIT_PROVIDER_PER_MINUTE, and a signed provider retry is never refused here: it goes on to the
 * route, which verifies its signature as always (a forged one is a 401 there).
 */
export function addressLimits(ctx: ApiContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = c.req.path;
    const provider = PROVIDER.test(path);
    if (!provider && !PUBLIC.test(path)) return next();
    const policy = provider ? 'provider' : 'address';
    const limit = provider ? ctx.config.HERALD_RATE_LIMIT_PROVIDER_PER_MINUTE : ctx.config.HERALD_RATE_LIMIT_ADDRESS_PER_MINUTE;
    const address = clientAddress(c);
    // Provider endpoints never wait for the database: a provider's request (Slack's 3 s) goes on at once.
    let d = ctx.limiter.check(`${policy}:${address}`, limit, { optimistic: provider });
    if (d instanceof Promise) d = await d;
    if (!d.allowed && !(provider && isSignedRetry(c))) throw limitExceeded(d, policy, `your address (${address})`);
    // The headers only on a 429 here: set before a provider route that returns its own Response (Slack's
    // receiver), Hono rebuilds that response around a stream, which delayed Slack's acknowledgement and its
    // follow-up work by seconds in test/chatops.test.ts.
    await next();
  };
}
