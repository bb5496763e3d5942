import { Hono } from 'hono';
import { setCookie, deleteCookie } from 'hono/cookie';
import type { ApiContext, AppEnv } from '../context';
import { readJson } from '../http';
import { login, logout, SESSION_COOKIE } from '../../db/sessions/repo';
import { forbidden, unsupportedMediaType } from '../../db/errors';
import { authenticate, clientAddress } from '../auth';

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
    const client = clientAddress(c) ?? 'unknown';
    // Login CSRF: a form or text/plain POST from another site must not sign the browser in. JSON only (a
    // cross-site JSON POST needs a CORS preflight Herald never grants), and a browser's Origin must be ours.
    const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw unsupportedMediaType('Sign-in takes a JSON body: send Content-Type: application/json');
    const origin = c.req.header('origin');
    if (origin !== undefined && !ownOrigins(c.req.url).includes(origin.toLowerCase()))
      throw forbidden(`Sign-in from another site (${origin.slice(0, 200)}) is refused`);
    const s = await login(ctx.sql, await readJson(c), client, ctx.config.security);
    setCookie(c, SESSION_COOKIE, s.token, { httpOnly: true, sameSite: 'Lax', secure, path: '/', maxAge: s.maxAge });
    return c.json({ user: s.user, csrf_token: s.csrf_token });
  });
  r.use('/me', authenticate(ctx));
  r.get('/me', async (c) => {
    const a = c.get('actor');
    if (a.kind !== 'user') return c.json({ user: null, actor: a, csrf_token: null });
    const [u] = await ctx.sql`select id, name, email, roles from users where id = ${a.userId}`;
    return c.json({ user: { ...u, id: Number(u.id), permissions: a.permissions }, csrf_token: c.get('session')?.csrf ?? null });
  });
  r.use('/logout', authenticate(ctx));
  r.post('/logout', async (c) => {
    const s = c.get('session');
    if (s) await logout(ctx.sql, s.id, c.get('actor'));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.body(null, 204);
  });
  return r;
}
