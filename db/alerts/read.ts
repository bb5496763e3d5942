// Reading alerts: the list with filters and keyset pagination, one alert with its timeline.
import { z } from 'zod';
import { text } from '../platform/input';
import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { invalid, notFound, parse } from '../errors';
import { toAlertView } from '../model/alert';
import { type AlertRow, type AlertView } from '../model/alert';
import { listTimeline } from '../timeline/append';
import { PRIORITIES } from '../model/levels';
import { sopProgress } from '../sop/progress';

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
});

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
    order by a.id desc limit ${q.limit + 1}`;
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map((r) => toAlertView(r, h.config.publicUrl));
  return { items, next_cursor: more ? Buffer.from(String(items[items.length - 1].id)).toString('base64url') : null };
}

export async function getAlert(h: Herald, actor: Actor, id: number) {
  require(actor, 'alerts:read');
  const [row] = await h.sql<AlertRow[]>`select * from alerts where org_id = ${actor.orgId} and id = ${id}`;
  if (!row) throw notFound(`Alert ${id}`);
  const timeline = await listTimeline(h.sql, actor.orgId, id);
  return { ...toAlertView(row, h.config.publicUrl), timeline: timeline.map((t) => ({ ...t, id: Number(t.id), at: t.at.toISOString() })),
    sop_progress: await sopProgress(h.sql, actor.orgId, id) };
}
