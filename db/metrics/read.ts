// The metric read verbs: series, value (with the previous window), forecast.
import { z } from 'zod';
import type { Actor } from '../actor';
import { require } from '../actor';
import { invalid, parse } from '../errors';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { loadMetric, parseKey } from './verbs';
import { WindowSchema, windowMs, type MetricRow } from './schema';
import { BUCKETS, alignDown, checkPoints, lifecycleSeries, lifecycleValue, rangeValue, series, type Bucket } from './query';
import { holtForecast, MIN_HISTORY } from './forecast';

const DAY = 86_400_000;
const time = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((s) => Date.parse(s));
/** `from` and `to` of a range (rangeOf fills in what is missing). */
export const RangeQuery = z.object({ from: time.optional(), to: time.optional() }).strict();

const SeriesQuery = RangeQuery.extend({
  bucket: z.enum(['minute', 'hour', 'day', 'week']).optional(),
  group_by: z.string().max(200).optional(),
});

/** Default bucket for a range: hours up to 2 days, days up to 120 days, else weeks. */
export function autoBucket(from: number, to: number): Bucket {
  const span = to - from;
  return span <= 2 * DAY ? 'hour' : span <= 120 * DAY ? 'day' : 'week';
}

export function rangeOf(q: { from?: number; to?: number }, now = Date.now()) {
  const to = q.to ?? now;
  const from = q.from ?? to - 30 * DAY;
  if (!(to > from)) throw invalid('from: must be before to', [{ path: 'from', message: 'must be before to' }]);
  return { from, to };
}

export async function seriesFor(sql: Sql, m: MetricRow, from: number, to: number, bucket: Bucket, groupBy?: string) {
  let byGroup = false;
  if (groupBy) {
    const def = m.definition;
    if (def.aggregate === 'lifecycle' || !def.group_by)
      throw invalid(`group_by: metric ${m.key} is not grouped`, [{ path: 'group_by', message: 'this metric has no group_by in its definition' }]);
    if (groupBy !== def.group_by && groupBy !== 'true' && groupBy !== '1')
      throw invalid(`group_by: metric ${m.key} is grouped by ${def.group_by}`, [{ path: 'group_by', message: `rollups are grouped by ${def.group_by}` }]);
    byGroup = true;
  }
  return series(sql, m, { from, to, bucket, byGroup });
}

export async function seriesVerb(h: Herald, actor: Actor, key: string, query: Record<string, string>) {
  require(actor, 'dashboards:read');
  const q = parse(SeriesQuery, query, 'query');
  const m = await loadMetric(h.sql, actor.orgId, parseKey(key));
  const { from, to } = rangeOf(q);
  return seriesFor(h.sql, m, from, to, q.bucket ?? autoBucket(from, to), q.group_by);
}

/** The change from `previous` to `value` in percent (4 decimals), or null when there is nothing to compare. */
export const changePct = (value: number | null, previous: number | null) =>
  value !== null && previous !== null && previous !== 0 ? Math.round(((value - previous) / Math.abs(previous)) * 1e6) / 1e4 : null;

/** The metric's value over [from, to) and over the window before it. */
export async function valueFor(sql: Sql, m: MetricRow, from: number, to: number) {
  if (m.definition.aggregate === 'lifecycle') return lifecycleValue(sql, m, from, to);
  const span = to - from;
  const [cur, prev] = await Promise.all([rangeValue(sql, m, from, to), rangeValue(sql, m, from - span, from)]);
  return { value: cur.value, previous: prev.value, change_pct: changePct(cur.value, prev.value), ...(cur.sampled || prev.sampled ? { sampled: true } : {}) };
}

export async function valueVerb(h: Herald, actor: Actor, key: string, query: Record<string, string>) {
  require(actor, 'dashboards:read');
  const q = parse(z.object({ window: WindowSchema.default('30d') }).strict(), query, 'query');
  const m = await loadMetric(h.sql, actor.orgId, parseKey(key));
  const now = Date.now();
  const ms = windowMs(q.window);
  if (ms > 3660 * DAY) throw invalid('window: at most 10 years', [{ path: 'window', message: 'at most 10 years' }]);
  return { window: q.window, ...(await valueFor(h.sql, m, now - ms, now)) };
}

const ForecastQuery = z.object({
  bucket: z.enum(['hour', 'day', 'week']).default('week'),
  horizon: z.coerce.number().int().min(1).max(520).default(8),
  history: z.coerce.number().int().min(MIN_HISTORY).max(2000).optional(),
}).strict();

export async function forecastFor(sql: Sql, m: MetricRow, bucket: Bucket, horizon: number, history?: number, now = Date.now()) {
  const n = history ?? (bucket === 'week' ? 26 : bucket === 'day' ? 90 : 336);
  // Complete buckets only: the current one is still filling.
  const to = alignDown(now, bucket);
  const from = to - n * BUCKETS[bucket];
  checkPoints(from, to + horizon * BUCKETS[bucket], bucket);
  const s = m.definition.aggregate === 'lifecycle'
    ? await lifecycleSeries(sql, m, { from, to, bucket, byGroup: false }, 'open_count')
    : await series(sql, m, { from, to, bucket, byGroup: false });
  // History starts at the first bucket with data; gaps in value-less aggregates carry the last value.
  const first = s.series.findIndex((p) => p.value !== null && p.value !== 0);
  const hist = first < 0 ? [] : s.series.slice(first);
  const y: number[] = [];
  let last: number | null = null;
  for (const p of hist) { last = p.value ?? last; y.push(last ?? 0); }
  const future = Array.from({ length: horizon }, (_, i) => new Date(to + i * BUCKETS[bucket]).toISOString());
  if (y.length < MIN_HISTORY)
    return { history: hist, forecast: [], method: null, backtest_mape: null, reason: `needs at least ${MIN_HISTORY} complete ${bucket}s of history with data; has ${y.length}` };
  const def = m.definition;
  const nonNegative = def.aggregate === 'lifecycle' || def.aggregate === 'count' || def.aggregate === 'distinct';
  const f = holtForecast(y, horizon, nonNegative);
  return { history: hist, forecast: f.forecast.map((p, i) => ({ t: future[i], ...p })), method: f.method, backtest_mape: f.backtest_mape };
}

export async function forecastVerb(h: Herald, actor: Actor, key: string, query: Record<string, string>) {
  require(actor, 'dashboards:read');
  const q = parse(ForecastQuery, query, 'query');
  const m = await loadMetric(h.sql, actor.orgId, parseKey(key));
  return forecastFor(h.sql, m, q.bucket, q.horizon, q.history);
}
