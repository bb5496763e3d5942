// Webhook subscriptions and their delivery log. Only this module queries webhooks / webhook_deliveries.
import { z } from 'zod';
import { text } from '../platform/input';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, type Actor } from '../actor';
import { invalid, notFound, parse } from '../errors';
import { decrypt, encrypt, randomToken } from '../platform/crypto';
import { addJobs } from '../jobs/enqueue';
import { checkWebhookUrl } from '../platform/outbound-guard';
import { deliveryJob, WEBHOOK_EVENT_TYPES } from './fanout';
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../audit/record';

export const WebhookInputSchema = z
  .object({
    url: text().min(1).max(2000),
    events: z.array(z.enum([...WEBHOOK_EVENT_TYPES, '*'])).min(1).default(['*']),
    description: text().max(500).nullish(),
    enabled: z.boolean().optional(),
  })
  .strict();

export interface WebhookView {
  id: number; url: string; events: string[]; description: string | null; enabled: boolean; disabled_reason: string | null;
  created_at: string; updated_at: string;
}

const view = (r: Record<string, any>): WebhookView => ({
  id: Number(r.id), url: r.url, events: r.events, description: r.description, enabled: r.enabled, disabled_reason: r.disabled_reason,
  created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString(),
});

export async function createWebhook(h: Herald, actor: Actor, input: unknown): Promise<WebhookView & { secret: string }> {
  require(actor, 'integrations:write');
  const w = parse(WebhookInputSchema, input);
  const bad = checkWebhookUrl(w.url, h.config.webhookAllowPrivate);
  if (bad) throw invalid(`url: ${bad}`, [{ path: 'url', message: bad }]);
  // Standard Webhooks secrets: `whsec_` + base64 of 24 random bytes. Stored encrypted; shown once.
  const secret = `whsec_${Buffer.from(randomToken(24), 'base64url').toString('base64')}`;
  const row = await h.sql.begin(async (tx) => {
    const [row] = await tx`
      insert into webhooks (org_id, url, events, description, secret_enc, enabled)
      values (${actor.orgId}, ${w.url}, ${w.events}, ${w.description ?? null}, ${encrypt(h.key, secret)}, ${w.enabled ?? true})
      returning *`;
    await recordAudit(tx, actor, 'webhook.created', { kind: 'webhook', id: Number(row.id), label: row.url }, { after: view(row) });
    return row;
  });
  return { ...view(row), secret };
}

export async function listWebhooks(h: Herald, actor: Actor): Promise<WebhookView[]> {
  require(actor, 'integrations:write');
  const rows = await h.sql`select * from webhooks where org_id = ${actor.orgId} order by id`;
  return rows.map(view);
}

export async function getWebhook(h: Herald, actor: Actor, id: number): Promise<WebhookView> {
  require(actor, 'integrations:write');
  const [row] = await h.sql`select * from webhooks where org_id = ${actor.orgId} and id = ${id}`;
  if (!row) throw notFound(`Webhook ${id}`);
  return view(row);
}

export async function updateWebhook(h: Herald, actor: Actor, id: number, input: unknown): Promise<WebhookView> {
  require(actor, 'integrations:write');
  const w = parse(WebhookInputSchema.partial(), input);
  if (w.url) {
    const bad = checkWebhookUrl(w.url, h.config.webhookAllowPrivate);
    if (bad) throw invalid(`url: ${bad}`, [{ path: 'url', message: bad }]);
  }
  return h.sql.begin(async (tx) => {
    const [old] = await tx`select * from webhooks where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!old) throw notFound(`Webhook ${id}`);
    const [row] = await tx`
      update webhooks set url = coalesce(${w.url ?? null}, url), events = coalesce(${w.events ?? null}::text[], events),
        description = coalesce(${w.description ?? null}, description), enabled = coalesce(${w.enabled ?? null}, enabled),
        disabled_reason = case when ${w.enabled ?? null}::boolean then null else disabled_reason end, updated_at = now()
      where org_id = ${actor.orgId} and id = ${id} returning *`;
    await recordAudit(tx, actor, 'webhook.updated', { kind: 'webhook', id, label: row.url }, { before: view(old), after: view(row) });
    return view(row);
  });
}

export async function deleteWebhook(h: Herald, actor: Actor, id: number): Promise<void> {
  require(actor, 'integrations:write');
  await h.sql.begin(async (tx) => {
    const [old] = await tx`select * from webhooks where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!old) throw notFound(`Webhook ${id}`);
    const [row] = await tx`update webhooks set enabled = false, disabled_reason = 'deleted', updated_at = now() where id = ${id} returning *`;
    await recordAudit(tx, actor, 'webhook.deleted', { kind: 'webhook', id, label: row.url }, { before: view(old), after: view(row) });
  });
}

export async function listDeliveries(h: Herald, actor: Actor, webhookId: number, limit = 50) {
  await getWebhook(h, actor, webhookId);
  const rows = await h.sql`
    select id, msg_id, event_type, alert_id, status, attempts, response_status, last_error, duration_ms, created_at, last_attempt_at,
      next_attempt_at, delivered_at
    from webhook_deliveries where org_id = ${actor.orgId} and webhook_id = ${webhookId} order by id desc limit ${limit}`;
  return rows.map((r) => ({ ...r, id: Number(r.id), alert_id: r.alert_id === null ? null : Number(r.alert_id) }));
}

/** Manual retry: the same delivery (same webhook-id) goes out again now. */
export async function retryDelivery(h: Herald, actor: Actor, webhookId: number, deliveryId: number) {
  await getWebhook(h, actor, webhookId);
  return h.sql.begin(async (tx) => {
    const [d] = await tx`
      update webhook_deliveries set status = 'pending', next_attempt_at = now()
      where org_id = ${actor.orgId} and webhook_id = ${webhookId} and id = ${deliveryId} returning id, msg_id`;
    if (!d) throw notFound(`Delivery ${deliveryId}`);
    await addJobs(tx, [deliveryJob(webhookId, { delivery_id: Number(d.id), manual: true })]);
    return { id: Number(d.id), msg_id: d.msg_id as string, status: 'pending' };
  });
}

/** A `webhook.test` event to one subscription, delivered like any other. */
export async function sendTestEvent(h: Herald, actor: Actor, webhookId: number) {
  await getWebhook(h, actor, webhookId);
  return h.sql.begin(async (tx) => {
    const payload = { type: 'webhook.test', timestamp: new Date().toISOString(), data: { message: 'Hello from Herald', webhook_id: webhookId } };
    const [d] = await tx`
      insert into webhook_deliveries (org_id, webhook_id, msg_id, event_type, payload)
      values (${actor.orgId}, ${webhookId}, ${`msg_${randomUUID().replace(/-/g, '')}`}, 'webhook.test', ${payload as never})
      returning id, msg_id`;
    await addJobs(tx, [deliveryJob(webhookId, { delivery_id: Number(d.id) }, { max_attempts: 3 })]);
    return { id: Number(d.id), msg_id: d.msg_id as string, status: 'pending' };
  });
}

export interface DeliveryWork {
  id: number; org_id: number; webhook_id: number; msg_id: string; payload: unknown; status: string; attempts: number;
  url: string; secret: string; enabled: boolean; created_at: Date;
  /** The endpoint's circuit breaker (see deliver.ts). */
  failure_streak: number; breaker_open_until: Date | null; next_attempt_at: Date | null;
}

/** When the next of a webhook's waiting deliveries is due (null: none waits). */
export async function nextAttemptAt(sql: Sql, webhookId: number): Promise<Date | null> {
  const [r] = await sql<{ at: Date | null }[]>`
    select min(next_attempt_at) as at from webhook_deliveries
    where webhook_id = ${webhookId} and next_attempt_at is not null and status in ('pending', 'failed_temp')`;
  return r?.at ?? null;
}

/** A webhook's deliveries whose next attempt is due (oldest first), for the job that resumes it after a pause. */
export async function dueDeliveries(sql: Sql, webhookId: number, limit: number): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    select id from webhook_deliveries
    where webhook_id = ${webhookId} and next_attempt_at is not null and next_attempt_at <= now() + interval '1 second'
      and status in ('pending', 'failed_temp')
    order by next_attempt_at limit ${limit}`;
  return rows.map((r) => Number(r.id));
}

const secrets = new Map<string, string>();
/** Decrypting is cheap but not free: the plaintext of each sealed secret is kept in memory. */
function openSecret(key: Buffer, sealed: string): string {
  let s = secrets.get(sealed);
  if (!s) {
    if (secrets.size > 10_000) secrets.clear();
    s = decrypt(key, sealed);
    secrets.set(sealed, s);
  }
  return s;
}

export async function loadDeliveries(sql: Sql, key: Buffer, ids: number[]): Promise<DeliveryWork[]> {
  const rows = await sql`
    select d.id, d.org_id, d.webhook_id, d.msg_id, d.payload, d.status, d.attempts, d.created_at, w.url, w.secret_enc, w.enabled,
      w.failure_streak, w.breaker_open_until, d.next_attempt_at
    from webhook_deliveries d join webhooks w on w.id = d.webhook_id where d.id = any(${ids}::bigint[])`;
  return rows.map((r) => ({ id: Number(r.id), org_id: Number(r.org_id), webhook_id: Number(r.webhook_id), msg_id: r.msg_id, payload: r.payload,
    status: r.status, attempts: r.attempts, url: r.url, secret: openSecret(key, r.secret_enc), enabled: r.enabled, created_at: r.created_at,
    failure_streak: r.failure_streak, breaker_open_until: r.breaker_open_until, next_attempt_at: r.next_attempt_at }));
}
