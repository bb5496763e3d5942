// Chat provider endpoints and the account-link page:
// - POST /slack/events          Bolt (HTTP mode): events, interactivity and slash commands at one URL
// - POST /discord/interactions  Discord's interactions endpoint (Ed25519-verified)
// - GET/POST /link/:provider    ties a Slack or Discord account to the Herald user signed in to the PWA,
//                               from the signed link `/herald link` (or a click by an unknown person) gives
// Routers stay thin: the adapters verify and act; this file moves bytes and renders the small link pages.
import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { ApiContext, AppEnv } from '../context';
import type { Mount } from '../app';
import { problem } from '../http';
import { notFound } from '../../db/errors';
import { sessionActor, SESSION_COOKIE, timeoutsOf } from '../../db/sessions/repo';
import { linkChatId } from '../../db/users/chat-links';
import { SlackAdapter } from '../../bot/slack/adapter';
import { DiscordAdapter } from '../../bot/discord/adapter';
import { CHAT_ID_FIELD, PROVIDER_LABEL, verifyLinkToken, type ChatProvider, type LinkClaim } from '../../bot/chat/core';
import { log } from '../../db/platform/log';

export function chatRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  const slack = ctx.adapters.slack instanceof SlackAdapter ? ctx.adapters.slack : null;
  const discord = ctx.adapters.discord instanceof DiscordAdapter ? ctx.adapters.discord : null;
  // The adapters were given the engine by the server (Adapter.takeInbound) before routes were built.

  r.post('/slack/events', async (c) => {
    const receiver = slack?.httpReceiver;
    if (!receiver) {
      return problem(c, notFound(slack ? 'POST /slack/events (Slack runs in Socket Mode here)' : 'POST /slack/events (Slack is not configured)'));
    }
    const res = await receiver.handle(await c.req.text(), c.req.raw.headers);
    return new Response(res.body ?? null, { status: res.status, headers: res.contentType ? { 'content-type': res.contentType } : {} });
  });

  r.post('/discord/interactions', async (c) => {
    if (!discord) return problem(c, notFound('POST /discord/interactions (Discord is not configured)'));
    const res = await discord.handle(Buffer.from(await c.req.arrayBuffer()), c.req.raw.headers);
    return c.json(res.body ?? null, res.status as 200);
  });

  r.get('/link/:provider', async (c) => {
    const provider = providerParam(c);
    if (!provider) return problem(c, notFound(`GET ${c.req.path}`));
    const token = c.req.query('token') ?? '';
    const claim = verifyLinkToken(ctx.key, provider, token);
    if (!claim) return page(c, 400, 'This link does not work', badLink(provider));
    const session = await currentSession(c, ctx);
    if (!session) {
      const next = `${c.req.path}?token=${encodeURIComponent(token)}`;
      return page(c, 200, 'Sign in to Herald first', `
        <p>To link ${who(claim)} to your Herald account, sign in to Herald first, then open this link again.</p>
        <p><a class="button" href="/?next=${esc(encodeURIComponent(next))}">Sign in to Herald</a></p>`);
    }
    return page(c, 200, `Link your ${PROVIDER_LABEL[provider]} account`, `
      <p>Link ${who(claim)} to your Herald account <strong>${esc(session.user.name)}</strong> (${esc(session.user.email)})?</p>
      <p>Buttons you click and <code>/herald</code> commands you run in ${PROVIDER_LABEL[provider]} will then act as you.
         Only continue if this is your own ${PROVIDER_LABEL[provider]} account.</p>
      <form method="post" action="${esc(c.req.path)}">
        <input type="hidden" name="token" value="${esc(token)}">
        <input type="hidden" name="csrf" value="${esc(session.csrf)}">
        <button type="submit">Link my account</button>
      </form>`);
  });

  r.post('/link/:provider', async (c) => {
    const provider = providerParam(c);
    if (!provider) return problem(c, notFound(`POST ${c.req.path}`));
    const session = await currentSession(c, ctx);
    if (!session) return page(c, 401, 'Sign in to Herald first', '<p>Your Herald session has ended. Sign in, then open the link from chat again.</p>');
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    // The session's CSRF token as a hidden field: a form posted from another site cannot know it.
    if (typeof form.csrf !== 'string' || form.csrf !== session.csrf) return page(c, 403, 'Not linked', '<p>The form has expired. Open the link from chat again.</p>');
    const claim = verifyLinkToken(ctx.key, provider, typeof form.token === 'string' ? form.token : '');
    if (!claim) return page(c, 400, 'This link does not work', badLink(provider));
    const { actor } = session;
    if (actor.kind !== 'user') return page(c, 403, 'Not linked', '<p>Only people can link a chat account.</p>');
    const user = await linkChatId(ctx.sql, actor.orgId, actor.userId, CHAT_ID_FIELD[provider], claim.sub);
    if (!user) return page(c, 404, 'Not linked', '<p>Your Herald user no longer exists.</p>');
    log.info(`${provider}: account linked`, { user_id: actor.userId, chat_id: claim.sub });
    return page(c, 200, 'Linked', `
      <p>Done: ${who(claim)} is linked to <strong>${esc(user.name)}</strong>.</p>
      <p>Go back to ${PROVIDER_LABEL[provider]}: buttons and <code>/herald</code> now act as you. You can close this tab.</p>`);
  });
  return r;
}

export const chatMount: Mount = (app, ctx) => {
  app.route('/', chatRoutes(ctx));
};

function providerParam(c: Context): ChatProvider | null {
  const p = c.req.param('provider');
  return p === 'slack' || p === 'discord' ? p : null;
}

async function currentSession(c: Context, ctx: ApiContext) {
  const token = getCookie(c, SESSION_COOKIE);
  return token ? sessionActor(ctx.sql, token, timeoutsOf(ctx.config)) : null;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

function who(claim: LinkClaim): string {
  const space = claim.space ? ` in ${esc(claim.space)}` : '';
  return `the ${PROVIDER_LABEL[claim.p]} account <strong>${esc(claim.name)}</strong> (<code>${esc(claim.sub)}</code>${space})`;
}

function badLink(provider: ChatProvider): string {
  return `<p>The link is incomplete, altered or older than an hour. Run <code>/herald link</code> in ${PROVIDER_LABEL[provider]} again for a fresh one.</p>`;
}

function page(c: Context, status: number, title: string, body: string): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · Herald</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}button,.button{display:inline-block;font:inherit;padding:.6rem 1.1rem;border:0;border-radius:.4rem;background:#3451b2;color:#fff;text-decoration:none;cursor:pointer}
code{background:#eef0f3;padding:0 .25rem;border-radius:.2rem}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;
  return c.html(html, status as 200, {
    // The token is in the URL: keep it out of Referer headers; the confirm form must not be framed.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    'Cache-Control': 'no-store',
  });
}
