// Timeline rows: every state change of an alert leaves one, in the same transaction as the change.
import type { Sql } from '../platform/sql';

export type TimelineKind =
  | 'created' | 'notified' | 'delivered' | 'failed' | 'escalated' | 'acknowledged'
  | 'snoozed' | 'reopened' | 'resolved' | 'deduplicated' | 'undone' | 'noted' | 'assigned'
  // People (issue 13): a message waits for quiet hours or the digest; dropped when the alert was handled
  // before quiet hours ended; digested when a digest covered it.
  | 'held' | 'dropped' | 'digested'
  // Integrations (issue 12): a maintenance window with pause_escalation held the next level until it closes.
  | 'escalation_paused';

/**
 * The kinds that change an alert's state (status, who acted, timer). Undo takes back the caller's own
 * latest one of these only: any later one (another person's action, the timer, an undo) blocks it.
 */
export const STATE_CHANGE_KINDS = ['created', 'acknowledged', 'resolved', 'snoozed', 'reopened', 'escalated', 'undone'] as const satisfies readonly TimelineKind[];

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

export interface StateChangeRow {
  id: number;
  kind: TimelineKind;
  actor: Record<string, unknown>;
  detail: Record<string, unknown>;
  at: Date;
  /** Seconds since the row was written (by the database clock). */
  age_s: number;
}

/** The alert's latest state change (see STATE_CHANGE_KINDS), or none. Call with the alert row locked. */
export async function lastStateChange(sql: Sql, orgId: number, alertId: number): Promise<StateChangeRow | undefined> {
  const [r] = await sql<StateChangeRow[]>`
    select id, kind, actor, detail, at, extract(epoch from now() - at)::float8 as age_s from alert_timeline
    where org_id = ${orgId} and alert_id = ${alertId} and kind = any(${STATE_CHANGE_KINDS as unknown as string[]}::text[])
    order by id desc limit 1`;
  return r ? { ...r, id: Number(r.id) } : undefined;
}

/** One timeline row of an alert by id (a note, for delivering it). */
export async function timelineRow(sql: Sql, alertId: number, id: number) {
  const [r] = await sql<{ id: number; org_id: number; alert_id: number; at: Date; kind: string; actor: Record<string, unknown>; detail: Record<string, unknown> }[]>`
    select id, org_id, alert_id, at, kind, actor, detail from alert_timeline where alert_id = ${alertId} and id = ${id}`;
  return r;
}

/** Appends rows and returns them with their ids and times (a note is answered with its own row). */
export async function appendTimelineReturning(sql: Sql, entries: TimelineEntry[]) {
  if (!entries.length) return [];
  const rows = await sql<{ id: number; at: Date; kind: string; actor: Record<string, unknown>; detail: Record<string, unknown> }[]>`
    insert into alert_timeline (org_id, alert_id, kind, actor, detail)
    select * from json_to_recordset(${JSON.stringify(entries.map((e) => ({ ...e, detail: e.detail ?? {} })))}::text::json)
      as t(org_id bigint, alert_id bigint, kind text, actor jsonb, detail jsonb)
    returning id, at, kind, actor, detail`;
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
