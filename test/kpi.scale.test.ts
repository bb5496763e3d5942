// KPI answers at a scale where they come from the rollups' flows and histograms rather than from values and
// episodes one by one (db/metrics/query.ts, db/metrics/sketch.ts): each is checked against the same figure
// computed straight from the events' episodes and values in SQL here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { rolledUp } from './kpi-kit';
import { EXACT_VALUES } from '../db/metrics/query';

let h: TestHerald;
const DAY = 86_400_000;
const now = Math.floor(Date.now() / 1000) * 1000;

beforeAll(async () => { h = await startTestHerald(); });
// Stopping waits for the jobs in flight (graphile-worker finishes them): on a busy machine the chains working
// through this file's 100,000 events (rollup, scoring) can hold a stop for minutes.
afterAll(async () => { await h?.stop(); }, 400_000);

const settled = () => rolledUp(h, 120_000);

/** Events written by SQL (as already routed), like the bench's: the rollup reads them like any other. */
async function insertEvents(rows: string) {
  await h.sql.unsafe(`
    insert into events (org_id, category, type, title, severity, dedup_key, action, metadata, entity, occurred_at, status)
    select 1, category, type, 'scale', 'info', 'scale-' || md5(random()::text), 'trigger', metadata, entity, at, 'unrouted' from (${rows}) x`);
}

const within = (approx: number, exact: number, rel: number) => expect(Math.abs(approx - exact)).toBeLessThanOrEqual(Math.abs(exact) * rel + 1e-9);

describe('percentiles over more values than are read one by one', () => {
  it('p90 over 30,000 values comes from the histograms within 1 % and says sampled', async () => {
    expect((await h.api('POST', '/v1/metrics', { key: 'lat', name: 'Latency', source: { category: 'perf', type: 'req' }, aggregate: 'p90', field: 'metadata.ms', group_by: 'metadata.svc' })).status).toBe(201);
    await settled();
    const n = 30_000;
    expect(n).toBeGreaterThan(EXACT_VALUES);
    await insertEvents(`select 'perf' as category, 'req' as type, jsonb_build_object('ms', 50 + (g * 7919) % 1950 + (g % 7) / 10.0, 'svc', 's' || (g % 3)) as metadata,
      null::jsonb as entity, to_timestamp(${(now - 3 * DAY) / 1000} + g * ${(3 * DAY) / 1000 / n}) as at from generate_series(1, ${n}) g`);
    await settled();
    const exact = async (from: number, to: number) => Number((await h.sql<{ p: number }[]>`
      select percentile_cont(0.9) within group (order by (metadata->>'ms')::float8)::float8 as p from events
      where category = 'perf' and occurred_at >= ${new Date(from)} and occurred_at < ${new Date(to)}`)[0].p);
    const v = await h.api('GET', '/v1/metrics/lat/value?window=7d');
    expect(v.status).toBe(200);
    expect(v.body.sampled).toBe(true);
    within(v.body.value, await exact(now - 7 * DAY, now + 1000), 0.01);
    const from = Math.floor((now - 3 * DAY) / DAY) * DAY;
    const s = await h.api('GET', `/v1/metrics/lat/series?from=${new Date(from).toISOString()}&to=${new Date(now).toISOString()}&bucket=day`);
    expect(s.status).toBe(200);
    let checked = 0;
    for (const p of s.body.series) {
      const t = Date.parse(p.t);
      const e = await exact(t, Math.min(t + DAY, now));
      if (Number.isNaN(e)) { expect(p.value).toBeNull(); continue; }
      within(p.value, e, 0.01);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  }, 120_000);
});

describe('lifecycle answers from the hourly and daily flows', () => {
  it('open count and amount, the open series, time to close and closing shares equal the episodes; the median within 1 %', async () => {
    expect((await h.api('POST', '/v1/metrics', { key: 'tickets', name: 'Tickets', aggregate: 'lifecycle', field: 'metadata.amount',
      lifecycle: { open: { category: 'desk', type: 'opened' }, close: [{ category: 'desk', type: 'solved' }, { category: 'desk', type: 'dropped' }], by: 'entity' } })).status).toBe(201);
    await settled();
    const n = 40_000;
    // Opened over 60 days; 80 % closed 1 h – 12 days later (if already past), some as dropped. A quarter of the
    // closes are written before their openings (out of order: the orphan is completed later), and 500
    // closings repeat.
    const items = `from generate_series(1, ${n}) g, lateral (select to_timestamp(${(now - 60 * DAY) / 1000} + g * ${(60 * DAY) / 1000 / n}) as t0, (g * 7919) % 10007 as k) s`;
    const close = `select 'desk' as category, case when s.k % 9 = 0 then 'dropped' else 'solved' end as type, '{}'::jsonb as metadata,
      jsonb_build_object('kind', 'ticket', 'id', g) as entity, s.t0 + make_interval(secs => (3600 + (s.k * 97) % (12 * 86400))::float8) as at ${items}
      where s.k % 5 <> 0 and s.t0 + make_interval(secs => (3600 + (s.k * 97) % (12 * 86400))::float8) <= now()`;
    await insertEvents(`${close} and g % 4 = 0`);
    await insertEvents(`select 'desk' as category, 'opened' as type, jsonb_build_object('amount', 10 + s.k % 990) as metadata,
      jsonb_build_object('kind', 'ticket', 'id', g) as entity, s.t0 as at ${items}`);
    await insertEvents(`${close} and g % 4 <> 0`);
    await insertEvents(`${close} and g % 4 <> 0 and g < 2000`);
    await settled();
    const [{ id }] = await h.sql<{ id: number }[]>`select id from metric_definitions where key = 'tickets'`;
    // The value's window ends at the request: every event is older than that, so open items then are open at `to`.
    const to = Date.now();
    const v = await h.api('GET', `/v1/metrics/tickets/value?window=61d`);
    expect(v.status).toBe(200);
    const [open] = await h.sql<{ n: number; amount: number }[]>`
      select count(*)::int as n, coalesce(sum(amount), 0)::float8 as amount from metric_episodes
      where metric_id = ${id} and opened_at <= ${new Date(to)} and (closed_at is null or closed_at > ${new Date(to)})`;
    expect(v.body.open_count).toBe(open.n);
    expect(v.body.open_amount).toBeCloseTo(open.amount, 4);
    const [ttc] = await h.sql<{ p50: number; mean: number; n: number }[]>`
      select percentile_cont(0.5) within group (order by extract(epoch from closed_at - opened_at))::float8 as p50,
        avg(extract(epoch from closed_at - opened_at))::float8 as mean, count(*)::int as n
      from metric_episodes where metric_id = ${id} and opened_at is not null and closed_at >= now() - interval '61 days' and closed_at < now()`;
    expect(v.body.time_to_close_s.closed).toBeGreaterThan(EXACT_VALUES);
    expect(Math.abs(v.body.time_to_close_s.closed - ttc.n)).toBeLessThanOrEqual(5); // the window moved by the time taken
    within(v.body.time_to_close_s.mean, ttc.mean, 0.001);
    within(v.body.time_to_close_s.p50, ttc.p50, 0.011);
    const shares = await h.sql<{ type: string; n: number }[]>`
      select closed_type as type, count(*)::int as n from metric_episodes where metric_id = ${id} and opened_at is not null and closed_at >= now() - interval '61 days' and closed_at < now() group by 1`;
    for (const c of v.body.closed_by) expect(Math.abs(c.count - (shares.find((s) => s.type === c.type)?.n ?? 0))).toBeLessThanOrEqual(5);
    // The open series (daily, and the open amount) against the episodes open at each bucket's end.
    const sFrom = Math.floor((now - 20 * DAY) / DAY) * DAY;
    const s = await h.api('GET', `/v1/metrics/tickets/series?from=${new Date(sFrom).toISOString()}&to=${new Date(now).toISOString()}&bucket=day`);
    expect(s.status).toBe(200);
    for (const p of s.body.series) {
      const end = Math.min(Date.parse(p.t) + DAY, now);
      const [{ c }] = await h.sql<{ c: number }[]>`
        select count(*)::int as c from metric_episodes where metric_id = ${id} and opened_at < ${new Date(end)} and (closed_at is null or closed_at >= ${new Date(end)})`;
      expect(p.value, p.t).toBe(c);
    }
    // Skips counted, not crashed on: the repeated closings.
    const m = await h.api('GET', '/v1/metrics/tickets');
    expect(m.body.rollup.skipped.duplicate_close).toBeGreaterThan(0);
    // A rebuild from scratch gives the same flows and histograms as the incremental runs did.
    const snap = async () => ({
      flows: await h.sql`select grain, t, kind, n, round(amount::numeric, 4) as amount, round(dur_s::numeric, 2) as dur from metric_lifecycle_buckets where metric_id = ${id} and (n <> 0 or abs(amount) > 1e-6) order by 1, 2, 3`,
      bins: await h.sql`select grain, t, bin, n from metric_sketches where metric_id = ${id} and n <> 0 order by 1, 2, 3`,
    });
    const before = await snap();
    expect((await h.api('POST', '/v1/metrics/tickets/rebuild')).status).toBeLessThan(300);
    await settled();
    expect(await snap()).toEqual(before);
  }, 300_000);
});
