// Twilio's webhooks: inbound SMS (`POST /twilio/sms`) and delivery status callbacks (`POST /twilio/status`).
// Both verify X-Twilio-Signature against PUBLIC_URL + the path (what Twilio was configured to call), so a
// request that did not come from Twilio with our auth token changes nothing (403).
import { Hono, type Context } from 'hono';
import twilio from 'twilio';
import type { ApiContext, AppEnv } from '../context';
import { problem } from '../http';
import { forbidden, HeraldError } from '../../db/errors';
import { recordProviderStatus } from '../../db/messages/deliver';
import { setSmsOptOut } from '../../db/users/lookup';
import { handleInboundSms } from '../../bot/sms/inbound';
import { TWILIO_OPTED_OUT } from '../../bot/sms/adapter';

type Params = Record<string, string | string[]>;

/** The form parameters, or a Response to return (403 bad signature, 503 SMS off). */
async function verified(ctx: ApiContext, c: Context): Promise<Params | Response> {
  const token = ctx.config.TWILIO_AUTH_TOKEN;
  if (!token) return problem(c, new HeraldError(503, 'Service unavailable', 'SMS is not configured (TWILIO_AUTH_TOKEN is not set)'));
  const params: Params = {};
  const type = c.req.header('content-type') ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(await c.req.text())) {
      const prev = params[k];
      params[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  const signature = c.req.header('x-twilio-signature');
  const url = ctx.config.publicUrl + c.req.path + new URL(c.req.url).search;
  if (!signature || !twilio.validateRequest(token, signature, url, params)) {
    return problem(c, forbidden('X-Twilio-Signature is missing or does not match this request'));
  }
  return params;
}

const one = (p: Params, k: string): string => {
  const v = p[k];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

function twiml(text: string | null): Response {
  const r = new twilio.twiml.MessagingResponse();
  if (text) r.message(text);
  return new Response(r.toString(), { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' } });
}

type SmsStatus = Parameters<typeof recordProviderStatus>[3];
const STATUSES = new Set<string>(['sent', 'delivered', 'undelivered', 'failed'] satisfies SmsStatus[]);

export function twilioRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();

  r.post('/twilio/sms', async (c) => {
    const p = await verified(ctx, c);
    if (p instanceof Response) return p;
    const from = one(p, 'From');
    if (!from) return twiml(null);
    const res = await handleInboundSms(ctx, { from, body: one(p, 'Body'), messageSid: one(p, 'MessageSid') || one(p, 'SmsSid') || null });
    return twiml(res.answer);
  });

  r.post('/twilio/status', async (c) => {
    const p = await verified(ctx, c);
    if (p instanceof Response) return p;
    const sid = one(p, 'MessageSid') || one(p, 'SmsSid');
    const status = one(p, 'MessageStatus') || one(p, 'SmsStatus');
    const code = one(p, 'ErrorCode');
    // queued, accepted, sending, read…: not a state Herald tracks.
    if (sid && STATUSES.has(status)) {
      const detail = one(p, 'ErrorMessage');
      const error = code ? `twilio error ${code}${detail ? `: ${detail}` : ''}` : undefined;
      await recordProviderStatus(ctx, 'sms', sid, status as SmsStatus, error);
      const to = one(p, 'To');
      if (Number(code) === TWILIO_OPTED_OUT && to) await setSmsOptOut(ctx.sql, to, true);
    }
    return c.body(null, 204);
  });

  return r;
}
