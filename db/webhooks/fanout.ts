// Outbound webhook fan-out: every alert transition becomes one delivery row per subscribed webhook
// (with its Standard Webhooks `webhook-id`, fixed for all retries) and one `webhook__deliver` job.
import { randomUUID } from 'node:crypto';
import type { Sql } from '../platform/sql';
import { job, type JobSpec } from '../jobs/enqueue';
import type { AlertView } from '../model/alert';

export const WEBHOOK_EVENT_TYPES = [
  'alert.triggered', 'alert.acknowledged', 'alert.escalated', 'alert.snoozed', 'alert.reopened', 'alert.resolved',
] as const;
export const DELIVERY_GROUP = 100;

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
  const hooks = await sql<{ id: number; org_id: number; events: string[] }[]>`
    select id, org_id, events from webhooks where org_id = any(${orgIds}::bigint[]) and enabled`;
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
  const ids = await sql<{ id: number }[]>`
    insert into webhook_deliveries (org_id, webhook_id, msg_id, event_type, alert_id, payload)
    select * from json_to_recordset(${JSON.stringify(rows)}::text::json)
      as t(org_id bigint, webhook_id bigint, msg_id text, event_type text, alert_id bigint, payload jsonb)
    returning id`;
  // Deliveries go out in groups: one job (one fetch, one log write) per DELIVERY_GROUP deliveries.
  const jobs: JobSpec[] = [];
  for (let i = 0; i < ids.length; i += DELIVERY_GROUP) {
    jobs.push(job('webhook__deliver', { delivery_ids: ids.slice(i, i + DELIVERY_GROUP).map((r) => Number(r.id)) }, { max_attempts: 3 }));
  }
  return jobs;
}
