// What follows every alert transition, in the transaction that made it: the timeline row, the outbound
// webhooks, edits of every message already posted on an editable channel (Slack, Discord), and a
// notification for live views (SSE). Verbs call this so no channel or transition can forget one.
import type { Sql } from '../platform/sql';
import type { Herald } from '../herald';
import { job, type JobSpec } from '../jobs/enqueue';
import { appendTimeline, type TimelineEntry } from '../timeline/append';
import { fanOutWebhooks, type WebhookEventType } from '../webhooks/fanout';
import { toAlertView } from '../model/alert';
import { ALERT_CHANNEL, type AlertRow } from '../model/alert';
import { CHANNEL_KINDS } from '../model/channels';

export interface Change {
  alert: AlertRow;
  timeline: Omit<TimelineEntry, 'org_id' | 'alert_id'>;
  webhook: WebhookEventType | null;
  /** Edit posted messages to show the new state. */
  updateMessages: boolean;
  extra?: Record<string, unknown>;
}


/** `extraTimeline`: other rows the caller's transaction writes (notified, deduplicated), in the same insert. */
export async function applyEffects(sql: Sql, h: Herald, changes: Change[], extraTimeline: TimelineEntry[] = []): Promise<JobSpec[]> {
  await appendTimeline(sql, [...extraTimeline, ...changes.map((c) => ({ org_id: Number(c.alert.org_id), alert_id: Number(c.alert.id), ...c.timeline }))]);
  if (!changes.length) return [];
  const jobs = await fanOutWebhooks(sql, changes.filter((c) => c.webhook).map((c) => ({
    org_id: Number(c.alert.org_id), type: c.webhook!, alert: toAlertView(c.alert, h.config.publicUrl), actor: c.timeline.actor, extra: c.extra,
  })));
  const editable = CHANNEL_KINDS.filter((k) => h.channels[k].updatable && h.channels[k].enabled);
  const toEdit = changes.filter((c) => c.updateMessages).map((c) => Number(c.alert.id));
  if (toEdit.length && editable.length) {
    const msgs = await sql<{ id: number }[]>`
      select id from messages where alert_id = any(${toEdit}::bigint[]) and channel = any(${editable}::text[])
        and provider_ref is not null`;
    // One pending update per message: the job key coalesces rapid changes; the job renders the latest state.
    for (const m of msgs) jobs.push(job('message__update', { message_id: Number(m.id) }));
  }
  await notifyLiveViews(sql, changes.map((c) => c.alert));
  return jobs;
}

/** Tells live views (SSE) that these alerts changed, when the transaction commits. */
export async function notifyLiveViews(sql: Sql, alerts: Array<Pick<AlertRow, 'org_id' | 'id'>>): Promise<void> {
  const ids = [...new Set(alerts.map((a) => `${a.org_id}:${a.id}`))];
  for (let i = 0; i < ids.length; i += 400) {
    await sql`select pg_notify(${ALERT_CHANNEL}, ${ids.slice(i, i + 400).join(',')})`;
  }
}
