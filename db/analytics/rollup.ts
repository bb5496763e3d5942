// Per-hour analytics rollups (analytics_hours, migration analytics_rollup): what GET /v1/analytics/alerts reads
// about the alerts created in one UTC hour, per category and priority. The same SQL (`hourRows`) computes the
// rows the job stores and the rows a request computes on the fly for the hours not (or not yet) stored, so an
// answer from rollups counts exactly what the exact statement counts.
//
// Kept by the job analytics__rollup, never on ingest or in a transition: it follows the timeline, the messages
// and the routed events by id (a repeat changes an alert's occurrences; every other alert change writes a timeline row in the same transaction: creation, acknowledgement,
// snooze, resolution, escalation, reopening, undo, a message delivered, failed or dropped; every message is a
// new row) and recomputes the hours of the alerts those rows belong to, exactly, from the base tables. The ids
// are followed as the metric rollup follows events (db/metrics/rollup.ts settledPrefix): the mark passes ids it
// has seen and gaps older than GAP_WAIT_MS. Hours never computed (a new database, the hour that just ended) are
// computed newest first, HOURS_PER_RUN at a time; the current hour is never stored (requests compute it).
// Message state changes that write no timeline row (a temporary failure before a retry, a provider's "sent"
// arriving before Herald recorded its own send) happen within minutes of the message: every SWEEP_MS the hours
// of the last SWEEP_HOURS are recomputed as well.
import type postgres from 'postgres';
import type { Pool, Sql } from '../platform/sql';
import { settledPrefix } from '../metrics/rollup';

export const ROLLUP_IDS_BATCH = 20_000;
export const HOURS_PER_RUN = 168;
export const SWEEP_MS = 10 * 60_000;
export const SWEEP_HOURS = 48;
const HOUR_MS = 3_600_000;

/**
 * The channel an action on the timeline came from (the exact statement's ACTION_CHANNEL): people act through a
 * channel (`via`; the PWA is in_app), API keys through the API; Herald's own changes and sources are not actions.
 */
export const ACTION_CHANNEL = `case t.actor->>'kind'
  when 'user' then case coalesce(t.actor->>'via', '') when 'pwa' then 'in_app' when '' then 'api' else t.actor->>'via' end
  when 'api_key' then 'api' end`;

/**
 * Rows in analytics_hours' shape (org_id, hour, category, priority, counts, arrays) for the alerts `from` and
 * `where` select (alias `a`). Messages and actions are counted from the alert's creation hour on (they are
 * written after their alert). Must run with `date_trunc(…, 'UTC')`-independent inputs: the hour is UTC.
 */
type Fragment = postgres.PendingQuery<postgres.Row[]>;

export function hourRows(tx: Sql, from: Fragment, where: Fragment) {
  // Every aggregate is grouped twice: per (hour, category, priority) and per hour (category and priority '*').
  const cat = `case when grouping(al.category) = 1 then '*' else al.category end`;
  const pri = `case when grouping(al.priority) = 1 then '*' else al.priority end`;
  const sets = (extra: string) => `grouping sets ((al.org_id, al.hour, al.category, al.priority${extra}), (al.org_id, al.hour${extra}))`;
  return tx`
    with al as materialized (
      select a.id, a.org_id, date_trunc('hour', a.created_at, 'UTC') as hour, a.category, a.priority,
        a.escalation_level > 0 as escalated, a.first_acknowledged_at is not null as acked, a.resolved_at is not null as resolved,
        a.first_acknowledged_user_id as ack_user, a.rule_ids, a.dedup_key, a.occurrences,
        extract(epoch from a.first_acknowledged_at - a.created_at)::float8 as tta,
        extract(epoch from a.resolved_at - a.created_at)::float8 as ttr
      ${from} where ${where}
    ),
    g as (
      select al.org_id, al.hour, ${tx.unsafe(cat)} as category, ${tx.unsafe(pri)} as priority, count(*)::int as created,
        (count(*) filter (where acked))::int as acknowledged,
        (count(*) filter (where resolved))::int as resolved, (count(*) filter (where escalated))::int as escalated,
        coalesce(sum(tta), 0)::float8 as tta_sum, coalesce(sum(ttr), 0)::float8 as ttr_sum,
        array_agg(distinct al.category order by al.category) as cats,
        -- Dedup keys one entry per alert (a key rarely has two alerts in an hour); the answer adds them up.
        array_agg(al.dedup_key order by al.dedup_key) as dedup_keys, array_agg(1 order by al.dedup_key) as key_alerts,
        array_agg(al.occurrences::bigint order by al.dedup_key) as key_occurrences
      from al group by ${tx.unsafe(sets(''))}
    ),
    -- Materialized: the hours (a few rows) joined to every row of g; inlined, the planner may re-run it per row.
    gc as materialized (
      select org_id, hour, array_agg(created order by category) as created, array_agg(acknowledged order by category) as acknowledged,
        array_agg(resolved order by category) as resolved, array_agg(escalated order by category) as escalated
      from (select org_id, hour, category, count(*)::int as created, (count(*) filter (where acked))::int as acknowledged,
              (count(*) filter (where resolved))::int as resolved, (count(*) filter (where escalated))::int as escalated
            from al group by 1, 2, 3) c
      group by 1, 2
    ),
    sent as (
      select al.org_id, al.hour, ${tx.unsafe(cat)} as category, ${tx.unsafe(pri)} as priority, m.channel,
        count(*) filter (where m.status not in ('pending', 'held')) as sent,
        count(*) filter (where m.status = 'delivered') as delivered, count(*) filter (where m.status = 'failed') as failed
      -- Per alert through its index (a lateral lookup fenced by offset 0: the planner cannot know how few alerts there are).
      from al cross join lateral (select m.channel, m.status from messages m where m.alert_id = al.id and m.created_at >= al.hour offset 0) m
      group by ${tx.unsafe(sets(', m.channel'))}
    ),
    acted as (
      select al.org_id, al.hour, ${tx.unsafe(cat)} as category, ${tx.unsafe(pri)} as priority, t.channel, count(*) as acted
      from al cross join lateral (select ${tx.unsafe(ACTION_CHANNEL)} as channel from alert_timeline t
        where t.alert_id = al.id and t.at >= al.hour and t.kind in ('acknowledged', 'snoozed', 'resolved') offset 0) t
      group by ${tx.unsafe(sets(', t.channel'))}
    ),
    ch as (
      select org_id, hour, category, priority, array_agg(channel order by channel) as channels,
        array_agg(coalesce(s.sent, 0)::int order by channel) as sent, array_agg(coalesce(s.delivered, 0)::int order by channel) as delivered,
        array_agg(coalesce(s.failed, 0)::int order by channel) as failed, array_agg(coalesce(x.acted, 0)::int order by channel) as acted
      from sent s full join acted x using (org_id, hour, category, priority, channel)
      where channel is not null
      group by 1, 2, 3, 4
    ),
    pe as (
      select org_id, hour, category, priority, array_agg(ack_user order by ack_user) as ack_users, array_agg(n order by ack_user) as ack_counts
      from (select al.org_id, al.hour, ${tx.unsafe(cat)} as category, ${tx.unsafe(pri)} as priority, al.ack_user, count(*)::int as n
            from al where al.ack_user is not null group by ${tx.unsafe(sets(', al.ack_user'))}) p
      group by 1, 2, 3, 4
    ),
    ru as (
      select org_id, hour, category, priority, array_agg(rule_id order by rule_id) as rules, array_agg(n order by rule_id) as rule_counts
      from (select al.org_id, al.hour, ${tx.unsafe(cat)} as category, ${tx.unsafe(pri)} as priority, r.rule_id, count(*)::int as n
            from al, unnest(al.rule_ids) as r(rule_id) group by ${tx.unsafe(sets(', r.rule_id'))}) p
      group by 1, 2, 3, 4
    ),
    -- Histogram entries keep their category (by_category's percentiles) also in the all-categories row.
    ab as (
      select p.org_id, p.hour, p.category, p.priority,
        string_agg(int4send(p.bin) || int8send(p.usr) || int2send((array_position(g.cats, p.ecat) - 1)::int2) || int4send(p.n), ''::bytea
          order by p.bin, p.usr, p.ecat) as tta
      from (select al.org_id, al.hour, case when grouping(al.priority) = 1 then '*' else al.category end as category, ${tx.unsafe(pri)} as priority,
              al.category as ecat, analytics_bin(al.tta) as bin, coalesce(al.ack_user, 0) as usr, count(*)::int as n
            from al where al.tta is not null
            group by grouping sets ((al.org_id, al.hour, al.category, al.priority, analytics_bin(al.tta), coalesce(al.ack_user, 0)),
              (al.org_id, al.hour, al.category, analytics_bin(al.tta), coalesce(al.ack_user, 0)))) p
      join g using (org_id, hour, category, priority)
      group by 1, 2, 3, 4
    ),
    rb as (
      select p.org_id, p.hour, p.category, p.priority,
        string_agg(int4send(p.bin) || int2send((array_position(g.cats, p.ecat) - 1)::int2) || int4send(p.n), ''::bytea order by p.bin, p.ecat) as ttr
      from (select al.org_id, al.hour, case when grouping(al.priority) = 1 then '*' else al.category end as category, ${tx.unsafe(pri)} as priority,
              al.category as ecat, analytics_bin(al.ttr) as bin, count(*)::int as n
            from al where al.ttr is not null
            group by grouping sets ((al.org_id, al.hour, al.category, al.priority, analytics_bin(al.ttr)), (al.org_id, al.hour, al.category, analytics_bin(al.ttr)))) p
      join g using (org_id, hour, category, priority)
      group by 1, 2, 3, 4
    )
    select g.org_id, g.hour, g.category, g.priority, g.created, g.acknowledged, g.resolved, g.escalated, g.tta_sum, g.ttr_sum,
      coalesce(ch.channels, '{}') as channels, coalesce(ch.sent, '{}') as sent, coalesce(ch.delivered, '{}') as delivered,
      coalesce(ch.failed, '{}') as failed, coalesce(ch.acted, '{}') as acted,
      coalesce(pe.ack_users, '{}') as ack_users, coalesce(pe.ack_counts, '{}') as ack_counts,
      coalesce(ru.rules, '{}') as rules, coalesce(ru.rule_counts, '{}') as rule_counts,
      g.cats,
      case when g.category = '*' then gc.created else array[g.created] end as cat_created,
      case when g.category = '*' then gc.acknowledged else array[g.acknowledged] end as cat_acknowledged,
      case when g.category = '*' then gc.resolved else array[g.resolved] end as cat_resolved,
      case when g.category = '*' then gc.escalated else array[g.escalated] end as cat_escalated,
      g.dedup_keys, g.key_alerts, g.key_occurrences,
      coalesce(ab.tta, ''::bytea) as tta, coalesce(rb.ttr, ''::bytea) as ttr
    from g
      join gc using (org_id, hour)
      left join ch using (org_id, hour, category, priority)
      left join pe using (org_id, hour, category, priority)
      left join ru using (org_id, hour, category, priority)
      left join ab using (org_id, hour, category, priority)
      left join rb using (org_id, hour, category, priority)`;
}

const COLUMNS = `org_id, hour, category, priority, created, acknowledged, resolved, escalated, tta_sum, ttr_sum, channels, sent, delivered,
  failed, acted, ack_users, ack_counts, rules, rule_counts, cats, cat_created, cat_acknowledged, cat_resolved, cat_escalated, dedup_keys, key_alerts, key_occurrences, tta, ttr`;

/** Recomputes the given UTC hours of an org exactly from the base tables (caller's transaction). */
export async function recomputeHours(tx: Sql, orgId: number, hours: Date[]): Promise<void> {
  if (!hours.length) return;
  const starts = hours.map((d) => d.toISOString());
  await tx`delete from analytics_hours where org_id = ${orgId} and hour = any(${starts}::timestamptz[])`;
  await tx`
    insert into analytics_hours (${tx.unsafe(COLUMNS)})
    ${hourRows(tx,
      tx`from unnest(${starts}::timestamptz[]) as rg(lo) join alerts a on a.org_id = ${orgId} and a.created_at >= rg.lo and a.created_at < rg.lo + interval '1 hour'`,
      tx`true`)}`;
  await tx`
    insert into analytics_hours_done (org_id, hour, computed_at)
    select ${orgId}, h, now() from unnest(${starts}::timestamptz[]) as h
    on conflict (org_id, hour) do update set computed_at = excluded.computed_at`;
}

/** The org's hours that are over and not computed yet, newest first (the ranges people look at are built first). */
async function missingHours(tx: Sql, limit: number): Promise<Array<{ org_id: number; hour: Date }>> {
  return tx<Array<{ org_id: number; hour: Date }>>`
    select o.id as org_id, g.h as hour
    from orgs o
      cross join lateral (select min(created_at) as first from alerts where org_id = o.id) f
      cross join lateral generate_series(date_trunc('hour', f.first, 'UTC'), date_trunc('hour', now(), 'UTC') - interval '1 hour', interval '1 hour') g(h)
    where f.first is not null
      and not exists (select 1 from analytics_hours_done d where d.org_id = o.id and d.hour = g.h)
    order by g.h desc, o.id limit ${limit}`;
}

interface Mark { source: 'timeline' | 'messages' | 'events'; mark: number; swept_at: Date }

/**
 * The (org, hour) pairs of the alerts that timeline rows or messages after the mark belong to, and the mark those
 * rows let it move to.
 */
async function changedHours(tx: Sql, m: Mark): Promise<{ hours: Array<{ org_id: number; hour: Date }>; mark: number; full: boolean }> {
  if (m.source === 'events') {
    // Repeats: a routed event's alert (its occurrences changed). The mark stops at the first event not routed yet.
    const rows = await tx<Array<{ id: number; received_at: Date; routed: boolean; org_id: number | null; hour: Date | null }>>`
      select e.id, e.received_at, e.status <> 'accepted' as routed, a.org_id, date_trunc('hour', a.created_at, 'UTC') as hour
      from (select id, received_at, status, alert_id from events where id > ${m.mark} order by id limit ${ROLLUP_IDS_BATCH}) e
      left join alerts a on a.id = e.alert_id order by e.id`;
    const upTo = rows.findIndex((r) => !r.routed);
    const mark = settledPrefix(m.mark, upTo < 0 ? rows : rows.slice(0, upTo), Date.now());
    return { hours: rows.filter((r) => r.hour !== null) as Array<{ org_id: number; hour: Date }>, mark, full: rows.length >= ROLLUP_IDS_BATCH };
  }
  const rows = m.source === 'timeline'
    ? await tx<Array<{ id: number; received_at: Date; org_id: number; hour: Date }>>`
      select t.id, t.at as received_at, a.org_id, date_trunc('hour', a.created_at, 'UTC') as hour
      from (select id, at, alert_id from alert_timeline where id > ${m.mark} order by id limit ${ROLLUP_IDS_BATCH}) t
      join alerts a on a.id = t.alert_id order by t.id`
    : await tx<Array<{ id: number; received_at: Date; org_id: number; hour: Date }>>`
      select x.id, x.created_at as received_at, a.org_id, date_trunc('hour', a.created_at, 'UTC') as hour
      from (select id, created_at, alert_id from messages where id > ${m.mark} order by id limit ${ROLLUP_IDS_BATCH}) x
      join alerts a on a.id = x.alert_id order by x.id`;
  const mark = settledPrefix(m.mark, rows, Date.now());
  return { hours: rows, mark, full: rows.length >= ROLLUP_IDS_BATCH };
}

/**
 * One run of the job: follows the timeline and messages, recomputes the hours they touched, computes hours not
 * computed yet (at most HOURS_PER_RUN), sweeps the recent hours every SWEEP_MS. One transaction, under a lock
 * on the marks (`skipIfBusy`: another run holds them, return at once). `more`: work is waiting.
 */
export async function rollupAnalyticsOnce(pool: Pool, opts: { skipIfBusy?: boolean } = {}): Promise<{ hours: number; more: boolean; busy?: boolean }> {
  return pool.begin(async (tx) => {
    await tx`select set_config('TimeZone', 'UTC', true)`;
    const marks = opts.skipIfBusy
      ? await tx<Mark[]>`select source, mark, swept_at from analytics_rollup_marks order by source for update skip locked`
      : await tx<Mark[]>`select source, mark, swept_at from analytics_rollup_marks order by source for update`;
    if (marks.length < 3) return { hours: 0, more: false, busy: true };
    const current = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const dirty = new Map<string, { org_id: number; hour: Date }>();
    const add = (x: { org_id: number; hour: Date }) => {
      // The current hour is never stored: requests compute it (it is computed once it is over).
      if (x.hour.getTime() < current) dirty.set(`${x.org_id}|${x.hour.getTime()}`, { org_id: Number(x.org_id), hour: x.hour });
    };
    let more = false;
    for (const m of marks) {
      const c = await changedHours(tx, m);
      c.hours.forEach(add);
      more ||= c.full;
      if (c.mark !== m.mark) await tx`update analytics_rollup_marks set mark = ${c.mark} where source = ${m.source}`;
    }
    const timeline = marks.find((m) => m.source === 'timeline')!;
    if (Date.now() - timeline.swept_at.getTime() > SWEEP_MS) {
      const since = new Date(current - SWEEP_HOURS * HOUR_MS);
      const swept = await tx<Array<{ org_id: number; hour: Date }>>`
        select org_id, hour from analytics_hours_done where hour >= ${since} and hour < ${new Date(current)}`;
      swept.forEach(add);
      await tx`update analytics_rollup_marks set swept_at = now() where source = 'timeline'`;
    }
    // A changed hour never computed is left to its turn below (a history being built is not computed twice).
    if (dirty.size) {
      const done = await tx<Array<{ org_id: number; hour: Date }>>`
        select d.org_id, d.hour from analytics_hours_done d
        join unnest(${[...dirty.values()].map((d) => d.org_id)}::bigint[], ${[...dirty.values()].map((d) => d.hour.toISOString())}::timestamptz[]) as x(org_id, hour)
          using (org_id, hour)`;
      const keep = new Set(done.map((d) => `${d.org_id}|${d.hour.getTime()}`));
      for (const k of [...dirty.keys()]) if (!keep.has(k)) dirty.delete(k);
    }
    const missing = await missingHours(tx, HOURS_PER_RUN);
    missing.forEach(add);
    more ||= missing.length >= HOURS_PER_RUN;
    const byOrg = new Map<number, Date[]>();
    for (const d of dirty.values()) byOrg.set(d.org_id, [...(byOrg.get(d.org_id) ?? []), d.hour]);
    for (const [org, hours] of byOrg) await recomputeHours(tx, org, hours);
    return { hours: dirty.size, more };
  });
}

/** Runs until nothing is waiting (the bench and tests build a history's rollups with it). */
export async function rollupAnalyticsAll(pool: Pool): Promise<number> {
  let hours = 0;
  for (;;) {
    const r = await rollupAnalyticsOnce(pool);
    hours += r.hours;
    if (!r.more) return hours;
  }
}
