// The pages behind the one-tap links in alert emails: GET shows a confirmation (changes nothing), POST acts.
import { Hono, type Context } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { emailLinkPage, type LinkPage } from '../../bot/email/links';

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // The URL is a credential: never cached, never sent on as a Referer, never indexed, never framed.
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex, nofollow',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
};

const respond = (c: Context, p: LinkPage) => c.body(p.html, p.status as 200, HEADERS);

export function emailLinkRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/e/:token', async (c) => respond(c, await emailLinkPage(ctx, c.req.param('token'), 'GET')));
  r.post('/e/:token', async (c) => respond(c, await emailLinkPage(ctx, c.req.param('token'), 'POST')));
  return r;
}
