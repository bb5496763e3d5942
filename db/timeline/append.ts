// Timeline rows: every state change of an alert leaves one, in the same transaction as the change.
import type { Sql } from '../platform/sql';

export type TimelineKind =
  | 'created' | 'notified' | 'delivered' | 'failed' | 'escalated' | 'acknowledged'
  | 'snoozed' | 'reopened' | 'resolved' | 'deduplicated'
  // People (issue 13): a message waits for quiet hours or the digest; dropped when the alert was handled
  // before quiet hours ended; digested when a digest covered it.
  | 'held' | 'dropped' | 'digested';

export interface TimelineEntry {
  org_id: number;
  alert_id: number;
  kind: TimelineKind;
  actor: Record<string, unknown>;
  detail?: Record<string, unknown>;
}

export async function appendTimeline(sql: Sql, entries: TimelineEntry[]): Promise<void> {
  if (!entries.length) return;
  await sql`
    insert into alert_timeline (org_id, alert_id, kind, actor, detail)
    select * from json_to_recordset(${JSON.stringify(entries.map((e) => ({ ...e, detail: e.detail ?? {} })))}::text::json)
      as t(org_id bigint, alert_id bigint, kind text, actor jsonb, detail jsonb)`;
}

export async function listTimeline(sql: Sql, orgId: number, alertId: number) {
  return sql<{ id: number; at: Date; kind: string; actor: Record<string, unknown>; detail: Record<string, unknown> }[]>`
    select id, at, kind, actor, detail from alert_timeline where org_id = ${orgId} and alert_id = ${alertId} order by id`;
}
