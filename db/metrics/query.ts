// Reading metric numbers from the rollups (metric_buckets, metric_episodes), never from events.
// A range is covered by the coarsest buckets that fit inside it (days, then hours, then minutes at the
// edges), so a 90-day answer reads about 90 day rows, 48 hour rows and 120 minute rows per group.
// Percentiles over more than EXACT_VALUES values read the buckets' histograms (db/metrics/sketch.ts: within
// 1 %, and the answer says `sampled`); lifecycle answers sum the hourly and daily flows
// (metric_lifecycle_buckets) and read episodes only for the partial hours at a range's edges; the items open at
// one moment (aging, overdue) come per opening hour from metric_open_hours, the grid from metric_entities.
import type { Pool, Sql } from '../platform/sql';
import { invalid } from '../errors';
import { GRAIN_MS, RETENTION_MS, truncTo, type Grain } from './rollup';
import type { BucketMetric, LifecycleMetric, MetricRow } from './schema';
import postgres from 'postgres';
import { sketchBin, sketchQuantile, TTC_GROUP } from './sketch';

export const MAX_POINTS = 10_000;
export const BUCKETS = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 } as const;
export type Bucket = keyof typeof BUCKETS;
/** Weeks start on Monday (2000-01-03 was one), days and hours in UTC. */
const ORIGIN = Date.UTC(2000, 0, 3);
const GRAIN_OF: Record<Bucket, Grain> = { minute: 'm', hour: 'h', day: 'd', week: 'd' };

export const alignDown = (ms: number, b: Bucket) => ORIGIN + Math.floor((ms - ORIGIN) / BUCKETS[b]) * BUCKETS[b];
export const alignUp = (ms: number, b: Bucket) => ORIGIN + Math.ceil((ms - ORIGIN) / BUCKETS[b]) * BUCKETS[b];

interface Seg { g: Grain; a: number; b: number }

/** The buckets that exactly cover [from, to): coarse in the middle, finer at the edges (minutes at worst). */
export function cover(from: number, to: number, grains: Grain[] = ['d', 'h', 'm'], now = Date.now()): Seg[] {
  if (to <= from) return [];
  const [g, ...rest] = grains;
  // Minute buckets older than their retention are gone: the hour bucket stands in (at most an hour wider).
  if (g === 'm' && from < now - RETENTION_MS.m) return [{ g: 'h', a: truncTo(from, 'h'), b: Math.ceil(to / GRAIN_MS.h) * GRAIN_MS.h }];
  if (!rest.length) return [{ g, a: truncTo(from, g), b: Math.ceil(to / GRAIN_MS[g]) * GRAIN_MS[g] }];
  const a = Math.ceil(from / GRAIN_MS[g]) * GRAIN_MS[g];
  const b = truncTo(to, g);
  if (a >= b) return cover(from, to, rest, now);
  return [...cover(from, a, rest, now), { g, a, b }, ...cover(b, to, rest, now)];
}

function segWhere(sql: Sql, segs: Seg[]) {
  if (!segs.length) return sql`false`;
  return segs.slice(1).reduce(
    (acc, s) => sql`${acc} or (grain = ${s.g} and t >= ${new Date(s.a)} and t < ${new Date(s.b)})`,
    sql`(grain = ${segs[0].g} and t >= ${new Date(segs[0].a)} and t < ${new Date(segs[0].b)})`,
  );
}

const ZERO_WHEN_EMPTY = new Set(['count', 'sum', 'distinct']);

interface AggRow { bt: Date | null; grp: string; value: number | null; dropped: number; n: number }

/** Up to this many values a percentile (or a lifecycle time to close) is computed exactly from the values. */
export const EXACT_VALUES = 20_000;

/** The metric's aggregate over bucket rows matching `where`, per output bucket (`bt`) and/or group. */
async function aggregate(sql: Sql, def: BucketMetric, metricId: number, where: postgres.PendingQuery<postgres.Row[]>, bucket: Bucket | null, byGroup: boolean): Promise<AggRow[]> {
  // One stored bucket per answer row (a series at the grain it reads, each group apart): its distinct values
  // are already distinct, so their number is the answer without unnesting them.
  const oneBucketPerRow = def.aggregate === 'distinct' && bucket !== null && bucket !== 'week' && (byGroup || !def.group_by);
  const bt = bucket ? sql`date_bin(${`${BUCKETS[bucket] / 1000} seconds`}::interval, t, ${new Date(ORIGIN)}::timestamptz)` : sql`null::timestamptz`;
  const grp = byGroup ? sql`grp` : sql`''::text`;
  const plainValue = {
    count: sql`sum(n)::float8`, sum: sql`sum(sum)`, avg: sql`sum(sum) / nullif(sum(n), 0)`, min: sql`min(min)`, max: sql`max(max)`,
    latest: sql`(array_agg(latest_value order by latest_at desc nulls last))[1]`, p50: sql`null::float8`, p90: sql`null::float8`,
    distinct: oneBucketPerRow ? sql`sum(coalesce(cardinality(dvals), 0))::float8` : sql`null::float8`,
  }[def.aggregate];
  const rows = await sql<AggRow[]>`
    select ${bt} as bt, ${grp} as grp, ${plainValue} as value, sum(dropped)::float8 as dropped, sum(n)::float8 as n
    from metric_buckets where metric_id = ${metricId} and (${where}) group by 1, 2`;
  if ((def.aggregate === 'p50' || def.aggregate === 'p90') && rows.reduce((s, r) => s + r.n, 0) > EXACT_VALUES) {
    // Many values: the histograms, if they hold every value (a metric rolled up before they existed has none).
    const bins = await sql<{ bt: Date | null; grp: string; bin: number; n: number }[]>`
      select ${bt} as bt, ${grp} as grp, bin, sum(n)::float8 as n
      from metric_sketches where metric_id = ${metricId} and (${where}) group by 1, 2, 3`;
    const by = new Map<string, Array<{ bin: number; n: number }>>();
    for (const b of bins) {
      const k = `${b.bt?.getTime()}|${b.grp}`;
      if (!by.has(k)) by.set(k, []);
      by.get(k)!.push(b);
    }
    const complete = rows.every((r) => (by.get(`${r.bt?.getTime()}|${r.grp}`) ?? []).reduce((s, b) => s + b.n, 0) === r.n);
    if (complete) {
      const q = def.aggregate === 'p50' ? 0.5 : 0.9;
      for (const r of rows) { r.value = sketchQuantile(by.get(`${r.bt?.getTime()}|${r.grp}`) ?? [], q); r.dropped = Math.max(r.dropped, 1); }
      return rows;
    }
  }
  if (def.aggregate === 'p50' || def.aggregate === 'p90' || (def.aggregate === 'distinct' && !oneBucketPerRow)) {
    const q = def.aggregate === 'p50' ? 0.5 : 0.9;
    const vals = await roomy(sql, (tx) => (def.aggregate === 'distinct'
      ? tx<AggRow[]>`
          select bt, grp, count(*)::float8 as value from (
            select distinct ${bt} as bt, ${grp} as grp, unnest(dvals) as d from metric_buckets where metric_id = ${metricId} and (${where})) x group by 1, 2`
      : tx<AggRow[]>`
          select bt, grp, percentile_cont(${q}::float8) within group (order by v) as value from (
            select ${bt} as bt, ${grp} as grp, unnest(vals) as v from metric_buckets where metric_id = ${metricId} and (${where})) x group by 1, 2`));
    const byKey = new Map(vals.map((r) => [`${r.bt?.getTime()}|${r.grp}`, r.value]));
    for (const r of rows) r.value = byKey.get(`${r.bt?.getTime()}|${r.grp}`) ?? (def.aggregate === 'distinct' ? 0 : null);
  }
  return rows;
}

/**
 * Runs a read that hashes or sorts many rows (a 90-day distinct count, an aging over every open item, a table
 * of every entity) with more memory than the default 4 MB, so it does not spill to disk: its own transaction
 * when given the pool, as it is inside a caller's transaction.
 */
export async function roomy<T>(sql: Sql, fn: (tx: Sql) => Promise<T>): Promise<T> {
  if (!('begin' in sql)) return fn(sql);
  return (sql as Pool).begin(async (tx) => {
    await tx`set local work_mem = '32MB'`;
    return fn(tx as unknown as Sql);
  }) as Promise<T>;
}

const round = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 1e6) / 1e6);

/** The bucket metric's value over [from, to), total or per group, with `sampled` when values were capped. */
export async function rangeValue(sql: Sql, m: MetricRow, from: number, to: number, byGroup = false) {
  const def = m.definition as BucketMetric;
  const rows = await aggregate(sql, def, m.id, segWhere(sql, cover(from, to)), null, byGroup);
  const empty = ZERO_WHEN_EMPTY.has(def.aggregate) ? 0 : null;
  if (!byGroup) return { value: round(rows[0]?.value ?? empty), sampled: (rows[0]?.dropped ?? 0) > 0, groups: [] as Array<{ group: string; value: number | null }> };
  return {
    value: null, sampled: rows.some((r) => r.dropped > 0),
    groups: rows.map((r) => ({ group: r.grp, value: round(r.value ?? empty) })).sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity)),
  };
}

/** The bucket metric's value in each of the given whole hours (hour-aligned starts), from their hour buckets in one query. */
export async function hourValues(sql: Sql, m: MetricRow, starts: number[]): Promise<Array<number | null>> {
  const def = m.definition as BucketMetric;
  const where = sql`grain = 'h' and t = any(${starts.map((s) => new Date(s).toISOString())}::timestamptz[])`;
  const at = new Map((await aggregate(sql, def, m.id, where, 'hour', false)).map((r) => [r.bt!.getTime(), r.value]));
  const empty = ZERO_WHEN_EMPTY.has(def.aggregate) ? 0 : null;
  return starts.map((s) => round(at.get(s) ?? empty));
}

export interface SeriesQuery { from: number; to: number; bucket: Bucket; byGroup: boolean }

export function checkPoints(from: number, to: number, bucket: Bucket) {
  const points = Math.ceil((to - from) / BUCKETS[bucket]);
  if (points > MAX_POINTS)
    throw invalid(`bucket: ${points} ${bucket} points between from and to; at most ${MAX_POINTS}`, [{ path: 'bucket', message: `range would produce ${points} points (at most ${MAX_POINTS})` }]);
  if (to <= from) throw invalid('to: must be after from', [{ path: 'to', message: 'must be after from' }]);
}

/** Points t = bucket start, from the bucket that holds `from` to the one before `to`. */
function bucketStarts(from: number, to: number, bucket: Bucket): number[] {
  const out: number[] = [];
  for (let t = alignDown(from, bucket); t < to; t += BUCKETS[bucket]) out.push(t);
  return out;
}

export async function series(sql: Sql, m: MetricRow, q: SeriesQuery) {
  checkPoints(q.from, q.to, q.bucket);
  if (m.definition.aggregate === 'lifecycle') return lifecycleSeries(sql, m, q, 'open_count');
  const def = m.definition as BucketMetric;
  const starts = bucketStarts(q.from, q.to, q.bucket);
  const g = GRAIN_OF[q.bucket];
  const where = sql`grain = ${g} and t >= ${new Date(starts[0])} and t < ${new Date(alignUp(q.to, q.bucket))}`;
  const rows = await aggregate(sql, def, m.id, where, q.bucket, q.byGroup);
  const empty = ZERO_WHEN_EMPTY.has(def.aggregate) ? 0 : null;
  const fill = (pick: AggRow[]) => {
    const at = new Map(pick.map((r) => [r.bt!.getTime(), r.value]));
    return starts.map((t) => ({ t: new Date(t).toISOString(), value: round(at.get(t) ?? empty) }));
  };
  if (!q.byGroup) return { series: fill(rows), sampled: rows.some((r) => r.dropped > 0) };
  const groups = new Map<string, AggRow[]>();
  for (const r of rows) { if (!groups.has(r.grp)) groups.set(r.grp, []); groups.get(r.grp)!.push(r); }
  const totals = await aggregate(sql, def, m.id, where, q.bucket, false);
  return {
    series: fill(totals),
    groups: [...groups].map(([group, rs]) => ({ group, series: fill(rs) })).sort((a, b) => a.group.localeCompare(b.group)),
    sampled: rows.some((r) => r.dropped > 0),
  };
}

interface FlowRow { bt: number | null; kind: string; n: number; amount: number; dur: number }

const floorH = (ms: number) => truncTo(ms, 'h');
const ceilH = (ms: number) => Math.ceil(ms / GRAIN_MS.h) * GRAIN_MS.h;

/**
 * What opened (kind 'open') and closed (kind = the closing 'category/type') over [from, to) — up to and
 * including `to` when `incl`; from the beginning when `from` is null — per output bucket when `bucket` is
 * given: whole hours and days from metric_lifecycle_buckets, the partial hours at the edges from the episodes.
 * Exact: the same sums as over the episodes themselves. One statement.
 */
async function flows(sql: Sql, metricId: number, from: number | null, to: number, opts: { incl?: boolean; bucket?: Bucket } = {}): Promise<FlowRow[]> {
  const binned = (col: postgres.PendingQuery<postgres.Row[]>) => (opts.bucket
    ? sql`date_bin(${`${BUCKETS[opts.bucket] / 1000} seconds`}::interval, ${col}, ${new Date(ORIGIN)}::timestamptz)`
    : sql`null::timestamptz`);
  const a = from === null ? null : ceilH(from);
  const b = floorH(to);
  // Rollup rows over whole hours [a, b), and the episodes over the rest.
  let whole: postgres.PendingQuery<postgres.Row[]> | null = null;
  const raw: Array<{ x: number | null; y: number; incl: boolean }> = [];
  if (a !== null && a >= b) raw.push({ x: from, y: to, incl: !!opts.incl });
  else {
    if (a === null) {
      const day = truncTo(b, 'd');
      whole = sql`(grain = 'd' and t < ${new Date(day)}) or (grain = 'h' and t >= ${new Date(day)} and t < ${new Date(b)})`;
    } else {
      whole = segWhere(sql, cover(a, b, ['d', 'h']));
      if (from! < a) raw.push({ x: from, y: a, incl: false });
    }
    if (b < to || opts.incl) raw.push({ x: b, y: to, incl: !!opts.incl });
  }
  const parts: Array<postgres.PendingQuery<postgres.Row[]>> = [];
  if (whole) parts.push(sql`
    select ${binned(sql`t`)} as bt, kind, sum(n)::float8 as n, sum(amount)::float8 as amount, sum(dur_s)::float8 as dur
    from metric_lifecycle_buckets where metric_id = ${metricId} and (${whole}) group by 1, 2`);
  for (const r of raw) {
    const range = (col: postgres.PendingQuery<postgres.Row[]>) => sql`${r.x === null ? sql`true` : sql`${col} >= ${new Date(r.x)}`} and ${r.incl ? sql`${col} <= ${new Date(r.y)}` : sql`${col} < ${new Date(r.y)}`}`;
    parts.push(sql`
      select ${binned(sql`opened_at`)} as bt, 'open' as kind, count(*)::float8 as n, coalesce(sum(amount), 0)::float8 as amount, 0::float8 as dur
      from metric_episodes where metric_id = ${metricId} and ${range(sql`opened_at`)} group by 1`);
    parts.push(sql`
      select ${binned(sql`closed_at`)} as bt, closed_category || '/' || closed_type as kind, count(*)::float8 as n, coalesce(sum(amount), 0)::float8 as amount,
        sum(extract(epoch from closed_at - opened_at))::float8 as dur
      from metric_episodes where metric_id = ${metricId} and opened_at is not null and ${range(sql`closed_at`)} group by 1, 2`);
  }
  const union = parts.slice(1).reduce((acc, p) => sql`${acc} union all ${p}`, parts[0]);
  const rows = await sql<{ bt: Date | null; kind: string; n: number; amount: number; dur: number }[]>`${union}`;
  const by = new Map<string, FlowRow>();
  for (const r of rows) {
    const bt = r.bt?.getTime() ?? null;
    const k = `${bt}|${r.kind}`;
    const f = by.get(k) ?? { bt, kind: r.kind, n: 0, amount: 0, dur: 0 };
    f.n += r.n; f.amount += r.amount; f.dur += r.dur;
    by.set(k, f);
  }
  return [...by.values()];
}

/** Opened minus closed: the open count and amount that flows leave. */
function net(rows: FlowRow[]) {
  let n = 0; let amount = 0;
  for (const r of rows) { const s = r.kind === 'open' ? 1 : -1; n += s * r.n; amount += s * r.amount; }
  return { n: Math.round(n), amount };
}

/** Open count (or amount) at the end of each bucket, from the lifecycle flows. */
export async function lifecycleSeries(sql: Sql, m: MetricRow, q: SeriesQuery, measure: 'open_count' | 'open_amount') {
  const starts = bucketStarts(q.from, q.to, q.bucket);
  const first = starts[0];
  const [base, deltas] = await Promise.all([flows(sql, m.id, null, first), flows(sql, m.id, first, q.to, { bucket: q.bucket })]);
  const pick = (x: { n: number; amount: number }) => (measure === 'open_count' ? x.n : x.amount);
  const at = new Map<number, FlowRow[]>();
  for (const r of deltas) { if (!at.has(r.bt!)) at.set(r.bt!, []); at.get(r.bt!)!.push(r); }
  let cur = pick(net(base));
  return { series: starts.map((t) => { cur += pick(net(at.get(t) ?? [])); return { t: new Date(t).toISOString(), value: round(cur) }; }) };
}

// ---------- lifecycle answers ----------

export const AGING = [
  { bucket: '0-30', lo: 0, hi: 30 },
  { bucket: '31-60', lo: 31, hi: 60 },
  { bucket: '61-90', lo: 61, hi: 90 },
  { bucket: '90+', lo: 91, hi: Infinity },
] as const;

/**
 * The items open at `at` (opened at or before it, not closed by then) split by opening time at the ascending
 * `cuts` (the last one at most `at`): count and opening amount with opened_at in (−∞, cuts[0]], (cuts[0],
 * cuts[1]], …; later openings are left out. The items open now come per opening hour from metric_open_hours,
 * except in the hours that hold a cut, read from the episodes (with the items closed after `at`). One statement.
 */
export async function openIntervals(sql: Sql, metricId: number, at: number, cuts: number[]): Promise<Array<{ n: number; amount: number }>> {
  const last = cuts[cuts.length - 1];
  const edges = [...new Set(cuts.map(floorH))];
  const binOf = (col: postgres.PendingQuery<postgres.Row[]>) => cuts.slice(1).reduce(
    (acc, c, i) => sql`${acc} when ${col} <= ${new Date(c)} then ${i + 1}`,
    sql`case when ${col} <= ${new Date(cuts[0])} then 0`,
  );
  const edgeWhere = edges.slice(1).reduce(
    (acc, h) => sql`${acc} or (opened_at >= ${new Date(h)} and opened_at < ${new Date(h + GRAIN_MS.h)})`,
    sql`(opened_at >= ${new Date(edges[0])} and opened_at < ${new Date(edges[0] + GRAIN_MS.h)})`,
  );
  const rows = await sql<{ i: number; n: number; amount: number }[]>`
    select i, sum(n)::float8 as n, sum(amount)::float8 as amount from (
      select ${binOf(sql`t`)} end as i, n, amount from metric_open_hours
      where metric_id = ${metricId} and t < ${new Date(floorH(last))} and t <> all(${edges.map((h) => new Date(h).toISOString())}::timestamptz[])
      union all
      select ${binOf(sql`opened_at`)} end, 1, coalesce(amount, 0) from metric_episodes
      where metric_id = ${metricId} and closed_at is null and opened_at <= ${new Date(last)} and (${edgeWhere})
      union all
      select ${binOf(sql`opened_at`)} end, 1, coalesce(amount, 0) from metric_episodes
      where metric_id = ${metricId} and closed_at > ${new Date(at)} and opened_at <= ${new Date(last)}
    ) x group by 1`;
  return cuts.map((_, i) => {
    const r = rows.find((x) => x.i === i);
    return { n: Math.round(r?.n ?? 0), amount: r?.amount ?? 0 };
  });
}

/** Open count and amount at a moment: opened at or before it and not closed by then (opened minus closed up to it). */
async function openAt(sql: Sql, metricId: number, at: number) {
  return net(await flows(sql, metricId, null, at, { incl: true }));
}

/**
 * A lifecycle metric's answer for the window [from, to): open items at `to` with their age buckets (whole
 * days since opening: 0–30, 31–60, 61–90, 91 and more = "90+"), time to close and closing shares of the
 * items closed in the window.
 */
export async function lifecycleValue(sql: Sql, m: MetricRow, from: number, to: number, opts: { aging?: boolean; p50?: boolean } = {}) {
  const def = m.definition as LifecycleMetric;
  const at = new Date(to);
  const [now, prev, closed] = await Promise.all([openAt(sql, m.id, to), openAt(sql, m.id, from), flows(sql, m.id, from, to)]);
  const aging = opts.aging === false ? AGING.map((b) => ({ bucket: b.bucket, count: 0, amount: 0 as number | null })) : (await openIntervals(sql, m.id, to,
    // Whole days since opening in [lo, hi] is opened_at in (to − (hi + 1) days, to − lo days].
    [...AGING].reverse().map((b) => to - b.lo * 86_400_000))).reverse().map((r, i) => ({ bucket: AGING[i].bucket, count: r.n, amount: round(r.amount) }));
  const closes = closed.filter((r) => r.kind !== 'open');
  const closedTotal = Math.round(closes.reduce((s, r) => s + r.n, 0));
  const ttc = { n: closedTotal, mean: closedTotal ? closes.reduce((s, r) => s + r.dur, 0) / closedTotal : null, p50: opts.p50 === false ? null : await timeToCloseP50(sql, m.id, from, to, closedTotal) };
  const closedBy = def.lifecycle.close.map((c) => {
    const n = Math.round(closes.find((r) => r.kind === `${c.category}/${c.type}`)?.n ?? 0);
    return { category: c.category, type: c.type, count: n, share: closedTotal ? round(n / closedTotal) : null };
  });
  return {
    value: now.n,
    previous: prev.n,
    change_pct: prev.n ? round(((now.n - prev.n) / prev.n) * 100) : null,
    open_count: now.n,
    open_amount: round(now.amount),
    aging,
    time_to_close_s: { p50: round(ttc.p50), mean: round(ttc.mean), closed: ttc.n },
    closed_by: closedBy,
  };
}

export type LifecycleAnswer = Awaited<ReturnType<typeof lifecycleValue>>;

/**
 * The median time to close of the items closed in [from, to): exact over up to EXACT_VALUES of them, else from
 * the hourly and daily histograms of times to close (within 1 %) plus the exact times of the edge hours.
 */
async function timeToCloseP50(sql: Sql, metricId: number, from: number, to: number, closed: number): Promise<number | null> {
  if (!closed) return null;
  const a = ceilH(from);
  const b = floorH(to);
  if (closed <= EXACT_VALUES || a >= b) {
    const [r] = await sql<{ p50: number | null }[]>`
      select percentile_cont(0.5) within group (order by extract(epoch from closed_at - opened_at))::float8 as p50
      from metric_episodes where metric_id = ${metricId} and opened_at is not null and closed_at >= ${new Date(from)} and closed_at < ${new Date(to)}`;
    return r.p50;
  }
  const [bins, edges] = await Promise.all([
    sql<{ bin: number; n: number }[]>`
      select bin, sum(n)::float8 as n from metric_sketches
      where metric_id = ${metricId} and grp = ${TTC_GROUP} and (${segWhere(sql, cover(a, b, ['d', 'h']))}) group by 1`,
    sql<{ d: number }[]>`
      select extract(epoch from closed_at - opened_at)::float8 as d from metric_episodes
      where metric_id = ${metricId} and opened_at is not null
        and ((closed_at >= ${new Date(from)} and closed_at < ${new Date(a)}) or (closed_at >= ${new Date(b)} and closed_at < ${new Date(to)}))`,
  ]);
  const all = bins.map((x) => ({ bin: x.bin, n: x.n }));
  for (const e of edges) all.push({ bin: sketchBin(e.d), n: 1 });
  return sketchQuantile(all, 0.5);
}

/** Whether a measure reads the median time to close (the others leave it out of the answer they use). */
export const needsP50 = (measure: string) => measure.startsWith('time_to_close_p50');

/** A named measure of a lifecycle answer (thresholds `on`, KPI widgets' `options.measure`). */
export async function lifecycleMeasure(sql: Sql, m: MetricRow, measure: string, from: number, to: number, ans?: LifecycleAnswer): Promise<number | null> {
  const over = /^open_(amount|count)_over_(\d+)d$/.exec(measure);
  if (over) {
    // Open at `to` and opened at or before `to` − N days.
    const [r] = await openIntervals(sql, m.id, to, [to - Number(over[2]) * 86_400_000]);
    return over[1] === 'count' ? r.n : round(r.amount);
  }
  const a = ans ?? await lifecycleValue(sql, m, from, to, { aging: false, p50: needsP50(measure) });
  if (measure === 'value' || measure === 'open_count') return a.open_count;
  if (measure === 'open_amount') return a.open_amount;
  const ttc = /^time_to_close_(p50|mean)_(s|days)$/.exec(measure);
  if (ttc) {
    const s = a.time_to_close_s[ttc[1] as 'p50' | 'mean'];
    return s === null ? null : ttc[2] === 's' ? s : round(s / 86_400);
  }
  if (measure.startsWith('closed_share:')) {
    const type = measure.slice('closed_share:'.length);
    const c = a.closed_by.find((x) => x.type === type);
    return c ? c.share : null;
  }
  return null;
}

/** How many rows the table widget shows. */
export const TABLE_ROWS = 200;
const DAY_MS = 86_400_000;

/**
 * Per entity over [from, to): time open within the range, episodes, mean time to close, open now; the
 * TABLE_ROWS entities open longest in the range.
 *
 * Entities with one episode: the time open of the items open longest gives a floor θ under the last row's
 * (those TABLE_ROWS entities are open at least that long); such an entity can reach θ only if its episode opened
 * by `to` − θ and closed (if it did) after `from` + θ, so only those are summed, not every entity active in the
 * range. Entities with several episodes (metric_entities) are all summed: their episodes closed on whole days
 * inside the range from metric_entity_days, the rest (open ones, the edge days, a day with an episode opened
 * before the range or with differing names) from the episodes.
 */
export async function lifecycleTable(sql: Sql, m: MetricRow, from: number, to: number) {
  const f = new Date(from);
  const t = new Date(to);
  const [floor] = await sql<{ s: number | null }[]>`
    select s from (
      select entity, max(date_part('epoch', ${t}::timestamptz - greatest(opened_at, ${f}::timestamptz)))::float8 as s from (
        select entity, opened_at from metric_episodes where metric_id = ${m.id} and closed_at is null and opened_at < ${t}
        order by opened_at limit ${TABLE_ROWS * 5}) o
      group by entity) x
    order by s desc limit 1 offset ${TABLE_ROWS - 1}`;
  // Less than a second (or fewer open entities than rows): no floor worth using.
  const theta = floor && floor.s !== null && floor.s > 1 ? floor.s - 1 : null;
  const some = theta === null ? null : (await sql<{ entity: string }[]>`
      select entity from metric_episodes where metric_id = ${m.id} and closed_at is null and opened_at <= ${new Date(to - theta * 1000)}
      union
      select entity from metric_episodes where metric_id = ${m.id} and closed_at >= ${new Date(from + theta * 1000)} and opened_at <= ${new Date(to - theta * 1000)}`).map((r) => r.entity);
  // So many that reading them one by one costs more than reading the range: all of them.
  const candidates = some && some.length <= 20_000 ? sql`and entity = any(${some}::text[])` : sql``;
  // Whole UTC days inside the range: [d1, d2); none in a range shorter than that.
  let d1 = Math.ceil(from / DAY_MS) * DAY_MS;
  let d2 = truncTo(to, 'd');
  if (d1 >= d2) { d1 = from; d2 = from; }
  const D1 = new Date(d1);
  const D2 = new Date(d2);
  // The entities with several episodes as a list (the planner then knows how many episodes they have and reads
  // ranges by time for a few busy machines, by entity for a few reopened deals); whether any has only one.
  // (Without a floor, the entities with one episode are read only if there are any, found in key order.)
  const [{ several, singles }] = await sql<{ several: string[]; singles: boolean }[]>`
    select array(select entity from metric_entities where metric_id = ${m.id} and episodes > 1) as several,
      ${theta !== null ? sql`true` : sql`exists (select 1 from metric_entities where metric_id = ${m.id} and episodes = 1 order by metric_id, entity limit 1)`} as singles`;
  const ep = sql`entity, entity_name, opened_at, closed_at, amount from metric_episodes where metric_id = ${m.id} and entity = any(${several}::text[])`;
  const rows = await roomy(sql, (tx) => tx<{ entity: string; name: string | null; episodes: number; open_s: number; mean_close_s: number | null; open_now: boolean; amount: number | null }[]>`
    with days as (
      select entity, t, n, dur_s, name, (mixed or first_opened < ${f}) as redo from metric_entity_days
      where metric_id = ${m.id} and t >= ${D1} and t < ${D2}),
    eps as (
      -- The open ones by the index of open items (not every episode of these entities), then theirs.
      select * from (select entity, entity_name, opened_at, closed_at, amount from metric_episodes
        where ${several.length ? sql`true` : sql`false`} and metric_id = ${m.id} and closed_at is null and opened_at < ${t} offset 0) o
      where entity = any(${several}::text[])
      union all
      select ${ep} and closed_at >= ${f} and closed_at < ${D1} and opened_at < ${t}
      union all
      select ${ep} and closed_at >= ${D2} and opened_at < ${t}
      union all
      select e.entity, e.entity_name, e.opened_at, e.closed_at, e.amount from days d
      join metric_episodes e on e.metric_id = ${m.id} and e.closed_at >= d.t and e.closed_at < d.t + interval '24 hours' and e.entity = d.entity and e.opened_at is not null
      where d.redo),
    parts as (
      select entity, entity_name as name, 1 as n, date_part('epoch', least(coalesce(closed_at, ${t}), ${t}) - greatest(opened_at, ${f})) as open_s,
        (closed_at is not null)::int as closed, date_part('epoch', closed_at - opened_at) as dur,
        closed_at is null or closed_at > ${t} as open_now, case when closed_at is null or closed_at > ${t} then amount end as amount
      from eps
      union all
      select entity, name, n, dur_s, n, dur_s, false, null from days where not redo)
    select * from (
      select entity, max(name) as name, sum(n)::int as episodes, sum(open_s)::float8 as open_s,
        (sum(dur) / nullif(sum(closed), 0))::float8 as mean_close_s, bool_or(open_now) as open_now, sum(amount)::float8 as amount
      from parts group by entity
      union all
      select entity, max(entity_name) as name, count(*)::int as episodes,
        sum(date_part('epoch', least(coalesce(closed_at, ${t}), ${t}) - greatest(opened_at, ${f})))::float8 as open_s,
        avg(date_part('epoch', closed_at - opened_at)) filter (where closed_at is not null)::float8 as mean_close_s,
        bool_or(closed_at is null or closed_at > ${t}) as open_now,
        sum(amount) filter (where closed_at is null or closed_at > ${t})::float8 as amount
      from metric_episodes
      where ${singles ? sql`true` : sql`false`} and metric_id = ${m.id} and opened_at is not null and opened_at < ${t} and (closed_at is null or closed_at >= ${f}) ${candidates}
        and not (entity = any(${several}::text[]))
      group by entity) x
    order by open_s desc, entity limit ${TABLE_ROWS}`);
  return rows.map((r) => ({ ...r, open_s: round(r.open_s), mean_close_s: round(r.mean_close_s), amount: round(r.amount) }));
}

/** Each entity's latest state (open or closed) with since when: the "down now" grid. */
export async function lifecycleGrid(sql: Sql, m: MetricRow, at: number) {
  // Each entity's latest episode is in metric_entities; when one of them opened after `at` (a range ending in
  // the past), the latest episode opened by then is another one, picked from the episodes.
  const [rows, later] = await Promise.all([
    sql<{ entity: string; name: string | null; opened_at: Date | null; closed_at: Date | null }[]>`
      select entity, entity_name as name, opened_at, closed_at from metric_entities where metric_id = ${m.id} order by entity limit 500`,
    sql`select 1 from metric_entities where metric_id = ${m.id} and opened_at > ${new Date(at)} limit 1`,
  ]);
  return gridItems(later.length ? await sql<{ entity: string; name: string | null; opened_at: Date | null; closed_at: Date | null }[]>`
    select distinct on (entity) entity, entity_name as name, opened_at, closed_at from metric_episodes
    where metric_id = ${m.id} and opened_at is not null and opened_at <= ${new Date(at)}
    order by entity, opened_at desc limit 500` : rows, at);
}

function gridItems(rows: Array<{ entity: string; name: string | null; opened_at: Date | null; closed_at: Date | null }>, at: number) {
  return rows.map((r) => {
    const open = r.closed_at === null || r.closed_at.getTime() > at;
    return { entity: r.entity, name: r.name, status: open ? 'open' : 'closed', since: (open ? r.opened_at : r.closed_at)!.toISOString() };
  }).sort((a, b) => (a.status === b.status ? a.entity.localeCompare(b.entity) : a.status === 'open' ? -1 : 1));
}
