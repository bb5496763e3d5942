// Planning who gets what: one message row per (alert, level, recipient, channel). The unique key makes
// planning idempotent: re-running a notify step inserts nothing twice.
//
// People are resolved in one statement per batch (routing) or step (escalation): the roles and users named,
// whoever is on call in the schedules named (`herald_oncall`, migration 00014, at the statement's now()),
// and each person's preferences with "in quiet hours now, until when" computed in their time zone.
// Planning itself is pure: preferences narrow the rule's channels (never to none), quiet hours hold a
// message until they end (in-app is silent and never held), low-priority traffic may wait for the digest.
import type { Sql } from '../platform/sql';
import type { ChannelKind, ChannelMap, RecipientUser } from '../model/channels';
import { CHANNEL_KINDS } from '../model/channels';
import type { Priority } from '../model/levels';
import { job, type JobSpec } from '../jobs/enqueue';
import type { TimelineEntry } from '../timeline/append';
import { SYSTEM_REF } from '../actor';

export interface PlanTarget {
  roles: string[];
  users: number[];
  /** Whoever is on call in these schedules (people carry the schedules they are on call for). */
  schedules?: number[];
  channels: string[];
  slack_channel?: string | null;
  discord_channel?: string | null;
}

export type HoldStatus = 'held_quiet' | 'held_digest';

export interface PlannedMessage {
  org_id: number;
  alert_id: number;
  level: number;
  recipient: string;
  user_id: number | null;
  channel: ChannelKind;
  /** Waits for the end of the person's quiet hours, or for their digest. */
  hold?: HoldStatus;
  held_until?: string | null;
}

export interface PlanOutcome {
  messages: PlannedMessage[];
  skipped: string[];
}

/** What planning needs of a person's preferences, as read at planning time. */
export interface PersonPrefs {
  channels: Partial<Record<Priority, ChannelKind[]>>;
  quiet_except: Priority[];
  /** Set when the person is in quiet hours now: when they end. */
  quiet_until: Date | null;
  digest: boolean;
  digest_next_at: Date | null;
}

export interface TargetUser extends RecipientUser {
  roles: string[];
  /** The schedules (among those asked about) this person is on call for now. */
  schedules: number[];
  prefs: PersonPrefs | null;
}

/**
 * Loads every live user of the org who holds one of the roles, is named, or is on call now in one of the
 * schedules, with their preferences. One statement.
 */
/** `onCallAt`: the instant whose on-call people the schedules give (default now; the dry run asks about later). */
export async function loadTargetUsers(sql: Sql, orgId: number, roles: string[], userIds: number[], scheduleIds: number[] = [], onCallAt: Date | null = null): Promise<TargetUser[]> {
  if (!roles.length && !userIds.length && !scheduleIds.length) return [];
  const oncall = scheduleIds.length > 0;
  const rows = await sql<Array<Record<string, any>>>`
    ${oncall ? sql`with oc as (select schedule_id, user_id from herald_oncall(${scheduleIds}::bigint[], coalesce(${onCallAt}::timestamptz, now())))` : sql``}
    select u.id, u.name, u.email, u.phone, u.slack_user_id, u.discord_user_id, u.sms_opted_out, u.roles,
      ${oncall ? sql`coalesce((select array_agg(oc.schedule_id) from oc where oc.user_id = u.id), '{}')` : sql`'{}'::bigint[]`} as schedules,
      p.user_id as has_prefs, p.channels as pref_channels, p.quiet_except, p.digest_frequency, p.digest_next_at,
      case when p.quiet_start is not null and (case when p.quiet_start < p.quiet_end
          then l.t::time >= p.quiet_start and l.t::time < p.quiet_end
          else l.t::time >= p.quiet_start or l.t::time < p.quiet_end end)
        then ((l.t::date + case when l.t::time < p.quiet_end then 0 else 1 end) + p.quiet_end) at time zone u.timezone end as quiet_until
    from users u
      left join user_preferences p on p.user_id = u.id
      -- The local time is read only for people with quiet hours (their zone was checked by Postgres when saved).
      cross join lateral (select case when p.quiet_start is not null then now() at time zone u.timezone end as t) l
    where u.org_id = ${orgId} and u.deleted_at is null
      and (u.roles && ${roles}::text[] or u.id = any(${userIds}::bigint[]) ${oncall ? sql`or u.id in (select user_id from oc)` : sql``})
    order by u.id`;
  return rows.map((r) => ({
    id: Number(r.id), name: r.name, email: r.email, phone: r.phone, slack_user_id: r.slack_user_id, discord_user_id: r.discord_user_id,
    sms_opted_out: r.sms_opted_out, roles: r.roles, schedules: (r.schedules as Array<number | string>).map(Number),
    prefs: r.has_prefs === null ? null : {
      channels: r.pref_channels ?? {}, quiet_except: r.quiet_except ?? ['critical'], quiet_until: r.quiet_until ? new Date(r.quiet_until) : null,
      digest: r.digest_frequency !== 'off', digest_next_at: r.digest_next_at ? new Date(r.digest_next_at) : null,
    },
  }));
}

/**
 * The channels one person gets for a target: the person's choice for the priority among the channels the
 * rule allows and that can reach them; when that leaves nothing (or they chose nothing), every channel the
 * rule names. So preferences narrow, and never remove the last way to reach someone.
 */
export function channelsFor(u: TargetUser, allowed: ChannelKind[], priority: Priority, channels: ChannelMap): ChannelKind[] {
  const wanted = u.prefs?.channels[priority];
  if (!wanted?.length) return allowed;
  const pick = allowed.filter((k) => wanted.includes(k) && channels[k].enabled && channels[k].reaches(u));
  return pick.length ? pick : allowed;
}

/** Pure: which messages a target set produces, given the people and the channels' capabilities. */
export function planMessages(
  orgId: number, alertId: number, level: number, targets: PlanTarget[], people: TargetUser[], channels: ChannelMap, priority: Priority = 'normal',
): PlanOutcome {
  const out = new Map<string, PlannedMessage>();
  const skipped = new Set<string>();
  for (const t of targets) {
    const scheds = t.schedules ?? [];
    const reached = people.filter((u) => t.users.includes(u.id) || u.roles.some((r) => t.roles.includes(r)) || u.schedules.some((s) => scheds.includes(s)));
    const allowed = t.channels.filter((ch): ch is ChannelKind => (CHANNEL_KINDS as readonly string[]).includes(ch));
    for (const kind of allowed) {
      const info = channels[kind];
      if (!info.enabled) { skipped.add(`${kind} (not configured)`); continue; }
      const room = info.room ? t[info.room] : null;
      if (room) {
        const key = `room:${room}|${kind}`;
        out.set(key, { org_id: orgId, alert_id: alertId, level, recipient: `room:${room}`, user_id: null, channel: kind });
      }
    }
    for (const u of reached) {
      for (const kind of channelsFor(u, allowed, priority, channels)) {
        const info = channels[kind];
        if (!info.enabled) continue; // said once above
        if (!info.reaches(u)) { skipped.add(`${kind} for ${u.name} (no address)`); continue; }
        const m: PlannedMessage = { org_id: orgId, alert_id: alertId, level, recipient: `user:${u.id}`, user_id: u.id, channel: kind };
        // In-app rows are silent: never held. Low-priority traffic waits for the digest of those who have one;
        // anything below the person's exceptions waits for the end of their quiet hours.
        if (!info.inline && u.prefs) {
          if (priority === 'low' && u.prefs.digest) { m.hold = 'held_digest'; m.held_until = u.prefs.digest_next_at?.toISOString() ?? null; }
          else if (u.prefs.quiet_until && !u.prefs.quiet_except.includes(priority)) { m.hold = 'held_quiet'; m.held_until = u.prefs.quiet_until.toISOString(); }
        }
        out.set(`user:${u.id}|${kind}`, m);
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
export async function insertMessages(sql: Sql, planned: PlannedMessage[], channels: ChannelMap, titles: Map<number, string>): Promise<{ jobs: JobSpec[]; inserted: Array<PlannedMessage & { id: number; status: string; held_until: Date | null }> }> {
  if (!planned.length) return { jobs: [], inserted: [] };
  const rows = planned.map((m) => ({ ...m, status: channels[m.channel].inline ? 'delivered' : m.hold ?? 'pending', held_until: m.hold ? m.held_until ?? null : null }));
  const inserted = await sql<Array<PlannedMessage & { id: number; status: string; held_until: Date | null }>>`
    insert into messages (org_id, alert_id, level, recipient, user_id, channel, status, held_until)
    select org_id, alert_id, level, recipient, user_id, channel, status, held_until
    from json_to_recordset(${JSON.stringify(rows)}::text::json)
      as t(org_id bigint, alert_id bigint, level int, recipient text, user_id bigint, channel text, status text, held_until timestamptz)
    on conflict (alert_id, level, recipient, channel) do nothing
    returning id, org_id, alert_id, level, recipient, user_id, channel, status, held_until`;
  const notes = inserted.filter((m) => m.channel === 'in_app' && m.user_id);
  if (notes.length) {
    await sql`
      insert into notifications (org_id, user_id, alert_id, message_id, level, title)
      select * from json_to_recordset(${JSON.stringify(notes.map((m) => ({
        org_id: m.org_id, user_id: m.user_id, alert_id: m.alert_id, message_id: m.id, level: m.level, title: titles.get(Number(m.alert_id)) ?? '',
      })))}::text::json) as t(org_id bigint, user_id bigint, alert_id bigint, message_id bigint, level int, title text)`;
  }
  // A message held for quiet hours gets its send job now, due when they end (keyed per message: one job).
  const jobs: JobSpec[] = inserted
    .filter((m) => m.status === 'pending' || m.status === 'held_quiet')
    .map((m) => job('message__send', { message_id: Number(m.id) }, m.status === 'held_quiet' && m.held_until ? { run_at: m.held_until } : {}));
  return { jobs, inserted: inserted.map((m) => ({ ...m, id: Number(m.id) })) };
}

export interface NotifyItem { orgId: number; alertId: number; title: string; priority: Priority; targets: PlanTarget[] }

/**
 * One notification level for several alerts (level 0 at routing, level N at escalation): plans and inserts
 * the messages, and returns their send jobs and one `notified` timeline entry per alert for the caller
 * to write with the rest of its transaction.
 */
export async function notifyLevel(sql: Sql, channels: ChannelMap, level: number, items: NotifyItem[], people: TargetUser[]): Promise<{ jobs: JobSpec[]; timeline: TimelineEntry[] }> {
  const planned: PlannedMessage[] = [];
  const skipped = new Map<number, string[]>();
  for (const it of items) {
    const p = planMessages(it.orgId, it.alertId, level, it.targets, people, channels, it.priority);
    planned.push(...p.messages);
    skipped.set(it.alertId, p.skipped);
  }
  const msg = await insertMessages(sql, planned, channels, new Map(items.map((it) => [it.alertId, it.title])));
  const reached = new Map<number, { recipients: Set<string>; channels: Set<string> }>();
  const held: TimelineEntry[] = [];
  const names = new Map(people.map((u) => [u.id, u.name]));
  for (const m of msg.inserted) {
    if (m.status === 'held_quiet' || m.status === 'held_digest') held.push({
      org_id: Number(m.org_id), alert_id: Number(m.alert_id), kind: 'held', actor: SYSTEM_REF,
      detail: { message_id: m.id, channel: m.channel, to: names.get(Number(m.user_id)) ?? m.recipient, level,
        reason: m.status === 'held_quiet' ? 'quiet hours' : 'digest', until: m.held_until ? new Date(m.held_until).toISOString() : null },
    });
    const r = reached.get(m.alert_id) ?? { recipients: new Set<string>(), channels: new Set<string>() };
    r.recipients.add(m.recipient);
    r.channels.add(m.channel);
    reached.set(m.alert_id, r);
  }
  const timeline = items.map((it): TimelineEntry => ({
    org_id: it.orgId, alert_id: it.alertId, kind: 'notified', actor: SYSTEM_REF,
    detail: { level, recipients: reached.get(it.alertId)?.recipients.size ?? 0, channels: [...(reached.get(it.alertId)?.channels ?? [])], skipped: skipped.get(it.alertId) ?? [] },
  }));
  return { jobs: msg.jobs, timeline: [...timeline, ...held] };
}
