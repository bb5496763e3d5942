// Outbound webhook fan-out: every alert transition becomes one delivery row per subscribed webhook
// (with its Standard Webhooks `webhook-id`, fixed for all retries) and `webhook__deliver` jobs, grouped
// per webhook.
import { randomUUID } from 'node:crypto';
import type { Sql } from '../platform/sql';
import { job, type JobSpec } from '../jobs/enqueue';
import type { JobOptions, PayloadOf } from '../jobs/catalog';
import type { AlertView } from '../model/alert';

export const WEBHOOK_EVENT_TYPES = [
  'alert.triggered', 'alert.acknowledged', 'alert.escalated', 'alert.snoozed', 'alert.reopened', 'alert.resolved',
  'report.succeeded', 'report.failed',
] as const;
export const DELIVERY_GROUP = 100;

/**
 * Delivery jobs of a webhook run in that webhook's graphile-worker queue: jobs of one queue run one at a time,
 * so a failing endpoint never holds more than one delivery slot, and two jobs never send the same delivery at
 * once. The one exception is the first attempt at deliveries to an endpoint that answers (no failure
 * recorded): those jobs run in parallel, for throughput; should it stop answering, its breaker counts and
 * every later job is queued. Deliveries run in their own runner (jobs/worker.ts), and after routing work
 * when they share one (priority).
 */
export const DELIVERY_PRIORITY = 10;
export const deliveryQueue = (webhookId: number) => `webhook:${webhookId}`;
export function deliveryJob(webhookId: number, payload: PayloadOf<'webhook__deliver'>, opts: JobOptions = {}): JobSpec {
  return job('webhook__deliver', payload, { queue_name: deliveryQueue(webhookId), priority: DELIVERY_PRIORITY, ...opts });
}

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEvent {
  org_id: number;
  type: WebhookEventType;
  alert: AlertView;
  actor: Record<string, unknown> | null;
  extra?: Record<string, unknown>;
}

export function webhookBody(e: { type: string; alert: AlertView; actor: unknown; extra?: Record<string, unknown> }, at = new Date()) {
  return { type: e.type, timestamp: at.toISOString(), data: { alert: e.alert, actor: e.actor, ...e.extra } };
}

export async function fanOutWebhooks(sql: Sql, events: WebhookEvent[]): Promise<JobSpec[]> {
  if (!events.length) return [];
  const orgIds = [...new Set(events.map((e) => e.org_id))];
  const hooks = await sql<{ id: number; org_id: number; events: string[]; healthy: boolean }[]>`
    select id, org_id, events, failure_streak = 0 and breaker_open_until is null as healthy
    from webhooks where org_id = any(${orgIds}::bigint[]) and enabled`;
  const healthy = new Set(hooks.filter((h) => h.healthy).map((h) => Number(h.id)));
  if (!hooks.length) return [];
  const rows: Array<{ org_id: number; webhook_id: number; msg_id: string; event_type: string; alert_id: number; payload: unknown }> = [];
  for (const e of events) {
    for (const h of hooks) {
      if (Number(h.org_id) !== e.org_id) continue;
      if (!h.events.includes('*') && !h.events.includes(e.type)) continue;
      rows.push({ org_id: e.org_id, webhook_id: Number(h.id), msg_id: `msg_${randomUUID().replace(/-/g, '')}`, event_type: e.type,
        alert_id: e.alert.id, payload: webhookBody(e) });
    }
  }
  if (!rows.length) return [];
  const ids = await sql<{ id: number; webhook_id: number }[]>`
    insert into webhook_deliveries (org_id, webhook_id, msg_id, event_type, alert_id, payload)
    select * from json_to_recordset(${JSON.stringify(rows)}::text::json)
      as t(org_id bigint, webhook_id bigint, msg_id text, event_type text, alert_id bigint, payload jsonb)
    returning id, webhook_id`;
  // Deliveries go out in groups: one job (one fetch, one log write) per DELIVERY_GROUP deliveries of a webhook.
  const byHook = new Map<number, number[]>();
  for (const r of ids) {
    const w = Number(r.webhook_id);
    (byHook.get(w) ?? byHook.set(w, []).get(w)!).push(Number(r.id));
  }
  const jobs: JobSpec[] = [];
  for (const [w, list] of byHook) {
    for (let i = 0; i < list.length; i += DELIVERY_GROUP) {
      jobs.push(deliveryJob(w, { delivery_ids: list.slice(i, i + DELIVERY_GROUP), webhook_id: w },
        { max_attempts: 3, ...(healthy.has(w) ? { queue_name: undefined } : {}) }));
    }
  }
  return jobs;
}

/**
 * An event that is not about an alert (`report.succeeded`, `report.failed`): one delivery row per subscribed
 * webhook of the org, `{type, timestamp, data}` like every other event, delivered by the same jobs.
 */
export async function fanOutOrgEvent(sql: Sql, e: { org_id: number; type: WebhookEventType; data: Record<string, unknown> }): Promise<JobSpec[]> {
  const hooks = await sql<{ id: number; healthy: boolean }[]>`
    select id, failure_streak = 0 and breaker_open_until is null as healthy from webhooks
    where org_id = ${e.org_id} and enabled and (events @> array['*']::text[] or events @> array[${e.type}]::text[])`;
  if (!hooks.length) return [];
  const payload = { type: e.type, timestamp: new Date().toISOString(), data: e.data };
  const rows = hooks.map((h) => ({ org_id: e.org_id, webhook_id: Number(h.id), msg_id: `msg_${randomUUID().replace(/-/g, '')}`, event_type: e.type, payload }));
  const ids = await sql<{ id: number; webhook_id: number }[]>`
    insert into webhook_deliveries (org_id, webhook_id, msg_id, event_type, payload)
    select * from json_to_recordset(${JSON.stringify(rows)}::text::json) as t(org_id bigint, webhook_id bigint, msg_id text, event_type text, payload jsonb)
    returning id, webhook_id`;
  const healthy = new Set(hooks.filter((h) => h.healthy).map((h) => Number(h.id)));
  return ids.map((r) => deliveryJob(Number(r.webhook_id), { delivery_ids: [Number(r.id)], webhook_id: Number(r.webhook_id) },
    { max_attempts: 3, ...(healthy.has(Number(r.webhook_id)) ? { queue_name: undefined } : {}) }));
}
