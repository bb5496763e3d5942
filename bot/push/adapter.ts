// Web push (VAPID, RFC 8030/8291/8292) through the `web-push` library: one encrypted message to every
// subscription of the person, carrying `{alert, reason, ack_url}` (see payload.ts). The service worker
// shows it with an Acknowledge action that POSTs `ack_url` (signed, bound to person and alert, 24 h).
//
// Who can be reached: the engine asks `reaches(user)` synchronously while it plans messages, so the
// adapter keeps, per process, the set of people with at least one subscription. It is loaded when the
// process starts and kept current by LISTEN `herald_push` (every subscribe/unsubscribe/expiry notifies
// with the person's id, from whichever process made it; a reconnect reloads the whole set). People
// without a subscription are skipped at planning ("push for Ana (no address)") instead of collecting a
// failed message on every alert. If the set is momentarily stale, send() still finds no subscription
// and fails the message permanently with "no push subscription" — never a retry loop.
import https from 'node:https';
import webpush from 'web-push';
import type { Adapter, AdapterContext, OutgoingMessage, SendResult } from '../adapter';
import type { Config } from '../../db/platform/config';
import type { Pool } from '../../db/platform/sql';
import { vapidKeys, type VapidKeys } from '../../db/push/vapid';
import {
  dropSubscription, hasSubscription, PUSH_CHANNEL, recordPushResult, subscribedUsers, subscriptionsOf, checkPushEndpoint,
} from '../../db/push/subscriptions';
import { pushAckUrl } from '../../db/push/ack';
import { guardedLookup } from '../../db/platform/outbound-guard';
import { pushPayload, reasonText } from './payload';
import { log } from '../../db/platform/log';

export interface WebPushOptions {
  /** Extra trusted CA certificates (PEM) for the push services' TLS — tests use a self-signed fake. */
  ca?: string | Buffer;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
}

/** An alert older than a day is no longer news on a lock screen. */
const TTL_SECONDS = 24 * 3600;

export function webPushAdapter(config: Config, opts: WebPushOptions = {}): Adapter {
  const reachable = new Set<number>();
  let keys: VapidKeys | null = null;
  let sql: Pool | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  let healthDetail = 'starting';
  // The SSRF guard of outbound webhooks applies to push endpoints too (they come from browsers).
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 32,
    lookup: guardedLookup(config.webhookAllowPrivate) as never,
    ...(opts.ca ? { ca: opts.ca } : {}),
  });

  async function refresh(userId: number | null) {
    if (!sql) return;
    if (userId === null) {
      const all = await subscribedUsers(sql);
      reachable.clear();
      for (const u of all) reachable.add(u);
    } else if (await hasSubscription(sql, userId)) reachable.add(userId);
    else reachable.delete(userId);
  }

  async function sendTo(msg: OutgoingMessage, ctx: AdapterContext): Promise<SendResult> {
    if (!msg.user) return { outcome: 'failed_perm', error: 'push reaches people, not rooms' };
    const k = keys ?? (keys = await vapidKeys(ctx.sql, ctx.config));
    const subs = await subscriptionsOf(ctx.sql, msg.user.id);
    if (!subs.length) {
      reachable.delete(msg.user.id);
      return { outcome: 'failed_perm', error: 'no push subscription' };
    }
    const payload = pushPayload(
      msg.alert,
      reasonText(msg.reason, msg.level),
      pushAckUrl({ key: ctx.key, config: ctx.config }, msg.orgId, msg.user.id, msg.alert.id),
    );
    const urgent = msg.alert.priority === 'critical' || msg.alert.priority === 'high';
    let sent = 0;
    const temp: string[] = [];
    const perm: string[] = [];
    let retryAfterMs: number | undefined;
    await Promise.all(
      subs.map(async (s) => {
        // Checked again at send time: HERALD_WEBHOOK_ALLOW_PRIVATE may have been turned off since.
        const bad = checkPushEndpoint(s.endpoint, ctx.config.webhookAllowPrivate);
        if (bad) {
          perm.push(bad);
          return;
        }
        try {
          await webpush.sendNotification({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }, payload, {
            vapidDetails: { subject: k.subject, publicKey: k.publicKey, privateKey: k.privateKey },
            TTL: TTL_SECONDS,
            urgency: urgent ? 'high' : msg.alert.priority === 'low' ? 'low' : 'normal',
            // The push service keeps one pending message per topic: a retry or an escalation replaces
            // the undelivered earlier one instead of buzzing twice.
            topic: `alert-${msg.alert.id}`,
            contentEncoding: 'aes128gcm',
            agent,
            timeout: opts.timeoutMs ?? 10_000,
          });
          sent++;
          await recordPushResult(ctx.sql, s.id, null);
        } catch (e) {
          const status = (e as { statusCode?: number }).statusCode;
          const text = status ? `push service answered ${status}` : (e as Error).message;
          if (status === 404 || status === 410) {
            // The browser unsubscribed or the subscription expired: it will never work again.
            await dropSubscription(ctx.sql, s.id, s.user_id);
            perm.push(`subscription expired (${status})`);
          } else if (!status || status === 429 || status >= 500) {
            temp.push(text);
            const ra = Number((e as { headers?: Record<string, string> }).headers?.['retry-after']);
            if (Number.isFinite(ra) && ra > 0) retryAfterMs = Math.max(retryAfterMs ?? 0, ra * 1000);
            await recordPushResult(ctx.sql, s.id, text);
          } else {
            perm.push(text);
            await recordPushResult(ctx.sql, s.id, text);
          }
        }
      }),
    );
    if (sent) return { outcome: 'sent', providerState: { devices: sent, of: subs.length } };
    if (temp.length) return { outcome: 'failed_temp', error: temp.join('; '), retryAfterMs };
    if (perm.every((p) => p.startsWith('subscription expired'))) reachable.delete(msg.user.id);
    return { outcome: 'failed_perm', error: perm.join('; ') || 'no push subscription' };
  }

  return {
    kind: 'push',
    enabled: true,
    inline: false,
    updatable: false,
    reaches: (u) => reachable.has(u.id),
    send: sendTo,
    health: () => ({ status: 'ok', detail: healthDetail }),
    async start(ctx) {
      sql = ctx.sql;
      keys = await vapidKeys(ctx.sql, ctx.config);
      healthDetail = keys.source === 'environment' ? 'VAPID keys from the environment' : 'VAPID keys generated and kept in the database';
      // onlisten runs on every (re)connection of the LISTEN connection: reload, notifications may have been missed.
      const l = await ctx.sql.listen(
        PUSH_CHANNEL,
        (payload) => {
          const id = Number(payload);
          if (Number.isSafeInteger(id) && id > 0) refresh(id).catch((e: Error) => log.warn('push: refresh failed', { error: e.message }));
        },
        () => {
          refresh(null).catch((e: Error) => log.warn('push: reload failed', { error: e.message }));
        },
      );
      unlisten = l.unlisten;
      await refresh(null);
    },
    async stop() {
      await unlisten?.().catch(() => {});
      unlisten = null;
      agent.destroy();
    },
  };
}
