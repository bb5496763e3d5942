// GET /v1/analytics/alerts answered from the per-hour rollups (db/analytics/rollup.ts) for the whole UTC hours of
// the range that are stored and unchanged since, plus the same per-hour rows computed on the fly from the base
// tables for the rest (the partial hours at either end, the current hour, hours changed since the job's last
// run, hours not built yet). Counts are therefore exactly the exact statement's; percentiles come from the
// 1 % log-scale histograms (interpolated between the two nearest ranks as percentile_cont is, each within 1 %
// of the value it stands for), so the answer says `approximate: true`.
//
// Used only when the range holds more than HERALD_ANALYTICS_EXACT_ALERTS alerts, with no `role` or `rule_id`
// filter (the rows are not kept per route or rule set), and in a time zone whose offsets are whole hours over
// the range (a local day is then a set of whole UTC hours), while at most HERALD_ANALYTICS_LIVE_ALERTS (20,000) of
// its alerts lie outside the stored hours. Otherwise alerts.ts answers exactly.
//
// One statement reads the hour rows and Node adds up every part of the answer as each row arrives (HourSums):
// Postgres only reads and sends (a second statement computing the aggregates ran after the first, on the same
// backend, and made the month's answer about 45 ms longer).
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

/**
 * Text order of the C collation (UTF-8 bytes, i.e. code points), which the exact statement sorts categories,
 * channels and keys by.
 */
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

/**
 * An hour row as the answer reads it: its bucket (epoch seconds), histograms, and the rest as one JSON array
 * (`ROW_JSON`: one JSON.parse instead of the driver parsing a dozen array literals).
 */
interface HourRow { e: number; tta: Buffer; ttr: Buffer; j: string }
/** The stored columns in `ROW_JSON`, in `RowJson`'s order. */
const JSON_COLUMNS = ['created', 'acknowledged', 'resolved', 'escalated', 'tta_sum', 'ttr_sum', 'channels', 'sent', 'delivered', 'failed', 'acted',
  'ack_users', 'ack_counts', 'rules', 'rule_counts', 'cats', 'cat_created', 'cat_acknowledged', 'cat_resolved', 'cat_escalated', 'dedup_keys', 'key_alerts', 'key_occurrences'];
const ROW_JSON = `json_build_array(${JSON_COLUMNS.join(', ')})::text`;
/** The columns each hour row is read with: its hour, the histograms and `ROW_JSON`'s. */
const HOUR_COLUMNS = ['hour', 'tta', 'ttr', ...JSON_COLUMNS];
type RowJson = [number, number, number, number, number, number, string[], number[], number[], number[], number[],
  number[], number[], number[], number[], string[], number[], number[], number[], number[], string[], number[], number[]];
type Counts = { created: number; acknowledged: number; resolved: number; escalated: number };

/**
 * The answer added up from hour rows, one row at a time as they arrive (Node adds while Postgres still reads and
 * sends the rest): the counts, sums and splits the exact statement computes, and the histograms its percentiles
 * are read from.
 */
export class HourSums {
  readonly totals: Counts & { ttaSum: number; ttrSum: number } = { created: 0, acknowledged: 0, resolved: 0, escalated: 0, ttaSum: 0, ttrSum: 0 };
  readonly buckets = new Map<number, Counts & { tta: Hist }>();
  readonly categories = new Map<string, Counts & { tta: Hist; ttr: Hist }>();
  readonly channels = new Map<string, { sent: number; delivered: number; failed: number; acted: number }>();
  readonly people = new Map<number, { acknowledged: number; tta: Hist }>();
  readonly rules = new Map<number, number>();
  readonly keys = new Map<string, { alerts: number; occurrences: number }>();
  readonly tta = new Hist();
  readonly ttr = new Hist();

  add(row: HourRow) {
    const [created, acknowledged, resolved, escalated, ttaSum, ttrSum, channels, sent, delivered, failed, acted,
      ackUsers, ackCounts, rules, ruleCounts, cats, catCreated, catAcknowledged, catResolved, catEscalated, keys, keyAlerts, keyOccurrences] = JSON.parse(row.j) as RowJson;
    const t = this.totals;
    t.created += created; t.acknowledged += acknowledged; t.resolved += resolved; t.escalated += escalated;
    t.ttaSum += ttaSum; t.ttrSum += ttrSum;
    let b = this.buckets.get(row.e);
    if (!b) this.buckets.set(row.e, (b = { created: 0, acknowledged: 0, resolved: 0, escalated: 0, tta: new Hist() }));
    b.created += created; b.acknowledged += acknowledged; b.resolved += resolved; b.escalated += escalated;
    const cat = (i: number) => {
      let c = this.categories.get(cats[i]);
      if (!c) this.categories.set(cats[i], (c = { created: 0, acknowledged: 0, resolved: 0, escalated: 0, tta: new Hist(), ttr: new Hist() }));
      return c;
    };
    for (let i = 0; i < cats.length; i++) {
      const c = cat(i);
      c.created += catCreated[i]; c.acknowledged += catAcknowledged[i]; c.resolved += catResolved[i]; c.escalated += catEscalated[i];
    }
    for (let i = 0; i < channels.length; i++) {
      let c = this.channels.get(channels[i]);
      if (!c) this.channels.set(channels[i], (c = { sent: 0, delivered: 0, failed: 0, acted: 0 }));
      c.sent += sent[i]; c.delivered += delivered[i]; c.failed += failed[i]; c.acted += acted[i];
    }
    const person = (id: number) => {
      let p = this.people.get(id);
      if (!p) this.people.set(id, (p = { acknowledged: 0, tta: new Hist() }));
      return p;
    };
    for (let i = 0; i < ackUsers.length; i++) person(ackUsers[i]).acknowledged += ackCounts[i];
    for (let i = 0; i < rules.length; i++) this.rules.set(rules[i], (this.rules.get(rules[i]) ?? 0) + ruleCounts[i]);
    // Dedup keys: each hour lists its alerts' keys (one entry per alert); a month is ~80,000 entries, which Node
    // adds up in a few milliseconds where grouping them in SQL took ~80 ms.
    for (let i = 0; i < keys.length; i++) {
      const k = this.keys.get(keys[i]);
      if (k) { k.alerts += keyAlerts[i]; k.occurrences += keyOccurrences[i]; } else this.keys.set(keys[i], { alerts: keyAlerts[i], occurrences: keyOccurrences[i] });
    }
    // Histogram entries: (bin, user, category index, n) for acknowledgement times, (bin, category index, n) for resolution.
    const a = row.tta;
    for (let o = 0; o + 18 <= a.length; o += 18) {
      const bin = a.readInt32BE(o), usr = a.readInt32BE(o + 4) * 4294967296 + a.readUInt32BE(o + 8), ci = a.readInt16BE(o + 12), n = a.readInt32BE(o + 14);
      this.tta.add(bin, n); b.tta.add(bin, n); cat(ci).tta.add(bin, n);
      if (usr !== 0) person(usr).tta.add(bin, n);
    }
    const r = row.ttr;
    for (let o = 0; o + 10 <= r.length; o += 10) {
      const bin = r.readInt32BE(o), ci = r.readInt16BE(o + 4), n = r.readInt32BE(o + 6);
      this.ttr.add(bin, n); cat(ci).ttr.add(bin, n);
    }
  }
}

const mean = (sum: number, n: number) => (n ? round3(sum / n) : null);

/**
 * The answer from the hour rows (stored, or computed for the pieces of the range they do not cover); null when
 * more than `liveMax` alerts (HERALD_ANALYTICS_LIVE_ALERTS; counted whatever the filters) were created in the
 * range outside its stored hours. Those are computed alert by alert from the base tables, several times the exact
 * statement's cost per alert: a month of 130,000 alerts with no hour stored yet (the history of an upgraded install
 * is built over minutes) took over the 20 s limit, where the exact statement answers it in seconds.
 */
export async function rollupAnswer(tx: Sql, orgId: number, r: ResolvedRange, f: Filters, bucket: Bucket, where: Where, liveMax: number): Promise<Answer | null> {
  const covered = await coveredHours(tx, orgId, r);
  const rest = uncovered(r, covered);
  const [{ live }] = await tx<{ live: number }[]>`
    select count(*)::int as live from (select 1 from unnest(${rest.lo}::timestamptz[], ${rest.hi}::timestamptz[]) as rg(lo, hi)
      join alerts a on a.org_id = ${orgId} and a.created_at >= rg.lo and a.created_at < rg.hi limit ${liveMax + 1}) x`;
  if (live > liveMax) return null;
  const none = tx``;
  // Without a category or priority filter the hour's all-categories row ('*') is read; with one, its rows per category and priority.
  const whole = f.category == null && f.priority == null;
  const pick = (alias: 'h' | 'x') => {
    const c = tx.unsafe(alias);
    return whole ? tx`${c}.category = '*'` : tx`${c}.category <> '*'`;
  };
  // The range's buckets with their labels in `tz`, then the hour rows: stored ones and, for the rest, the same rows
  // computed from the base tables. Sent together (pipelined on the request's connection); Node adds up each
  // hour row as it arrives.
  const buckets = tx<Array<{ e: number; t: string }>>`
    select extract(epoch from g.t)::float8 as e, to_char(g.t, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') as t
    from generate_series(date_trunc(${bucket}, ${r.from}::timestamptz), ${r.to}::timestamptz, ${`1 ${bucket}`}::interval) g(t)
    where g.t < ${r.to}::timestamptz order by g.t`;
  const sums = new HourSums();
  const of = (alias: string) => tx.unsafe(HOUR_COLUMNS.map((c) => `${alias}.${c}`).join(', '));
  const rows = tx<HourRow[]>`
    select extract(epoch from date_trunc(${bucket}, hour))::float8 as e, tta, ttr, ${tx.unsafe(ROW_JSON)} as j from (
      select ${of('h')}
      from analytics_hours h
      where h.org_id = ${orgId} and h.hour = any(${covered.map((d) => d.toISOString())}::timestamptz[]) and ${pick('h')}
        ${f.category != null ? tx`and h.category = ${f.category}` : none}
        ${f.priority != null ? tx`and h.priority = any(${f.priority}::text[])` : none}
      union all
      select ${of('x')}
      from (${hourRows(tx,
        tx`from unnest(${rest.lo}::timestamptz[], ${rest.hi}::timestamptz[]) as rg(lo, hi) join alerts a on a.org_id = ${orgId} and a.created_at >= rg.lo and a.created_at < rg.hi`,
        where(tx, orgId, r, f))}) x
      where ${pick('x')}) h`.forEach((row) => sums.add(row));
  const [series] = await Promise.all([buckets, rows]);

  const people = [...sums.people].filter(([, p]) => p.acknowledged > 0)
    .sort((a, b) => b[1].acknowledged - a[1].acknowledged || a[0] - b[0]).slice(0, PEOPLE);
  const rules = [...sums.rules].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, NOISIEST);
  // Names: a person's from users, or (someone no longer in users, rare) the name at the time from their alerts.
  const [names, ruleNames] = await Promise.all([
    people.length ? tx<Array<{ id: number; name: string | null }>>`
      select p.user_id::float8 as id, coalesce(u.name, (select max(x.first_acknowledged_by->>'name') from alerts x
        where ${where(tx, orgId, r, f, 'x')} and x.first_acknowledged_user_id = p.user_id)) as name
      from unnest(${people.map(([id]) => id)}::bigint[]) as p(user_id) left join users u on u.id = p.user_id` : [],
    rules.length ? tx<Array<{ id: number; name: string }>>`
      select id::float8 as id, name from rules where org_id = ${orgId} and id = any(${rules.map(([id]) => id)}::bigint[])` : [],
  ]);
  const nameOf = new Map(names.map((x) => [Number(x.id), x.name]));
  const ruleName = new Map(ruleNames.map((x) => [Number(x.id), x.name]));

  const t = sums.totals;
  return {
    totals: {
      created: t.created, acknowledged: t.acknowledged, resolved: t.resolved, escalated: t.escalated,
      ack_rate: t.created ? t.acknowledged / t.created : null, escalation_rate: t.created ? t.escalated / t.created : null,
      mtta_s: { p50: histQuantile(sums.tta, 0.5), p90: histQuantile(sums.tta, 0.9), mean: mean(t.ttaSum, t.acknowledged) },
      mttr_s: { p50: histQuantile(sums.ttr, 0.5), p90: histQuantile(sums.ttr, 0.9), mean: mean(t.ttrSum, t.resolved) },
    },
    series: series.map(({ e, t: label }) => {
      const b = sums.buckets.get(e);
      return { t: label, created: b?.created ?? 0, acknowledged: b?.acknowledged ?? 0, resolved: b?.resolved ?? 0, escalated: b?.escalated ?? 0,
        mtta_p50_s: histQuantile(b?.tta, 0.5) };
    }),
    by_category: [...sums.categories].filter(([, c]) => c.created > 0)
      .sort((a, b) => b[1].created - a[1].created || byCodePoints(a[0], b[0]))
      .map(([category, c]) => ({ category, created: c.created, acknowledged: c.acknowledged, resolved: c.resolved, escalated: c.escalated,
        mtta_p50_s: histQuantile(c.tta, 0.5), mttr_p50_s: histQuantile(c.ttr, 0.5) })),
    by_channel: [...sums.channels].sort((a, b) => b[1].sent - a[1].sent || byCodePoints(a[0], b[0]))
      .map(([channel, c]) => ({ channel, sent: c.sent, delivered: c.delivered, failed: c.failed, acted: c.acted })),
    by_person: people.map(([user_id, p]) => ({ user_id, name: nameOf.get(user_id) as string, acknowledged: p.acknowledged, mtta_p50_s: histQuantile(p.tta, 0.5) })),
    noisiest: noisiest(rules.map(([rule_id, alerts]) => ({ rule_id, name: ruleName.get(rule_id) ?? null, alerts })), sums.keys),
  };
}
