// GET /v1/analytics/alerts answered from the per-hour rollups (db/analytics/rollup.ts) for the whole UTC hours of
// the range that are stored and unchanged since, plus the same per-hour rows computed on the fly from the base
// tables for the rest (the partial hours at either end, the current hour, hours changed since the job's last
// run, hours not built yet). Counts are therefore exactly the exact statement's; percentiles come from the
// 1 % log-scale histograms (interpolated between the two nearest ranks as percentile_cont is, each within 1 %
// of the value it stands for), so the answer says `approximate: true`.
//
// Used only when the range holds more than HERALD_ANALYTICS_EXACT_ALERTS alerts, with no `role` or `rule_id`
// filter (the rows are not kept per route or rule set), and in a time zone whose offsets are whole hours over
// the range (a local day is then a set of whole UTC hours). Otherwise alerts.ts answers exactly.
import type { Sql } from '../platform/sql';
import type { Bucket, Filters, ResolvedRange } from './filters';
import { hourRows } from './rollup';
import { binValue } from '../metrics/sketch';
import type { AlertAnalytics, alertFilter } from './alerts';

const HOUR_MS = 3_600_000;
const NOISIEST = 10;
const PEOPLE = 100;
/** At most this many timeline rows / messages past the job's marks are looked at for hours changed since. */
const LIVE_CHANGES = 20_000;

type Where = typeof alertFilter;

/** Whether the rollups can answer: no role / rule filter and whole-hour offsets of `tz` over the range. */
export async function rollupCanAnswer(tx: Sql, r: ResolvedRange, f: Filters): Promise<boolean> {
  if (f.role != null || f.rule_id != null || f.status != null) return false;
  // The transaction's zone is `tz` (resolveRange): extract(timezone …) is its offset at each instant.
  const [x] = await tx<{ ok: boolean }[]>`
    select bool_and(extract(timezone from g)::int % 3600 = 0) as ok
    from (select generate_series(${r.from}::timestamptz, ${r.to}::timestamptz, interval '1 hour') as g union all select ${r.to}::timestamptz) s`;
  return !!x?.ok;
}

/** The stored hours of [from, to) that can be read as they are: whole, computed, and not changed since. */
async function coveredHours(tx: Sql, orgId: number, r: ResolvedRange): Promise<Date[]> {
  const cfrom = new Date(Math.ceil(r.from.getTime() / HOUR_MS) * HOUR_MS);
  const cto = new Date(Math.min(Math.floor(r.to.getTime() / HOUR_MS), Math.floor(Date.now() / HOUR_MS)) * HOUR_MS);
  if (cto <= cfrom) return [];
  const rows = await tx<{ hour: Date }[]>`
    select d.hour from analytics_hours_done d
    where d.org_id = ${orgId} and d.hour >= ${cfrom} and d.hour < ${cto}
      and d.hour not in (
        select date_trunc('hour', a.created_at, 'UTC') from (
          select alert_id from alert_timeline where id > (select mark from analytics_rollup_marks where source = 'timeline')
          order by id limit ${LIVE_CHANGES}) t join alerts a on a.id = t.alert_id
        union
        select date_trunc('hour', a.created_at, 'UTC') from (
          select alert_id from messages where id > (select mark from analytics_rollup_marks where source = 'messages')
          order by id limit ${LIVE_CHANGES}) m join alerts a on a.id = m.alert_id
        union
        select date_trunc('hour', a.created_at, 'UTC') from (
          select alert_id from events where id > (select mark from analytics_rollup_marks where source = 'events')
          order by id limit ${LIVE_CHANGES}) e join alerts a on a.id = e.alert_id)
    order by d.hour`;
  return rows.map((x) => x.hour);
}

/** [lo, hi) pieces of the range outside the covered hours. */
function uncovered(r: ResolvedRange, covered: Date[]): { lo: string[]; hi: string[] } {
  const lo: string[] = [];
  const hi: string[] = [];
  let at = r.from.getTime();
  for (const h of covered) {
    const t = h.getTime();
    if (t > at) { lo.push(new Date(at).toISOString()); hi.push(new Date(t).toISOString()); }
    at = Math.max(at, t + HOUR_MS);
  }
  if (r.to.getTime() > at) { lo.push(new Date(at).toISOString()); hi.push(r.to.toISOString()); }
  return { lo, hi };
}

/** The bins of positive durations from about a millisecond to 30 years (sketch bins 100000 + ceil(log_gamma v)). */
const DENSE_FROM = 99_600;
const DENSE_SIZE = 1_500;
/**
 * A histogram of sketch bins: counts in a typed array for the bins every real duration falls in (a month adds
 * ~300,000 entries into a few dozen histograms: array slots instead of map lookups), a map for any other bin
 * (zero, negative, sub-millisecond or longer than decades).
 */
export class Hist {
  readonly dense = new Uint32Array(DENSE_SIZE);
  readonly other = new Map<number, number>();
  total = 0;
  add(bin: number, n: number) {
    if (n <= 0) return;
    const i = bin - DENSE_FROM;
    if (i >= 0 && i < DENSE_SIZE) this.dense[i] += n;
    else this.other.set(bin, (this.other.get(bin) ?? 0) + n);
    this.total += n;
  }
  /** [bin, count] in ascending order of bins (and so of values). */
  *entries(): Generator<[number, number]> {
    const other = [...this.other].sort((x, y) => x[0] - y[0]);
    let j = 0;
    while (j < other.length && other[j][0] < DENSE_FROM) yield other[j++];
    for (let i = 0; i < DENSE_SIZE; i++) if (this.dense[i]) yield [DENSE_FROM + i, this.dense[i]];
    while (j < other.length) yield other[j++];
  }
}
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The q-quantile of a histogram as percentile_cont computes it (interpolated between the two nearest ranks),
 * each rank's value read as its bin's representative (within 1 %); null when empty.
 */
export function histQuantile(h: Hist | undefined, q: number): number | null {
  if (!h || !h.total) return null;
  const r = q * (h.total - 1);
  const lo = Math.floor(r), hi = Math.ceil(r);
  // The value at a rank: the bin where the running count first passes it.
  let cum = 0, last = 0;
  let atLo: number | null = null, atHi: number | null = null;
  for (const [bin, n] of h.entries()) {
    cum += n;
    last = bin;
    if (atLo === null && cum > lo) atLo = binValue(bin);
    if (cum > hi) { atHi = binValue(bin); break; }
  }
  atLo ??= binValue(last);
  atHi ??= binValue(last);
  return round3(atLo + (r - lo) * (atHi - atLo));
}

type Answer = Omit<AlertAnalytics, 'range' | 'filters' | 'approximate'>;
type NoisyRule = { rule_id: number; name: string | null; alerts: number };
type NoisyKey = { dedup_key: string; alerts: number; occurrences: number };

/** Text order of the C collation (UTF-8 bytes, i.e. code points), which the exact statement sorts keys by. */
const byCodePoints = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The exact statement's noisiest list: the NOISIEST rules (already chosen) and the NOISIEST dedup keys by alerts,
 * then occurrences, then key; together by alerts, rules before keys on a tie.
 */
export function noisiest(rules: NoisyRule[], keys: Map<string, { alerts: number; occurrences: number }>): Array<NoisyRule | NoisyKey> {
  const top: NoisyKey[] = [];
  const worse = (a: NoisyKey, b: NoisyKey) => a.alerts - b.alerts || a.occurrences - b.occurrences || byCodePoints(b.dedup_key, a.dedup_key);
  for (const [dedup_key, k] of keys) {
    const c = { dedup_key, alerts: k.alerts, occurrences: k.occurrences };
    if (top.length < NOISIEST) top.push(c);
    else if (worse(top[top.length - 1], c) < 0) top[top.length - 1] = c;
    else continue;
    top.sort((a, b) => worse(b, a));
  }
  const rank = (x: NoisyRule | NoisyKey) => ('rule_id' in x ? 0 : 1);
  return [...rules, ...top].sort((a, b) => b.alerts - a.alerts || rank(a) - rank(b)
    || ('rule_id' in a && 'rule_id' in b ? a.rule_id - b.rule_id : worse(b as NoisyKey, a as NoisyKey)));
}

/** A stored or computed hour row's details: its bucket (epoch seconds), categories, histograms and dedup keys. */
interface DetailRow { e: number; cats: string[]; tta: Buffer; ttr: Buffer; keys: string }

function addUp(rows: DetailRow[]) {
  // The histograms, read here: Node adds up ~100,000 entries for a month several times faster than SQL groups them.
  const allA = new Hist(), allR = new Hist();
  const byBucket = new Map<number, Hist>(), byCatA = new Map<string, Hist>(), byCatR = new Map<string, Hist>(), byUser = new Map<number, Hist>();
  const of = <K>(m: Map<K, Hist>, k: K) => { let h = m.get(k); if (!h) m.set(k, (h = new Hist())); return h; };
  // Dedup keys: each hour lists its alerts' keys (one entry per alert); a month is ~80,000 entries, which Node
  // adds up in a few milliseconds where grouping them in SQL took ~80 ms.
  const keys = new Map<string, { alerts: number; occurrences: number }>();
  for (const x of rows) {
    const [names, alerts, occurrences] = JSON.parse(x.keys) as [string[], number[], number[]];
    for (let i = 0; i < names.length; i++) {
      const k = keys.get(names[i]);
      if (k) { k.alerts += alerts[i]; k.occurrences += occurrences[i]; } else keys.set(names[i], { alerts: alerts[i], occurrences: occurrences[i] });
    }
    const cats = x.cats;
    const bh = of(byBucket, x.e);
    const a = x.tta;
    for (let o = 0; o + 18 <= a.length; o += 18) {
      const bin = a.readInt32BE(o), usr = a.readInt32BE(o + 4) * 4294967296 + a.readUInt32BE(o + 8), ci = a.readInt16BE(o + 12), n = a.readInt32BE(o + 14);
      allA.add(bin, n); bh.add(bin, n); of(byCatA, cats[ci]).add(bin, n);
      if (usr !== 0) of(byUser, usr).add(bin, n);
    }
    const t = x.ttr;
    for (let o = 0; o + 10 <= t.length; o += 10) {
      const bin = t.readInt32BE(o), ci = t.readInt16BE(o + 4), n = t.readInt32BE(o + 6);
      allR.add(bin, n); of(byCatR, cats[ci]).add(bin, n);
    }
  }
  return { allA, allR, byBucket, byCatA, byCatR, byUser, keys };
}

/** The answer from the hour rows (stored, or computed for the pieces of the range they do not cover). */
export async function rollupAnswer(tx: Sql, orgId: number, r: ResolvedRange, f: Filters, bucket: Bucket, where: Where): Promise<Answer> {
  const covered = await coveredHours(tx, orgId, r);
  const rest = uncovered(r, covered);
  const none = tx``;
  const step = `1 ${bucket}`;
  // Without a category or priority filter the hour's all-categories row ('*') is read; with one, its rows per category and priority.
  const whole = f.category == null && f.priority == null;
  const pick = (t: Sql, alias: 'h' | 'x') => {
    const c = t.unsafe(alias);
    return whole ? t`${c}.category = '*'` : t`${c}.category <> '*'`;
  };
  // The hour rows of the range with the given columns: stored ones and, for the rest, the same rows computed from the
  // base tables. Each statement reads only its own columns (the details' arrays are most of a stored row's bytes).
  const hours = (t: Sql, columns: string) => {
    const of = (alias: string) => t.unsafe(columns.split(',').map((c) => `${alias}.${c.trim()}`).join(', '));
    return t`
      select ${of('h')}
      from analytics_hours h
      where h.org_id = ${orgId} and h.hour = any(${covered.map((d) => d.toISOString())}::timestamptz[]) and ${pick(t, 'h')}
        ${f.category != null ? t`and h.category = ${f.category}` : none}
        ${f.priority != null ? t`and h.priority = any(${f.priority}::text[])` : none}
      union all
      select ${of('x')}
      from (${hourRows(t,
        t`from unnest(${rest.lo}::timestamptz[], ${rest.hi}::timestamptz[]) as rg(lo, hi) join alerts a on a.org_id = ${orgId} and a.created_at >= rg.lo and a.created_at < rg.hi`,
        where(t, orgId, r, f))}) x
      where ${pick(t, 'x')}`;
  };
  // Two statements sent at once (pipelined on the request's connection): first the per-hour details (histograms and
  // dedup keys), which Node adds up as soon as they arrive, while Postgres computes the aggregates, sent right after.
  const details = tx<DetailRow[]>`
    select extract(epoch from date_trunc(${bucket}, hour))::float8 as e, cats, tta, ttr, json_build_array(dedup_keys, key_alerts, key_occurrences)::text as keys
    from (${hours(tx, 'hour, cats, tta, ttr, dedup_keys, key_alerts, key_occurrences')}) h`.then(addUp);
  const aggregates = tx<Array<{ j: Answer }>>`
    with hrs as materialized (${hours(tx, `hour, category, created, acknowledged, resolved, escalated, tta_sum, ttr_sum, channels, sent, delivered,
      failed, acted, ack_users, ack_counts, rules, rule_counts, cats, cat_created, cat_acknowledged, cat_resolved, cat_escalated`)}),
    b as materialized (select date_trunc(${bucket}, hour) as bucket, * from hrs),
    sums as (
      select sum(created)::bigint as created, sum(acknowledged)::bigint as acked, sum(resolved)::bigint as resolved,
        sum(escalated)::bigint as escalated, sum(tta_sum) as tta_sum, sum(ttr_sum) as ttr_sum from b
    ),
    totals as (
      select json_build_object(
        'created', coalesce(s.created, 0), 'acknowledged', coalesce(s.acked, 0), 'resolved', coalesce(s.resolved, 0), 'escalated', coalesce(s.escalated, 0),
        'ack_rate', s.acked::float8 / nullif(s.created, 0), 'escalation_rate', s.escalated::float8 / nullif(s.created, 0),
        'mtta_s', json_build_object('p50', null, 'p90', null, 'mean', round((s.tta_sum / nullif(s.acked, 0))::numeric, 3)::float8),
        'mttr_s', json_build_object('p50', null, 'p90', null, 'mean', round((s.ttr_sum / nullif(s.resolved, 0))::numeric, 3)::float8)
      ) as j
      from sums s
    ),
    per_bucket as (
      select bucket, sum(created) as created, sum(acknowledged) as acknowledged, sum(resolved) as resolved, sum(escalated) as escalated
      from b group by bucket
    ),
    series as (
      select coalesce(json_agg(json_build_object(
        't', to_char(g.t, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'),
        'created', coalesce(p.created, 0), 'acknowledged', coalesce(p.acknowledged, 0), 'resolved', coalesce(p.resolved, 0),
        'escalated', coalesce(p.escalated, 0), 'mtta_p50_s', null, 'e', extract(epoch from g.t)::float8) order by g.t), '[]'::json) as j
      from generate_series(date_trunc(${bucket}, ${r.from}::timestamptz), ${r.to}::timestamptz, ${step}::interval) g(t)
      left join per_bucket p on p.bucket = g.t
      where g.t < ${r.to}::timestamptz
    ),
    by_category as (
      select coalesce(json_agg(json_build_object('category', c.category, 'created', c.created, 'acknowledged', c.acknowledged,
        'resolved', c.resolved, 'escalated', c.escalated, 'mtta_p50_s', null, 'mttr_p50_s', null) order by c.created desc, c.category), '[]'::json) as j
      from (
        select u.category, sum(u.created) as created, sum(u.acknowledged) as acknowledged, sum(u.resolved) as resolved, sum(u.escalated) as escalated
        from b, unnest(b.cats, b.cat_created, b.cat_acknowledged, b.cat_resolved, b.cat_escalated) as u(category, created, acknowledged, resolved, escalated)
        group by u.category
      ) c
    ),
    by_channel as (
      select coalesce(json_agg(json_build_object('channel', channel, 'sent', sent, 'delivered', delivered, 'failed', failed, 'acted', acted)
        order by sent desc, channel), '[]'::json) as j
      from (
        select u.channel, sum(u.sent) as sent, sum(u.delivered) as delivered, sum(u.failed) as failed, sum(u.acted) as acted
        from b, unnest(b.channels, b.sent, b.delivered, b.failed, b.acted) as u(channel, sent, delivered, failed, acted)
        group by u.channel
      ) c
    ),
    by_person as (
      select coalesce(json_agg(json_build_object('user_id', p.user_id,
        'name', coalesce(u.name, (select max(x.first_acknowledged_by->>'name') from alerts x
          where ${where(tx, orgId, r, f, 'x')} and x.first_acknowledged_user_id = p.user_id)),
        'acknowledged', p.acknowledged, 'mtta_p50_s', null) order by p.acknowledged desc, p.user_id), '[]'::json) as j
      from (
        select u.user_id, sum(u.n) as acknowledged
        from b, unnest(b.ack_users, b.ack_counts) as u(user_id, n)
        group by 1 order by 2 desc, 1 limit ${PEOPLE}
      ) p
        left join users u on u.id = p.user_id
    ),
    noisy_rules as (
      select u.rule_id, sum(u.n)::bigint as alerts
      from b, unnest(b.rules, b.rule_counts) as u(rule_id, n)
      group by 1 order by 2 desc, 1 limit ${NOISIEST}
    ),
    -- The rules' part of the noisiest list; the dedup keys are added up in Node from each hour's (see below).
    noisiest as (
      select coalesce(json_agg(json_build_object('rule_id', n.rule_id, 'name', ru.name, 'alerts', n.alerts) order by n.alerts desc, n.rule_id), '[]'::json) as j
      from noisy_rules n left join rules ru on ru.id = n.rule_id and ru.org_id = ${orgId}
    )
    select json_build_object('totals', (select j from totals), 'series', (select j from series), 'by_category', (select j from by_category),
      'by_channel', (select j from by_channel), 'by_person', (select j from by_person), 'noisiest', (select j from noisiest)) as j`
    .then(([x]) => x.j);
  // Node adds up the details as soon as they arrive, while Postgres is still computing the aggregates.
  const [answer, { allA, allR, byBucket, byCatA, byCatR, byUser, keys }] = await Promise.all([aggregates, details]);
  answer.totals.mtta_s.p50 = histQuantile(allA, 0.5);
  answer.totals.mtta_s.p90 = histQuantile(allA, 0.9);
  answer.totals.mttr_s.p50 = histQuantile(allR, 0.5);
  answer.totals.mttr_s.p90 = histQuantile(allR, 0.9);
  for (const p of answer.series as Array<AlertAnalytics['series'][number] & { e?: number }>) {
    p.mtta_p50_s = histQuantile(byBucket.get(p.e!), 0.5);
    delete p.e;
  }
  for (const c of answer.by_category) {
    c.mtta_p50_s = histQuantile(byCatA.get(c.category), 0.5);
    c.mttr_p50_s = histQuantile(byCatR.get(c.category), 0.5);
  }
  for (const p of answer.by_person) p.mtta_p50_s = histQuantile(byUser.get(p.user_id), 0.5);
  answer.noisiest = noisiest(answer.noisiest as NoisyRule[], keys);
  return answer;
}
