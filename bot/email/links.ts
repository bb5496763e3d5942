// The one-tap Acknowledge / Resolve links in alert emails (docs/design.md "Acting on an alert, per channel": Email).
// A link is `PUBLIC_URL/e/<token>`: HMAC-signed under the instance key, bound to one person and one alert,
// expiring after 24 hours. Opening it (GET) changes nothing, because mail scanners and link previews
// follow links; the page asks for one tap, which POSTs back to the same URL and acts as that person.
// A link that can no longer act because the alert moved on (used, someone else acted) shows the alert's
// current state: the person wants to know where the alert stands. An expired link shows nothing of the alert
// (410): a link forwarded or found in an old mailbox must not keep revealing alerts.
import { z } from 'zod';
import type { Herald } from '../../db/herald';
import type { Actor } from '../../db/actor';
import type { AlertView } from '../../db/model/alert';
import { act } from '../../db/alerts/act';
import { getAlert } from '../../db/alerts/read';
import { HeraldError } from '../../db/errors';
import { signToken, verifyToken } from '../../db/platform/crypto';
import { findActiveUser } from '../../db/users/lookup';
import { escapeHtml, renderConfirmPage, renderStatePage, type LinkAction } from './render';

export const EMAIL_ACTION_PURPOSE = 'email-action';
export const EMAIL_LINK_TTL_MS = 24 * 60 * 60 * 1000;

const TokenSchema = z.object({
  a: z.number().int().positive(),
  u: z.number().int().positive(),
  act: z.enum(['ack', 'resolve']),
  /** Expiry, Unix seconds. */
  exp: z.number().int().positive(),
});
export type EmailActionToken = z.infer<typeof TokenSchema>;

export function signEmailAction(key: Buffer, p: { alertId: number; userId: number; action: LinkAction; now?: number; ttlMs?: number }): string {
  const exp = Math.floor(((p.now ?? Date.now()) + (p.ttlMs ?? EMAIL_LINK_TTL_MS)) / 1000);
  return signToken(key, EMAIL_ACTION_PURPOSE, { a: p.alertId, u: p.userId, act: p.action, exp } satisfies EmailActionToken);
}

export function emailActionUrl(publicUrl: string, key: Buffer, p: Parameters<typeof signEmailAction>[1]): string {
  return `${publicUrl}/e/${signEmailAction(key, p)}`;
}

/** The token's claims if its signature is ours and its shape is right (expiry is checked by the caller). */
export function readEmailAction(key: Buffer, token: string): EmailActionToken | null {
  if (token.length > 1000) return null;
  const raw = verifyToken<unknown>(key, EMAIL_ACTION_PURPOSE, token);
  const r = TokenSchema.safeParse(raw);
  return r.success ? r.data : null;
}

export interface LinkPage {
  status: number;
  html: string;
}

function messagePage(status: number, title: string, text: string): LinkPage {
  return {
    status,
    html: [
      '<!doctype html>',
      '<html lang="en"><head><meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width,initial-scale=1">',
      '<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow">',
      `<title>${escapeHtml(title)} - Herald</title>`,
      '<style>body{margin:0;background:#f3f4f6;color:#111827;font-family:-apple-system,BlinkMacSystemFont,\'Segoe UI\',Roboto,Helvetica,Arial,sans-serif;line-height:1.5}',
      'main{max-width:480px;margin:32px auto;padding:24px;background:#fff;border-radius:8px}h1{font-size:22px;margin:0 0 12px}</style></head>',
      `<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body></html>`,
    ].join('\n'),
  };
}

const FORGED = () => messagePage(400, 'This link is not valid', 'The link is incomplete or was not issued by Herald. Open the alert from the latest email or in the Herald app.');
const EXPIRED = () => messagePage(410, 'This link has expired', 'Links in alert emails work for 24 hours. Open the alert from a newer email or in the Herald app.');
const NOT_YOURS = () => messagePage(403, 'This link no longer works for you', 'The person or alert this link was issued for is no longer in Herald, or you no longer have access to it.');

const DONE: Record<LinkAction, string> = { ack: 'acknowledged', resolve: 'resolved' };

/** Can this action still change the alert? (ack: only a triggered alert; resolve: any open one) */
const actionable = (a: AlertView, action: LinkAction) => (action === 'ack' ? a.status === 'triggered' : a.status !== 'resolved');

function noticeFor(a: AlertView): string {
  return a.status === 'resolved' ? `Alert #${a.id} is already resolved` : `Alert #${a.id} is already acknowledged`;
}

/**
 * The page for `GET` or `POST /e/:token`. GET never changes anything. POST acts as the link's person on the
 * link's alert through the same verb as every channel. Forged links: 400; expired links: 410 (nothing of
 * the alert); links whose person is gone or no longer in the alert's org: 403; everything else: 200 with a page.
 */
export async function emailLinkPage(h: Herald, token: string, method: 'GET' | 'POST', now = Date.now()): Promise<LinkPage> {
  const t = readEmailAction(h.key, token);
  if (!t) return FORGED();
  if (t.exp * 1000 <= now) return EXPIRED();
  const user = await findActiveUser(h.sql, t.u);
  if (!user) return NOT_YOURS();
  const actor: Actor = { kind: 'user', orgId: user.orgId, userId: user.id, name: user.name, roles: user.roles, permissions: user.permissions, via: 'email' };
  let alert: AlertView;
  try {
    alert = await getAlert(h, actor, t.a); // scoped to the user's org: another org's alert is "not found"
  } catch (e) {
    if (e instanceof HeraldError && (e.status === 404 || e.status === 403)) return NOT_YOURS();
    throw e;
  }
  if (!actionable(alert, t.act)) return { status: 200, html: renderStatePage(alert, { notice: noticeFor(alert) }) };
  if (method === 'GET') return { status: 200, html: renderConfirmPage({ alert, action: t.act }) };

  try {
    const after = await act(h, actor, t.a, t.act);
    return { status: 200, html: renderStatePage(after, { notice: `You ${DONE[t.act]} alert #${after.id}` }) };
  } catch (e) {
    if (!(e instanceof HeraldError)) throw e;
    if (e.status === 409) {
      // Someone got there first (or the link was used twice at once): show where the alert stands now.
      const current = await getAlert(h, actor, t.a);
      return { status: 200, html: renderStatePage(current, { notice: noticeFor(current) }) };
    }
    if (e.status === 404 || e.status === 403) return NOT_YOURS();
    throw e;
  }
}
