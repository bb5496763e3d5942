// The notification centre: the in-app notifications written at routing and escalation
// (db/messages/plan.ts insertMessages), read per person with the alert's current state, and marked read.
// A notification belongs to a person, so only user actors (the PWA session) have any.
import { z } from 'zod';
import { text } from '../platform/input';
import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { forbidden, parse } from '../errors';
import type { AlertStatus } from '../model/alert';
import type { Priority, Severity } from '../model/levels';

/** The tabs of the notification centre; other categories count under `all` only. */
export const NOTIFICATION_CATEGORIES = ['finance', 'sales', 'production', 'system'] as const;
export type UnreadCounts = Record<'all' | (typeof NOTIFICATION_CATEGORIES)[number], number>;

export interface NotificationItem {
  id: number;
  alert_id: number;
  title: string;
  category: string;
  priority: Priority;
  severity: Severity;
  alert_status: AlertStatus;
  /** When the alert escalates next (only while it is unacknowledged). */
  escalation_next_at: string | null;
  /** 0: the alert's first notification; 1, 2…: it escalated to this person. */
  level: number;
  created_at: string;
  read_at: string | null;
}

export const NotificationQuerySchema = z.object({
  category: text().trim().min(1).max(64).optional(),
  unread: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(0).max(200).default(50),
});

export const MarkReadSchema = z
  .object({
    ids: z.array(z.number().int().positive()).min(1).max(1000).optional(),
    all: z.literal(true).optional(),
    category: text().trim().min(1).max(64).optional(),
  })
  .strict()
  .refine((b) => (b.ids ? 1 : 0) + (b.all ? 1 : 0) === 1, { message: 'give either ids or all: true' });

function personOf(actor: Actor): { orgId: number; userId: number } {
  require(actor, 'alerts:read');
  if (actor.kind !== 'user') throw forbidden('Notifications belong to people: sign in as a user to read them');
  return { orgId: actor.orgId, userId: actor.userId };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function listNotifications(h: Herald, actor: Actor, query: unknown): Promise<{ items: NotificationItem[]; unread: UnreadCounts }> {
  const me = personOf(actor);
  const q = parse(NotificationQuerySchema, query, 'query');
  const onlyUnread = q.unread === 'true';
  // The page and the unread counts are independent: read them concurrently.
  const [rows, counts] = await Promise.all([
    q.limit === 0 ? [] : h.sql<Array<Omit<NotificationItem, 'escalation_next_at' | 'created_at' | 'read_at'> & { escalation_next_at: Date | null; created_at: Date; read_at: Date | null }>>`
    select n.id, n.alert_id, n.title, a.category, a.priority, a.severity, a.status as alert_status,
      case when a.status = 'triggered' then a.escalation_next_at end as escalation_next_at,
      n.level, n.created_at, n.read_at
    from notifications n join alerts a on a.id = n.alert_id
    where n.user_id = ${me.userId} and n.org_id = ${me.orgId}
      and (${q.category ?? null}::text is null or a.category = ${q.category ?? null})
      and (${onlyUnread} = false or n.read_at is null)
    order by n.id desc limit ${q.limit}`,
    h.sql<{ category: string; n: number }[]>`
    select a.category, count(*)::int as n
    from notifications n join alerts a on a.id = n.alert_id
    where n.user_id = ${me.userId} and n.org_id = ${me.orgId} and n.read_at is null
    group by a.category`,
  ]);
  const unread: UnreadCounts = { all: 0, finance: 0, sales: 0, production: 0, system: 0 };
  for (const c of counts) {
    unread.all += c.n;
    if ((NOTIFICATION_CATEGORIES as readonly string[]).includes(c.category)) unread[c.category as keyof UnreadCounts] += c.n;
  }
  return {
    items: rows.map((r) => ({
      ...r, id: Number(r.id), alert_id: Number(r.alert_id),
      escalation_next_at: iso(r.escalation_next_at), created_at: r.created_at.toISOString(), read_at: iso(r.read_at),
    })),
    unread,
  };
}

/** Marks the person's notifications read: the given ids, or all of them (optionally of one category). */
export async function markNotificationsRead(h: Herald, actor: Actor, input: unknown): Promise<{ read: number }> {
  const me = personOf(actor);
  const b = parse(MarkReadSchema, input);
  const rows = await h.sql`
    update notifications n set read_at = now()
    where n.user_id = ${me.userId} and n.org_id = ${me.orgId} and n.read_at is null
      and (${b.ids ?? null}::bigint[] is null or n.id = any(${b.ids ?? null}::bigint[]))
      and (${b.category ?? null}::text is null
           or exists (select 1 from alerts a where a.id = n.alert_id and a.category = ${b.category ?? null}))
    returning n.id`;
  return { read: rows.length };
}
