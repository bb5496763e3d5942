import type { Herald } from '../herald';
import type { Pool } from '../platform/sql';
import { require, type Actor } from '../actor';
import { z } from 'zod';
import { invalid, notFound, parse } from '../errors';

export async function getEvent(h: Herald, actor: Actor, id: number) {
  if (actor.kind === 'api_key' && !actor.scopes.includes('events:write')) require(actor, 'alerts:read');
  const [e] = await h.sql`select * from events where org_id = ${actor.orgId} and id = ${id}`;
  if (!e) throw notFound(`Event ${id}`);
  return eventView(e);
}

function eventView(e: Record<string, any>) {
  return {
    id: Number(e.id), status: e.status, alert_id: e.alert_id === null ? null : Number(e.alert_id), rule_ids: (e.rule_ids ?? []).map(Number),
    category: e.category, type: e.type, title: e.title, severity: e.severity, body: e.body, source: e.source, dedup_key: e.dedup_key,
    action: e.action, metadata: e.metadata, entity: e.entity, occurred_at: e.occurred_at?.toISOString() ?? null,
    received_at: e.received_at.toISOString(), routed_at: e.routed_at?.toISOString() ?? null,
    integration_id: e.integration_id === null || e.integration_id === undefined ? null : Number(e.integration_id),
    maintenance_id: e.maintenance_id === null || e.maintenance_id === undefined ? null : Number(e.maintenance_id),
  };
}

const EVENT_STATUSES = ['accepted', 'routed', 'deduplicated', 'resolved', 'suppressed', 'unrouted'] as const;

// Postgres text cannot hold U+0000: a query naming it is refused, not sent.
const text = (max: number) => z.string().max(max).refine((s) => !s.includes('\u0000'), 'cannot contain the NUL character');

export const EventQuerySchema = z.object({
  source: text(200).optional(),
  dedup_key: text(255).optional(),
  status: z.string().max(200).transform((s, ctx) => {
    const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
    for (const p of parts) if (!(EVENT_STATUSES as readonly string[]).includes(p)) ctx.addIssue({ code: 'custom', message: `unknown status ${p}; use ${EVENT_STATUSES.join(', ')}` });
    return parts;
  }).optional(),
  category: text(64).optional(),
  type: text(64).optional(),
  integration_id: z.string().regex(/^\d{1,15}$/, 'not an id').transform(Number).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(40).optional(),
});

/** GET /v1/events: newest first, filtered, keyset-paginated like GET /v1/alerts (`status=unrouted`: matched no rule). */
export async function listEvents(h: Herald, actor: Actor, query: unknown) {
  // As GET /v1/events/:id: a sender's events:write key may read what became of its events.
  if (actor.kind === 'api_key' && actor.scopes.includes('events:write')) { /* allowed */ } else require(actor, 'alerts:read');
  const q = parse(EventQuerySchema, query, 'query');
  let before: number | null = null;
  if (q.cursor) {
    before = Number(Buffer.from(q.cursor, 'base64url').toString());
    if (!Number.isSafeInteger(before) || before <= 0) throw invalid('cursor: not a cursor this API returned', [{ path: 'cursor', message: 'invalid cursor' }]);
  }
  const statuses = q.status?.length ? q.status : null;
  const rows = await h.sql`
    select * from events e
    where e.org_id = ${actor.orgId}
      and (${q.source ?? null}::text is null or e.source = ${q.source ?? null})
      and (${q.dedup_key ?? null}::text is null or e.dedup_key = ${q.dedup_key ?? null})
      and (${statuses}::text[] is null or e.status = any(${statuses}::text[]))
      and (${q.category ?? null}::text is null or e.category = ${q.category ?? null})
      and (${q.type ?? null}::text is null or e.type = ${q.type ?? null})
      and (${q.integration_id ?? null}::bigint is null or e.integration_id = ${q.integration_id ?? null})
      and (${before}::bigint is null or e.id < ${before})
    order by e.id desc limit ${q.limit + 1}`;
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map(eventView);
  return { items, next_cursor: more ? Buffer.from(String(items[items.length - 1].id)).toString('base64url') : null };
}

export interface RangeEvent {
  id: number; category: string; type: string; title: string; severity: string; status: string; alert_id: number | null;
  metadata: Record<string, unknown>; entity: Record<string, unknown> | null; ts: Date;
}

/**
 * Events of a category (and type) whose time (occurred_at, else received_at: the time metrics bucket by) is in
 * [from, to), newest first, at most `scan` of them: a metric's drill-down. Walks the primary key backwards,
 * bounded by a statement timeout, so a rare category over millions of events answers a 503 instead of
 * holding a connection.
 */
export async function eventsInRange(sql: Pool, orgId: number, q: { category: string; type?: string; from: Date; to: Date; scan: number }): Promise<RangeEvent[]> {
  return sql.begin(async (tx) => {
    await tx`set local statement_timeout = 5000`;
    const rows = await tx<RangeEvent[]>`
      select id, category, type, title, severity, status, alert_id, metadata, entity, coalesce(occurred_at, received_at) as ts
      from events
      where org_id = ${orgId} and category = ${q.category} ${q.type ? tx`and type = ${q.type}` : tx``}
        and coalesce(occurred_at, received_at) >= ${q.from} and coalesce(occurred_at, received_at) < ${q.to}
      order by id desc limit ${q.scan}`;
    return rows.map((r) => ({ ...r, id: Number(r.id), alert_id: r.alert_id === null ? null : Number(r.alert_id) }));
  });
}

/** The alert each of these events became part of (events that made none are left out). */
export async function alertsOfEvents(sql: Pool, orgId: number, ids: number[]): Promise<Map<number, number>> {
  if (!ids.length) return new Map();
  const rows = await sql<{ id: number; alert_id: number }[]>`
    select id, alert_id from events where org_id = ${orgId} and id = any(${ids}::bigint[]) and alert_id is not null`;
  return new Map(rows.map((r) => [Number(r.id), Number(r.alert_id)]));
}
