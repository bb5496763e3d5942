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
    readiness_days: c.HERALD_RETAIN_READINESS_DAYS, batch: c.HERALD_RETAIN_BATCH,
  };
}

type Pruner = (sql: Pool, cutoff: Date, batch: number) => Promise<number>;

/**
 * Each pruner deletes one batch. The id-ordered scans are bounded by the first id at or past the cutoff
 * (`bound`): ids grow with time, so a batch reads the old rows only, not the whole table.
 */
const PRUNERS: Record<string, { days: (c: Config) => number; prune: Pruner }> = {
  events: {
    days: (c) => c.HERALD_RETAIN_EVENTS_DAYS,
    prune: async (sql, cutoff, batch) => (await sql`
      with bound as (select coalesce((select id from events where received_at >= ${cutoff} order by id limit 1), (select max(id) + 1 from events)) as id),
      doomed as (
        select e.id from events e, bound
        where e.id < bound.id and e.id <= (select hwm from metric_rollup_state where id = 1)
          and e.received_at < ${cutoff} and e.status <> 'accepted'
          and not exists (select 1 from alerts a where a.id = e.alert_id and a.status <> 'resolved')
        order by e.id limit ${batch})
      delete from events where id in (select id from doomed)`).count,
  },
  webhook_deliveries: {
    days: (c) => c.HERALD_RETAIN_DELIVERIES_DAYS,
    prune: async (sql, cutoff, batch) => (await sql`
      with bound as (select coalesce((select id from webhook_deliveries where created_at >= ${cutoff} order by id limit 1), (select max(id) + 1 from webhook_deliveries)) as id),
      doomed as (
        select d.id from webhook_deliveries d, bound
        where d.id < bound.id and d.created_at < ${cutoff} and d.status in ('delivered', 'failed') and d.next_attempt_at is null
        order by d.id limit ${batch})
      delete from webhook_deliveries where id in (select id from doomed)`).count,
  },
  alert_timeline: {
    days: (c) => c.HERALD_RETAIN_TIMELINE_DAYS,
    prune: async (sql, cutoff, batch) => (await sql`
      with bound as (select coalesce((select id from alert_timeline where at >= ${cutoff} order by id limit 1), (select max(id) + 1 from alert_timeline)) as id),
      doomed as (
        select t.id from alert_timeline t, bound
        where t.id < bound.id and t.at < ${cutoff}
          and exists (select 1 from alerts a where a.id = t.alert_id and a.status = 'resolved' and a.resolved_at < ${cutoff})
        order by t.id limit ${batch})
      delete from alert_timeline where id in (select id from doomed)`).count,
  },
  notifications: {
    days: (c) => c.HERALD_RETAIN_NOTIFICATIONS_DAYS,
    prune: async (sql, cutoff, batch) => (await sql`
      with bound as (select coalesce((select id from notifications where created_at >= ${cutoff} order by id limit 1), (select max(id) + 1 from notifications)) as id),
      doomed as (
        select n.id from notifications n, bound
        where n.id < bound.id and n.created_at < ${cutoff}
          and exists (select 1 from alerts a where a.id = n.alert_id and a.status = 'resolved')
        order by n.id limit ${batch})
      delete from notifications where id in (select id from doomed)`).count,
  },
  readiness_checks: {
    days: (c) => c.HERALD_RETAIN_READINESS_DAYS,
    prune: async (sql, cutoff, batch) => {
      const n = (await sql`delete from readiness_checks where id in (select id from readiness_checks where at < ${cutoff} order by at limit ${batch})`).count;
      await sql`delete from herald_processes where coalesce(stopped_at, seen_at) < ${cutoff}`;
      return n;
    },
  },
};

export const RETAINED_TABLES = Object.keys(PRUNERS);

/** One run: every table in turn, batch after batch, until nothing old is left or the budget is spent. */
export async function pruneOnce(sql: Pool, c: Config, opts: { budgetMs?: number; pauseMs?: number; now?: number } = {}): Promise<Record<string, number>> {
  const end = Date.now() + (opts.budgetMs ?? 30_000);
  const now = opts.now ?? Date.now();
  const deleted: Record<string, number> = {};
  for (const [table, p] of Object.entries(PRUNERS)) {
    const days = p.days(c);
    if (!days) continue;
    const cutoff = new Date(now - days * 86_400_000);
    deleted[table] = 0;
    while (Date.now() < end) {
      const n = await p.prune(sql, cutoff, c.HERALD_RETAIN_BATCH);
      deleted[table] += n;
      if (n < c.HERALD_RETAIN_BATCH) break;
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 20));
    }
  }
  const total = Object.values(deleted).reduce((s, n) => s + n, 0);
  if (total) log.info('retention pruned old rows', deleted);
  return deleted;
}
