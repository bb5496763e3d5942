// Planning who gets what: one message row per (alert, level, recipient, channel). The unique key makes
// planning idempotent: re-running a notify step inserts nothing twice.
import type { Sql } from '../platform/sql';
import type { ChannelKind, ChannelMap, RecipientUser } from '../model/channels';
import { CHANNEL_KINDS } from '../model/channels';
import { job, type JobSpec } from '../jobs/enqueue';
import type { TimelineEntry } from '../timeline/append';
import { SYSTEM_REF } from '../actor';

export interface PlanTarget {
  roles: string[];
  users: number[];
  channels: string[];
  slack_channel?: string | null;
  discord_channel?: string | null;
}

export interface PlannedMessage {
  org_id: number;
  alert_id: number;
  level: number;
  recipient: string;
  user_id: number | null;
  channel: ChannelKind;
}

export interface PlanOutcome {
  messages: PlannedMessage[];
  skipped: string[];
}

export interface TargetUser extends RecipientUser { roles: string[] }

/** Loads every live user of the org who holds one of the roles or is named. */
export async function loadTargetUsers(sql: Sql, orgId: number, roles: string[], userIds: number[]): Promise<TargetUser[]> {
  if (!roles.length && !userIds.length) return [];
  const rows = await sql<TargetUser[]>`
    select id, name, email, phone, slack_user_id, discord_user_id, sms_opted_out, roles
    from users
    where org_id = ${orgId} and deleted_at is null and (roles && ${roles}::text[] or id = any(${userIds}::bigint[]))
    order by id`;
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Pure: which messages a target set produces, given the people and the channels' capabilities. */
export function planMessages(
  orgId: number, alertId: number, level: number, targets: PlanTarget[], people: TargetUser[], channels: ChannelMap,
): PlanOutcome {
  const out = new Map<string, PlannedMessage>();
  const skipped = new Set<string>();
  for (const t of targets) {
    const reached = people.filter((u) => t.users.includes(u.id) || u.roles.some((r) => t.roles.includes(r)));
    for (const ch of t.channels) {
      if (!(CHANNEL_KINDS as readonly string[]).includes(ch)) continue;
      const kind = ch as ChannelKind;
      const info = channels[kind];
      if (!info.enabled) { skipped.add(`${kind} (not configured)`); continue; }
      const room = info.room ? t[info.room] : null;
      if (room) {
        const key = `room:${room}|${kind}`;
        out.set(key, { org_id: orgId, alert_id: alertId, level, recipient: `room:${room}`, user_id: null, channel: kind });
      }
      for (const u of reached) {
        if (!info.reaches(u)) { skipped.add(`${kind} for ${u.name} (no address)`); continue; }
        const key = `user:${u.id}|${kind}`;
        out.set(key, { org_id: orgId, alert_id: alertId, level, recipient: `user:${u.id}`, user_id: u.id, channel: kind });
      }
    }
  }
  return { messages: [...out.values()], skipped: [...skipped] };
}

/**
 * Inserts planned messages. Inline channels (in_app) are delivered right here: the message is born
 * `delivered` and its notification row is written in the same transaction. Every other row gets one
 * `message__send` job, returned for the caller to enqueue with the rest of its jobs.
 */
export async function insertMessages(sql: Sql, planned: PlannedMessage[], channels: ChannelMap, titles: Map<number, string>): Promise<{ jobs: JobSpec[]; inserted: Array<PlannedMessage & { id: number; status: string }> }> {
  if (!planned.length) return { jobs: [], inserted: [] };
  const rows = planned.map((m) => ({ ...m, status: channels[m.channel].inline ? 'delivered' : 'pending' }));
  const inserted = await sql<Array<PlannedMessage & { id: number; status: string }>>`
    insert into messages (org_id, alert_id, level, recipient, user_id, channel, status)
    select org_id, alert_id, level, recipient, user_id, channel, status
    from json_to_recordset(${JSON.stringify(rows)}::text::json)
      as t(org_id bigint, alert_id bigint, level int, recipient text, user_id bigint, channel text, status text)
    on conflict (alert_id, level, recipient, channel) do nothing
    returning id, org_id, alert_id, level, recipient, user_id, channel, status`;
  const notes = inserted.filter((m) => m.channel === 'in_app' && m.user_id);
  if (notes.length) {
    await sql`
      insert into notifications (org_id, user_id, alert_id, message_id, level, title)
      select * from json_to_recordset(${JSON.stringify(notes.map((m) => ({
        org_id: m.org_id, user_id: m.user_id, alert_id: m.alert_id, message_id: m.id, level: m.level, title: titles.get(Number(m.alert_id)) ?? '',
      })))}::text::json) as t(org_id bigint, user_id bigint, alert_id bigint, message_id bigint, level int, title text)`;
  }
  const jobs: JobSpec[] = inserted
    .filter((m) => m.status === 'pending')
    .map((m) => job('message__send', { message_id: Number(m.id) }));
  return { jobs, inserted: inserted.map((m) => ({ ...m, id: Number(m.id) })) };
}

export interface NotifyItem { orgId: number; alertId: number; title: string; targets: PlanTarget[] }

/**
 * One notification level for several alerts (level 0 at routing, level N at escalation): plans and inserts
 * the messages, and returns their send jobs and one `notified` timeline entry per alert for the caller
 * to write with the rest of its transaction.
 */
export async function notifyLevel(sql: Sql, channels: ChannelMap, level: number, items: NotifyItem[], people: TargetUser[]): Promise<{ jobs: JobSpec[]; timeline: TimelineEntry[] }> {
  const planned: PlannedMessage[] = [];
  const skipped = new Map<number, string[]>();
  for (const it of items) {
    const p = planMessages(it.orgId, it.alertId, level, it.targets, people, channels);
    planned.push(...p.messages);
    skipped.set(it.alertId, p.skipped);
  }
  const msg = await insertMessages(sql, planned, channels, new Map(items.map((it) => [it.alertId, it.title])));
  const reached = new Map<number, { recipients: Set<string>; channels: Set<string> }>();
  for (const m of msg.inserted) {
    const r = reached.get(m.alert_id) ?? { recipients: new Set<string>(), channels: new Set<string>() };
    r.recipients.add(m.recipient);
    r.channels.add(m.channel);
    reached.set(m.alert_id, r);
  }
  const timeline = items.map((it): TimelineEntry => ({
    org_id: it.orgId, alert_id: it.alertId, kind: 'notified', actor: SYSTEM_REF,
    detail: { level, recipients: reached.get(it.alertId)?.recipients.size ?? 0, channels: [...(reached.get(it.alertId)?.channels ?? [])], skipped: skipped.get(it.alertId) ?? [] },
  }));
  return { jobs: msg.jobs, timeline };
}
