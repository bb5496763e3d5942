// Delivering one webhook: sign per Standard Webhooks (the webhook-id is the delivery's msg_id, identical
// on every retry, so receivers can drop duplicates), POST through the SSRF-guarded agent, log the result,
// schedule the next attempt with backoff for about a day, and disable the subscription on 410 Gone.
import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import type { Herald } from '../herald';
import { addJobs } from '../jobs/enqueue';
import { BlockedAddressError, guardedLookup, isPrivateAddress } from './ssrf';
import { isIP } from 'node:net';
import { loadDelivery } from './repo';
import { webhookDeliveries } from '../alerts/metrics';

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

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'stale';

export async function deliverWebhook(h: Herald, deliveryId: number, manual = false): Promise<DeliveryOutcome> {
  const d = await loadDelivery(h.sql, h.key, deliveryId);
  if (!d) return 'stale';
  if (d.status === 'delivered' || (d.status === 'failed' && !manual)) return 'stale';
  if (!d.enabled) {
    await h.sql`update webhook_deliveries set status = 'failed', last_error = 'webhook disabled' where id = ${d.id} and status <> 'delivered'`;
    return 'failed';
  }
  const body = JSON.stringify(d.payload);
  const now = new Date();
  const signature = new Webhook(d.secret).sign(d.msg_id, now, body);
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
  const error = ok ? null : r.error ?? `HTTP ${r.status}`;
  await h.sql.begin(async (tx) => {
    await tx`
      update webhook_deliveries set status = ${outcome === 'retrying' ? 'failed_temp' : outcome}, attempts = ${attempts},
        response_status = ${r.status}, response_body = ${r.body || null}, last_error = ${error}, duration_ms = ${Math.round(r.ms)},
        last_attempt_at = ${now}, next_attempt_at = ${next}, delivered_at = ${ok ? now : null}
      where id = ${d.id}`;
    if (gone) await tx`update webhooks set enabled = false, disabled_reason = 'receiver answered 410 Gone', updated_at = now() where id = ${d.webhook_id}`;
    if (next) await addJobs(tx, [{ identifier: 'webhook__deliver', payload: { delivery_id: d.id }, run_at: next, job_key: `delivery:${d.id}` }]);
  });
  webhookDeliveries.inc({ outcome });
  return outcome;
}
