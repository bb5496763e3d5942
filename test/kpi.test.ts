// KPI stories on real Postgres with a real worker: events go in through the public API, the rollup job turns
// them into numbers, and the answers are checked against figures worked out by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestHerald, type TestHerald } from './harness';
import { rolledUp, sendEvents } from './kpi-kit';
import { openSse } from './sse';
import { checkAll } from '../db/metrics/check';
import { rollupOnce } from '../db/metrics/rollup';

let h: TestHerald;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const WEEK = 7 * DAY;
// Whole seconds so durations worked out by hand are exact.
const base = Math.floor(Date.now() / 1000) * 1000;
const ago = (ms: number) => new Date(base - ms).toISOString();

beforeAll(async () => { h = await startTestHerald(); });
afterAll(async () => { await h?.stop(); });

const send = (events: Array<Record<string, unknown>>) => sendEvents(h, events);

const settled = () => rolledUp(h, 20_000);

const invoice = (id: number, issuedDaysAgo: number, amount: number) =>
  ({ category: 'finance', type: 'invoice_issued', entity: { kind: 'invoice', id }, occurred_at: ago(issuedDaysAgo * DAY), metadata: { amount } });
const paid = (id: number, daysAgo: number) =>
  ({ category: 'finance', type: 'invoice_paid', entity: { kind: 'invoice', id }, occurred_at: ago(daysAgo * DAY), metadata: {} });

describe('accounts receivable (the preset ar_invoices lifecycle metric)', () => {
  it('gives the AR aging buckets and DSO worked out by hand, counting repeats and strays', async () => {
    // The paid event of invoice 9 arrives before its issue (out of order, in an earlier batch).
    await send([paid(9, 5)]);
    await settled();
    await send([
      invoice(1, 100, 1000), // open, 100 days: 90+
      invoice(2, 75, 2000), // open: 61-90
      invoice(3, 45, 3000), // open: 31-60
      invoice(4, 10, 4000), // open: 0-30
      invoice(4, 10, 4000), // the same issue twice: counted, changes nothing
      invoice(5, 40, 500), paid(5, 10), // 30 days to pay, paid in the window
      invoice(6, 70, 700), paid(6, 20), // 50 days, in the window
      invoice(7, 60, 900), paid(7, 50), // 10 days, paid before the window
      invoice(8, 25, 800), paid(8, 5), // 20 days, in the window
      invoice(9, 15, 600), // pairs with the early payment: 10 days, in the window
      paid(99, 3), // never issued
      { category: 'finance', type: 'invoice_issued', metadata: { amount: 5 }, occurred_at: ago(DAY) }, // no entity
    ]);
    await settled();
    const v = await h.api('GET', '/v1/metrics/ar_invoices/value?window=30d');
    expect(v.status).toBe(200);
    expect(v.body.value).toBe(4);
    expect(v.body.open_count).toBe(4);
    expect(v.body.open_amount).toBe(10_000);
    expect(v.body.aging).toEqual([
      { bucket: '0-30', count: 1, amount: 4000 },
      { bucket: '31-60', count: 1, amount: 3000 },
      { bucket: '61-90', count: 1, amount: 2000 },
      { bucket: '90+', count: 1, amount: 1000 },
    ]);
    // Paid in the last 30 days: 30, 50, 20 and 10 days → mean 27.5 days, median 25 days.
    expect(v.body.time_to_close_s).toEqual({ p50: 25 * 86_400, mean: 27.5 * 86_400, closed: 4 });
    expect(v.body.closed_by).toEqual([
      { category: 'finance', type: 'invoice_paid', count: 4, share: 1 },
      { category: 'finance', type: 'invoice_written_off', count: 0, share: 0 },
    ]);
    // Open 30 days ago: invoices 1, 2, 3, 5 and 6.
    expect(v.body.previous).toBe(5);
    expect(v.body.change_pct).toBe(-20);

    const m = await h.api('GET', '/v1/metrics/ar_invoices');
    expect(m.body.rollup.skipped).toEqual({ duplicate_open: 1, close_without_open: 1, out_of_order: 1, missing_entity: 1 });

    // The accounting dashboard shows the same numbers: DSO 27.5 days, overdue (> 30 days) 6,000.
    const d = await h.api('GET', '/v1/dashboards/accounting');
    expect(d.status).toBe(200);
    const w = (title: string) => d.body.widgets.find((x: any) => x.title === title).data;
    expect(w('DSO (days)').value).toBe(27.5);
    expect(w('DSO (days)').status).toBe('ok');
    expect(w('Overdue (> 30 days)').value).toBe(6000);
    expect(w('Open receivables').value).toBe(10_000);
    expect(w('AR aging').aging.map((a: any) => a.count)).toEqual([1, 1, 1, 1]);
  });
});

describe('workshop machines (the preset workshop_downtime lifecycle metric)', () => {
  it('shows which machines are down now and the MTTR', async () => {
    const ev = (type: string, id: string, msAgo: number) => ({ category: 'workshop', type, entity: { kind: 'machine', id, name: id.toUpperCase() }, occurred_at: ago(msAgo), metadata: { reason: 'hydraulics' } });
    await send([
      ev('machine_down', 'press-1', 5 * HOUR), ev('machine_up', 'press-1', 3 * HOUR), ev('machine_down', 'press-1', HOUR),
      ev('machine_down', 'lathe-2', 10 * HOUR), ev('machine_up', 'lathe-2', 9 * HOUR),
      ev('machine_down', 'mill-3', HOUR / 2),
      ev('machine_up', 'lathe-2', 9 * HOUR), // a repeated "up": counted
    ]);
    await settled();
    const v = await h.api('GET', '/v1/metrics/workshop_downtime/value?window=1d');
    expect(v.body.value).toBe(2);
    // Repaired in the last day: 2 h and 1 h.
    expect(v.body.time_to_close_s.mean).toBe(5400);
    const d = await h.api('GET', '/v1/dashboards/workshop');
    const w = (title: string) => d.body.widgets.find((x: any) => x.title === title).data;
    expect(w('Machines down now').value).toBe(2);
    expect(w('MTTR').value).toBe(5400);
    expect(w('Machines').items.map((i: any) => [i.entity, i.status])).toEqual([
      ['machine:mill-3', 'open'], ['machine:press-1', 'open'], ['machine:lathe-2', 'closed'],
    ]);
    expect(w('Machines').items[1].since).toBe(ago(HOUR).replace(/\.\d{3}Z$/, '.000Z'));
    const table = w('Downtime and MTTR per machine').rows;
    const lathe = table.find((r: any) => r.entity === 'machine:lathe-2');
    expect(lathe).toMatchObject({ episodes: 1, open_s: 3600, mean_close_s: 3600, open_now: false });
    const press = table.find((r: any) => r.entity === 'machine:press-1');
    expect(press.episodes).toBe(2);
    expect(press.mean_close_s).toBe(7200);
    expect(press.open_now).toBe(true);
  });
});

describe('a metric crossing its threshold', () => {
  it('raises one alert per crossing, none for a second crossing without recovery, and re-arms', async () => {
    const rule = await h.api('POST', '/v1/rules', {
      name: 'KPI thresholds to admins', position: 1, match: { category: 'kpi', type: 'threshold_crossed', min_severity: 'info' },
      targets: { roles: ['admin'] }, channels: ['in_app'], priority: 'high',
    });
    expect(rule.status).toBe(201);
    const created = await h.api('POST', '/v1/metrics', {
      key: 'refund_total', name: 'Refunds', source: { category: 'shop', type: 'refund' }, aggregate: 'sum', field: 'metadata.qty',
      good: 'down', thresholds: { warn: 3, crit: 10, window: '1h' }, unit: 'items',
    });
    expect(created.status).toBe(201);
    const refund = (qty: number) => ({ category: 'shop', type: 'refund', occurred_at: new Date().toISOString(), metadata: { qty } });
    const kpiEvents = async () => h.sql<{ action: string; severity: string; title: string }[]>`
      select action, severity, title from events where category = 'kpi' and type = 'threshold_crossed' and entity->>'id' = 'refund_total' order by id`;
    const alerts = async () => h.sql<{ id: number; status: string }[]>`select id, status from alerts where dedup_key = 'kpi/threshold/refund_total' order by id`;

    await send([refund(4)]);
    await settled();
    await checkAll(h.ctx);
    await checkAll(h.ctx); // the minute check again: still past warn, nothing new
    expect((await kpiEvents()).map((e) => e.action)).toEqual(['trigger']);
    expect((await kpiEvents())[0].title).toBe('Refunds above 3 items: 4 items');
    await h.eventually(async () => (await alerts()).length === 1);

    await send([refund(1)]); // 5: still past warn, not past crit
    await settled();
    await checkAll(h.ctx);
    expect((await kpiEvents()).length).toBe(1);

    await send([refund(-3)]); // 2: back past warn → re-armed, the alert resolves
    await settled();
    await checkAll(h.ctx);
    expect((await kpiEvents()).map((e) => e.action)).toEqual(['trigger', 'resolve']);
    await h.eventually(async () => (await alerts())[0]?.status === 'resolved');

    await send([refund(9)]); // 11: past crit → a new crossing, a new alert
    await settled();
    await checkAll(h.ctx);
    const evs = await kpiEvents();
    expect(evs.map((e) => [e.action, e.severity])).toEqual([['trigger', 'warning'], ['resolve', 'info'], ['trigger', 'critical']]);
    await h.eventually(async () => (await alerts()).length === 2);
    const m = await h.api('GET', '/v1/metrics/refund_total');
    expect(m.body.threshold_state).toBe('crit');
  });
});

describe('seasonal anomalies', () => {
  it('a spike against the same hour of past weeks raises one kpi/anomaly; a usual hour none', async () => {
    const now = base;
    const hour = Math.floor(now / HOUR) * HOUR - HOUR; // the last complete hour
    const created = await h.api('POST', '/v1/metrics', {
      key: 'signups', name: 'Signups', source: { category: 'web', type: 'signup' }, aggregate: 'count', anomaly: { sensitivity: 3 },
    });
    expect(created.status).toBe(201);
    const at = (t: number, n: number) => Array.from({ length: n }, (_, i) => ({ category: 'web', type: 'signup', occurred_at: new Date(t + 60_000 + i * 1000).toISOString() }));
    const history = [10, 12, 9, 11, 10, 11];
    await send(history.flatMap((n, i) => at(hour - (i + 1) * WEEK, n)));
    await send(at(hour, 11));
    await settled();
    const anomalies = async () => h.sql<{ metadata: any }[]>`select metadata from events where category = 'kpi' and type = 'anomaly' and entity->>'id' = 'signups'`;
    await checkAll(h.ctx, now);
    expect(await anomalies()).toHaveLength(0);
    await send(at(hour + 20 * 60_000, 49)); // the hour now has 60 signups against a usual 10.5
    await settled();
    await checkAll(h.ctx, now);
    await checkAll(h.ctx, now);
    const a = await anomalies();
    expect(a).toHaveLength(1);
    expect(a[0].metadata).toMatchObject({ metric: 'signups', value: 60, baseline_mean: 10.5, weeks: 6, hour: new Date(hour).toISOString() });
  });
});

describe('forecasts', () => {
  it('a known linear trend lands within the forecast interval', async () => {
    await h.api('POST', '/v1/metrics', { key: 'revenue', name: 'Revenue', source: { category: 'shop', type: 'revenue' }, aggregate: 'sum', field: 'metadata.amount' });
    const weekStart = (ms: number) => Date.UTC(2000, 0, 3) + Math.floor((ms - Date.UTC(2000, 0, 3)) / WEEK) * WEEK;
    const current = weekStart(Date.now());
    const noise = [7, -12, 3, 15, -6, -18, 9, 0, -4, 11, -9, 5, 14, -15, 2, -3];
    const weeks = 16;
    // Week i (0 = sixteen weeks ago) earns 1000 + 100·i, give or take the noise.
    await send(Array.from({ length: weeks }, (_, i) => ({
      category: 'shop', type: 'revenue', occurred_at: new Date(current - (weeks - i) * WEEK + 2 * DAY).toISOString(), metadata: { amount: 1000 + 100 * i + noise[i] },
    })));
    await settled();
    const f = await h.api('GET', '/v1/metrics/revenue/forecast?bucket=week&horizon=8');
    expect(f.status).toBe(200);
    expect(f.body.history).toHaveLength(16);
    expect(f.body.forecast).toHaveLength(8);
    expect(f.body.method).toMatch(/^holt_linear/);
    expect(f.body.backtest_mape).toBeLessThan(5);
    f.body.forecast.forEach((p: any, j: number) => {
      expect(p.t).toBe(new Date(current + j * WEEK).toISOString());
      const truth = 1000 + 100 * (weeks + j);
      expect(p.lo).toBeLessThanOrEqual(truth);
      expect(p.hi).toBeGreaterThanOrEqual(truth);
      expect(p.lo).toBeLessThan(p.value);
    });
    // Too little history: an empty forecast and the reason.
    await h.api('POST', '/v1/metrics', { key: 'newbie', name: 'New', source: { category: 'shop', type: 'newbie' }, aggregate: 'count' });
    await send([{ category: 'shop', type: 'newbie', occurred_at: new Date(current - WEEK).toISOString() }]);
    await settled();
    const g = await h.api('GET', '/v1/metrics/newbie/forecast?bucket=week&horizon=3');
    expect(g.body.forecast).toEqual([]);
    expect(g.body.reason).toMatch(/at least 6/);
  });
});

describe('series, groups and what cannot be used', () => {
  it('counts per day and group; skips and counts missing and non-numeric values', async () => {
    await h.api('POST', '/v1/metrics', { key: 'orders', name: 'Orders', source: { category: 'shop', type: 'order' }, aggregate: 'count', group_by: 'metadata.region' });
    await h.api('POST', '/v1/metrics', { key: 'order_value', name: 'Order value', source: { category: 'shop', type: 'order' }, aggregate: 'sum', field: 'metadata.amount',
      conditions: [{ field: 'metadata.region', op: 'neq', value: 'test' }] });
    const day0 = Math.floor(base / DAY) * DAY - 3 * DAY;
    const o = (d: number, region: string, amount: unknown) => ({ category: 'shop', type: 'order', occurred_at: new Date(day0 + d * DAY + 3600_000).toISOString(), metadata: { region, ...(amount === undefined ? {} : { amount }) } });
    await send([o(0, 'north', 10), o(0, 'south', 20), o(1, 'north', 5), o(1, 'north', 'abc'), o(2, 'south', undefined), o(2, 'test', 1000)]);
    await settled();
    const from = new Date(day0).toISOString();
    const to = new Date(day0 + 3 * DAY).toISOString();
    const s = await h.api('GET', `/v1/metrics/orders/series?from=${from}&to=${to}&bucket=day&group_by=metadata.region`);
    expect(s.status).toBe(200);
    expect(s.body.series.map((p: any) => p.value)).toEqual([2, 2, 2]);
    expect(s.body.groups).toEqual([
      { group: 'north', series: [{ t: from, value: 1 }, { t: new Date(day0 + DAY).toISOString(), value: 2 }, { t: new Date(day0 + 2 * DAY).toISOString(), value: 0 }] },
      { group: 'south', series: [{ t: from, value: 1 }, { t: new Date(day0 + DAY).toISOString(), value: 0 }, { t: new Date(day0 + 2 * DAY).toISOString(), value: 1 }] },
      { group: 'test', series: [{ t: from, value: 0 }, { t: new Date(day0 + DAY).toISOString(), value: 0 }, { t: new Date(day0 + 2 * DAY).toISOString(), value: 1 }] },
    ]);
    const v = await h.api('GET', `/v1/metrics/order_value/series?from=${from}&to=${to}&bucket=day`);
    expect(v.body.series.map((p: any) => p.value)).toEqual([30, 5, 0]);
    const m = await h.api('GET', '/v1/metrics/order_value');
    expect(m.body.rollup.skipped).toEqual({ non_numeric: 1, missing_field: 1 });
    const hourly = await h.api('GET', `/v1/metrics/orders/series?from=${from}&to=${to}&bucket=hour`);
    expect(hourly.body.series).toHaveLength(72);
    expect(hourly.body.series.reduce((s: number, p: any) => s + p.value, 0)).toBe(6);
  });

  it('drills down to the events behind a metric: counted ones with their value, skipped ones saying why, one group alone', async () => {
    // The orders of the test above (same metrics), over the same three days.
    const day0 = Math.floor(base / DAY) * DAY - 3 * DAY;
    const from = new Date(day0).toISOString();
    const to = new Date(day0 + 3 * DAY).toISOString();
    const d = await h.api('GET', `/v1/metrics/order_value/events?from=${from}&to=${to}`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ kind: 'events', metric: 'order_value', complete: true });
    // Newest first; the region "test" order fails the metric's condition and is not behind it.
    expect(d.body.items.map((e: any) => [e.value, e.skipped])).toEqual([[null, 'missing_field'], [null, 'non_numeric'], [5, null], [20, null], [10, null]]);
    expect(d.body.items.filter((e: any) => !e.skipped).reduce((a: number, e: any) => a + e.value, 0)).toBe(35);
    const north = await h.api('GET', `/v1/metrics/orders/events?from=${from}&to=${to}&group=north`);
    expect(north.body.items.map((e: any) => e.group)).toEqual(['north', 'north', 'north']);
    const one = await h.api('GET', `/v1/metrics/orders/events?from=${from}&to=${to}&limit=2`);
    expect(one.body.items).toHaveLength(2);
    expect(one.body.complete).toBe(false);
    for (const bad of ['limit=0', 'limit=1000', `from=${to}&to=${from}`, 'group=%00', 'bogus=1']) {
      const r = await h.api('GET', `/v1/metrics/orders/events?${bad}`);
      expect(r.status, bad).toBe(400);
    }
    expect((await h.api('GET', '/v1/metrics/nope/events')).status).toBe(404);
  });

  it('drills down to the items of a lifecycle metric with the alert each became', async () => {
    const d = await h.api('GET', '/v1/metrics/workshop_downtime/events?from=' + encodeURIComponent(ago(DAY)));
    expect(d.status).toBe(200);
    expect(d.body.kind).toBe('items');
    const press = d.body.items.filter((i: any) => i.entity === 'machine:press-1');
    expect(press.map((i: any) => [i.opened_at, i.closed_at])).toEqual([[ago(HOUR), null], [ago(5 * HOUR), ago(3 * HOUR)]]);
    expect(d.body.items.find((i: any) => i.entity === 'machine:mill-3')).toMatchObject({ name: 'MILL-3', closed_at: null });
  });

  it('tells a live stream which metrics moved once the rollup has them', async () => {
    expect((await h.api('POST', '/v1/metrics', { key: 'live_pings', name: 'Pings', source: { category: 'live', type: 'ping' }, aggregate: 'count' })).status).toBe(201);
    await settled();
    const s = await openSse(`${h.url}/v1/stream`, { authorization: `Bearer ${ADMIN_KEY}` });
    expect(s.res.status).toBe(200);
    try {
      await send([{ category: 'live', type: 'ping' }, { category: 'elsewhere', type: 'ping' }]);
      const e = await h.eventually(async () => s.events.find((x) => x.event === 'metrics'), 10_000);
      expect(e.data.keys).toEqual(['live_pings']);
      // The numbers it announces are readable by then.
      const v = await h.api('GET', '/v1/metrics/live_pings/value?window=1d');
      expect(v.body.value).toBe(1);
    } finally {
      s.close();
    }
  });

  it('replaying the rollup changes nothing, and a rebuild from scratch gives the same numbers', async () => {
    const snapshot = async () => h.sql`
      select b.grain, b.t, b.grp, b.n, b.sum, b.min, b.max from metric_buckets b join metric_definitions d on d.id = b.metric_id
      where d.key in ('orders', 'order_value', 'signups') order by d.key, b.grain, b.t, b.grp`;
    const before = await snapshot();
    expect(before.length).toBeGreaterThan(10);
    await rollupOnce(h.sql);
    await rollupOnce(h.sql);
    expect(await snapshot()).toEqual(before);
    const episodes = async () => h.sql`select entity, opened_at, closed_at, amount from metric_episodes e join metric_definitions d on d.id = e.metric_id where d.key = 'ar_invoices' order by entity, opened_at`;
    const eps = await episodes();
    for (const key of ['orders', 'order_value', 'signups', 'ar_invoices']) {
      const r = await h.api('POST', `/v1/metrics/${key}/rebuild`);
      expect(r.status).toBe(202);
    }
    await settled();
    expect(await snapshot()).toEqual(before);
    expect(await episodes()).toEqual(eps);
  });

  it('answers bad input with problem+json 400s naming the field', async () => {
    const bad = async (method: string, path: string, body: unknown, field: string) => {
      const r = await h.api(method, path, body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.errors.map((e: any) => e.path)).toContain(field);
    };
    await bad('POST', '/v1/metrics', { key: 'x', name: 'X', source: { category: 'a' }, aggregate: 'median' }, 'aggregate');
    await bad('POST', '/v1/metrics', { key: 'x', name: 'X', source: { category: 'a' }, aggregate: 'sum' }, 'field');
    await bad('POST', '/v1/metrics', { key: 'x', name: 'X', aggregate: 'lifecycle', lifecycle: { open: { category: 'a', type: 'b' }, close: [{ category: 'a', type: 'b' }], by: 'entity' } }, 'lifecycle.close.0.type');
    await bad('POST', '/v1/metrics', { key: 'x', name: 'X', source: { category: 'a' }, aggregate: 'count', conditions: [{ field: 'amount', op: 'gt', value: 1 }] }, 'conditions.0.field');
    await bad('POST', '/v1/metrics', { key: 'x', name: 'X', source: { category: 'a' }, aggregate: 'count', good: 'down', thresholds: { warn: 10, crit: 5 } }, 'thresholds.crit');
    await bad('POST', '/v1/dashboards', { key: 'mine', name: 'Mine', roles: ['sales'], widgets: [{ type: 'kpi', metric: 'no_such_metric', title: 'Nothing' }] }, 'widgets.0.metric');
    await bad('POST', '/v1/dashboards', { key: 'mine', name: 'Mine', widgets: [{ type: 'aging', metric: 'orders', title: 'Aging of a count' }] }, 'widgets.0.type');
    await bad('GET', '/v1/metrics/orders/series?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=hour', undefined, 'bucket');
    await bad('GET', '/v1/metrics/orders/series?bucket=fortnight', undefined, 'bucket');
    await bad('GET', '/v1/metrics/orders/series?group_by=metadata.city', undefined, 'group_by');
    await bad('GET', '/v1/metrics/orders/value?window=thirty', undefined, 'window');
    await bad('GET', '/v1/metrics/orders/forecast?horizon=0', undefined, 'horizon');
    await bad('PATCH', '/v1/metrics/orders', { aggregate: 'avg' }, 'field');
    expect((await h.api('GET', '/v1/metrics/nope/value')).status).toBe(404);
    expect((await h.api('GET', '/v1/dashboards/nope')).status).toBe(404);
    expect((await h.api('DELETE', '/v1/metrics/ar_invoices')).status).toBe(409); // on the accounting dashboard
  });

  it('keeps dashboards: CRUD, every widget with data in one answer, presets listed', async () => {
    const list = await h.api('GET', '/v1/dashboards');
    expect(list.body.items.map((d: any) => d.key)).toEqual(expect.arrayContaining(['sales', 'accounting', 'workshop', 'system']));
    const c = await h.api('POST', '/v1/dashboards', { key: 'shop', name: 'Shop', roles: ['office'], widgets: [
      { type: 'kpi', metric: 'orders', title: 'Orders' },
      { type: 'bar', metric: 'orders', title: 'By region', options: { group_by: true, bucket: 'day' } },
      { type: 'table', metric: 'orders', title: 'Regions' },
      { type: 'status_grid', metric: 'orders', title: 'Regions grid' },
    ] });
    expect(c.status).toBe(201);
    const d = await h.api('GET', '/v1/dashboards/shop');
    expect(d.body.widgets).toHaveLength(4);
    expect(d.body.widgets[0].data.value).toBe(6);
    expect(d.body.widgets[1].data.groups.map((g: any) => g.group)).toEqual(['north', 'south', 'test']);
    expect(d.body.widgets[2].data.rows).toEqual([{ group: 'north', value: 3 }, { group: 'south', value: 2 }, { group: 'test', value: 1 }]);
    const p = await h.api('PATCH', '/v1/dashboards/shop', { name: 'Shop floor' });
    expect(p.body.name).toBe('Shop floor');
    expect((await h.api('DELETE', '/v1/dashboards/shop')).status).toBe(204);
    expect((await h.api('GET', '/v1/dashboards/shop')).status).toBe(404);
    for (const key of ['sales', 'system']) {
      const r = await h.api('GET', `/v1/dashboards/${key}?from=${new Date(base - 90 * DAY).toISOString()}`);
      expect(r.status).toBe(200);
      for (const w of r.body.widgets) expect(w.data.error).toBeUndefined();
    }
  });
});
