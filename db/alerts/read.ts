// Reading alerts: the list with filters and keyset pagination, one alert with its timeline.
import { z } from 'zod';
import { text } from '../platform/input';
import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { invalid, notFound, parse } from '../errors';
import { roleLabel, toAlertView } from '../model/alert';
import { type AlertRow, type AlertView } from '../model/alert';
import { listTimeline } from '../timeline/append';
import { PRIORITIES } from '../model/levels';
import { sopCheckedMany, sopProgress } from '../sop/progress';

const csv = <T extends string>(values: readonly T[]) =>
  text().transform((s, ctx) => {
    const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
    for (const p of parts) if (!(values as readonly string[]).includes(p)) ctx.addIssue({ code: 'custom', message: `unknown value ${p}; use ${values.join(', ')}` });
    return parts as T[];
  });

export const AlertQuerySchema = z.object({
  status: csv(['triggered', 'acknowledged', 'resolved', 'open'] as const).optional(),
  category: text().max(64).optional(),
  priority: csv(PRIORITIES).optional(),
  mine: z.enum(['true', 'false']).optional(),
  // Created in [from, to): what the analytics page drills down to.
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: text().max(40).optional(),
  // Search: the text (case-insensitive, spaces collapsed) found in the title, body, category or dedup key.
  q: text().max(200).optional(),
  // A person's id, or `me`; `none` for alerts nobody is assigned to.
  assigned_to: text().regex(/^(\d{1,15}|me|none)$/, 'a user id, me or none').optional(),
});

/** An ILIKE pattern for the search text; `%`, `_` and `\` match themselves. */
const likePattern = (q: string | undefined): string | null => {
  const t = (q ?? '').trim().replace(/\s+/g, ' ');
  return t ? `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
};

export async function listAlerts(h: Herald, actor: Actor, query: unknown): Promise<{ items: AlertView[]; next_cursor: string | null }> {
  require(actor, 'alerts:read');
  const q = parse(AlertQuerySchema, query, 'query');
  let statuses = q.status ?? null;
  if (statuses?.includes('open')) statuses = [...statuses.filter((s) => s !== 'open'), 'triggered', 'acknowledged'];
  let before: number | null = null;
  if (q.cursor) {
    before = Number(Buffer.from(q.cursor, 'base64url').toString());
    if (!Number.isSafeInteger(before) || before <= 0) throw invalid('cursor: not a cursor this API returned', [{ path: 'cursor', message: 'invalid cursor' }]);
  }
  const mineUser = q.mine === 'true' ? (actor.kind === 'user' ? actor.userId : -1) : null;
  const pattern = likePattern(q.q);
  const assignee = q.assigned_to === undefined || q.assigned_to === 'none' ? null
    : q.assigned_to === 'me' ? (actor.kind === 'user' ? actor.userId : -1) : Number(q.assigned_to);
  const rows = await h.sql<AlertRow[]>`
    select * from alerts a
    where a.org_id = ${actor.orgId}
      and (${statuses}::text[] is null or a.status = any(${statuses}::text[]))
      and (${q.category ?? null}::text is null or a.category = ${q.category ?? null})
      and (${q.priority ?? null}::text[] is null or a.priority = any(${q.priority ?? null}::text[]))
      and (${q.from ?? null}::text is null or a.created_at >= ${q.from ?? null}::text::timestamptz)
      and (${q.to ?? null}::text is null or a.created_at < ${q.to ?? null}::text::timestamptz)
      and (${before}::bigint is null or a.id < ${before})
      and (${mineUser}::bigint is null or exists (select 1 from messages m where m.alert_id = a.id and m.user_id = ${mineUser}))
      and (${pattern}::text is null or a.title ilike ${pattern}::text or a.body ilike ${pattern}::text or a.category ilike ${pattern}::text or a.dedup_key ilike ${pattern}::text)
      and (${assignee}::bigint is null or a.assigned_to = ${assignee})
      and (${q.assigned_to === 'none'}::boolean = false or a.assigned_to is null)
    order by a.id desc limit ${q.limit + 1}`;
  const more = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  const reached = actor.kind === 'user' ? await firstReached(h, actor.userId, page.map((r) => Number(r.id))) : null;
  // The SOP ticks ride along (as on the live stream) so a card can say "1/5 done" without another request.
  const ticks = await sopCheckedMany(h.sql, page.filter((r) => r.sop?.steps?.length).map((r) => Number(r.id)));
  const items = page.map((r) => {
    const v = reached ? withReach(toAlertView(r, h.config.publicUrl), r, reached.get(Number(r.id))) : toAlertView(r, h.config.publicUrl);
    return r.sop?.steps?.length ? { ...v, sop_progress: { checked: ticks.get(Number(r.id)) ?? [] } } : v;
  });
  return { items, next_cursor: more ? Buffer.from(String(items[items.length - 1].id)).toString('base64url') : null };
}

/** The lowest escalation level at which each alert reached this person (any channel), by alert id. */
async function firstReached(h: Herald, userId: number, alertIds: number[]): Promise<Map<number, number>> {
  if (!alertIds.length) return new Map();
  const rows = await h.sql<{ alert_id: string; level: number }[]>`
    select alert_id, min(level) as level from messages where user_id = ${userId} and alert_id = any(${alertIds}::bigint[]) group by alert_id`;
  return new Map(rows.map((r) => [Number(r.alert_id), Number(r.level)]));
}

/**
 * `escalated_to_you` for the reader: set when the alert reached them only by escalation (level ≥ 1), with
 * who had it first (the roles of the routed rules' first targets, e.g. "Accounting"). Absent for API keys.
 */
function withReach(view: AlertView, row: AlertRow, level: number | undefined): AlertView {
  if (level === undefined || level < 1) return { ...view, escalated_to_you: null };
  const roles = [...new Set((row.route?.rules ?? []).flatMap((r) => r.targets?.roles ?? []))];
  return { ...view, escalated_to_you: { level, from: roles.length ? roles.map(roleLabel).join(', ') : null } };
}

export async function getAlert(h: Herald, actor: Actor, id: number) {
  require(actor, 'alerts:read');
  const [row] = await h.sql<AlertRow[]>`select * from alerts where org_id = ${actor.orgId} and id = ${id}`;
  if (!row) throw notFound(`Alert ${id}`);
  const timeline = await listTimeline(h.sql, actor.orgId, id);
  const reached = actor.kind === 'user' ? await firstReached(h, actor.userId, [id]) : null;
  const view = reached ? withReach(toAlertView(row, h.config.publicUrl), row, reached.get(id)) : toAlertView(row, h.config.publicUrl);
  return { ...view, timeline: timeline.map((t) => ({ ...t, id: Number(t.id), at: t.at.toISOString() })),
    sop_progress: await sopProgress(h.sql, actor.orgId, id) };
}
