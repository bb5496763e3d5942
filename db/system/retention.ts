// Retention: keeps the growing tables bounded. The `system__prune` job (every 10 minutes) deletes rows older
// than the configured ages (HERALD_RETAIN_*_DAYS; 0 keeps forever) in small batches (HERALD_RETAIN_BATCH rows,
// one short statement each, a pause between), so ingest never waits on a long lock; a run stops after its
// time budget and the next one continues.
//
// What is never deleted (the rows an open alert still needs):
//  - events still `accepted` (not routed yet), events of an alert that is not resolved, and events the KPI
//    rollup has not read yet (id above metric_rollup_state.hwm);
//  - timeline rows and notifications of alerts that are not resolved (and a timeline only once its alert
//    was resolved before the cutoff, so a history is removed whole, never cut in the middle);
//  - webhook deliveries that may still be retried (pending, failed_temp, or a next attempt planned).
// The audit trail is kept forever unless HERALD_RETAIN_AUDIT_DAYS bounds it.
// Alerts themselves, their messages and the configuration are kept: one alert row stands for many events
// (dedup), and analytics read them. This module reads several entities' tables on purpose: retention is
// one policy over the database, like the job liveness queries over graphile-worker's tables.
import type { Config } from '../platform/config';
import type { Pool } from '../platform/sql';
import { log } from '../platform/log';

export function retentionSettings(c: Config) {
  return {
    events_days: c.HERALD_RETAIN_EVENTS_DAYS, deliveries_days: c.HERALD_RETAIN_DELIVERIES_DAYS,
    timeline_days: c.HERALD_RETAIN_TIMELINE_DAYS, notifications_days: c.HERALD_RETAIN_NOTIFICATIONS_DAYS,
    readiness_days: c.HERALD_RETAIN_READINESS_DAYS, audit_days: c.HERALD_RETAIN_AUDIT_DAYS, batch: c.HERALD_RETAIN_BATCH,
  };
}

/** One batch: the ids to delete among those in (from, bound), oldest first. */
type Pruner = (sql: Pool, cutoff: Date, batch: number, from: number, bound: number) => Promise<number[]>;

interface Spec { table: string; at: string; days: (c: Config) => number; pick: Pruner }

/**
 * Each spec picks one batch in an id range: ids grow with time, so the rows older than the cutoff are the ids
 * below a bound found once per run by a binary search on the primary key (about 20 index probes), and each
 * batch starts after the last id the previous one deleted: a batch reads old rows only, never the whole table.
 */
const SPECS: Record<string, Spec> = {
  events: {
    table: 'events', at: 'received_at', days: (c) => c.HERALD_RETAIN_EVENTS_DAYS,
    pick: async (sql, cutoff, batch, from, bound) => (await sql<{ id: number }[]>`
      select e.id from events e
      where e.id > ${from} and e.id < ${bound} and e.id <= (select hwm from metric_rollup_state where id = 1)
        and e.received_at < ${cutoff} and e.status <> 'accepted'
        and not exists (select 1 from alerts a where a.id = e.alert_id and a.status <> 'resolved')
      order by e.id limit ${batch}`).map((r) => r.id),
  },
  webhook_deliveries: {
    table: 'webhook_deliveries', at: 'created_at', days: (c) => c.HERALD_RETAIN_DELIVERIES_DAYS,
    pick: async (sql, cutoff, batch, from, bound) => (await sql<{ id: number }[]>`
      select d.id from webhook_deliveries d
      where d.id > ${from} and d.id < ${bound} and d.created_at < ${cutoff}
        and d.status in ('delivered', 'failed') and d.next_attempt_at is null
      order by d.id limit ${batch}`).map((r) => r.id),
  },
  alert_timeline: {
    table: 'alert_timeline', at: 'at', days: (c) => c.HERALD_RETAIN_TIMELINE_DAYS,
    pick: async (sql, cutoff, batch, from, bound) => (await sql<{ id: number }[]>`
      select t.id from alert_timeline t
      where t.id > ${from} and t.id < ${bound} and t.at < ${cutoff}
        and exists (select 1 from alerts a where a.id = t.alert_id and a.status = 'resolved' and a.resolved_at < ${cutoff})
      order by t.id limit ${batch}`).map((r) => r.id),
  },
  notifications: {
    table: 'notifications', at: 'created_at', days: (c) => c.HERALD_RETAIN_NOTIFICATIONS_DAYS,
    pick: async (sql, cutoff, batch, from, bound) => (await sql<{ id: number }[]>`
      select n.id from notifications n
      where n.id > ${from} and n.id < ${bound} and n.created_at < ${cutoff}
        and exists (select 1 from alerts a where a.id = n.alert_id and a.status = 'resolved')
      order by n.id limit ${batch}`).map((r) => r.id),
  },
  readiness_checks: {
    table: 'readiness_checks', at: 'at', days: (c) => c.HERALD_RETAIN_READINESS_DAYS,
    pick: async (sql, cutoff, batch, from, bound) => (await sql<{ id: number }[]>`
      select id from readiness_checks where id > ${from} and id < ${bound} and at < ${cutoff} order by id limit ${batch}`).map((r) => r.id),
  },
  // Off by default (HERALD_RETAIN_AUDIT_DAYS = 0): an operator who must bound the trail says for how long.
  audit: {
    table: 'audit', at: 'at', days: (c) => c.HERALD_RETAIN_AUDIT_DAYS,
    pick: async (sql, cutoff, batch, from, bound) => (await sql<{ id: number }[]>`
      select id from audit where id > ${from} and id < ${bound} and at < ${cutoff} order by id limit ${batch}`).map((r) => r.id),
  },
};

/** The first id whose row is at or after the cutoff (ids below it are older), by binary search on the key. */
async function boundId(sql: Pool, table: string, at: string, cutoff: Date): Promise<{ min: number; bound: number } | null> {
  const [r] = await sql<{ min: number | null; max: number | null }[]>`select min(id)::float8 as min, max(id)::float8 as max from ${sql(table)}`;
  if (r.min === null || r.max === null) return null;
  let lo = r.min;
  let hi = r.max + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [row] = await sql<{ t: Date }[]>`select ${sql(at)} as t from ${sql(table)} where id >= ${mid} order by id limit 1`;
    if (!row || row.t >= cutoff) hi = mid;
    else lo = mid + 1;
  }
  return { min: r.min, bound: lo };
}

export const RETAINED_TABLES = Object.keys(SPECS);

/** One run: every table in turn, batch after batch, until nothing old is left or the budget is spent. */
export async function pruneOnce(sql: Pool, c: Config, opts: { budgetMs?: number; pauseMs?: number; now?: number } = {}): Promise<Record<string, number>> {
  const end = Date.now() + (opts.budgetMs ?? 30_000);
  const now = opts.now ?? Date.now();
  const deleted: Record<string, number> = {};
  for (const [name, spec] of Object.entries(SPECS)) {
    const days = spec.days(c);
    if (!days) continue;
    const cutoff = new Date(now - days * 86_400_000);
    deleted[name] = 0;
    const range = await boundId(sql, spec.table, spec.at, cutoff);
    if (!range) continue;
    let from = range.min - 1;
    while (Date.now() < end) {
      const ids = await spec.pick(sql, cutoff, c.HERALD_RETAIN_BATCH, from, range.bound);
      if (ids.length) deleted[name] += (await sql`delete from ${sql(spec.table)} where id = any(${ids}::bigint[])`).count;
      if (ids.length < c.HERALD_RETAIN_BATCH) break;
      from = ids[ids.length - 1];
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 20));
    }
  }
  // Processes that stopped (or went silent) before the readiness cutoff.
  if (c.HERALD_RETAIN_READINESS_DAYS) await sql`delete from herald_processes where coalesce(stopped_at, seen_at) < ${new Date(now - c.HERALD_RETAIN_READINESS_DAYS * 86_400_000)}`;
  const total = Object.values(deleted).reduce((s, n) => s + n, 0);
  if (total) log.info('retention pruned old rows', deleted);
  return deleted;
}
