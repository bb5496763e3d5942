// Drill-down: the events (or, for a lifecycle metric, the opened and closed items) behind a metric over a
// range — what a dashboard widget shows when it is tapped. Reads events only on request, a page at a time,
// never on the dashboard's own path (which reads rollups).
import { z } from 'zod';
import { require, type Actor } from '../actor';
import { HeraldError, parse } from '../errors';
import type { Herald } from '../herald';
import { alertsOfEvents, eventsInRange } from '../events/read';
import { conditionHolds, getField, num } from '../rules/match';
import type { MatchableEvent } from '../rules/schema';
import { RangeQuery, rangeOf } from './read';
import { loadMetric, parseKey } from './verbs';
import { groupOf } from './rollup';

export const DrillQuery = RangeQuery.extend({
  /** Only the events of this group (a grouped metric's value of group_by; "(none)" for those without it). */
  group: z.string().max(200).refine((s) => !s.includes('\u0000'), 'cannot contain the NUL character').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
}).strict();

/** Events read per request at most: the matches among them are shown, `complete: false` says there may be more. */
const SCAN = 5000;

export async function drillVerb(h: Herald, actor: Actor, key: string, query: Record<string, string>) {
  require(actor, 'dashboards:read');
  const q = parse(DrillQuery, query, 'query');
  const m = await loadMetric(h.sql, actor.orgId, parseKey(key));
  const { from, to } = rangeOf(q);
  const def = m.definition;
  if (def.aggregate === 'lifecycle') {
    // The items opened or closed in the range, newest first, with the events that opened and closed them.
    const rows = await h.sql<{ entity: string; name: string | null; opened_at: Date | null; closed_at: Date | null; closed_type: string | null; amount: number | null;
      open_event_id: number | null; close_event_id: number | null }[]>`
      select e.entity, e.entity_name as name, e.opened_at, e.closed_at, e.closed_type, e.amount, e.open_event_id, e.close_event_id
      from metric_episodes e
      where e.metric_id = ${m.id} and e.opened_at is not null and e.opened_at < ${new Date(to)} and (e.closed_at is null or e.closed_at >= ${new Date(from)})
        ${q.group ? h.sql`and e.entity = ${q.group}` : h.sql``}
      order by greatest(e.opened_at, coalesce(e.closed_at, e.opened_at)) desc, e.id desc limit ${q.limit + 1}`;
    const n = (x: number | null) => (x === null ? null : Number(x));
    const alerts = await alertsOfEvents(h.sql, actor.orgId, rows.flatMap((r) => [n(r.open_event_id), n(r.close_event_id)]).filter((x): x is number => x !== null));
    return {
      kind: 'items' as const, metric: m.key, unit: def.unit ?? null, from: new Date(from).toISOString(), to: new Date(to).toISOString(), complete: rows.length <= q.limit,
      items: rows.slice(0, q.limit).map((r) => ({
        entity: r.entity, name: r.name, opened_at: r.opened_at?.toISOString() ?? null, closed_at: r.closed_at?.toISOString() ?? null,
        closed_by: r.closed_type, amount: r.amount, open_event_id: n(r.open_event_id), close_event_id: n(r.close_event_id),
        alert_id: alerts.get(n(r.close_event_id) ?? 0) ?? alerts.get(n(r.open_event_id) ?? 0) ?? null,
      })),
    };
  }
  let rows;
  try {
    rows = await eventsInRange(h.sql, actor.orgId, { category: def.source.category, type: def.source.type, from: new Date(from), to: new Date(to), scan: SCAN });
  } catch (e) {
    if ((e as { code?: string }).code === '57014') throw new HeraldError(503, 'Service unavailable', 'Finding the events behind this metric took too long: choose a shorter range', undefined, { 'Retry-After': '5' });
    throw e;
  }
  const items = [];
  for (const e of rows) {
    const ev = e as unknown as MatchableEvent;
    if (!def.conditions.every((c) => conditionHolds(c, ev))) continue;
    const group = def.group_by ? groupOf(getField(ev, def.group_by)) : null;
    if (q.group !== undefined && group !== q.group) continue;
    const raw = def.field ? getField(ev, def.field) : undefined;
    // What this event added to the metric: its field's value, or why it was skipped (as the rollup counts it).
    const value = def.aggregate === 'count' || def.aggregate === 'distinct' ? null : num(raw) ?? null;
    const skipped = def.field && (raw === undefined || raw === null) ? 'missing_field'
      : def.field && def.aggregate !== 'count' && def.aggregate !== 'distinct' && (value === null || !Number.isFinite(value)) ? 'non_numeric' : null;
    items.push({ id: e.id, at: e.ts.toISOString(), title: e.title, type: e.type, severity: e.severity, status: e.status, alert_id: e.alert_id, group, value, skipped });
    if (items.length > q.limit) break;
  }
  return {
    kind: 'events' as const, metric: m.key, unit: def.unit ?? null, from: new Date(from).toISOString(), to: new Date(to).toISOString(),
    complete: items.length <= q.limit && rows.length < SCAN, items: items.slice(0, q.limit),
  };
}
