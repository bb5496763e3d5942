// Delivering one webhook: sign per Standard Webhooks (the webhook-id is the delivery's msg_id, identical
// on every retry, so receivers can drop duplicates), POST through the SSRF-guarded agent, log the result,
// schedule the next attempt with backoff for about a day, and disable the subscription on 410 Gone.
import http from 'node:http';
import https from 'node:https';
import { createHmac } from 'node:crypto';
import type { Herald } from '../herald';
import { addJobs, job } from '../jobs/enqueue';
import { BlockedAddressError, guardedLookup, isPrivateAddress } from '../platform/outbound-guard';
import { isIP } from 'node:net';
import { loadDeliveries, type DeliveryWork } from './repo';
import { webhookDeliveries } from '../platform/metrics';

/** Delay before attempt n+1 after n failed attempts: about 24 hours in all over 10 attempts. */
export const WEBHOOK_BACKOFF_SECONDS = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800];

const agents = new Map<string, http.Agent>();
function agentFor(protocol: string, allowPrivate: boolean): http.Agent {
  const k = `${protocol}|${allowPrivate}`;
  let a = agents.get(k);
  if (!a) {
    const opts = { keepAlive: true, maxSockets: 128, lookup: guardedLookup(allowPrivate) as never };
    a = protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
    agents.set(k, a);
  }
  return a;
}

interface PostResult { status: number | null; body: string; error: string | null; blocked: boolean; ms: number }

function post(url: string, headers: Record<string, string>, body: string, allowPrivate: boolean, timeoutMs = 10_000): Promise<PostResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let u: URL;
    try { u = new URL(url); } catch { return resolve({ status: null, body: '', error: 'invalid URL', blocked: false, ms: 0 }); }
    // Literal IP hosts never reach the lookup hook, so they are checked here.
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivate && isIP(host) && isPrivateAddress(host))
      return resolve({ status: null, body: '', error: `${host} is a private address`, blocked: true, ms: 0 });
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: agentFor(u.protocol, allowPrivate), timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (text.length < 2048) text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? null, body: text.slice(0, 2048), error: null, blocked: false, ms: performance.now() - started }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? null, body: text, error: e.message, blocked: false, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ status: null, body: '', error: e.message, blocked: e instanceof BlockedAddressError, ms: performance.now() - started }));
    req.end(body);
  });
}

/**
 * Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of `<id>.<unix seconds>.<body>` under the base64
 * key after `whsec_`. node:crypto rather than the standardwebhooks package (pure-JS SHA-256, 7x slower);
 * the tests verify every delivery with the package.
 */
function sign(secret: string, msgId: string, at: Date, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${msgId}.${Math.floor(at.getTime() / 1000)}.${body}`).digest('base64')}`;
}

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'stale';

interface Attempt {
  id: number; webhook_id: number; status: string; attempts: number; response_status: number | null; response_body: string | null;
  last_error: string | null; duration_ms: number; last_attempt_at: string; next_attempt_at: string | null; delivered_at: string | null;
  outcome: DeliveryOutcome; gone: boolean;
}

/** One attempt at one delivery: sign, POST, decide what happened (nothing is written here). */
async function attempt(h: Herald, d: DeliveryWork): Promise<Attempt> {
  const body = JSON.stringify(d.payload);
  const now = new Date();
  const signature = sign(d.secret, d.msg_id, now, body);
  const r = await post(d.url, {
    'content-type': 'application/json', 'user-agent': 'Herald-Webhooks/1',
    'webhook-id': d.msg_id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature,
  }, body, h.config.webhookAllowPrivate);
  const attempts = d.attempts + 1;
  const ok = r.status !== null && r.status >= 200 && r.status < 300;
  const gone = r.status === 410;
  const exhausted = attempts >= WEBHOOK_BACKOFF_SECONDS.length + 1;
  const outcome: DeliveryOutcome = ok ? 'delivered' : gone || r.blocked || exhausted ? 'failed' : 'retrying';
  const next = outcome === 'retrying' ? new Date(Date.now() + WEBHOOK_BACKOFF_SECONDS[Math.min(attempts - 1, WEBHOOK_BACKOFF_SECONDS.length - 1)] * 1000) : null;
  return {
    id: d.id, webhook_id: d.webhook_id, status: outcome === 'retrying' ? 'failed_temp' : outcome, attempts,
    response_status: r.status, response_body: r.body || null, last_error: ok ? null : r.error ?? `HTTP ${r.status}`,
    duration_ms: Math.round(r.ms), last_attempt_at: now.toISOString(), next_attempt_at: next?.toISOString() ?? null,
    delivered_at: ok ? now.toISOString() : null, outcome, gone,
  };
}

/**
 * Delivers a group of deliveries (those one routing transaction produced): POSTs run concurrently and
 * every result is written by one statement. A failed one gets its own retry job keyed by its id, so its
 * retries never re-send the others. The log write is an asynchronous commit: the job's completion commits
 * synchronously afterwards and flushes it with it, so a crash loses neither (at worst the job runs again
 * and the receiver sees the same webhook-id twice).
 */
export async function deliverWebhooks(h: Herald, ids: number[], manual = false, firstOnly = false): Promise<DeliveryOutcome[]> {
  // A group job only makes first attempts: later ones belong to each delivery's own retry job.
  const work = (await loadDeliveries(h.sql, h.key, ids)).filter((d) => !firstOnly || d.attempts === 0);
  const disabled = work.filter((d) => !d.enabled && d.status !== 'delivered');
  if (disabled.length) await h.sql`update webhook_deliveries set status = 'failed', last_error = 'webhook disabled' where id = any(${disabled.map((d) => d.id)}::bigint[]) and status <> 'delivered'`;
  const live = work.filter((d) => d.enabled && d.status !== 'delivered' && (d.status !== 'failed' || manual));
  const results = await Promise.all(live.map((d) => attempt(h, d)));
  if (results.length) {
    const failed = results.filter((r) => r.outcome !== 'delivered');
    await h.sql.begin(async (tx) => {
      await tx`set local synchronous_commit = off`;
      await tx`
        update webhook_deliveries w set status = t.status, attempts = t.attempts, response_status = t.response_status,
          response_body = t.response_body, last_error = t.last_error, duration_ms = t.duration_ms, last_attempt_at = t.last_attempt_at,
          next_attempt_at = t.next_attempt_at, delivered_at = t.delivered_at
        from json_to_recordset(${JSON.stringify(results)}::text::json) as t(id bigint, status text, attempts int, response_status int,
          response_body text, last_error text, duration_ms int, last_attempt_at timestamptz, next_attempt_at timestamptz, delivered_at timestamptz)
        where w.id = t.id`;
      const gone = [...new Set(failed.filter((r) => r.gone).map((r) => r.webhook_id))];
      if (gone.length) await tx`update webhooks set enabled = false, disabled_reason = 'receiver answered 410 Gone', updated_at = now() where id = any(${gone}::bigint[])`;
      await addJobs(tx, failed.filter((r) => r.next_attempt_at).map((r) => job('webhook__deliver', { delivery_id: r.id }, { run_at: r.next_attempt_at! })));
    });
  }
  for (const r of results) webhookDeliveries.inc({ outcome: r.outcome });
  const byId = new Map(results.map((r) => [r.id, r.outcome]));
  return ids.map((id) => byId.get(id) ?? (disabled.some((d) => d.id === id) ? 'failed' : 'stale'));
}

export async function deliverWebhook(h: Herald, deliveryId: number, manual = false): Promise<DeliveryOutcome> {
  return (await deliverWebhooks(h, [deliveryId], manual))[0];
}
