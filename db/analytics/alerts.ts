// GET /v1/analytics/alerts: how the team responds. One statement aggregates in Postgres over the alerts
// created in the range (an index-only scan of alerts_analytics, which carries every column read here), their
// messages and their action timeline rows, and
// builds the JSON answer itself, so every figure is a JSON number (no numeric-as-string) and JS only
// passes it on. The transaction's time zone is the caller's `tz`: buckets are local hours, days, weeks.
import { z } from 'zod';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, type Actor } from '../actor';
import { HeraldError, parse } from '../errors';
import { rollupAnswer, rollupCanAnswer } from './from-rollup';
import { ACTION_CHANNEL } from './rollup';
import { BUCKETS, FilterFields, RangeFields, resolveRange, type Filters, type ResolvedRange } from './filters';

export const AnalyticsQuerySchema = z.object({
  ...RangeFields,
  bucket: z.enum(BUCKETS).default('day'),
  ...FilterFields,
}).strict();

const pcts = z.object({ p50: z.number().nullable(), p90: z.number().nullable(), mean: z.number().nullable() });
const counts = { created: z.number().int(), acknowledged: z.number().int(), resolved: z.number().int(), escalated: z.number().int() };
/** The answer, for the OpenAPI document (AlertAnalytics is its type). */
export const AnalyticsAnswerSchema = z.object({
  range: z.object({ from: z.string(), to: z.string(), bucket: z.enum(BUCKETS), tz: z.string() }),
  filters: z.object({ category: z.string().nullable(), priority: z.array(z.string()).nullable(), rule_id: z.number().nullable(), role: z.string().nullable() }),
  totals: z.object({ ...counts, ack_rate: z.number().nullable(), escalation_rate: z.number().nullable(), mtta_s: pcts, mttr_s: pcts }),
  series: z.array(z.object({ t: z.string(), ...counts, mtta_p50_s: z.number().nullable() })),
  by_category: z.array(z.object({ category: z.string(), ...counts, mtta_p50_s: z.number().nullable(), mttr_p50_s: z.number().nullable() })),
  by_channel: z.array(z.object({ channel: z.string(), sent: z.number().int(), delivered: z.number().int(), failed: z.number().int(), acted: z.number().int() })),
  by_person: z.array(z.object({ user_id: z.number().int(), name: z.string().nullable(), acknowledged: z.number().int(), mtta_p50_s: z.number().nullable() })),
  noisiest: z.array(z.union([
    z.object({ rule_id: z.number().int(), name: z.string().nullable(), alerts: z.number().int() }),
    z.object({ dedup_key: z.string(), alerts: z.number().int(), occurrences: z.number().int() }),
  ])),
  approximate: z.boolean().describe('true: the percentiles (p50, p90 and every *_p50_s) come from log-scale histograms and are within 1 % of the exact '
    + 'figure; the range held more than HERALD_ANALYTICS_EXACT_ALERTS alerts (default 5,000). Counts, rates and means are exact either way.'),
});

export interface Percentiles { p50: number | null; p90: number | null; mean: number | null }
export interface AlertAnalytics {
  range: { from: string; to: string; bucket: string; tz: string };
  filters: { category: string | null; priority: string[] | null; rule_id: number | null; role: string | null };
  totals: {
    created: number; acknowledged: number; resolved: number; escalated: number;
    ack_rate: number | null; escalation_rate: number | null; mtta_s: Percentiles; mttr_s: Percentiles;
  };
  series: Array<{ t: string; created: number; acknowledged: number; resolved: number; escalated: number; mtta_p50_s: number | null }>;
  by_category: Array<{ category: string; created: number; acknowledged: number; resolved: number; escalated: number; mtta_p50_s: number | null; mttr_p50_s: number | null }>;
  by_channel: Array<{ channel: string; sent: number; delivered: number; failed: number; acted: number }>;
  by_person: Array<{ user_id: number; name: string; acknowledged: number; mtta_p50_s: number | null }>;
  noisiest: Array<{ rule_id: number; name: string | null; alerts: number } | { dedup_key: string; alerts: number; occurrences: number }>;
  /**
   * true: the percentiles come from 1 % histograms (within 1 % of the exact figure), the range holding more than
   * HERALD_ANALYTICS_EXACT_ALERTS alerts; counts, rates and means are exact either way.
   */
  approximate: boolean;
}

const NOISIEST = 10;
/** A range too big to answer in this time is refused (503 with advice) rather than tying up a connection. */
export const ANALYTICS_TIMEOUT_MS = 20_000;
const PEOPLE = 100;
const ANALYTICS_WORK_MEM = '64MB';

/**
 * The where-clause over `alerts a` (or `x`) for an org, a creation range and the filters. Only the filters
 * that are set are written out: a column the statement never names is one the index-only scan of
 * alerts_analytics need not have (the route, the status), whatever plan Postgres caches for it.
 */
export function alertFilter(tx: Sql, orgId: number, r: ResolvedRange, f: Filters, alias: 'a' | 'x' = 'a') {
  const a = tx.unsafe(alias);
  const role = f.role;
  const none = tx``;
  return tx`${a}.org_id = ${orgId} and ${a}.created_at >= ${r.from} and ${a}.created_at < ${r.to}
    ${f.category != null ? tx`and ${a}.category = ${f.category}` : none}
    ${f.priority != null ? tx`and ${a}.priority = any(${f.priority}::text[])` : none}
    ${f.status != null ? tx`and ${a}.status = any(${f.status}::text[])` : none}
    ${f.rule_id != null ? tx`and ${a}.rule_ids @> array[${f.rule_id}::bigint]` : none}
    ${role != null ? tx`and (
      ${a}.route -> 'rules' @> jsonb_build_array(jsonb_build_object('targets', jsonb_build_object('roles', jsonb_build_array(${role}::text))))
      or ${a}.route -> 'escalation' -> 'steps' @> jsonb_build_array(jsonb_build_object('roles', jsonb_build_array(${role}::text))))` : none}`;
}

/**
 * The settings of an analytics transaction, in one round trip. A month of a million alerts is ~80,000 rows of the
 * range sorted several times (the percentiles): in memory rather than spilled to temporary files (the default
 * 4 MB holds about 50,000). Planned for each request's own range and filters: after five runs of a prepared
 * statement Postgres may switch to one generic plan, which measured twice as slow for a month.
 */
function analyticsSettings(tx: Sql) {
  return tx`select set_config('statement_timeout', ${String(ANALYTICS_TIMEOUT_MS)}, true), set_config('work_mem', ${ANALYTICS_WORK_MEM}, true),
    set_config('plan_cache_mode', 'force_custom_plan', true)`;
}

export async function alertAnalytics(h: Herald, actor: Actor, query: unknown): Promise<AlertAnalytics> {
  require(actor, 'alerts:read');
  const q = parse(AnalyticsQuerySchema, query, 'query');
  const f: Filters = { category: q.category, priority: q.priority, rule_id: q.rule_id, role: q.role };
  return h.sql.begin(async (tx) => {
    await analyticsSettings(tx);
    const r = await resolveRange(tx, q, q.bucket);
    const range = { from: r.from.toISOString(), to: r.to.toISOString(), bucket: q.bucket, tz: r.tz };
    const filters = { category: f.category ?? null, priority: f.priority ?? null, rule_id: f.rule_id ?? null, role: f.role ?? null };
    // A big range (more alerts than answered exactly within the time) is answered from the per-hour rollups
    // (db/analytics/from-rollup.ts) when they carry its filters and time zone and most of its hours are stored.
    const exactMax = h.config.HERALD_ANALYTICS_EXACT_ALERTS;
    const [{ n }] = await tx<{ n: number }[]>`
      select count(*)::int as n from (select 1 from alerts a where ${alertFilter(tx, actor.orgId, r, f)} limit ${exactMax + 1}) x`;
    if (n > exactMax && await rollupCanAnswer(tx, r, f)) {
      const j = await rollupAnswer(tx, actor.orgId, r, f, q.bucket, alertFilter, h.config.HERALD_ANALYTICS_LIVE_ALERTS).catch(tooSlow);
      if (j) return { range, filters, ...j, approximate: true };
    }
    const step = `1 ${q.bucket}`;
    const [row] = await tx<{ j: Omit<AlertAnalytics, 'range' | 'filters' | 'approximate'> }[]>`
      with base as materialized (
        select a.id, a.created_at, a.category, a.dedup_key, a.rule_ids,
          a.escalation_level > 0 as escalated, a.first_acknowledged_at is not null as acked, a.resolved_at is not null as resolved,
          a.first_acknowledged_user_id as ack_user,
          extract(epoch from a.first_acknowledged_at - a.created_at)::float8 as tta,
          extract(epoch from a.resolved_at - a.created_at)::float8 as ttr,
          date_trunc(${q.bucket}, a.created_at) as bucket
        from alerts a where ${alertFilter(tx, actor.orgId, r, f)}
      ),
      totals as (
        select json_build_object(
          'created', t.created, 'acknowledged', t.acked, 'resolved', t.resolved, 'escalated', t.escalated,
          'ack_rate', t.acked::float8 / nullif(t.created, 0), 'escalation_rate', t.escalated::float8 / nullif(t.created, 0),
          'mtta_s', json_build_object('p50', round((t.tta_p[1])::numeric, 3)::float8, 'p90', round((t.tta_p[2])::numeric, 3)::float8, 'mean', round((t.tta_mean)::numeric, 3)::float8),
          'mttr_s', json_build_object('p50', round((t.ttr_p[1])::numeric, 3)::float8, 'p90', round((t.ttr_p[2])::numeric, 3)::float8, 'mean', round((t.ttr_mean)::numeric, 3)::float8)
        ) as j
        from (
          select count(*) as created, count(*) filter (where acked) as acked, count(*) filter (where resolved) as resolved,
            count(*) filter (where escalated) as escalated,
            percentile_cont(array[0.5, 0.9]) within group (order by tta) as tta_p, avg(tta) as tta_mean,
            percentile_cont(array[0.5, 0.9]) within group (order by ttr) as ttr_p, avg(ttr) as ttr_mean
          from base
        ) t
      ),
      per_bucket as (
        select bucket, count(*) as created, count(*) filter (where acked) as acknowledged, count(*) filter (where resolved) as resolved,
          count(*) filter (where escalated) as escalated, round((percentile_cont(0.5) within group (order by tta))::numeric, 3)::float8 as mtta_p50_s
        from base group by bucket
      ),
      series as (
        select coalesce(json_agg(json_build_object(
          't', to_char(g.t, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'),
          'created', coalesce(p.created, 0), 'acknowledged', coalesce(p.acknowledged, 0), 'resolved', coalesce(p.resolved, 0),
          'escalated', coalesce(p.escalated, 0), 'mtta_p50_s', p.mtta_p50_s) order by g.t), '[]'::json) as j
        from generate_series(date_trunc(${q.bucket}, ${r.from}::timestamptz), ${r.to}::timestamptz, ${step}::interval) g(t)
        left join per_bucket p on p.bucket = g.t
        where g.t < ${r.to}::timestamptz
      ),
      by_category as (
        select coalesce(json_agg(json_build_object('category', category, 'created', created, 'acknowledged', acknowledged,
          'resolved', resolved, 'escalated', escalated, 'mtta_p50_s', mtta_p50_s, 'mttr_p50_s', mttr_p50_s) order by created desc, category collate "C"), '[]'::json) as j
        from (
          select category, count(*) as created, count(*) filter (where acked) as acknowledged, count(*) filter (where resolved) as resolved,
            count(*) filter (where escalated) as escalated,
            round((percentile_cont(0.5) within group (order by tta))::numeric, 3)::float8 as mtta_p50_s,
            round((percentile_cont(0.5) within group (order by ttr))::numeric, 3)::float8 as mttr_p50_s
          from base group by category
        ) c
      ),
      sent as (
        select m.channel, count(*) filter (where m.status not in ('pending', 'held')) as sent,
          count(*) filter (where m.status = 'delivered') as delivered, count(*) filter (where m.status = 'failed') as failed
        from messages m join base b on b.id = m.alert_id
        where m.created_at >= ${r.from} group by m.channel
      ),
      acted as (
        select ${tx.unsafe(ACTION_CHANNEL)} as channel, count(*) as acted
        from alert_timeline t join base b on b.id = t.alert_id
        where t.kind in ('acknowledged', 'snoozed', 'resolved') and t.at >= ${r.from}
        group by 1
      ),
      by_channel as (
        select coalesce(json_agg(json_build_object('channel', channel, 'sent', coalesce(s.sent, 0), 'delivered', coalesce(s.delivered, 0),
          'failed', coalesce(s.failed, 0), 'acted', coalesce(x.acted, 0)) order by coalesce(s.sent, 0) desc, channel collate "C"), '[]'::json) as j
        from sent s full join acted x using (channel)
        where channel is not null
      ),
      by_person as (
        select coalesce(json_agg(json_build_object('user_id', p.user_id,
          -- The name at the time, from the alerts, only for someone no longer in users (rare: read from the heap).
          'name', coalesce(u.name, (select max(x.first_acknowledged_by->>'name') from alerts x
            where ${alertFilter(tx, actor.orgId, r, f, 'x')} and x.first_acknowledged_user_id = p.user_id)),
          'acknowledged', p.acknowledged, 'mtta_p50_s', p.mtta_p50_s) order by p.acknowledged desc, p.user_id), '[]'::json) as j
        from (
          select ack_user as user_id, count(*) as acknowledged,
            round((percentile_cont(0.5) within group (order by tta))::numeric, 3)::float8 as mtta_p50_s
          from base where ack_user is not null group by 1
          order by 2 desc, 1 limit ${PEOPLE}
        ) p left join users u on u.id = p.user_id
      ),
      noisy_rules as (
        -- Alerts share a handful of rule sets: count each set, then spread the counts over its rules.
        select r.rule_id, sum(s.n)::bigint as alerts
        from (select rule_ids, count(*) as n from base group by rule_ids) s, unnest(s.rule_ids) as r(rule_id)
        group by 1 order by 2 desc, 1 limit ${NOISIEST}
      ),
      -- Occurrences are not in the analytics index (a repeat changes them, and an indexed column would make
      -- every repeat a non-HOT update on the ingest path): they are read from the table only for the keys that
      -- can make the list, those counting at least as many alerts as the last place (ties included).
      key_counts as (select dedup_key, count(*) as alerts from base group by 1),
      key_cutoff as (select alerts from key_counts order by alerts desc limit 1 offset ${NOISIEST - 1}),
      noisy_keys as (
        select b.dedup_key, count(*) as alerts, sum(a.occurrences) as occurrences
        from base b join alerts a on a.id = b.id
        where b.dedup_key in (select dedup_key from key_counts where alerts >= coalesce((select alerts from key_cutoff), 0))
        group by 1 order by 2 desc, 3 desc, b.dedup_key collate "C" limit ${NOISIEST}
      ),
      -- Ties are broken by key in the C collation's order (code points) whatever the database's collation: the
      -- answer from rollups (from-rollup.ts) orders them the same way in Node.
      noisiest as (
        select coalesce(json_agg(x.j order by x.alerts desc, x.ord, x.occ desc, x.k collate "C"), '[]'::json) as j from (
          select json_build_object('rule_id', n.rule_id, 'name', ru.name, 'alerts', n.alerts) as j, n.alerts, 0 as ord, 0::bigint as occ, lpad(n.rule_id::text, 20, '0') as k
          from noisy_rules n left join rules ru on ru.id = n.rule_id and ru.org_id = ${actor.orgId}
          union all
          select json_build_object('dedup_key', k.dedup_key, 'alerts', k.alerts, 'occurrences', k.occurrences), k.alerts, 1, k.occurrences, k.dedup_key from noisy_keys k
        ) x
      )
      select json_build_object('totals', (select j from totals), 'series', (select j from series), 'by_category', (select j from by_category),
        'by_channel', (select j from by_channel), 'by_person', (select j from by_person), 'noisiest', (select j from noisiest)) as j`
      .catch(tooSlow);
    return { range, filters, ...row.j, approximate: false };
  });
}

function tooSlow(e: { code?: string }): never {
  if (e.code === '57014') {
    throw new HeraldError(503, 'Too slow', `The range holds too many alerts to answer within ${ANALYTICS_TIMEOUT_MS / 1000} s; narrow the range or add a filter`,
      undefined, { 'Retry-After': '60' });
  }
  throw e;
}
