// Delivering one webhook: sign per Standard Webhooks (the webhook-id is the delivery's msg_id, identical
// on every retry, so receivers can drop duplicates), POST through the SSRF-guarded agent with a connect and a
// total timeout, log the result, schedule the next attempt with backoff for about a day, disable the
// subscription on 410 Gone, and keep a per-endpoint circuit breaker so a dead receiver costs no requests.
import http from 'node:http';
import https from 'node:https';
import { createHmac } from 'node:crypto';
import type { Herald } from '../herald';
import { addJobs } from '../jobs/enqueue';
import { BlockedAddressError, guardedLookup, isPrivateAddress } from '../platform/outbound-guard';
import { isIP } from 'node:net';
import { dueDeliveries, loadDeliveries, nextAttemptAt, type DeliveryWork } from './repo';
import { deliveryJob } from './fanout';
import { log } from '../platform/log';
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

/**
 * How long one attempt may take: connecting (a blackhole address) and the whole exchange (a receiver that
 * accepts the connection and never answers). Both end the attempt as a temporary failure.
 */
export interface Timeouts { connectMs: number; totalMs: number }
export const WEBHOOK_TIMEOUTS: Timeouts = { connectMs: 3_000, totalMs: 10_000 };

export function post(url: string, headers: Record<string, string>, body: string, allowPrivate: boolean, t: Timeouts = WEBHOOK_TIMEOUTS): Promise<PostResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let u: URL;
    try { u = new URL(url); } catch { return resolve({ status: null, body: '', error: 'invalid URL', blocked: false, ms: 0 }); }
    // Literal IP hosts never reach the lookup hook, so they are checked here.
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivate && isIP(host) && isPrivateAddress(host))
      return resolve({ status: null, body: '', error: `${host} is a private address`, blocked: true, ms: 0 });
    let settled = false;
    const finish = (r: Omit<PostResult, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      resolve({ ...r, ms: performance.now() - started });
    };
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: agentFor(u.protocol, allowPrivate) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (text.length < 2048) text += c; });
      res.on('end', () => finish({ status: res.statusCode ?? null, body: text.slice(0, 2048), error: null, blocked: false }));
      res.on('error', (e) => finish({ status: res.statusCode ?? null, body: text, error: e.message, blocked: false }));
      res.on('aborted', () => finish({ status: res.statusCode ?? null, body: text, error: 'the response was cut short', blocked: false }));
    });
    const fail = (message: string) => {
      finish({ status: null, body: '', error: message, blocked: false });
      req.destroy(new Error(message));
    };
    const total = setTimeout(() => fail(`no answer within ${t.totalMs} ms`), t.totalMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) return; // a kept-alive connection
      const connect = setTimeout(() => fail(`could not connect within ${t.connectMs} ms`), t.connectMs);
      socket.once('connect', () => clearTimeout(connect));
      socket.once('close', () => clearTimeout(connect));
    });
    req.on('error', (e) => finish({ status: null, body: '', error: e.message, blocked: e instanceof BlockedAddressError }));
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

/** `deferred`: not attempted (the endpoint's circuit is open); `in_flight`: still being attempted. */
export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'stale' | 'deferred' | 'in_flight';

interface Attempt {
  id: number; webhook_id: number; status: string; attempts: number; response_status: number | null; response_body: string | null;
  last_error: string | null; duration_ms: number; last_attempt_at: string; next_attempt_at: string | null; delivered_at: string | null;
  outcome: DeliveryOutcome; gone: boolean;
  /** The endpoint did not answer in time, refused, or answered 5xx/429: what the circuit breaker counts. */
  unhealthy: boolean;
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
    unhealthy: !r.blocked && (r.status === null || r.status >= 500 || r.status === 429),
  };
}

/**
 * Per-endpoint circuit breaker, kept on the webhook row so every process agrees: BREAKER_THRESHOLD failures
 * in a row (no answer in time, connection refused, 5xx, 429) open it for BREAKER_OPEN_SECONDS, doubling up to
 * BREAKER_MAX_OPEN_SECONDS each time the trial after an open period fails. While it is open, deliveries are
 * rescheduled to its end without a request (and without using up an attempt); then one trial delivery goes
 * out and the others wait for it; one answer from the endpoint closes it.
 */
export const BREAKER_THRESHOLD = 5;
export const BREAKER_OPEN_SECONDS = 30;
export const BREAKER_MAX_OPEN_SECONDS = 600;
/** While a trial delivery decides a failing endpoint's fate, its other deliveries wait this long. */
const TRIAL_WAIT_MS = 2_000;
/** A delivery the breaker kept back for this long has had its day of retries: it fails. */
const GIVE_UP_AFTER_MS = 24 * 3600 * 1000;

/** The routing job waits this long for its inline deliveries; slower ones finish on their own. */
export const INLINE_WAIT_MS = 1_000;
/**
 * Endpoints with an inline delivery still in flight past INLINE_WAIT_MS, in this process: no more inline
 * attempts go to them until it settles (their queued jobs deliver), so a receiver that hangs can hold at most
 * one routing batch's worth of requests, and no routing job waits for it again.
 */
const slowInline = new Map<number, number>();

export interface DeliverOptions {
  /** A person asked for this attempt: it goes out even to a failed delivery or an open circuit. */
  manual?: boolean;
  /** A fan-out group job: only deliveries never attempted (later attempts belong to each delivery's retry job). */
  firstOnly?: boolean;
  /** The routing job's attempt right after its commit: healthy endpoints only, waited for at most INLINE_WAIT_MS. */
  inline?: boolean;
}

/**
 * Delivers a group of deliveries (those one routing transaction produced, or one retry): POSTs run concurrently
 * and every result is written by one statement. A failed one gets its own retry job keyed by its id, so its
 * retries never re-send the others. The log write is an asynchronous commit: the job's completion commits
 * synchronously afterwards and flushes it with it, so a crash loses neither (at worst the job runs again
 * and the receiver sees the same webhook-id twice).
 */
export async function deliverWebhooks(h: Herald, ids: number[], opts: DeliverOptions = {}): Promise<DeliveryOutcome[]> {
  const { manual = false, firstOnly = false, inline = false } = opts;
  const work = (await loadDeliveries(h.sql, h.key, ids)).filter((d) => !firstOnly || d.attempts === 0);
  const disabled = work.filter((d) => !d.enabled && d.status !== 'delivered');
  if (disabled.length) await h.sql`update webhook_deliveries set status = 'failed', last_error = 'webhook disabled' where id = any(${disabled.map((d) => d.id)}::bigint[]) and status <> 'delivered'`;
  const now = Date.now();
  const live = work.filter((d) => d.enabled && d.status !== 'delivered' && (d.status !== 'failed' || manual)
    // A retry whose delivery was rescheduled since (by the breaker, or attempted by another job) is stale.
    && (manual || firstOnly || inline || !d.next_attempt_at || d.next_attempt_at.getTime() <= now + 1_000));

  const send: DeliveryWork[] = [];
  const deferred: Deferral[] = [];
  const skipped = new Map<number, number[]>();
  const trials = new Set<number>();
  for (const d of live) {
    const openUntil = d.breaker_open_until?.getTime() ?? 0;
    if (inline) {
      // Only endpoints known to answer. The others' deliveries go to their queue now (an open circuit's are
      // left to the fan-out job, which will keep them back).
      if (d.failure_streak === 0 && openUntil <= now && !slowInline.has(d.webhook_id)) send.push(d);
      else if (openUntil <= now) (skipped.get(d.webhook_id) ?? skipped.set(d.webhook_id, []).get(d.webhook_id)!).push(d.id);
    } else if (manual) {
      send.push(d);
    } else if (openUntil > now) {
      deferred.push({ d, at: new Date(openUntil), why: `circuit open: ${d.failure_streak} failed attempts in a row; next try after the pause` });
    } else if (d.failure_streak >= BREAKER_THRESHOLD) {
      if (!trials.has(d.webhook_id)) { trials.add(d.webhook_id); send.push(d); }
      else deferred.push({ d, at: new Date(now + TRIAL_WAIT_MS), why: 'waiting for a trial delivery to this failing endpoint' });
    } else {
      send.push(d);
    }
  }
  if (deferred.length) await defer(h, deferred);
  if (skipped.size) await addJobs(h.sql, [...skipped].map(([w, list]) => deliveryJob(w, { delivery_ids: list }, { max_attempts: 3 })));

  const byId = new Map<number, DeliveryOutcome>([...disabled.map((d) => [d.id, 'failed'] as const), ...deferred.map((x) => [x.d.id, 'deferred'] as const)]);
  const pending = send.map((d) => attempt(h, d));
  let results: Attempt[];
  if (!inline) {
    results = await Promise.all(pending);
  } else {
    const done: Array<Attempt | undefined> = new Array(pending.length);
    pending.forEach((p, i) => p.then((r) => { done[i] = r; }, () => { /* surfaces through Promise.all below */ }));
    await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, INLINE_WAIT_MS).unref())]);
    results = done.filter((r): r is Attempt => r !== undefined);
    // A slow receiver: its attempts finish (and are written) on their own, per endpoint; routing does not wait.
    const late = new Map<number, Array<Promise<Attempt>>>();
    const answered = new Set<number>();
    send.forEach((d, i) => {
      if (done[i]) { answered.add(d.webhook_id); return; }
      byId.set(d.id, 'in_flight');
      (late.get(d.webhook_id) ?? late.set(d.webhook_id, []).get(d.webhook_id)!).push(pending[i]);
    });
    for (const [w, list] of late) {
      // An endpoint that answered none of them in time is skipped by later routing jobs until these settle; one
      // that answered some is only busy (or this machine is), and stays inline.
      const hanging = !answered.has(w);
      if (hanging) slowInline.set(w, (slowInline.get(w) ?? 0) + 1);
      void Promise.all(list).then((rs) => record(h, rs))
        .catch((e: Error) => log.warn('writing late webhook results failed; the queued jobs will deliver', { error: e.message }))
        .finally(() => {
          if (!hanging) return;
          const n = (slowInline.get(w) ?? 1) - 1;
          if (n > 0) slowInline.set(w, n); else slowInline.delete(w);
        });
    }
  }
  await record(h, results);
  for (const r of results) byId.set(r.id, r.outcome);
  return ids.map((id) => byId.get(id) ?? 'stale');
}

/** Writes attempts: the delivery log, 410 Gone, retry jobs, and the endpoints' breakers (one transaction). */
async function record(h: Herald, results: Attempt[]): Promise<void> {
  if (!results.length) return;
  const failed = results.filter((r) => r.outcome !== 'delivered');
  const health = new Map<number, { id: number; ok: boolean; failed: number }>();
  for (const r of results) {
    const x = health.get(r.webhook_id) ?? { id: r.webhook_id, ok: false, failed: 0 };
    if (r.unhealthy) x.failed++; else x.ok = true;
    health.set(r.webhook_id, x);
  }
  await h.sql.begin(async (tx) => {
    await tx`set local synchronous_commit = off`;
    await tx`
      update webhook_deliveries w set status = t.status, attempts = t.attempts, response_status = t.response_status,
        response_body = t.response_body, last_error = t.last_error, duration_ms = t.duration_ms, last_attempt_at = t.last_attempt_at,
        next_attempt_at = t.next_attempt_at, delivered_at = t.delivered_at
      from json_to_recordset(${JSON.stringify(results)}::text::json) as t(id bigint, status text, attempts int, response_status int,
        response_body text, last_error text, duration_ms int, last_attempt_at timestamptz, next_attempt_at timestamptz, delivered_at timestamptz)
      where w.id = t.id and w.status <> 'delivered'`;
    // The breaker: an answer closes it; failures count, and open it at the threshold unless it is open already.
    // A healthy endpoint's row is not written (the where clause), so the hot path pays one index lookup.
    const breakers = await tx<{ id: number; open_until: Date | null }[]>`
      update webhooks w set
        failure_streak = case when t.ok then 0 else w.failure_streak + t.failed end,
        breaker_backoff_s = case when t.ok then null
          when w.failure_streak + t.failed >= ${BREAKER_THRESHOLD} and (w.breaker_open_until is null or w.breaker_open_until <= now())
            then least(${BREAKER_MAX_OPEN_SECONDS}, coalesce(w.breaker_backoff_s * 2, ${BREAKER_OPEN_SECONDS}))
          else w.breaker_backoff_s end,
        breaker_open_until = case when t.ok then null
          when w.failure_streak + t.failed >= ${BREAKER_THRESHOLD} and (w.breaker_open_until is null or w.breaker_open_until <= now())
            then now() + make_interval(secs => least(${BREAKER_MAX_OPEN_SECONDS}, coalesce(w.breaker_backoff_s * 2, ${BREAKER_OPEN_SECONDS})))
          else w.breaker_open_until end
      from json_to_recordset(${JSON.stringify([...health.values()])}::text::json) as t(id bigint, ok boolean, failed int)
      where w.id = t.id and (not t.ok or w.failure_streak > 0 or w.breaker_open_until is not null)
      returning w.id, w.breaker_open_until as open_until`;
    const gone = [...new Set(failed.filter((r) => r.gone).map((r) => r.webhook_id))];
    if (gone.length) await tx`update webhooks set enabled = false, disabled_reason = 'receiver answered 410 Gone', updated_at = now() where id = any(${gone}::bigint[])`;
    // Failures at an endpoint whose circuit is open wait for the end of the pause (one job per webhook picks them
    // all up then); the others get their own retry job after their backoff.
    const open = new Map(breakers.filter((b) => b.open_until && b.open_until.getTime() > Date.now()).map((b) => [Number(b.id), b.open_until!]));
    const retry = failed.filter((r) => r.next_attempt_at);
    const paused = retry.filter((r) => open.has(r.webhook_id));
    if (paused.length) {
      await tx`
        update webhook_deliveries d set next_attempt_at = w.breaker_open_until
        from webhooks w where w.id = d.webhook_id and d.id = any(${paused.map((r) => r.id)}::bigint[]) and d.status = 'failed_temp'`;
    }
    await addJobs(tx, [
      ...retry.filter((r) => !open.has(r.webhook_id)).map((r) =>
        deliveryJob(r.webhook_id, { delivery_id: r.id }, { run_at: r.next_attempt_at! })),
      ...[...new Set(paused.map((r) => r.webhook_id))].map((w) => resumeJob(w, open.get(w)!)),
    ]);
  });
  for (const r of results) webhookDeliveries.inc({ outcome: r.outcome });
}

interface Deferral { d: DeliveryWork; at: Date; why: string }

/** One job per webhook resumes its kept-back deliveries when the pause ends (the job key coalesces them). */
const resumeJob = (webhookId: number, at: Date) =>
  deliveryJob(webhookId, { webhook_id: webhookId, resume: true }, { run_at: at });
const RESUME_BATCH = 500;

/**
 * Deliveries the breaker keeps back: no request, no attempt used; they are due again when the pause ends, and
 * one job per webhook picks them up then (however many there are). One kept back for a day fails, as its
 * retries would have.
 */
async function defer(h: Herald, list: Deferral[]): Promise<void> {
  const now = Date.now();
  const expired = list.filter((x) => now - x.d.created_at.getTime() > GIVE_UP_AFTER_MS);
  const waiting = list.filter((x) => now - x.d.created_at.getTime() <= GIVE_UP_AFTER_MS);
  const resume = new Map<number, Date>();
  for (const x of waiting) {
    const at = resume.get(x.d.webhook_id);
    if (!at || x.at > at) resume.set(x.d.webhook_id, x.at);
  }
  await h.sql.begin(async (tx) => {
    if (waiting.length) {
      await tx`
        update webhook_deliveries d set next_attempt_at = t.at, last_error = t.why
        from json_to_recordset(${JSON.stringify(waiting.map((x) => ({ id: x.d.id, at: x.at.toISOString(), why: x.why })))}::text::json)
          as t(id bigint, at timestamptz, why text)
        where d.id = t.id and d.status <> 'delivered'`;
    }
    if (expired.length) {
      await tx`
        update webhook_deliveries set status = 'failed', next_attempt_at = null,
          last_error = 'gave up: the endpoint kept failing for a day (circuit open)'
        where id = any(${expired.map((x) => x.d.id)}::bigint[]) and status <> 'delivered'`;
    }
    await addJobs(tx, [...resume].map(([w, at]) => resumeJob(w, at)));
  });
  webhookDeliveries.inc({ outcome: 'deferred' }, waiting.length);
  webhookDeliveries.inc({ outcome: 'failed' }, expired.length);
}

/**
 * The end of a webhook's pause: its due deliveries go out (a trial first while the breaker is half-open). While
 * any of its deliveries waits for a later attempt, the job comes back when the next one is due, so none is left
 * behind whatever happened to the job that kept it back.
 */
export async function resumeWebhook(h: Herald, webhookId: number): Promise<void> {
  const ids = await dueDeliveries(h.sql, webhookId, RESUME_BATCH);
  if (ids.length) await deliverWebhooks(h, ids);
  const next = ids.length === RESUME_BATCH ? new Date() : await nextAttemptAt(h.sql, webhookId);
  if (next) await addJobs(h.sql, [resumeJob(webhookId, next)]);
}

export async function deliverWebhook(h: Herald, deliveryId: number, manual = false): Promise<DeliveryOutcome> {
  return (await deliverWebhooks(h, [deliveryId], { manual }))[0];
}
