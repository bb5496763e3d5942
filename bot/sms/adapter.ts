// SMS through Twilio (docs/design.md "Acting on an alert, per channel": SMS). Each alert text carries a reply code
// for this phone; a burst over the per-phone rate limit is held and sent as one bundle text instead.
//
// Invariants:
// - Never text twice what Twilio accepted: the SID is written (on the message row and on sms_texts) as soon
//   as Twilio answers, before `send` returns, and a retry of a message that has one returns it instead of
//   sending. (A crash or timeout between Twilio accepting and that write can still text twice: Twilio's
//   Messages API has no idempotency key; we prefer a duplicate to a lost alert.)
// - No alert is lost to the rate limit: a held message stays `held` until a bundle text covering it is
//   accepted, then it is recorded as sent (timeline: delivered, bundled) with the bundle's SID, so the
//   bundle's status callbacks move it to delivered or failed like any other text.
import type { Adapter, AdapterContext, DeferredResult, OutgoingMessage, SendResult } from '../adapter';
import type { Config } from '../../db/platform/config';
import type { Herald } from '../../db/herald';
import type { RecipientUser } from '../../db/model/channels';
import { loadMessage, recordSend, retryDelayMs } from '../../db/messages/deliver';
import {
  cancelAlertText, cancelBundle, claimBundle, confirmAlertText, confirmBundle, reserveAlertText,
  DEFAULT_SMS_RATE, type SmsRate,
} from '../../db/sms/repo';
import { addJobs, job } from '../../db/jobs/enqueue';
import { findUsersByPhone, setSmsOptOut } from '../../db/users/lookup';
import { log } from '../../db/platform/log';
import { createTwilioClient, twilioErrorToSendResult, type TwilioClient } from './client';
import { formatAlertSms, formatBundleSms } from './format';

/** Twilio: "Attempt to send to unsubscribed recipient" (the phone replied STOP). */
export const TWILIO_OPTED_OUT = 21610;
const MAX_BUNDLE_ATTEMPTS = 8;

export interface SmsAdapter extends Adapter {
  kind: 'sms';
  /** Sends the one text that covers every message held for this phone (the `sms__bundle` job). */
  flushBundle(h: Herald, phone: string, attempt?: number): Promise<void>;
}

export const smsConfigured = (c: Config) => Boolean(c.TWILIO_ACCOUNT_SID && c.TWILIO_AUTH_TOKEN && c.TWILIO_FROM_NUMBER);

export const smsReaches = (u: RecipientUser) => Boolean(u.phone) && !u.sms_opted_out;

export function createSmsAdapter(config: Config, opts: { rate?: SmsRate; client?: TwilioClient } = {}): SmsAdapter {
  const rate = opts.rate ?? DEFAULT_SMS_RATE;
  const client = opts.client ?? createTwilioClient({
    accountSid: config.TWILIO_ACCOUNT_SID!, authToken: config.TWILIO_AUTH_TOKEN!, apiUrl: config.TWILIO_API_URL,
  });
  const from = config.TWILIO_FROM_NUMBER!;
  // A Messaging Service SID (MG…) instead of a number lets Twilio pick the sender from a pool.
  const sender = /^MG[0-9a-f]{32}$/i.test(from) ? { messagingServiceSid: from } : { from };

  /** Sends one text; the status callback URL is read per send (PUBLIC_URL may be settled after start). */
  async function text(cfg: Config, to: string, body: string): Promise<string> {
    const m = await client.messages.create({ to, body, statusCallback: `${cfg.publicUrl}/twilio/status`, ...sender });
    return m.sid;
  }

  /** A failed create as a send outcome; Twilio's 21610 also mirrors the opt-out on the user. */
  async function failure(cfg: { sql: AdapterContext['sql'] }, phone: string, err: unknown): Promise<Extract<SendResult, { outcome: 'failed_temp' | 'failed_perm' }>> {
    const r = twilioErrorToSendResult(err);
    if ((err as { code?: unknown })?.code === TWILIO_OPTED_OUT) {
      await setSmsOptOut(cfg.sql, phone, true);
      return { outcome: 'failed_perm', error: `recipient opted out (${r.error})` };
    }
    return r;
  }

  async function send(msg: OutgoingMessage, ctx: AdapterContext): Promise<SendResult | DeferredResult> {
    // A retry of a message Twilio already accepted: report it, do not text again.
    if (msg.providerRef) return { outcome: 'sent', providerRef: msg.providerRef, providerState: msg.providerState };
    const phone = msg.user?.phone;
    if (!msg.user || !phone) return { outcome: 'failed_perm', error: 'recipient has no phone number' };
    if (msg.user.sms_opted_out) return { outcome: 'failed_perm', error: 'recipient opted out' };

    const slot = await reserveAlertText(ctx.sql, { orgId: msg.orgId, phone, messageId: msg.id, alertId: msg.alert.id }, rate);
    if (slot.kind === 'sent') return { outcome: 'sent', providerRef: slot.sid, providerState: { phone, code: slot.code } };
    if (slot.kind === 'held') {
      return { outcome: 'deferred', reason: `held: over ${rate.max} texts per ${rate.windowSeconds} s to this phone; one bundle text follows` };
    }
    let sid: string;
    try {
      sid = await text(ctx.config, phone, formatAlertSms(msg.alert, slot.code));
    } catch (e) {
      await cancelAlertText(ctx.sql, slot.textId);
      return failure(ctx, phone, e);
    }
    const state = { phone, code: slot.code };
    await confirmAlertText(ctx.sql, slot.textId, sid, msg.id, state);
    return { outcome: 'sent', providerRef: sid, providerState: state };
  }

  async function flushBundle(h: Herald, phone: string, attempt = 1): Promise<void> {
    const claim = await claimBundle(h.sql, phone, rate);
    if (!claim) return;
    const finish = async (r: Parameters<typeof recordSend>[2]) => {
      for (const id of claim.messageIds) {
        const m = await loadMessage(h, h.sql, id);
        if (m && m.status === 'held') await recordSend(h, m, r);
      }
    };
    const users = await findUsersByPhone(h.sql, phone);
    if (!users.length || users.every((u) => u.smsOptedOut)) {
      await cancelBundle(h.sql, claim.textId, { release: false });
      await finish({ outcome: 'failed_perm', error: users.length ? 'recipient opted out' : 'no user has this phone any more' });
      return;
    }
    let sid: string;
    try {
      sid = await text(h.config, phone, formatBundleSms(claim.alertIds.length, `${h.config.publicUrl}/`));
    } catch (e) {
      const r = await failure(h, phone, e);
      if (r.outcome === 'failed_perm' || attempt >= MAX_BUNDLE_ATTEMPTS) {
        await cancelBundle(h.sql, claim.textId, { release: false });
        await finish({ outcome: 'failed_perm', error: r.error });
        return;
      }
      await cancelBundle(h.sql, claim.textId, { release: true });
      log.warn('sms bundle failed; will retry', { phone, attempt, error: r.error });
      await addJobs(h.sql, [job('sms__bundle', { phone, attempt: attempt + 1 },
        { run_at: new Date(Date.now() + retryDelayMs(attempt, r.outcome === 'failed_temp' ? r.retryAfterMs : undefined)) })]);
      return;
    }
    const state = { phone, bundle: claim.textId };
    await confirmBundle(h.sql, claim, sid, state);
    await finish({ outcome: 'sent', providerRef: sid, providerState: state, detail: { bundled: true, bundle_size: claim.alertIds.length } });
  }

  return {
    kind: 'sms',
    enabled: true,
    inline: false,
    updatable: false,
    reaches: smsReaches,
    send,
    flushBundle,
    health: () => ({ status: 'ok', detail: `from ${from}${config.TWILIO_API_URL ? ` via ${config.TWILIO_API_URL}` : ''}` }),
  };
}

export const isSmsAdapter = (a: Adapter): a is SmsAdapter => a.kind === 'sms' && typeof (a as Partial<SmsAdapter>).flushBundle === 'function';
