import { Hono } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import type { ApiContext, AppEnv } from '../context';
import { readJson } from '../http';
import { completeSecondFactor, login, logout, SESSION_COOKIE, timeoutsOf } from '../../db/sessions/repo';
import { forbidden, unsupportedMediaType } from '../../db/errors';
import { authenticate } from '../auth';
import { clientAddress } from '../limits';

export function authRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  const secure = ctx.config.publicUrl.startsWith('https://');
  /** Herald's own origins: PUBLIC_URL's, and the one this request was addressed to (the Host it came with). */
  const ownOrigins = (requestUrl: string) => {
    const list: string[] = [];
    for (const u of [ctx.config.publicUrl, requestUrl]) { try { list.push(new URL(u).origin.toLowerCase()); } catch { /* not a URL */ } }
    return list;
  };
  r.post('/login', async (c) => {
    const client = clientAddress(c);
    // Login CSRF: a form or text/plain POST from another site must not sign the browser in. JSON only (a
    // cross-site JSON POST needs a CORS preflight Herald never grants), and a browser's Origin must be ours.
    const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw unsupportedMediaType('Sign-in takes a JSON body: send Content-Type: application/json');
    const origin = c.req.header('origin');
    if (origin !== undefined && !ownOrigins(c.req.url).includes(origin.toLowerCase()))
      throw forbidden(`Sign-in from another site (${origin.slice(0, 200)}) is refused`);
    const s = await login(ctx.sql, await readJson(c), client, {
      userAgent: c.req.header('user-agent') ?? null, timeouts: timeoutsOf(ctx.config), require2fa: ctx.config.require2fa, security: ctx.config.security,
    });
    setCookie(c, SESSION_COOKIE, s.token, { httpOnly: true, sameSite: 'Lax', secure, path: '/', maxAge: s.maxAge });
    // second_factor: null (signed in), 'totp' (POST /v1/auth/totp {code} next), 'enrol' (an admin must turn on TOTP).
    return c.json({ user: s.user, csrf_token: s.csrf_token, second_factor: s.second_factor });
  });
  // Sign-in's second step: the code from the authenticator app (or a recovery code) for the pending session.
  r.use('/totp', authenticate(ctx, { allowPending: true }));
  r.post('/totp', async (c) => {
    const token = getCookie(c, SESSION_COOKIE) ?? '';
    await completeSecondFactor(ctx, token, await readJson(c), timeoutsOf(ctx.config), clientAddress(c));
    return c.json({ second_factor: null });
  });
  r.use('/me', authenticate(ctx, { allowEnrol: true }));
  r.get('/me', async (c) => {
    const a = c.get('actor');
    if (a.kind !== 'user') return c.json({ user: null, actor: a, csrf_token: null });
    const [u] = await ctx.sql`select id, name, email, roles from users where id = ${a.userId}`;
    const sf = c.get('session')?.secondFactor;
    return c.json({ user: { ...u, id: Number(u.id), permissions: a.permissions }, csrf_token: c.get('session')?.csrf ?? null, second_factor: sf === 'pending' ? 'totp' : sf ?? null });
  });
  r.use('/logout', authenticate(ctx, { allowPending: true }));
  r.post('/logout', async (c) => {
    const s = c.get('session');
    if (s) await logout(ctx.sql, s.id, c.get('actor'));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.body(null, 204);
  });
  return r;
}
