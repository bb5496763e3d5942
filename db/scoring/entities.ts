// Entities (docs/design.md "Scoring"): what events are about, kept from `entity: {kind, id, name}` on events.
//
// Written only by the score__recompute batch job (recompute.ts), never by the ingest statement: the hot path
// stays one insert, and a batch of thousands of events becomes two statements here. Attributes are the
// events' top-level metadata keys, merged per key by the event's own time (occurred_at, else received_at):
// a late event never overwrites a newer fact. Events Herald posts about scores (category `scoring`) appear
// among the recent events but never feed attributes or counts, so a score cannot feed on its own alerts.
import type { Actor } from '../actor';
import { require } from '../actor';
import { invalid, notFound } from '../errors';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import type { FeedEvent } from '../events/feed';
import { openAlertsOfEntity } from '../alerts/by-entity';
import { text } from '../platform/input';
import { z } from 'zod';
import type { EntityState } from './compute';

export const RECENT_KEPT = 20;
export const SELF_CATEGORY = 'scoring';
/** The permission that reads entities and scores (dashboards:read: every built-in role holds it). */
export const READ_PERMISSION = 'dashboards:read' as const;

interface EntityRow {
  org_id: number; kind: string; id: string; name: string | null; name_at: Date | null;
  attributes: Record<string, unknown>; attr_at: Record<string, number>; event_count: number;
  first_event_at: Date | null; last_event_at: Date | null; recent: RecentEvent[];
}
interface RecentEvent { id: number; category: string; type: string; title: string; severity: string; at: string }

/** The entity an event is about, or null (no entity, or not the shape the event contract guarantees). */
export function entityOf(e: FeedEvent): { kind: string; id: string; name: string | null } | null {
  const en = e.entity;
  if (!en || typeof en !== 'object') return null;
  const { kind, id, name } = en as Record<string, unknown>;
  if (typeof kind !== 'string' || !kind || (typeof id !== 'string' && typeof id !== 'number')) return null;
  return { kind: kind.slice(0, 64), id: String(id).slice(0, 255), name: typeof name === 'string' ? name.slice(0, 200) : null };
}

const own = (o: object, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
const keyOf = (org: number, kind: string, id: string) => `${org}\u0000${kind}\u0000${id}`;

/**
 * Applies a batch of events to their entities (caller's transaction; the caller holds the job's mark, so no
 * other writer runs): attributes, names, counts, recent events and per-day type counts.
 * Returns the touched entities, grouped by org and kind.
 */
export async function applyEvents(tx: Sql, events: FeedEvent[], lap: (k: string) => void = () => {}): Promise<Map<string, { orgId: number; kind: string; ids: string[] }>> {
  const mine = events.map((e) => ({ e, en: entityOf(e) })).filter((x): x is { e: FeedEvent; en: NonNullable<ReturnType<typeof entityOf>> } => x.en !== null);
  const touched = new Map<string, { orgId: number; kind: string; ids: string[] }>();
  if (!mine.length) return touched;
  const keys = new Map<string, { org: number; kind: string; id: string }>();
  for (const { e, en } of mine) keys.set(keyOf(e.org_id, en.kind, en.id), { org: e.org_id, kind: en.kind, id: en.id });
  const list = [...keys.values()];
  // Per org and kind, `id = any(ids)`: linear whichever plan is chosen (an index scan, or one pass with the ids
  // hashed). As `(org_id, kind, id) in (select * from unnest(...))` it cost ~4 s of Postgres CPU per batch of
  // 5,000 once the kind had 10,000 entities (a join planned on the statistics of a freshly filled table), and a
  // lateral lookup per key went the same way (a sequential scan per key) while the table was still unanalysed.
  const groups = new Map<string, { org: number; kind: string; ids: string[] }>();
  for (const k of list) {
    const g = `${k.org}\u0000${k.kind}`;
    if (!groups.has(g)) groups.set(g, { org: k.org, kind: k.kind, ids: [] });
    groups.get(g)!.ids.push(k.id);
  }
  const existing: EntityRow[] = [];
  for (const g of groups.values()) {
    existing.push(...await tx<EntityRow[]>`
      select org_id, kind, id, name, name_at, attributes, attr_at, event_count, first_event_at, last_event_at, recent from entities
      where org_id = ${g.org} and kind = ${g.kind} and id = any(${g.ids}::text[])`);
  }
  const rows = new Map<string, EntityRow>();
  for (const r of existing) rows.set(keyOf(Number(r.org_id), r.kind, r.id), { ...r, event_count: Number(r.event_count) });
  const days = new Map<string, { org_id: number; kind: string; entity_id: string; category: string; type: string; day: string; n: number }>();
  for (const { e, en } of mine) {
    const k = keyOf(e.org_id, en.kind, en.id);
    let r = rows.get(k);
    if (!r) {
      r = { org_id: e.org_id, kind: en.kind, id: en.id, name: null, name_at: null, attributes: {}, attr_at: {}, event_count: 0, first_event_at: null, last_event_at: null, recent: [] };
      rows.set(k, r);
    }
    const t = e.ts.getTime();
    if (en.name !== null && (!r.name_at || t >= new Date(r.name_at).getTime())) { r.name = en.name; r.name_at = e.ts; }
    r.recent.push({ id: Number(e.id), category: e.category, type: e.type, title: e.title, severity: e.severity, at: e.ts.toISOString() });
    if (e.category === SELF_CATEGORY) continue;
    for (const [a, v] of Object.entries(e.metadata ?? {})) {
      const at = Object.prototype.hasOwnProperty.call(r.attr_at, a) ? r.attr_at[a] : undefined;
      // defineProperty, not assignment: a metadata key `__proto__` is data (JSON.parse made it an own key), not a prototype.
      if (at === undefined || t >= at) { own(r.attributes, a, v); own(r.attr_at, a, t); }
    }
    r.event_count++;
    if (!r.first_event_at || t < new Date(r.first_event_at).getTime()) r.first_event_at = e.ts;
    if (!r.last_event_at || t > new Date(r.last_event_at).getTime()) r.last_event_at = e.ts;
    const day = e.ts.toISOString().slice(0, 10);
    const dk = `${k}\u0000${e.category}\u0000${e.type}\u0000${day}`;
    const d = days.get(dk);
    if (d) d.n++;
    else days.set(dk, { org_id: e.org_id, kind: en.kind, entity_id: en.id, category: e.category, type: e.type, day, n: 1 });
  }
  const out = [...keys.keys()].sort().map((k) => {
    const r = rows.get(k)!;
    const recent = r.recent.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.id - a.id)).slice(0, RECENT_KEPT);
    const g = `${r.org_id}\u0000${r.kind}`;
    if (!touched.has(g)) touched.set(g, { orgId: Number(r.org_id), kind: r.kind, ids: [] });
    touched.get(g)!.ids.push(r.id);
    return { ...r, recent };
  });
  lap('ae-js');
  await tx`
    insert into entities as x (org_id, kind, id, name, name_at, attributes, attr_at, event_count, first_event_at, last_event_at, recent)
    select org_id, kind, id, name, name_at, attributes, attr_at, event_count, first_event_at, last_event_at, recent
    from (select ${JSON.stringify(out)}::text as j offset 0) q, json_to_recordset(q.j::json) as t(org_id bigint, kind text, id text, name text, name_at timestamptz,
      attributes jsonb, attr_at jsonb, event_count bigint, first_event_at timestamptz, last_event_at timestamptz, recent jsonb)
    on conflict (org_id, kind, id) do update set name = excluded.name, name_at = excluded.name_at, attributes = excluded.attributes,
      attr_at = excluded.attr_at, event_count = excluded.event_count, first_event_at = excluded.first_event_at,
      last_event_at = excluded.last_event_at, recent = excluded.recent, updated_at = now()`;
  lap('ae-upsert-entities');
  if (days.size) {
    const d = [...days.keys()].sort().map((k) => days.get(k)!);
    await tx`
      insert into entity_event_days as x (org_id, kind, entity_id, category, type, day, n)
      select t.* from (select ${JSON.stringify(d)}::text as j offset 0) q, json_to_recordset(q.j::json) as t(org_id bigint, kind text, entity_id text, category text, type text, day date, n int)
      on conflict (org_id, kind, entity_id, category, type, day) do update set n = x.n + excluded.n`;
  }
  return touched;
}

/** Entities of a kind by id (for scoring). */
export async function loadEntities(sql: Sql, orgId: number, kind: string, ids: string[]): Promise<EntityState[]> {
  if (!ids.length) return [];
  return sql<EntityState[]>`select kind, id, name, attributes from entities where org_id = ${orgId} and kind = ${kind} and id = any(${ids}::text[])`;
}

/** The next chunk of a kind's entities after `afterId` (recompute-all walks a kind this way). */
export function entityChunk(sql: Sql, orgId: number, kind: string, afterId: string | null, limit: number): Promise<EntityState[]> {
  return sql<EntityState[]>`select kind, id, name, attributes from entities
    where org_id = ${orgId} and kind = ${kind} ${afterId !== null ? sql`and id > ${afterId}` : sql``} order by id limit ${limit}`;
}

export async function countEntities(sql: Sql, orgId: number, kind: string): Promise<number> {
  const [r] = await sql<{ n: number }[]>`select count(*)::int as n from entities where org_id = ${orgId} and kind = ${kind}`;
  return r.n;
}

/** Events of one type per entity in the last `days` days (today included), for count factors. */
export async function typeCounts(sql: Sql, orgId: number, kind: string, ids: string[], category: string, type: string, days: number | null): Promise<Map<string, number>> {
  const rows = await sql<{ entity_id: string; n: number }[]>`
    select entity_id, sum(n)::int as n from entity_event_days
    where org_id = ${orgId} and kind = ${kind} and entity_id = any(${ids}::text[]) and category = ${category} and type = ${type}
      ${days !== null ? sql`and day > (now() at time zone 'utc')::date - ${days}::int` : sql``}
    group by entity_id`;
  return new Map(rows.map((r) => [r.entity_id, r.n]));
}

/** The latest day each entity had an event of one type (model outcomes). */
export async function lastDayOf(sql: Sql, orgId: number, kind: string, ids: string[] | null, category: string, type: string): Promise<Map<string, string>> {
  const rows = await sql<{ entity_id: string; day: string }[]>`
    select entity_id, max(day)::text as day from entity_event_days
    where org_id = ${orgId} and kind = ${kind} and category = ${category} and type = ${type}
      ${ids ? sql`and entity_id = any(${ids}::text[])` : sql``}
    group by entity_id`;
  return new Map(rows.map((r) => [r.entity_id, r.day]));
}

// ---- verbs ----

export const ListQuery = z.object({
  kind: text().max(64).optional(),
  q: text().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: text().max(600).optional(),
}).strip();

const cursorOf = (kind: string, id: string) => Buffer.from(JSON.stringify([kind, id])).toString('base64url');
function parseCursor(c: string | undefined): [string, string] | null {
  if (!c) return null;
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch { /* below */ }
  throw invalid('cursor: not a cursor this list gave', [{ path: 'cursor', message: 'not a cursor this list gave' }]);
}

function parseQuery<S extends z.ZodType>(s: S, q: unknown): z.output<S> {
  const r = s.safeParse(q);
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(query)', message: i.message }));
  throw invalid(`The query is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}
export { parseQuery };

export async function listEntitiesVerb(h: Herald, actor: Actor, query: unknown) {
  require(actor, READ_PERMISSION);
  const q = parseQuery(ListQuery, query);
  const after = parseCursor(q.cursor);
  const like = q.q ? `%${q.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const rows = await h.sql<Array<{ kind: string; id: string; name: string | null; attributes: unknown; event_count: number; last_event_at: Date | null }>>`
    select kind, id, name, attributes, event_count::int as event_count, last_event_at from entities
    where org_id = ${actor.orgId}
      ${q.kind ? h.sql`and kind = ${q.kind}` : h.sql``}
      ${like ? h.sql`and (lower(coalesce(name, '')) like ${like} or lower(id) like ${like})` : h.sql``}
      ${after ? h.sql`and (kind, id) > (${after[0]}, ${after[1]})` : h.sql``}
    order by kind, id limit ${q.limit + 1}`;
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit);
  return { items, next_cursor: more ? cursorOf(items[items.length - 1].kind, items[items.length - 1].id) : null };
}

export async function readEntity(sql: Sql, orgId: number, kind: string, id: string) {
  const [e] = await sql<Array<EntityRow & { created_at: Date }>>`
    select kind, id, name, attributes, event_count::int as event_count, first_event_at, last_event_at, recent, created_at
    from entities where org_id = ${orgId} and kind = ${kind} and id = ${id}`;
  return e ?? null;
}

export async function getEntityBase(h: Herald, actor: Actor, kind: string, id: string) {
  require(actor, READ_PERMISSION);
  const e = await readEntity(h.sql, actor.orgId, kind, id);
  if (!e) throw notFound(`Entity ${kind}/${id}`);
  const alerts = await openAlertsOfEntity(h.sql, actor.orgId, kind, id);
  return {
    kind: e.kind, id: e.id, name: e.name, attributes: e.attributes, event_count: e.event_count,
    first_event_at: e.first_event_at, last_event_at: e.last_event_at, recent_events: e.recent, open_alerts: alerts,
  };
}

/** The kinds of entities known, with how many of each. */
export async function entityKinds(sql: Sql, orgId: number) {
  return sql<Array<{ kind: string; count: number }>>`select kind, count(*)::int as count from entities where org_id = ${orgId} group by kind order by kind`;
}

/**
 * Entities of a kind with a known outcome: the later of their positive and negative closing events decides (same day: ambiguous, left out).
 * Two statements (the outcomes per entity, then those entities by `id = any(ids)`), linear whatever plan is
 * chosen: as one join, run right after 100,000 deals were bulk-loaded (before autovacuum analysed them), it ran
 * for over two minutes (the bench, 2026-11-29).
 */
export async function labelledEntities(sql: Sql, orgId: number, kind: string, pos: { category: string; type: string }, neg: { category: string; type: string }): Promise<Array<EntityState & { label: 0 | 1 }>> {
  const outcomes = await sql<Array<{ entity_id: string; pos: string | null; neg: string | null }>>`
    select entity_id,
      max(day) filter (where category = ${pos.category} and type = ${pos.type})::text as pos,
      max(day) filter (where category = ${neg.category} and type = ${neg.type})::text as neg
    from entity_event_days
    where org_id = ${orgId} and kind = ${kind}
      and ((category = ${pos.category} and type = ${pos.type}) or (category = ${neg.category} and type = ${neg.type}))
    group by entity_id`;
  const known = new Map(outcomes.map((o) => [o.entity_id, o]));
  const found = outcomes.length ? await sql<EntityState[]>`
    select kind, id, name, attributes from entities where org_id = ${orgId} and kind = ${kind} and id = any(${[...known.keys()]}::text[])` : [];
  const rows = found.map((e) => ({ ...e, pos: known.get(e.id)!.pos, neg: known.get(e.id)!.neg }));
  const out: Array<EntityState & { label: 0 | 1 }> = [];
  for (const r of rows) {
    if (r.pos && (!r.neg || r.pos > r.neg)) out.push({ kind: r.kind, id: r.id, name: r.name, attributes: r.attributes, label: 1 });
    else if (r.neg && (!r.pos || r.neg > r.pos)) out.push({ kind: r.kind, id: r.id, name: r.name, attributes: r.attributes, label: 0 });
  }
  return out;
}
